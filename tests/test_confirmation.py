"""Destructive tools ask a 2026-07-28 client's user first: raw JSON-RPC through the Lambda handler, against
the moto account. Each test checks what AWS was asked to do (botocore's own event hook), not only what the
tool says."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import mcp.server.request_state as sdk_request_state
import pytest
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from app.config import Settings
from app.handler import build_handler
from app.lambda_ops import LambdaClients, LambdaOps, WritePolicy
from app.surface.server import build_server
from tests.helpers import LEGACY, LambdaContext, body_of, event, modern, request
from tests.lambda_ops.helpers import REGION
from tests.test_tools import Recorder

FUNCTION, OTHER = "coupon-validator-v1", "legacy-report-cron"  # both nodejs14.x in the sandbox
UPGRADE = {"name": FUNCTION, "target_runtime": "nodejs22.x", "dry_run": False}
ASKS = {"elicitation": {}}
WRITES = {"UpdateFunctionConfiguration", "Invoke"}
Env = Any  # a Lambda handler: one execution environment


@pytest.fixture
def secret_arn(moto_lambda: Any) -> str:
    """The deployment's key: a Secrets Manager secret, as the template creates it (64 random characters)."""
    client = boto3.client("secretsmanager", region_name=REGION)
    value = client.get_random_password(PasswordLength=64, ExcludePunctuation=True)["RandomPassword"]
    return str(client.create_secret(Name="lambda-ops-request-state", SecretString=value)["ARN"])


@pytest.fixture
def recorder(moto_lambda: Any) -> Recorder:
    return Recorder(moto_lambda)


def environment(moto_lambda: Any, secret_arn: str | None, **settings: Any) -> Env:
    """A new execution environment: its own handler, server and key cache; the same account and secret."""
    config = Settings(request_state_secret_arn=secret_arn or "", **{"auth_mode": "none", **settings})
    ops = LambdaOps(LambdaClients.of(moto_lambda), policy=WritePolicy(allow_writes=True))
    return build_handler(config, server=build_server(config, ops=ops))


@pytest.fixture
def env(moto_lambda: Any, secret_arn: str) -> Env:
    return environment(moto_lambda, secret_arn)


