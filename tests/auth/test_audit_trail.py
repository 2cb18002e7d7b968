"""Who did what (issue #7 §3): every write through the production handler leaves one audit record naming
the signed-in caller, the function, the change and the outcome — against the moto sandbox account."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.config import Settings
from app.handler import build_handler
from tests.auth.calls import tool_call
from tests.auth.issuer import READ, WRITE, Issuer
from tests.helpers import LambdaContext, body_of, event, modern, service_log

BOTH = f"{READ} {WRITE}"


@pytest.fixture
def writer(moto_lambda: Any, auth_settings: Settings) -> Callable[..., Callable[..., dict[str, Any]]]:
    def make(**updates: Any) -> Callable[..., dict[str, Any]]:
        handler = build_handler(auth_settings.model_copy(update={"allow_writes": True, **updates}))
        return lambda *args, **kwargs: handler(tool_call(*args, **kwargs), LambdaContext())

    return make


@pytest.fixture
def call(writer: Any) -> Callable[..., dict[str, Any]]:
    return writer()  # type: ignore[no-any-return]


@pytest.fixture
def records(call: Any) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    with service_log() as stream:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if '"audit"' in line]


def test_an_invoke_is_audited_with_the_caller(call: Any, records: Any, issuer: Issuer) -> None:
    token = issuer.token(scope=BOTH, sub="alice", client_id="claude")
    response = call(("invoke-function", {"name": "legacy-report-cron", "payload": {"n": 1}}), token=token)
    assert response["statusCode"] == 200
    [line] = records()
    audit = line["audit"]
    assert audit["action"] == "invoke-function"
    assert audit["function"] == "legacy-report-cron"
    assert audit["caller"] == {"sub": "alice", "client_id": "claude", "issuer": issuer.url, "signed_in": True}
    assert audit["outcome"] in ("invoked", "function_error")
    assert line["function_request_id"]  # correlated with the Lambda request like every line
    assert token not in json.dumps(line)


def test_an_upgrade_is_audited_with_its_change_and_outcome_and_a_dry_run_is_not(
    call: Any, records: Any, issuer: Issuer
) -> None:
    token = issuer.token(scope=BOTH)
    arguments = {"name": "legacy-report-cron", "target_runtime": "nodejs22.x"}
    assert call(("update-function-runtime", arguments), token=token)["statusCode"] == 200
    assert records() == []
    response = call(("update-function-runtime", {**arguments, "dry_run": False}), token=token)
    result = body_of(response)["result"]["structuredContent"]
    [line] = records()
    audit = line["audit"]
    assert audit["action"] == "update-function-runtime"
    assert audit["change"] == {"target_runtime": "nodejs22.x", "smoke_test": False, "alias": None}
    assert (audit["outcome"], audit["verified"]) == (result["outcome"], result["verified"])
    assert audit["previous_runtime"] == result["previous_runtime"]


def test_a_write_the_policy_refuses_is_audited_as_refused(
    moto_lambda: Any, auth_settings: Settings, issuer: Issuer
) -> None:
    handler = build_handler(
        auth_settings.model_copy(update={"allow_writes": True, "write_function_prefixes": ["ops-"]})
    )
    call = tool_call(("invoke-function", {"name": "legacy-report-cron"}), token=issuer.token(scope=BOTH))
    with service_log() as stream:
        assert body_of(handler(call, LambdaContext()))["result"]["isError"] is True
    [line] = [json.loads(x) for x in stream.getvalue().splitlines() if '"audit"' in x]
    assert (line["audit"]["outcome"], line["audit"]["setting"]) == (
        "refused",
        "LAMBDA_OPS_WRITE_FUNCTION_PREFIXES",
    )


def _asking(tool: str, arguments: dict[str, Any], token: str, answer: Any = None, state: Any = None) -> Any:
    """A 2026-07-28 tools/call from a client that declared elicitation (the confirmation path)."""
    params: dict[str, Any] = {"name": tool, "arguments": arguments}
    if state is not None:
        params["requestState"], params["inputResponses"] = state, answer
    message, headers = modern("tools/call", params)
    message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"elicitation": {}}
    return event(body=message, headers={**headers, "authorization": f"Bearer {token}"})


def test_a_write_refused_or_declined_at_the_confirmation_is_audited(
    moto_lambda: Any, auth_settings: Settings, issuer: Issuer, records: Any
) -> None:
    """The confirmation path (2026-07-28 with elicitation) leaves the tool body early when the policy refuses
    or the user says no: both are recorded like any other write."""
    token = issuer.token(sub="alice", scope=BOTH)
    refusing = build_handler(
        auth_settings.model_copy(update={"allow_writes": True, "write_function_prefixes": ["ops-"]})
    )
    refused = body_of(
        refusing(_asking("invoke-function", {"name": "legacy-report-cron"}, token), LambdaContext())
    )
    assert refused["result"]["isError"] is True

    handler = build_handler(auth_settings.model_copy(update={"allow_writes": True}))
    upgrade = {"name": "coupon-validator-v1", "target_runtime": "nodejs22.x", "dry_run": False}
    asked = body_of(handler(_asking("update-function-runtime", upgrade, token), LambdaContext()))["result"]
    [key] = asked["inputRequests"]
    decline = {key: {"action": "decline"}}
    reply = handler(
        _asking("update-function-runtime", upgrade, token, decline, asked["requestState"]), LambdaContext()
    )
    assert body_of(reply)["result"]["structuredContent"]["outcome"] == "declined"

    lines = [line["audit"] for line in records()]
    assert [(a["action"], a["outcome"]) for a in lines] == [
        ("invoke-function", "refused"),
        ("update-function-runtime", "declined"),
    ]
    assert all(a["caller"]["sub"] == "alice" for a in lines)
    assert (
        moto_lambda.get_function_configuration(FunctionName="coupon-validator-v1")["Runtime"] == "nodejs14.x"
    )
