"""The Lambda handler driven with complete API Gateway and Function URL events: one execution environment."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import LEGACY, MODERN, LambdaContext, body_of, event, header, initialize, modern, request

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
LEGACY_HEADERS = {"mcp-protocol-version": LEGACY}


def test_warm_invocations_are_independent_and_correct(invoke: Invoke) -> None:
    """Regression: with Mangum's lifespan per invocation the 2nd warm invocation failed (python-sdk #3121)."""
    call_ping = request("tools/call", {"name": "ping", "arguments": {}})
    modern_call, modern_headers = modern("tools/call", {"name": "ping", "arguments": {}})
    discover, discover_headers = modern("server/discover")
    steps: list[tuple[dict[str, Any], dict[str, str], int]] = [
        (initialize(), {}, 200),
        (request("notifications/initialized", notification=True), LEGACY_HEADERS, 202),
        (request("tools/list", {}), LEGACY_HEADERS, 200),
        (call_ping, LEGACY_HEADERS, 200),
        (modern_call, modern_headers, 200),
        (discover, discover_headers, 200),
        (initialize("2025-06-18"), {}, 200),
        (call_ping, LEGACY_HEADERS, 200),
    ]
    for message, headers, status in steps:
        response = invoke(event(body=message, headers=headers))
        assert response["statusCode"] == status, (message, response)
        reply = body_of(response)
        if status == 202:
            assert reply is None
            continue
        assert reply["id"] == message["id"]  # no response leaks from one invocation into the next
        assert "error" not in reply
    assert (
        body_of(invoke(event(body=call_ping, headers=LEGACY_HEADERS)))["result"]["content"][0]["text"]
        == "Pong!"
    )


def test_initialize_reports_server_and_instructions(invoke: Invoke) -> None:
    result = body_of(invoke(event(body=initialize())))["result"]
    assert result["protocolVersion"] == LEGACY
    assert result["serverInfo"]["name"] == "lambda-ops"
    assert "Lambda" in result["instructions"]


def test_modern_revision_without_initialize(invoke: Invoke) -> None:
    message, headers = modern("tools/list")
    reply = body_of(invoke(event(body=message, headers=headers)))
    assert "ping" in [tool["name"] for tool in reply["result"]["tools"]]


@pytest.mark.parametrize(
    ("accept", "status", "code"),
    [("application/json, text/event-stream", 404, -32601), ("application/json", 406, -32600)],
)
def test_subscriptions_listen_is_not_served(invoke: Invoke, accept: str, status: int, code: int) -> None:
    """It would be a stream that never ends: a Lambda held open to its timeout."""
    message, headers = modern("subscriptions/listen", {"notifications": {}})
    started = time.monotonic()
    response = invoke(event(body=message, headers={**headers, "accept": accept}))
    assert time.monotonic() - started < 1
    assert response["statusCode"] == status
    assert header(response, "content-type") == "application/json"
    assert body_of(response)["error"]["code"] == code  # the SDK's empty 406 is made a JSON-RPC error
    assert body_of(response)["id"] == message["id"]  # ... that answers the request's id (SEP-2575)


@pytest.mark.parametrize("name", ["http_api_v2", "rest_api_v1", "function_url"])
@pytest.mark.parametrize("base64_body", [False, True])
def test_event_sources(invoke: Invoke, name: str, base64_body: bool) -> None:
    response = invoke(event(name, initialize(), base64_body=base64_body))
    assert response["statusCode"] == 200
    assert body_of(response)["result"]["serverInfo"]["name"] == "lambda-ops"
    assert header(response, "content-type") == "application/json"


@pytest.mark.parametrize("path", ["/mcp", "/mcp/", "/prod/mcp", "/prod/mcp/"])
def test_stage_prefix_and_trailing_slash_without_redirect(invoke: Invoke, path: str) -> None:
    ev = event(body=initialize(), path=path)
    if path.startswith("/prod"):
        ev["requestContext"]["stage"] = "prod"
    response = invoke(ev)
    assert response["statusCode"] == 200
    assert header(response, "location") is None


@pytest.mark.parametrize("source", ["rest_api_v1", "http_api_v2"])
def test_a_stage_named_like_the_endpoint_is_not_stripped_where_the_path_lacks_it(
    invoke: Invoke, source: str
) -> None:
    """Regression: REST (v1) paths never carry the stage, nor do custom domains; stripping a stage named
    'mcp' there turned /mcp into a 404."""
    ev = event(source, body=initialize(), path="/mcp", headers={"host": "mcp.example.com"})
    ev["requestContext"]["stage"] = "mcp"
    ev["requestContext"]["domainName"] = "mcp.example.com"
    assert invoke(ev)["statusCode"] == 200