def call(
    handler: Env,
    tool: str,
    arguments: dict[str, Any],
    *,
    capabilities: dict[str, Any] | None = None,
    answer: dict[str, Any] | None = None,
    state: str | None = None,
    principal: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """One tools/call at 2026-07-28; ``answer`` goes to the question's key, ``state`` is echoed back."""
    params: dict[str, Any] = {"name": tool, "arguments": arguments}
    if state is not None:
        params["requestState"] = state
    message, headers = modern("tools/call", params)
    message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = capabilities or {}
    if answer is not None:
        message["params"]["inputResponses"] = answer
    # What the sign-in layer (#7) does for a verified bearer token: the SDK's auth context for this request.
    user = None
    if principal is not None:
        token = AccessToken(token="t", client_id="client", scopes=[], subject=principal, claims={"iss": "x"})
        user = AuthenticatedUser(token)
    reset = auth_context_var.set(user)
    try:
        response = handler(event(body=message, headers=headers), LambdaContext())
    finally:
        auth_context_var.reset(reset)
    return response["statusCode"], body_of(response)


def ask(handler: Env, tool: str, arguments: dict[str, Any], **kw: Any) -> tuple[str, str, str]:
    """Round 1: the question. Returns (input request key, the question's words, the sealed state)."""
    status, reply = call(handler, tool, arguments, capabilities=ASKS, **kw)
    assert status == 200, reply
    result = reply["result"]
    assert result["resultType"] == "input_required", result
    [(key, question)] = result["inputRequests"].items()
    assert question["method"] == "elicitation/create"
    assert question["params"]["requestedSchema"]["properties"]["confirm"]["type"] == "boolean"
    return key, question["params"]["message"], result["requestState"]


def answer(key: str, action: str = "accept", confirm: bool = True) -> dict[str, Any]:
    content = {"confirm": confirm} if action == "accept" else None
    return {key: {"action": action, **({"content": content} if content is not None else {})}}


def runtime(moto_lambda: Any, name: str = FUNCTION) -> str:
    return str(moto_lambda.get_function_configuration(FunctionName=name)["Runtime"])


def writes(recorder: Recorder) -> list[str]:
    return [operation for operation in recorder.operations if operation in WRITES]


def test_ask_then_accept_changes_the_runtime(env: Env, moto_lambda: Any, recorder: Recorder) -> None:
    key, question, state = ask(env, "update-function-runtime", UPGRADE)
    assert f"{FUNCTION} from nodejs14.x to nodejs22.x" in question
    assert "Smoke test: none" in question
    assert "Rollback:" in question
    assert writes(recorder) == []
    assert runtime(moto_lambda) == "nodejs14.x"

    status, reply = call(
        env, "update-function-runtime", UPGRADE, capabilities=ASKS, answer=answer(key), state=state
    )
    assert status == 200
    result = reply["result"]["structuredContent"]
    assert (result["outcome"], result["verified"], result["dry_run"]) == ("succeeded", True, False)
    assert writes(recorder) == ["UpdateFunctionConfiguration"]
    assert runtime(moto_lambda) == "nodejs22.x"

    # Replaying the accepting request changes nothing more: the plan is now "unchanged", so nobody is asked.
    status, replay = call(
        env, "update-function-runtime", UPGRADE, capabilities=ASKS, answer=answer(key), state=state
    )
    assert replay["result"]["structuredContent"]["outcome"] == "unchanged"
    assert writes(recorder) == ["UpdateFunctionConfiguration"]


def test_the_smoke_test_and_rollback_are_in_the_question(env: Env) -> None:
    arguments = {**UPGRADE, "smoke_payload": {"ping": True}}
    _, question, _ = ask(env, "update-function-runtime", arguments)
    assert "invoke it with the given event (13 bytes)" in question
    assert "rolls the runtime back to nodejs14.x" in question


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (answer("k", "decline"), "declined"),
        (answer("k", "cancel"), "cancelled"),
        (answer("k", confirm=False), "did not confirm"),
    ],
)
def test_decline_cancel_or_no_changes_nothing_and_says_so(
    env: Env, moto_lambda: Any, recorder: Recorder, reply: dict[str, Any], said: str
) -> None:
    key, _, state = ask(env, "update-function-runtime", UPGRADE)
    status, response = call(
        env, "update-function-runtime", UPGRADE, capabilities=ASKS, answer={key: reply["k"]}, state=state
    )
    result = response["result"]
    assert status == 200
    assert result.get("isError") is not True
    assert result["structuredContent"]["outcome"] == "declined"
    assert f"the user {said} the confirmation" in result["content"][0]["text"]
    assert writes(recorder) == []
    assert runtime(moto_lambda) == "nodejs14.x"


def refused(status: int, reply: dict[str, Any]) -> bool:
    error = reply.get("error") or {}
    return status == 400 and error.get("code") == -32602 and "requestState" in error.get("message", "")


def test_tampered_state_is_refused_and_nothing_changes(
    env: Env, moto_lambda: Any, recorder: Recorder
) -> None:
    key, _, state = ask(env, "update-function-runtime", UPGRADE)
    flipped = state[:-6] + ("A" if state[-6] != "A" else "B") + state[-5:]
    for bad in (flipped, state + "x", "v1.AAAA", ""):
        status, reply = call(
            env, "update-function-runtime", UPGRADE, capabilities=ASKS, answer=answer(key), state=bad
        )
        assert refused(status, reply), (bad, reply)
    assert writes(recorder) == []
    assert runtime(moto_lambda) == "nodejs14.x"


def test_an_answer_without_the_state_only_asks_again(env: Env, recorder: Recorder) -> None:
    key, _, _ = ask(env, "update-function-runtime", UPGRADE)
    _, reply = call(env, "update-function-runtime", UPGRADE, capabilities=ASKS, answer=answer(key))
    assert reply["result"]["resultType"] == "input_required"  # a forged "yes" with no sealed question
    assert writes(recorder) == []


