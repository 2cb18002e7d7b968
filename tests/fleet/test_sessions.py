"""AssumeRole exactly as promised (a botocore Stubber checks every parameter), cached until shortly before
expiry, dropped on renewal; a denied role is an access_denied error that names the fix."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from app.fleet.sessions import CALLER_TAG, TOOL_TAG, Sessions
from app.fleet.targets import Caller
from app.lambda_ops.errors import ErrorKind, OpsFailure

ALICE = Caller(identity="alice@example.com", tool="audit-runtimes")
SERVER_ROLE = "arn:aws:iam::123456789012:role/lambda-ops-McpFunctionRole-AbC"


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def sts() -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "sts", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def expect(
    stubber: Stubber, account: str, role: str, caller: Caller, expires: float, key: str = "ASIAFIRSTFIRST01"
) -> None:
    stubber.add_response(
        "assume_role",
        {
            "Credentials": {
                "AccessKeyId": key,
                "SecretAccessKey": "secret-value-long-enough",
                "SessionToken": "token",
                "Expiration": datetime.fromtimestamp(expires, UTC),
            }
        },
        {
            "RoleArn": f"arn:aws:iam::{account}:role/{role}",
            "RoleSessionName": f"lambda-ops-{caller.source_identity}",
            "DurationSeconds": 900,
            "SourceIdentity": caller.source_identity,
            "Tags": [{"Key": CALLER_TAG, "Value": caller.identity}, {"Key": TOOL_TAG, "Value": caller.tool}],
        },
    )


def test_assume_role_names_the_caller_and_the_tool_for_15_minutes() -> None:
    client, stubber = sts()
    wall = Wall()
    sessions = Sessions(lambda: client, clock=wall)
    expect(stubber, "222222222222", "lambda-ops-mcp-reader", ALICE, wall.now + 900)
    found = sessions.credentials("222222222222", "lambda-ops-mcp-reader", ALICE)
    stubber.assert_no_pending_responses()
    assert found.access_key == "ASIAFIRSTFIRST01"
    assert "secret" not in repr(found)


def test_credentials_are_reused_until_two_minutes_before_they_expire() -> None:
    client, stubber = sts()
    wall = Wall()
    sessions = Sessions(lambda: client, clock=wall)
    expect(stubber, "222222222222", "r", ALICE, wall.now + 900, key="FIRSTXXXXXXXXXXX")
    expect(stubber, "222222222222", "r", ALICE, wall.now + 900 + 800, key="SECONDXXXXXXXXXX")
    assert sessions.credentials("222222222222", "r", ALICE).access_key == "FIRSTXXXXXXXXXXX"
    wall.now += 700  # 200 s left: still good
    assert sessions.credentials("222222222222", "r", ALICE).access_key == "FIRSTXXXXXXXXXXX"
    assert sessions.assumed == 1
    wall.now += 90  # 110 s left: renewed
    assert sessions.credentials("222222222222", "r", ALICE).access_key == "SECONDXXXXXXXXXX"
    assert sessions.assumed == 2
    stubber.assert_no_pending_responses()


def test_each_caller_has_credentials_of_their_own_and_renewal_drops_them() -> None:
    client, stubber = sts()
    wall = Wall()
    sessions = Sessions(lambda: client, clock=wall)
    bob = Caller(identity="bob", tool="list-functions")
    expect(stubber, "111111111111", "r", ALICE, wall.now + 900, key="ALICEXXXXXXXXXXX")
    expect(stubber, "111111111111", "r", bob, wall.now + 900, key="BOBXXXXXXXXXXXXX")
    expect(stubber, "111111111111", "r", ALICE, wall.now + 900, key="ALICE2XXXXXXXXXX")
    assert sessions.credentials("111111111111", "r", ALICE).access_key == "ALICEXXXXXXXXXXX"
    assert sessions.credentials("111111111111", "r", bob).access_key == "BOBXXXXXXXXXXXXX"
    sessions.clear()  # what app/renewal.py runs after a SnapStart restore
    assert sessions.credentials("111111111111", "r", ALICE).access_key == "ALICE2XXXXXXXXXX"
    stubber.assert_no_pending_responses()


def test_a_denied_role_is_access_denied_with_the_fix() -> None:
    client, stubber = sts()
    stubber.add_client_error(
        "assume_role", "AccessDenied", "User is not authorized to perform: sts:AssumeRole"
    )
    sessions = Sessions(lambda: client, server_role=lambda: SERVER_ROLE)
    with pytest.raises(OpsFailure) as raised:
        sessions.credentials("222222222222", "lambda-ops-mcp-reader", ALICE)
    error = raised.value.error
    assert error.kind is ErrorKind.ACCESS_DENIED
    assert error.message.startswith(
        f"role lambda-ops-mcp-reader is missing in 222222222222 or does not trust {SERVER_ROLE}"
    )
    assert "infra/member-roles.yaml" in error.message
    assert error.retryable is False


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [("Throttling", 400, ErrorKind.THROTTLED), ("RegionDisabledException", 403, ErrorKind.REGION_DISABLED)],
)
def test_other_sts_failures_keep_their_kind(code: str, status: int, kind: ErrorKind) -> None:
    client, stubber = sts()
    stubber.add_client_error("assume_role", code, "no", status)
    with pytest.raises(OpsFailure) as raised:
        Sessions(lambda: client).credentials("222222222222", "r", ALICE)
    assert raised.value.error.kind is kind


def test_a_tag_value_keeps_to_what_sts_accepts() -> None:
    client, stubber = sts()
    odd = Caller(identity="auth0|5f7c8ec7c33c6c004bbafe82", tool="get-function")
    named = odd.source_identity  # the pipe STS refuses becomes '-', and a hash keeps it one-to-one
    assert named.startswith("auth0-5f7c8ec7c33c6c004bbafe82.")
    stubber.add_response(
        "assume_role",
        {"Credentials": {"AccessKeyId": "ASIAAAAAAAAAAAAA", "SecretAccessKey": "s", "SessionToken": "t",
                         "Expiration": datetime(2030, 1, 1, tzinfo=UTC)}},
        {
            "RoleArn": "arn:aws:iam::222222222222:role/r",
            "RoleSessionName": f"lambda-ops-{named}",
            "DurationSeconds": 900,
            "SourceIdentity": named,
            "Tags": [{"Key": CALLER_TAG, "Value": "auth0-5f7c8ec7c33c6c004bbafe82"},
                     {"Key": TOOL_TAG, "Value": "get-function"}],
        },
    )  # fmt: skip
    Sessions(lambda: client).credentials("222222222222", "r", odd)
    stubber.assert_no_pending_responses()


def test_subjects_that_sanitise_alike_never_share_credentials() -> None:
    """Hazard: ``a|b`` and ``a-b`` have one ``source_identity`` (sanitised for STS); a cache keyed on it
    would hand one person's member session to the other. The key is the raw identity."""
    client, stubber = sts()
    wall = Wall()
    sessions = Sessions(lambda: client, clock=wall)
    pipe, dash = Caller(identity="a|b", tool="t"), Caller(identity="a-b", tool="t")
    for key in ("PIPEXXXXXXXXXXXX", "DASHXXXXXXXXXXXX"):
        stubber.add_response(
            "assume_role",
            {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s", "SessionToken": "t",
                             "Expiration": datetime.fromtimestamp(wall.now + 900, UTC)}},
        )  # fmt: skip
    assert sessions.credentials("111111111111", "r", pipe).access_key == "PIPEXXXXXXXXXXXX"
    assert sessions.credentials("111111111111", "r", dash).access_key == "DASHXXXXXXXXXXXX"
    assert sessions.assumed == 2
    stubber.assert_no_pending_responses()