def test_an_allowed_origin_in_capitals_gets_its_cors_headers(invoke: Invoke) -> None:
    origin = "https://INSPECTOR.example.com"
    response = invoke(event(body=initialize(), headers={"origin": origin}))
    assert response["statusCode"] == 200
    assert header(response, "access-control-allow-origin") == origin


def test_custom_domain_base_path(settings: Any) -> None:
    from app.handler import build_handler
    from tests.helpers import LambdaContext

    handler = build_handler(settings.model_copy(update={"base_path": "/ops"}))
    ev = event(body=initialize(), path="/ops/mcp", headers={"host": "mcp.example.com"})
    ev["requestContext"]["domainName"] = "mcp.example.com"
    assert handler(ev, LambdaContext())["statusCode"] == 200


def test_unknown_path_is_404_json(invoke: Invoke) -> None:
    response = invoke(event(body=initialize(), path="/admin"))
    assert response["statusCode"] == 404
    assert body_of(response)["error"]["code"] == -32600


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH"])
def test_other_methods_are_405_at_once(invoke: Invoke, method: str) -> None:
    """Regression: GET /mcp in stateless mode opened an SSE stream that never ended."""
    started = time.monotonic()
    response = invoke(event(method=method, headers={"accept": "text/event-stream"}))
    assert time.monotonic() - started < 1
    assert response["statusCode"] == 405
    assert header(response, "allow") == "POST, OPTIONS"
    assert body_of(response)["error"]["code"] == -32600


def test_the_api_own_domain_passes_without_configuration(invoke: Invoke) -> None:
    ev = event(body=initialize())  # Host = requestContext.domainName, not in allowed_hosts
    assert invoke(ev)["statusCode"] == 200


def test_configured_host_passes(invoke: Invoke) -> None:
    assert invoke(event(body=initialize(), headers={"host": "mcp.example.com"}))["statusCode"] == 200


@pytest.mark.parametrize(
    "host", ["evil.example.net", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com.evil.net", ""]
)
def test_other_hosts_get_421(invoke: Invoke, host: str) -> None:
    response = invoke(event(body=initialize(), headers={"host": host}))
    assert response["statusCode"] == 421


@pytest.mark.parametrize(
    ("source", "headers"),
    [
        ("http_api_v2", {"host": "[::1]:3000"}),
        ("http_api_v2", {"host": "[::1]"}),
        ("http_api_v2", {"host": "a:b:c"}),
        ("http_api_v2", {"host": "mcp.example.com:port"}),
        ("http_api_v2", {"host": "mcp.example.com", "x-forwarded-port": "abc"}),
        ("rest_api_v1", {"host": "[::1]:3000"}),  # v1: Mangum reads multiValueHeaders too
        ("function_url", {"host": "a:b:c"}),
    ],
)
def test_requests_mangum_cannot_translate_get_400_not_a_crash(
    invoke: Invoke, source: str, headers: dict[str, str]
) -> None:
    """Regression: Mangum's get_server_and_port raised ValueError on an IPv6 Host, an odd Host or a
    non-numeric X-Forwarded-Port, before any ASGI code ran: the invocation failed (a 5xx)."""
    response = invoke(event(source, body=initialize(), headers=headers))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == -32600


def test_a_body_marked_base64_that_is_not_is_400(invoke: Invoke) -> None:
    ev = event(body=initialize())
    ev["body"], ev["isBase64Encoded"] = "not base64 at all!", True
    response = invoke(ev)
    assert response["statusCode"] == 400
    assert "body encoding" in body_of(response)["error"]["message"]


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (None, 200),
        ("https://inspector.example.com", 200),
        ("http://localhost:6274", 200),
        ("https://evil.example.net", 403),
        ("null", 403),
        ("http://inspector.example.com", 403),
    ],
)
def test_origin(invoke: Invoke, origin: str | None, status: int) -> None:
    headers = {"origin": origin} if origin else {}
    response = invoke(event(body=initialize(), headers=headers))
    assert response["statusCode"] == status
    if origin and status == 200:
        assert header(response, "access-control-allow-origin") == origin


