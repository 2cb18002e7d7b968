"""HTTP-level rejections, always as a JSON-RPC error body with the status the MCP spec gives.

The SDK answers some transport errors with plain text or an empty body, and Mangum labels every payload-2.0
response without a Content-Type as ``application/json`` — so the edge answers these itself, in JSON.
The spec reserves no JSON-RPC code for HTTP-level rejections; -32600 (Invalid Request) is what the SDK
uses for its own (406), and -32022 is the 2026-07-28 code for an unsupported protocol version.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from mcp_types import INVALID_REQUEST, UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_KEY = "lambda_ops.request_id"
"""Where the edge leaves the JSON-RPC id of the request it passed on (for error bodies made later)."""


def rejection(
    status: int,
    message: str,
    *,
    code: int = INVALID_REQUEST,
    data: object = None,
    headers: Mapping[str, str] | None = None,
    request_id: str | int | None = None,
) -> JSONResponse:
    """``request_id``: the id of the refused request when it had one (2026-07-28, SEP-2575: every error
    response carries the request's id); ``null`` only when the body could not be read as a request."""
    error: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    body = {"jsonrpc": "2.0", "id": request_id, "error": error}
    return JSONResponse(body, status_code=status, headers=headers)


def unsupported_version(
    requested: str, handshake: list[str], *, request_id: str | int | None = None
) -> JSONResponse:
    """-32022 with the data 2026-07-28 defines: ``supported`` lists exactly what ``server/discover``'s
    ``supportedVersions`` lists (the sessionless revisions); the handshake-era versions, negotiated with
    ``initialize``, are named in the message only."""
    return rejection(
        400,
        f"Unsupported protocol version: {requested} (with initialize: {', '.join(handshake)})",
        code=UNSUPPORTED_PROTOCOL_VERSION,
        data={"supported": list(MODERN_PROTOCOL_VERSIONS), "requested": requested},
        request_id=request_id,
    )


class JsonErrors:
    """ASGI middleware: an error the SDK answers with an empty or plain-text body gets a JSON-RPC error body.

    (E.g. 406 for ``subscriptions/listen`` without ``text/event-stream`` in Accept has no body at all, and
    Mangum would label it ``application/json``.) JSON error bodies pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def request_id(scope: Scope) -> str | int | None:
        value = scope.get(REQUEST_ID_KEY)
        return value if isinstance(value, str | int) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        body = bytearray()

        async def send_json_errors(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                if not content_type.startswith("application/json"):
                    start = message  # held until the body is complete
                    return
            if start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                status = start["status"]
                text = body.decode("utf-8", "replace").strip() or HTTPStatus(status).phrase
                await rejection(status, text, request_id=self.request_id(scope))(scope, receive, send)

        await self.app(scope, receive, send_json_errors)
