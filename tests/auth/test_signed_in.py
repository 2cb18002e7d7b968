"""Signed-in calls through the production handler: what a valid token may do, and what the tools see."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context

from app.config import Settings
from app.handler import build_handler
from app.surface.server import build_server
from tests.auth.calls import WRITE_CALL, tool_call
from tests.auth.conftest import Invoke, RecordingOps
from tests.auth.issuer import READ, RESOURCE, WRITE, Issuer
from tests.helpers import LambdaContext, body_of, header, service_log


@pytest.fixture
def logs(invoke: Invoke) -> Iterator[io.StringIO]:
    with service_log() as stream:
        yield stream


def _result(response: dict[str, Any]) -> dict[str, Any]:
    assert response["statusCode"] == 200, response
    return body_of(response)["result"]


def test_a_read_token_reads_and_the_log_names_the_caller(
    invoke: Invoke, issuer: Issuer, ops: RecordingOps, logs: io.StringIO
) -> None:
    token = issuer.token()
    assert not _result(invoke(tool_call(token=token))).get("isError")
    assert ops.calls == ["runtime_info"]
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    request_line = next(line for line in lines if line["message"] == "mcp request")
    assert request_line["caller"] == {"sub": "user-123", "client_id": "client-abc"}
    assert token not in logs.getvalue()


def test_a_refused_write_names_the_caller_and_the_reason(
    invoke: Invoke, issuer: Issuer, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke(tool_call(WRITE_CALL, token=issuer.token(sub="bob")))["statusCode"] == 403
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert next(x for x in lines if x["message"] == "mcp request")["caller"] == {
        "sub": "bob",
        "client_id": "client-abc",
    }
    assert next(x for x in lines if x["message"] == "sign-in refused")["reason"] == "insufficient_scope"
    assert '"reason":"insufficient_scope","AuthFailures":[1.0]' in capsys.readouterr().out


def test_an_es256_token_is_accepted_when_configured(
    build: Callable[[Settings], Invoke], auth_settings: Settings, issuer: Issuer
) -> None:
    only_rs256 = build(auth_settings)
    assert only_rs256(tool_call(token=issuer.token(alg="ES256")))["statusCode"] == 401
    both = build(auth_settings.model_copy(update={"oauth_algorithms": ["RS256", "ES256"]}))
    assert both(tool_call(token=issuer.token(alg="ES256")))["statusCode"] == 200


def test_a_write_token_reaches_the_tool_and_the_write_gate_still_applies(
    invoke: Invoke, issuer: Issuer, ops: RecordingOps
) -> None:
    """Sign-in is not the only gate: with LAMBDA_OPS_ALLOW_WRITES off the tool itself refuses."""
    result = _result(invoke(tool_call(WRITE_CALL, token=issuer.token(scope=f"{READ} {WRITE}"))))
    assert ops.calls == ["invoke"]
    assert result["isError"] is True
    assert "LAMBDA_OPS_ALLOW_WRITES" in result["content"][0]["text"]


def test_a_dry_run_upgrade_needs_only_read(invoke: Invoke, issuer: Issuer, ops: RecordingOps) -> None:
    for arguments in ({"name": "orders-api", "target_runtime": "nodejs22.x"}, {"name": "orders-api",
                      "target_runtime": "nodejs22.x", "dry_run": True}):  # fmt: skip
        response = invoke(tool_call(("update-function-runtime", arguments), token=issuer.token()))
        assert response["statusCode"] == 200
    assert ops.calls == ["update_runtime", "update_runtime"]


def test_function_health_needs_only_read(
    invoke: Invoke, issuer: Issuer, ops: RecordingOps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get-function-health is a read (issue 15): a read-only token reaches the tool (its AWS calls go to a
    closed loopback port here, so the tool answers with an error result, not the gate with 403)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    call = ("get-function-health", {"name": "orders-api", "window": 30})
    response = invoke(tool_call(call, token=issuer.token(scope=READ)))
    assert response["statusCode"] == 200
    assert ops.calls == ["function_health"]


def test_scp_list_claims_count_as_scopes(invoke: Invoke, issuer: Issuer) -> None:
    assert invoke(tool_call(token=issuer.token(scope=None, scp=[READ])))["statusCode"] == 200


def test_tools_see_the_principal_through_the_sdk_and_never_the_header(
    auth_settings: Settings, issuer: Issuer
) -> None:
    """scope["user"] is the SDK's AuthenticatedUser and the SDK's AuthContextMiddleware runs: inside a
    tool, get_access_token() is the caller (what the SDK binds request state to). The Authorization
    header itself is not passed on."""
    server = build_server(auth_settings)
    seen: dict[str, Any] = {}

    @server.tool(name="whoami")
    async def whoami(ctx: Context) -> str:
        access = get_access_token()
        assert access is not None
        seen.update(access.model_dump(exclude={"token"}))
        seen["headers"] = dict(ctx.headers or {})
        return "ok"

    handler = build_handler(auth_settings, server=server)
    response = handler(
        tool_call(("whoami", {}), token=issuer.token(scope=f"{READ} {WRITE}")), LambdaContext()
    )
    assert response["statusCode"] == 200
    assert seen["subject"] == "user-123"
    assert seen["client_id"] == "client-abc"
    assert seen["scopes"] == [READ, WRITE]
    assert seen["resource"] == RESOURCE
    assert seen["claims"]["iss"] == issuer.url
    assert isinstance(seen["expires_at"], int)
    assert seen["headers"]["host"] == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    assert "authorization" not in {name.lower() for name in seen["headers"]}  # no token passthrough


def test_cors_exposes_www_authenticate_to_browsers(invoke: Invoke) -> None:
    response = invoke(tool_call(headers={"origin": "https://inspector.example.com"}))
    assert response["statusCode"] == 401
    assert "www-authenticate" in (header(response, "access-control-expose-headers") or "").lower()


def test_an_unconfigured_deployment_refuses_everyone(
    build: Callable[[Settings], Invoke], issuer: Issuer, ops: RecordingOps, caplog: pytest.LogCaptureFixture
) -> None:
    """Fails closed: sign-in on (the default) and no issuer — every MCP request 401, and the cold start
    says why."""
    invoke = build(Settings())
    assert "LAMBDA_OPS_OAUTH_ISSUER is not set" in caplog.text
    for token in (None, issuer.token()):
        assert invoke(tool_call(token=token))["statusCode"] == 401
    assert ops.calls == []


def test_an_audience_list_naming_this_resource_is_accepted(invoke: Invoke, issuer: Issuer) -> None:
    assert (
        invoke(tool_call(token=issuer.token(aud=["https://other.example.com", RESOURCE])))["statusCode"]
        == 200
    )
    assert invoke(tool_call(token=issuer.token(aud=["https://other.example.com"])))["statusCode"] == 401


def test_notifications_and_the_handshake_need_a_token_too(invoke: Invoke, issuer: Issuer) -> None:
    from tests.helpers import event, initialize, request

    for message in (
        initialize(),
        request("notifications/initialized", notification=True),
        request("tools/list"),
    ):
        assert invoke(event(body=message))["statusCode"] == 401
        signed = event(body=message, headers={"authorization": f"Bearer {issuer.token()}"})
        assert invoke(signed)["statusCode"] in (200, 202)
