"""The call's deadline holds on every fleet client: a slow or hanging target cannot keep the fleet answer
(or list-targets check=true) past its budget — no request is sent after it, no retry sleeps past it, the rate
limiter does not wait past it. Fake clocks and counted attempts, no timing."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from app.fleet.audit import audit_fleet, catalog_of
from app.fleet.aws import AwsFleet
from app.fleet.config import FleetConfig
from app.fleet.deadline import DeadlineExceeded, backoff_bound, guard, until, within
from app.fleet.limits import TokenBucket
from app.fleet.targets import Caller, Target
from app.lambda_ops.errors import ErrorKind, OpsFailure, aws_call
from tests.fleet.conftest import ONE, Calls, recording_sessions
from tests.lambda_ops.helpers import FakeClock

ALICE = Caller(identity="alice", tool="audit-runtimes")
SLOW_REGION = "eu-west-1"
READ_S = 6.0  # each HTTP attempt to the slow target's Lambda endpoint takes this long (on the fake clock)


def slow_sessions(calls: Calls, clock: FakeClock, sent: list[str]) -> Any:
    """Sessions whose Lambda requests to ``SLOW_REGION`` take ``READ_S`` of the fake clock each."""
    recording = recording_sessions(calls, set())

    def make(**kwargs: Any) -> Any:
        session = recording(**kwargs)

        def slow(request: Any, **_: Any) -> None:
            if f"lambda.{SLOW_REGION}." in request.url:
                sent.append(request.url)
                clock.advance(READ_S)  # the read takes 6 s; moto then answers

        session.events.register("before-send.lambda", slow)
        return session

    return make


def test_a_slow_target_does_not_hold_the_fleet_answer_past_its_budget(fleet_aws: None, calls: Calls) -> None:
    """Hazard: the pool's shutdown joins a thread still reading a slow target (retries, backoff, STS), so
    the whole answer waits for it — past the budget and API Gateway's 30 s. With the deadline, the slow
    target gets the attempt in flight at the deadline and nothing more, and is named ``timeout``."""
    clock, sent = FakeClock(), []
    fleet = AwsFleet(
        FleetConfig(accounts=(ONE,), regions=("us-east-1", SLOW_REGION)),
        session_factory=slow_sessions(calls, clock, sent),
    )
    catalog, today = catalog_of(fleet.ops(fleet.home, ALICE))
    fast, slow = Target(ONE, "us-east-1"), Target(ONE, SLOW_REGION)
    start = clock()
    answer = audit_fleet(
        [fast, slow], lambda t: fleet.ops(t, ALICE), catalog=catalog, today=today,
        budget_s=1.0, workers=1, clock=clock,
    )  # fmt: skip
    coverage = {(c.account, c.region): c for c in answer.coverage or []}
    assert coverage[(ONE, "us-east-1")].status.value == "complete"
    assert coverage[(ONE, SLOW_REGION)].reason is not None
    assert coverage[(ONE, SLOW_REGION)].reason.value == "timeout"
    assert not answer.complete
    assert len(sent) == 1  # one attempt reached the slow endpoint: no further page, no retry
    assert clock() - start <= 1.0 + READ_S  # budget + the one attempt in flight at the deadline


def test_list_targets_check_names_a_slow_target_timeout_within_budget(fleet_aws: None, calls: Calls) -> None:
    """Hazard: ``check`` (list-targets check=true, 20 s) shuts its pool down waiting for threads whose
    calls are not held to the budget."""
    clock, sent = FakeClock(), []
    fleet = AwsFleet(
        FleetConfig(accounts=(ONE,), regions=("us-east-1", SLOW_REGION)),
        session_factory=slow_sessions(calls, clock, sent),
        clock=clock,
        sleep=clock.sleep,
    )
    found = fleet.check([Target(ONE, SLOW_REGION)], ALICE, budget_s=1.0)
    error = found[Target(ONE, SLOW_REGION)]
    assert error is not None
    assert error.kind is ErrorKind.TIMEOUT
    assert len(sent) == 1
    assert clock.now - 1000.0 <= 1.0 + READ_S


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def throttled_client(clock: FakeClock, attempts: list[int], *, seconds: float = 0.0) -> Any:
    client = botocore.session.get_session().create_client(
        "lambda",
        region_name="eu-west-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"mode": "adaptive", "total_max_attempts": 6}),
    )
    guard(client)

    def answer(request: Any, **_: Any) -> AWSResponse:  # AWS throttling; no socket opened
        attempts.append(1)
        clock.advance(seconds)
        headers = {"content-type": "application/json", "x-amzn-ErrorType": "TooManyRequestsException"}
        return AWSResponse(request.url, 429, headers, Raw(b'{"message":"Rate exceeded"}'))

    client.meta.events.register_last("before-send", answer)  # after the guard's: where the send would be
    return client


def test_no_retry_sleeps_past_the_deadline_and_the_last_answer_stands() -> None:
    """Hazard: botocore's retry handler sleeps its backoff (up to 20 s) whatever the caller's budget. With
    0.9 s left, even the first backoff (up to 1 s) could end past it: no retry, and the throttle AWS answered
    is what the caller gets (``throttled``, not a made-up error)."""
    clock, attempts = FakeClock(), []
    client = throttled_client(clock, attempts)
    with within(0.9, clock), pytest.raises(OpsFailure) as raised, aws_call("GetAccountSettings"):
        client.get_account_settings()
    assert len(attempts) == 1
    assert raised.value.error.kind is ErrorKind.THROTTLED
    assert backoff_bound(1) == 1.0
    assert backoff_bound(10) == 20.0


def test_no_request_is_sent_after_the_deadline() -> None:
    """Hazard: a thread past its budget keeps calling AWS (the next page, the next target's read)."""
    clock, attempts = FakeClock(), []
    client = throttled_client(clock, attempts)
    with until(clock() - 0.1, clock), pytest.raises(OpsFailure) as raised, aws_call("GetAccountSettings"):
        client.get_account_settings()
    assert attempts == []
    assert raised.value.error.kind is ErrorKind.TIMEOUT
    assert isinstance(raised.value.__cause__, DeadlineExceeded)


def test_an_inner_budget_cannot_outlast_the_call_s() -> None:
    clock = FakeClock()
    with until(clock() + 1, clock) as outer, within(60, clock) as inner:
        assert inner is outer


def test_the_rate_limiter_raises_instead_of_sleeping_past_the_deadline() -> None:
    """Hazard: ``TokenBucket.take`` slept as long as the bucket said, deadline or not."""
    clock = FakeClock()
    bucket = TokenBucket(1, clock=clock, sleep=clock.sleep)
    with within(0.5, clock):
        bucket.take()  # the burst: no wait
        with pytest.raises(DeadlineExceeded):
            bucket.take()  # a 1 s wait would end past the deadline
    assert clock.sleeps == []
    assert bucket.taken == 1  # the refused take reserved nothing
    assert bucket.take() == pytest.approx(1.0)  # no deadline: waits as before