def test_cors_preflight(invoke: Invoke) -> None:
    response = invoke(
        event(
            method="OPTIONS",
            headers={
                "origin": "http://localhost:6274",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, mcp-protocol-version, mcp-method, mcp-name, "
                "authorization, accept",
            },
        )
    )
    assert response["statusCode"] == 200
    assert header(response, "access-control-allow-origin") == "http://localhost:6274"
    allowed = {h.strip().lower() for h in (header(response, "access-control-allow-headers") or "").split(",")}
    assert {
        "content-type",
        "accept",
        "authorization",
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
    } <= allowed
    assert "POST" in (header(response, "access-control-allow-methods") or "")


def test_cors_preflight_from_unknown_origin_is_refused(invoke: Invoke) -> None:
    response = invoke(
        event(
            method="OPTIONS",
            headers={"origin": "https://evil.example.net", "access-control-request-method": "POST"},
        )
    )
    assert response["statusCode"] == 403
    assert header(response, "access-control-allow-origin") is None


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"raw_body": b'{"jsonrpc": "2.0", "id": 1, "method": '}, 400, -32700),
        ({"body": [initialize(), initialize()]}, 400, -32600),
        ({"headers": {"content-type": "text/plain"}}, 415, -32600),
        ({"headers": {"accept": "text/event-stream"}}, 406, -32600),
        ({"headers": {"accept": ""}}, 406, -32600),
        ({"raw_body": b'{"x": "' + b"a" * (64 * 1024) + b'"}'}, 413, -32600),
        ({"headers": {"mcp-protocol-version": "2030-01-01"}}, 400, -32022),
    ],
)
def test_bad_requests_get_the_spec_status_and_code(
    invoke: Invoke, change: dict[str, Any], status: int, code: int
) -> None:
    kwargs: dict[str, Any] = {"body": initialize(), **change}
    response = invoke(event(**kwargs))
    assert response["statusCode"] == status
    assert header(response, "content-type") == "application/json"
    assert body_of(response)["error"]["code"] == code


@pytest.mark.parametrize(
    "raw_body",
    [
        b'{"jsonrpc": "2.0", "id": {}, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": null, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": true, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": 1, "method": 5}',
        b"null",
        b"1",
        b'"ping"',
    ],
)
def test_invalid_json_rpc_messages_get_400_invalid_request(invoke: Invoke, raw_body: bytes) -> None:
    """Regression: an object or null id was taken for a notification (202, never answered); a non-object
    body got -32602 with a validation dump."""
    response = invoke(event(raw_body=raw_body))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == -32600


@pytest.mark.parametrize("source", ["rest_api_v1", "function_url", "http_api_v2"])
def test_an_oversize_body_without_content_length_is_413(invoke: Invoke, source: str) -> None:
    ev = event(source, raw_body=b'{"x": "' + b"a" * (64 * 1024) + b'"}', base64_body=True)
    for headers in (ev.get("headers") or {}, ev.get("multiValueHeaders") or {}):
        headers.pop("content-length", None)
    response = invoke(ev)
    assert response["statusCode"] == 413
    assert body_of(response)["error"]["code"] == -32600


def test_modern_header_body_mismatch(invoke: Invoke) -> None:
    message, headers = modern("tools/call", {"name": "ping", "arguments": {}})
    response = invoke(event(body=message, headers={**headers, "mcp-name": "other"}))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == -32020


def test_modern_request_without_meta(invoke: Invoke) -> None:
    response = invoke(
        event(
            body=request("tools/list", {}),
            headers={"mcp-protocol-version": MODERN, "mcp-method": "tools/list"},
        )
    )
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == -32602


def test_unknown_tool_is_a_tool_error_not_a_5xx(invoke: Invoke) -> None:
    response = invoke(
        event(body=request("tools/call", {"name": "nope", "arguments": {}}), headers=LEGACY_HEADERS)
    )
    assert response["statusCode"] == 200
    assert body_of(response)["result"]["isError"] is True


def test_no_work_is_left_for_the_next_invocation(invoke: Invoke) -> None:
    """Regression: a notification is processed after its 202; undrained, it ran in the next invocation."""
    invoke(event(body=initialize()))
    invoke(event(body=request("notifications/initialized", notification=True), headers=LEGACY_HEADERS))
    loop = asyncio.get_event_loop()
    pending = [task for task in asyncio.all_tasks(loop) if task.get_name() != "asgi-lifespan"]
    assert pending == []


