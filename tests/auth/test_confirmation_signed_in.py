"""A confirmation (2026-07-28 input-required round trip) is bound to the signed-in caller end to end: the
edge verifies real bearer tokens, the SDK seals the question's state to that principal, and only the same
caller's answer runs the change. (tests/test_confirmation.py covers the sealing with the auth context set
directly; this is the same property through the sign-in layer.)"""

from __future__ import annotations

from typing import Any

from app.config import Settings
from app.handler import build_handler
from app.lambda_ops import LambdaClients, LambdaOps, WritePolicy
from app.surface.server import build_server
from tests.auth.issuer import READ, WRITE, Issuer
from tests.helpers import LambdaContext, body_of, event, modern

FUNCTION = "coupon-validator-v1"  # nodejs14.x in the sandbox
UPGRADE = {"name": FUNCTION, "target_runtime": "nodejs22.x", "dry_run": False}
BOTH = f"{READ} {WRITE}"


def _call(
    handler: Any, token: str, state: str | None = None, answer: Any = None
) -> tuple[int, dict[str, Any]]:
    params: dict[str, Any] = {"name": "update-function-runtime", "arguments": UPGRADE}
    if state is not None:
        params["requestState"], params["inputResponses"] = state, answer
    message, headers = modern("tools/call", params)
    message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"elicitation": {}}
    response = handler(
        event(body=message, headers={**headers, "authorization": f"Bearer {token}"}), LambdaContext()
    )
    return response["statusCode"], body_of(response)


def test_only_the_caller_who_was_asked_can_answer(
    moto_lambda: Any, auth_settings: Settings, issuer: Issuer
) -> None:
    settings = auth_settings.model_copy(update={"allow_writes": True})
    ops = LambdaOps(LambdaClients.of(moto_lambda), policy=WritePolicy(allow_writes=True))
    handler = build_handler(settings, server=build_server(settings, ops=ops))
    alice = issuer.token(sub="alice", scope=BOTH)
    bob = issuer.token(sub="bob", scope=BOTH)

    asked = _call(handler, alice)[1]["result"]
    assert asked["resultType"] == "input_required"
    [key] = asked["inputRequests"]
    accept = {key: {"action": "accept", "content": {"confirm": True}}}

    status, stolen = _call(handler, bob, asked["requestState"], accept)
    assert (status, stolen["error"]["code"]) == (400, -32602), stolen
    assert "requestState" in stolen["error"]["message"]
    assert moto_lambda.get_function_configuration(FunctionName=FUNCTION)["Runtime"] == "nodejs14.x"

    answered = _call(handler, alice, asked["requestState"], accept)[1]["result"]["structuredContent"]
    assert (answered["outcome"], answered["verified"]) == ("succeeded", True)
    assert moto_lambda.get_function_configuration(FunctionName=FUNCTION)["Runtime"] == "nodejs22.x"
