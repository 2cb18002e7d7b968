"""A member facade outlives its first credentials (a 5-minute worker target, a 12-minute task, an upgrade's
whole invocation): they refresh themselves by AssumeRole, with the same SourceIdentity and tags. An expired
session is reported as one to retry, never as roles to deploy. Fake wall clock, Stubber, no timing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from app.fleet.aws import AwsFleet
from app.fleet.config import FleetConfig
from app.fleet.coverage import failed
from app.fleet.failures import classify
from app.fleet.sessions import CALLER_TAG, TOOL_TAG
from app.fleet.targets import Caller, Target
from app.lambda_ops import OpsError
from app.lambda_ops.errors import ErrorKind, from_client_error

HOME, MEMBER = "123456789012", "222222222222"
ALICE = Caller(identity="alice", tool="upgrade-runtime")
FIRST, SECOND = "ASIAFIRSTFIRST01", "ASIASECONDSECOND"


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def lambda_endpoint(wall: Wall, expiry: dict[str, float], signed: list[str]) -> Any:
    """Sessions whose Lambda requests are answered as AWS would: ExpiredTokenException for a key past its
    expiry, an empty page otherwise (no socket opened)."""

    def make(**kwargs: Any) -> Any:
        session = boto3.session.Session(**kwargs)

        def answer(request: Any, **_: Any) -> AWSResponse:
            found = re.search(r"Credential=(\w+)/", request.headers["Authorization"].decode())
            key = found.group(1) if found else ""
            signed.append(key)
            if key in expiry and wall() >= expiry[key]:
                headers = {"content-type": "application/json", "x-amzn-ErrorType": "ExpiredTokenException"}
                body = b'{"message":"The security token included in the request is expired"}'
                return AWSResponse(request.url, 403, headers, Raw(body))
            return AWSResponse(
                request.url, 200, {"content-type": "application/json"}, Raw(b'{"Functions":[]}')
            )

        session.events.register_last("before-send.lambda", answer)
        return session

    return make


def assume(stubber: Stubber, key: str, expires: float) -> None:
    stubber.add_response(
        "assume_role",
        {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "secret-value-long-enough",
                         "SessionToken": "token", "Expiration": datetime.fromtimestamp(expires, UTC)}},
        {
            "RoleArn": f"arn:aws:iam::{MEMBER}:role/lambda-ops-mcp-reader",
            "RoleSessionName": f"lambda-ops-{ALICE.source_identity}",
            "DurationSeconds": 900,
            "SourceIdentity": ALICE.source_identity,
            "Tags": [{"Key": CALLER_TAG, "Value": ALICE.identity}, {"Key": TOOL_TAG, "Value": ALICE.tool}],
        },
    )  # fmt: skip


def test_a_facade_used_after_800_s_assumes_the_role_again_instead_of_failing(aws_env: None) -> None:
    """Hazard: static member credentials cached at first use expire under a long-lived facade, and every
    later call fails with ExpiredToken — reported as access_denied, "deploy the member roles"."""
    wall, expiry, signed = Wall(), {}, []
    fleet = AwsFleet(
        FleetConfig(accounts=(MEMBER,), regions=("us-east-1",)),
        session_factory=lambda_endpoint(wall, expiry, signed),
        environ={"AWS_REGION": "us-east-1"},
        wall_clock=wall,
    )
    stubber = Stubber(fleet._sts())
    stubber.add_response(
        "get_caller_identity", {"Account": HOME, "Arn": f"arn:aws:sts::{HOME}:assumed-role/r/s"}
    )
    expiry[FIRST], expiry[SECOND] = wall.now + 900, wall.now + 800 + 900
    assume(stubber, FIRST, expiry[FIRST])
    assume(stubber, SECOND, expiry[SECOND])  # the refresh: same SourceIdentity and tags
    with stubber:
        ops = fleet.ops(Target(MEMBER, "us-east-1"), ALICE)  # held, as an upgrade holds it
        assert not isinstance(ops.list_functions(), OpsError)
        wall.now += 800  # 100 s left: inside the refresh margin
        page = ops.list_functions()
        assert not isinstance(page, OpsError), page
        wall.now += 200  # the first credentials are now expired: nothing signs with them
        assert not isinstance(ops.list_functions(), OpsError)
        stubber.assert_no_pending_responses()
    assert signed == [FIRST, SECOND, SECOND]
    assert fleet.sessions.assumed == 2
    assert fleet.ops(Target(MEMBER, "us-east-1"), ALICE) is ops  # the same facade, still good


def test_an_expired_session_says_retry_not_deploy_the_roles() -> None:
    """Hazard: ExpiredToken was classified access_denied, whose fix is to deploy the member roles."""
    exc = ClientError(
        {"Error": {"Code": "ExpiredTokenException", "Message": "The security token is expired"},
         "ResponseMetadata": {"HTTPStatusCode": 403}},
        "ListFunctions",
    )  # fmt: skip
    error = from_client_error(exc, "ListFunctions")
    assert error.kind is not ErrorKind.ACCESS_DENIED
    assert error.retryable is True
    assert "expired" in error.message
    target = Target(MEMBER, "us-east-1")
    member = classify(error, target, "us-east-1")
    assert member.message.startswith(f"The member session of account {MEMBER} expired")
    coverage = failed(target, member, 20.0)
    assert coverage.reason is not None
    assert coverage.reason.value != "access_denied"
    assert "member-roles" not in (coverage.message or "")