def test_work_that_outlives_its_invocation_is_cancelled_not_left_for_the_next() -> None:
    """Regression: the drain waited up to 25 s and then returned, leaving the work to run during the next
    invocation. Now it waits only while the invocation has time left, then cancels what remains."""
    from mangum import Mangum

    from app.handler import _ensure_event_loop
    from app.web.lifespan import MARGIN_S, OncePerEnvironment

    ran_in: list[str] = []
    current = {"id": ""}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            return
        mine = current["id"]

        async def background() -> None:
            await asyncio.sleep(0.5)
            ran_in.append(f"{mine} during {current['id']}")

        asyncio.get_running_loop().create_task(background())
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    class ShortContext(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return int((MARGIN_S + 0.1) * 1000)  # 0.1 s of drain time: less than the work needs

    _ensure_event_loop()
    environment = OncePerEnvironment(app)
    adapter = Mangum(environment, lifespan="off")
    started = time.monotonic()
    for request_id in ("req-1", "req-2", "req-3"):
        current["id"] = request_id
        assert adapter(event(body=initialize()), ShortContext())["statusCode"] == 202
    assert time.monotonic() - started < 3
    assert ran_in == []  # cancelled in its own invocation, never resumed in a later one
    host = environment._host
    assert host is not None
    host.cancel()
    asyncio.get_event_loop().run_until_complete(asyncio.wait([host]))


@pytest.mark.parametrize(
    "params",
    [{"name": "no-such-prompt"}, {"name": "upgrade-function-runtime", "arguments": {"function": "f"}}],
)
def test_unknown_prompts_and_missing_arguments_are_invalid_params(
    invoke: Invoke, logs: io.StringIO, params: dict[str, Any]
) -> None:
    """Regression: the SDK answered error code 0 (2025-11-25) or -32603 (2026-07-28) and logged an ERROR
    with a traceback — for bad client input."""
    legacy = invoke(event(body=request("prompts/get", params), headers=LEGACY_HEADERS))
    message, headers = modern("prompts/get", params)
    current = invoke(event(body=message, headers=headers))
    for response in (legacy, current):
        assert response["statusCode"] in (200, 400)
        assert body_of(response)["error"]["code"] == -32602
    assert '"level":"ERROR"' not in logs.getvalue()


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"headers": {"content-type": "text/plain"}}, 415),
        ({"headers": {"accept": "text/event-stream"}}, 406),
        ({"headers": {"mcp-protocol-version": "2030-01-01"}}, 400),
        ({"headers": {"mcp-name": "other"}}, 400),
    ],
)
def test_error_responses_echo_the_request_id(invoke: Invoke, change: dict[str, Any], status: int) -> None:
    """2026-07-28 (SEP-2575): an error answers the request's id; null only when there was none to read."""
    message, headers = modern("tools/call", {"name": "ping", "arguments": {}})
    response = invoke(event(body=message, headers={**headers, **change["headers"]}))
    assert response["statusCode"] == status
    assert body_of(response)["id"] == message["id"]


def test_unsupported_version_data_lists_what_discover_lists(invoke: Invoke) -> None:
    discover, discover_headers = modern("server/discover")
    supported = body_of(invoke(event(body=discover, headers=discover_headers)))["result"]["supportedVersions"]
    message, headers = modern("server/discover")
    response = invoke(event(body=message, headers={**headers, "mcp-protocol-version": "v999.0.0"}))
    error = body_of(response)["error"]
    assert (response["statusCode"], error["code"]) == (400, -32022)
    assert error["data"] == {"supported": supported, "requested": "v999.0.0"}
    assert LEGACY in error["message"]  # the handshake versions are still named


@pytest.mark.parametrize("padded", ["  ping  ", "\tping", "ping \t"])
def test_header_values_are_trimmed_before_the_sdk_compares_them(invoke: Invoke, padded: str) -> None:
    """Regression: the SDK (mcp.shared.inbound, 2.3) compares Mcp-Name with the body verbatim and answered
    -32020 for "  ping  "; RFC 9110 section 5.5 excludes that whitespace from the field value."""
    message, headers = modern("tools/call", {"name": "ping", "arguments": {}})
    response = invoke(event(body=message, headers={**headers, "mcp-name": padded}))
    assert response["statusCode"] == 200, body_of(response)
    assert body_of(response)["result"]["content"][0]["text"] == "Pong!"