def test_expired_state_is_refused(
    moto_lambda: Any, secret_arn: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(moto_lambda, secret_arn, request_state_ttl_s=60)
    key, _, state = ask(env, "update-function-runtime", UPGRADE)
    real = sdk_request_state.time.time
    monkeypatch.setattr(sdk_request_state, "time", SimpleNamespace(time=lambda: real() + 61))
    status, reply = call(
        env, "update-function-runtime", UPGRADE, capabilities=ASKS, answer=answer(key), state=state
    )
    assert refused(status, reply)
    assert writes(recorder) == []
    assert runtime(moto_lambda) == "nodejs14.x"


@pytest.mark.parametrize(
    "retargeted",
    [
        {**UPGRADE, "name": OTHER},  # another function
        {**UPGRADE, "target_runtime": "nodejs20.x"},  # another target
        {**UPGRADE, "smoke_payload": {"x": 1}},  # any other argument
    ],
)
def test_state_for_another_call_is_refused(
    env: Env, moto_lambda: Any, recorder: Recorder, retargeted: dict[str, Any]
) -> None:
    key, _, state = ask(env, "update-function-runtime", UPGRADE)
    status, reply = call(
        env, "update-function-runtime", retargeted, capabilities=ASKS, answer=answer(key), state=state
    )
    assert refused(status, reply)
    assert writes(recorder) == []
    assert runtime(moto_lambda) == runtime(moto_lambda, OTHER) == "nodejs14.x"


def test_state_from_another_principal_is_refused(env: Env, moto_lambda: Any, recorder: Recorder) -> None:
    key, _, state = ask(env, "update-function-runtime", UPGRADE, principal="alice")
    for other in ("bob", None):
        status, reply = call(
            env,
            "update-function-runtime",
            UPGRADE,
            capabilities=ASKS,
            answer=answer(key),
            state=state,
            principal=other,
        )
        assert refused(status, reply), other
    assert writes(recorder) == []
    assert runtime(moto_lambda) == "nodejs14.x"
    _, reply = call(
        env,
        "update-function-runtime",
        UPGRADE,
        capabilities=ASKS,
        answer=answer(key),
        state=state,
        principal="alice",
    )
    assert reply["result"]["structuredContent"]["outcome"] == "succeeded"


def test_the_retry_may_land_on_another_execution_environment(
    moto_lambda: Any, secret_arn: str, recorder: Recorder
) -> None:
    first, second = environment(moto_lambda, secret_arn), environment(moto_lambda, secret_arn)
    key, _, state = ask(first, "update-function-runtime", UPGRADE)
    _, reply = call(
        second, "update-function-runtime", UPGRADE, capabilities=ASKS, answer=answer(key), state=state
    )
    assert reply["result"]["structuredContent"]["outcome"] == "succeeded"


def test_without_the_secret_the_key_is_per_process(moto_lambda: Any, recorder: Recorder) -> None:
    first, second = environment(moto_lambda, None), environment(moto_lambda, None)
    key, _, state = ask(first, "update-function-runtime", UPGRADE)
    status, reply = call(
        second, "update-function-runtime", UPGRADE, capabilities=ASKS, answer=answer(key), state=state
    )
    assert refused(status, reply)
    assert writes(recorder) == []


def test_invoke_asks_with_the_payload_then_runs_only_when_accepted(env: Env, recorder: Recorder) -> None:
    arguments = {"name": FUNCTION, "payload": {"order": 42}}
    key, question, state = ask(env, "invoke-function", arguments)
    assert f"Invoke Lambda function {FUNCTION} now?" in question
    assert '{"order":42}' in question
    _, declined = call(
        env, "invoke-function", arguments, capabilities=ASKS, answer=answer(key, "decline"), state=state
    )
    assert declined["result"]["structuredContent"]["invoked"] is False
    assert "Not invoked: the user declined" in declined["result"]["content"][0]["text"]
    assert writes(recorder) == []
    _, accepted = call(env, "invoke-function", arguments, capabilities=ASKS, answer=answer(key), state=state)
    assert accepted["result"]["structuredContent"]["invoked"] is True
    assert writes(recorder) == ["Invoke"]


def test_refusals_are_answered_without_asking(moto_lambda: Any, secret_arn: str, recorder: Recorder) -> None:
    """Nothing to confirm when the write gate or the plan refuses: the refusal is the answer."""
    config = Settings(request_state_secret_arn=secret_arn, auth_mode="none")
    ops = LambdaOps(LambdaClients.of(moto_lambda), policy=WritePolicy(allow_writes=False))
    env = build_handler(config, server=build_server(config, ops=ops))
    _, reply = call(env, "invoke-function", {"name": FUNCTION}, capabilities=ASKS)
    assert reply["result"]["isError"] is True
    assert "LAMBDA_OPS_ALLOW_WRITES" in reply["result"]["content"][0]["text"]
    _, reply = call(env, "update-function-runtime", UPGRADE, capabilities=ASKS)
    assert reply["result"]["structuredContent"]["outcome"] == "refused"  # the plan, with the failed check
    assert "LAMBDA_OPS_ALLOW_WRITES" in reply["result"]["content"][0]["text"]
    writable = environment(moto_lambda, secret_arn)
    _, reply = call(
        writable, "update-function-runtime", {**UPGRADE, "target_runtime": "nodejs10.x"}, capabilities=ASKS
    )
    assert reply["result"]["structuredContent"]["outcome"] == "refused"
    assert writes(recorder) == []


def test_clients_that_cannot_be_asked_keep_the_explicit_dry_run_flow(
    moto_lambda: Any, secret_arn: str, recorder: Recorder
) -> None:
    env = environment(moto_lambda, secret_arn)
    _, reply = call(env, "update-function-runtime", {**UPGRADE, "dry_run": True}, capabilities=ASKS)
    assert reply["result"]["structuredContent"]["outcome"] == "planned"  # a dry run is never asked about
    # 2026-07-28 without the elicitation capability: dry_run=false acts, as before.
    _, reply = call(env, "update-function-runtime", UPGRADE, capabilities={})
    assert reply["result"]["structuredContent"]["outcome"] == "succeeded"
    # 2025-11-25 (no multi-round-trip requests): the same.
    legacy = copy.deepcopy(
        request("tools/call", {"name": "update-function-runtime", "arguments": {**UPGRADE, "name": OTHER}})
    )
    response = env(event(body=legacy, headers={"mcp-protocol-version": LEGACY}), LambdaContext())
    assert body_of(response)["result"]["structuredContent"]["outcome"] == "succeeded"
    assert writes(recorder) == ["UpdateFunctionConfiguration", "UpdateFunctionConfiguration"]


@pytest.fixture(autouse=True)
def _no_leaked_auth() -> Iterator[None]:
    yield
    assert auth_context_var.get() is None


def test_an_unreadable_key_asks_nothing_and_changes_nothing(moto_lambda: Any, recorder: Recorder) -> None:
    env = environment(moto_lambda, f"arn:aws:secretsmanager:{REGION}:123456789012:secret:gone")
    _, reply = call(env, "update-function-runtime", UPGRADE, capabilities=ASKS)
    assert reply["error"]["code"] == -32603  # the SDK refuses to send a question it cannot seal
    assert "secret" not in reply["error"]["message"].lower()
    assert writes(recorder) == []
    assert runtime(moto_lambda) == "nodejs14.x"


def test_a_question_is_logged_and_counted_as_such_not_as_an_error(
    env: Env, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    ask(env, "update-function-runtime", UPGRADE)
    [line] = [json.loads(x) for x in logs.getvalue().splitlines() if '"mcp request"' in x]
    assert (line["mcp_name"], line["outcome"]) == ("update-function-runtime", "input_required")
    metrics = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"Requests"' in x]
    assert [(m["tool"], m["Errors"]) for m in metrics] == [("update-function-runtime", [0.0])]


def test_the_question_for_an_alias_upgrade_says_what_production_will_serve(
    env: Env, moto_lambda: Any, recorder: Recorder
) -> None:
    """#10's alias path through #9's question: the user is told the alias moves only after the published
    version's smoke test, and where it stays otherwise."""
    arguments = {
        "name": "orders-api-prod",
        "target_runtime": "nodejs22.x",
        "dry_run": False,
        "alias": "prod",
        "smoke_payload": {},
    }
    _, question, _ = ask(env, "update-function-runtime", arguments)
    assert "move alias prod from version 2 (nodejs16.x) to it" in question
    assert "prod stays on version 2" in question
    assert writes(recorder) == []


def test_the_question_plans_with_every_argument_of_the_upgrade() -> None:
    """confirm_update re-plans the upgrade with a dry run: it must take every argument the tool takes, or the
    question would describe another change than the one that runs after a yes."""
    import asyncio
    import inspect

    from app.surface.confirm import confirm_update

    server = build_server(Settings(auth_mode="none"))
    tools = {tool.name: tool for tool in asyncio.run(server.list_tools())}
    arguments = set(tools["update-function-runtime"].input_schema["properties"])
    assert set(inspect.signature(confirm_update).parameters) - {"ctx"} == arguments
