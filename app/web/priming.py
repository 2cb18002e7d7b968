"""Priming: a few requests served in-process during init, so that a SnapStart snapshot holds an environment
that has already served (imports done, lazy SDK and pydantic work done, the SDK lifespan running, the
request log's tool list read).

Each priming request is an API Gateway HTTP API (payload 2.0) event, translated by Mangum exactly as a real
one, on the event loop Mangum uses for every invocation, into the handler's own ASGI chain
(``OncePerEnvironment`` → ``RequestLog`` → ``Edge`` → the SDK). Between Mangum and the chain, the ASGI scope
gets ``scope[PRIMING_KEY] = True``: a key no API Gateway event can set (Mangum builds the scope from the
event's fields and adds no others), so nothing a client sends can pass for priming. Whatever checks a
caller's identity admits such a scope as a read-only synthetic principal; the request log neither logs nor
counts it (it is not traffic). Priming makes no AWS call and reads no secret: ``ping``, the handshake,
``tools/list`` and the runtime catalog resource are answered from memory and the shipped catalog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from mangum import Mangum
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth import PRIMING_KEY  # the sign-in gate admits it as a read-only principal

HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"
DOMAIN = "priming.invalid"  # RFC 2606: never a real host; the edge accepts it as the event's own domain


class PrimingFailed(RuntimeError):
    """A priming request got an unexpected answer: the handler is broken, the snapshot must not be taken."""


@dataclass(frozen=True)
class _Context:
    """The Lambda context Mangum puts in the scope; OncePerEnvironment bounds its drain by it."""

    aws_request_id: str = "priming"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


class _MarkPriming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[PRIMING_KEY] = True
        await self.app(scope, receive, send)


def is_priming(scope: Scope) -> bool:
    return scope.get(PRIMING_KEY) is True


def requests(read_runtimes: bool = True) -> list[tuple[str, dict[str, Any], dict[str, str], int]]:
    """(label, JSON-RPC message, extra headers, expected status) of each priming request, in order."""
    legacy = {"mcp-protocol-version": HANDSHAKE}
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    client = {"name": "lambda-ops-priming", "version": "1"}
    init = {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": client}
    plan: list[tuple[str, dict[str, Any], dict[str, str], int]] = [
        ("initialize", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}, {}, 200),
        ("notifications/initialized", {"jsonrpc": "2.0", "method": "notifications/initialized"}, legacy, 202),
        (
            "server/discover (2026-07-28)",
            {"jsonrpc": "2.0", "id": 2, "method": "server/discover", "params": {"_meta": meta}},
            {"mcp-protocol-version": MODERN, "mcp-method": "server/discover"},
            200,
        ),
        ("tools/list", {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, legacy, 200),
        ("ping", {"jsonrpc": "2.0", "id": 4, "method": "ping"}, legacy, 200),
        (
            "tools/call ping",
            {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "ping", "arguments": {}}},
            legacy,
            200,
        ),
    ]
    if read_runtimes:  # not when the catalog refreshes from the web: that would be I/O during init
        read = {"jsonrpc": "2.0", "id": 6, "method": "resources/read", "params": {"uri": "lambda://runtimes"}}
        plan.append(("resources/read lambda://runtimes", read, legacy, 200))
    return plan


def event(message: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """An HTTP API payload-2.0 event for POST /mcp, as API Gateway would send it."""
    body = json.dumps(message)
    return {
        "version": "2.0",
        "routeKey": "ANY /mcp",
        "rawPath": "/mcp",
        "rawQueryString": "",
        "headers": {
            "host": DOMAIN,
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "content-length": str(len(body.encode())),
            "user-agent": "lambda-ops-priming",
            **headers,
        },
        "requestContext": {
            "domainName": DOMAIN,
            "http": {
                "method": "POST",
                "path": "/mcp",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "lambda-ops-priming",
            },
            "requestId": "priming",
            "routeKey": "ANY /mcp",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def prime(app: ASGIApp, *, read_runtimes: bool = True) -> list[tuple[str, int]]:
    """Serve the priming requests through ``app`` (the handler's ASGI chain); (label, status) of each.
    Raises ``PrimingFailed`` when one gets another status or a JSON-RPC error."""
    adapter = Mangum(_MarkPriming(app), lifespan="off", api_gateway_base_path="/")
    served: list[tuple[str, int]] = []
    for label, message, headers, expected in requests(read_runtimes):
        response = adapter(event(message, headers), cast(Any, _Context()))
        status = int(response["statusCode"])
        served.append((label, status))
        reply = json.loads(response["body"]) if status == 200 and response.get("body") else {}
        if status != expected or "error" in reply or (reply.get("result") or {}).get("isError"):
            raise PrimingFailed(f"{label}: HTTP {status} {str(response.get('body'))[:300]}")
    return served
