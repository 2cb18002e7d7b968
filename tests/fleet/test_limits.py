"""The per-target rate limit: every HTTP attempt takes a token (retries included); a fake clock, no timing."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from app.fleet.limits import Limits, TokenBucket
from tests.lambda_ops.helpers import FakeClock


def test_the_bucket_lets_a_burst_through_then_paces() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    waits = [bucket.take() for _ in range(15)]
    assert waits[:10] == [0.0] * 10  # the burst
    assert sum(clock.sleeps) == pytest_approx(0.5)  # 5 more at 10/s
    assert bucket.taken == 15


def pytest_approx(value: float) -> Any:
    import pytest

    return pytest.approx(value)


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def test_retries_count_against_the_target_and_targets_do_not_share() -> None:
    clock = FakeClock()
    limits = Limits(1.0, clock=clock, sleep=clock.sleep)
    client = botocore.session.get_session().create_client(
        "lambda",
        region_name="eu-west-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )
    limits.attach(client, "222222222222", "eu-west-1")
    answers = [
        (429, b'{"Type":"User","message":"Rate exceeded"}', {"x-amzn-ErrorType": "TooManyRequestsException"}),
        (429, b'{"Type":"User","message":"Rate exceeded"}', {"x-amzn-ErrorType": "TooManyRequestsException"}),
        (200, b'{"AccountLimit":{},"AccountUsage":{}}', {}),
    ]

    def answer(request: Any, **_: Any) -> AWSResponse:  # AWS, on loopback-free terms: no socket opened
        status, body, headers = answers.pop(0)
        return AWSResponse(request.url, status, {"content-type": "application/json", **headers}, Raw(body))

    client.meta.events.register_last("before-send.lambda", answer)
    client.get_account_settings()  # the throttles a retry absorbs are never surfaced
    bucket = limits.bucket("222222222222", "eu-west-1")
    assert bucket.taken == 3  # every attempt counted
    assert sum(clock.sleeps) == pytest_approx(2.0)  # 1 burst + 2 paced at 1/s
    assert limits.bucket("111111111111", "eu-west-1").taken == 0
    assert limits.bucket("222222222222", "us-east-1").taken == 0
