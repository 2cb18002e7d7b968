"""The request-state key ring from Secrets Manager (moto): read when needed, cached, rotated, fails closed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from mcp.server.request_state import InvalidRequestState
from moto import mock_aws

from app.config import Settings
from app.security.request_state import KeyRingCodec, SecretKeyRing, request_state_security
from tests.lambda_ops.helpers import REGION


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def secrets(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


def new_secret(secrets: Any, value: str = "k" * 64) -> str:
    return str(secrets.create_secret(Name="request-state", SecretString=value)["ARN"])


def codec(arn: str, clock: Clock | None = None, **kw: Any) -> KeyRingCodec:
    return KeyRingCodec(SecretKeyRing(arn, clock=clock or Clock(), **kw))


def test_nothing_is_read_until_a_state_is_sealed(secrets: Any) -> None:
    arn = new_secret(secrets)
    security = request_state_security(Settings(request_state_secret_arn=arn, request_state_ttl_s=120))
    assert security.ttl == 120
    ring = security.codec.ring  # type: ignore[attr-defined]
    assert ring.loads == 0
    tokens = [security.codec.seal(b"state %d" % i) for i in range(5)]
    assert ring.loads == 1  # cached: one read for every seal and unseal of this environment
    assert [security.codec.unseal(token) for token in tokens] == [b"state %d" % i for i in range(5)]
    assert ring.loads == 1


def test_two_environments_share_the_deployment_key(secrets: Any) -> None:
    arn = new_secret(secrets)
    assert codec(arn).unseal(codec(arn).seal(b"confirm")) == b"confirm"


def test_a_key_from_another_secret_is_refused(secrets: Any) -> None:
    arn = new_secret(secrets)
    other = str(secrets.create_secret(Name="other", SecretString="o" * 64)["ARN"])
    with pytest.raises(InvalidRequestState):
        codec(other, min_refresh_s=0).unseal(codec(arn).seal(b"confirm"))


def test_rotation_loses_no_question_in_flight(secrets: Any) -> None:
    arn = new_secret(secrets, "old-" + "a" * 60)
    clock = Clock()
    old_env = codec(arn, clock)
    minted_before = old_env.seal(b"asked before the rotation")
    secrets.put_secret_value(SecretId=arn, SecretString="new-" + "b" * 60)  # AWSCURRENT moves; old → PREVIOUS

    new_env = codec(arn)
    assert new_env.unseal(minted_before) == b"asked before the rotation"  # AWSPREVIOUS still unseals
    minted_after = new_env.seal(b"asked after")
    clock.now += 31  # past the minimum interval between forced reads
    assert old_env.unseal(minted_after) == b"asked after"  # unknown key: the old environment re-reads
    assert old_env.ring.loads == 2


def test_renewal_is_rate_limited(secrets: Any) -> None:
    arn = new_secret(secrets)
    clock = Clock()
    env = codec(arn, clock)
    env.seal(b"x")
    for _ in range(5):  # forged tokens naming unknown keys must not turn into a read per request
        with pytest.raises(InvalidRequestState):
            env.unseal("v1." + "A" * 60)
    assert env.ring.loads == 1


def test_the_cache_is_renewed_after_its_max_age_and_after_reset(secrets: Any) -> None:
    arn = new_secret(secrets)
    clock = Clock()
    env = codec(arn, clock, max_age_s=900)
    env.seal(b"x")
    clock.now += 901
    env.seal(b"x")
    assert env.ring.loads == 2
    env.ring.reset()  # what a SnapStart after-restore hook may call
    env.seal(b"x")
    assert env.ring.loads == 3


def test_a_short_secret_is_refused(secrets: Any) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        codec(new_secret(secrets, "short")).seal(b"x")


def test_a_missing_secret_fails_closed(secrets: Any) -> None:
    """The SDK turns a codec failure into a refusal (unseal) or an internal error (seal): never a guess."""
    with pytest.raises(InvalidRequestState, match="no key"):
        codec(f"arn:aws:secretsmanager:{REGION}:123456789012:secret:gone").seal(b"x")


def test_a_local_run_says_its_key_is_per_process(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lambda_ops.request_state"):
        first, second = request_state_security(Settings()), request_state_security(Settings())
    assert "LAMBDA_OPS_REQUEST_STATE_SECRET_ARN is not set" in caplog.text
    with pytest.raises(InvalidRequestState):
        second.codec.unseal(first.codec.seal(b"x"))
