"""The HTTP edge: everything about a request that is HTTP, not MCP, decided before the SDK sees it.

In order: the path (stage prefix, trailing slash; the discovery documents go to app/web/discovery.py), Host
and Origin, CORS, the method, for POST the headers and body the MCP transport requires, then sign-in: the
bearer token and the scopes this call needs (app/web/access.py). Each rejection is a JSON-RPC error with
the spec's status, answering the request's id when it has one (the body is read, bounded, before the header
checks).
What passes reaches the SDK's Streamable-HTTP app with its body already read (once) and described in the
request's ``RequestInfo`` for logs and metrics.
"""

from __future__ import annotations

import json

from mcp_types import HEADER_MISMATCH
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.access import Access
from app.web.discovery import PATHS as DISCOVERY_PATHS
from app.web.discovery import Discovery
from app.web.errors import REQUEST_ID_KEY, rejection, unsupported_version
from app.web.observability import INFO_KEY, RequestInfo
from app.web.origins import OriginPolicy

MCP_PATH = "/mcp"
ALLOW = "POST, OPTIONS"
SUPPORTED_VERSIONS = [*HANDSHAKE_PROTOCOL_VERSIONS, *MODERN_PROTOCOL_VERSIONS]
CORS_HEADERS = [
    "Content-Type",
    "Accept",
    "Authorization",
    "MCP-Protocol-Version",
    "Mcp-Method",
    "Mcp-Name",
    "Mcp-Session-Id",
    "Last-Event-ID",
]


class Edge:
    def __init__(self, app: ASGIApp, policy: OriginPolicy, max_body_bytes: int, access: Access) -> None:
        self.policy = policy
        self.max_body_bytes = max_body_bytes
        self.mcp = app
        self.access = access
        self.discovery = Discovery(access, policy)
        self.cors = CORSMiddleware(
            self._route,
            allow_origin_regex=policy.origin_regex,
            allow_methods=["POST", "OPTIONS"],
            allow_headers=CORS_HEADERS,
            expose_headers=["Mcp-Session-Id", "MCP-Protocol-Version", "WWW-Authenticate"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.mcp(scope, receive, send)
            return
        problem = self._check_request(scope)
        if problem is not None:
            await problem(scope, receive, send)
            return
        await (self.cors if scope["path"] == MCP_PATH else self.discovery)(scope, receive, send)

    def _check_request(self, scope: Scope) -> Response | None:
        context = scope.get("aws.event", {}).get("requestContext", {})
        stage = _stage_in_path(context)
        path = _route_path(scope["path"], stage)
        if path != MCP_PATH and path not in DISCOVERY_PATHS:
            return rejection(404, f"Not Found: the MCP endpoint is {MCP_PATH}")
        # Rewritten, not redirected: Starlette's redirect of /mcp/ would drop the stage prefix.
        scope["path"], scope["raw_path"] = path, path.encode()
        self.access.locate(scope, stage)
        headers = Headers(scope=scope)
        domain = context.get("domainName")
        if not self.policy.host_allowed(headers.get("host"), domain):
            return rejection(421, "Misdirected Request: Host not allowed")
        if not self.policy.origin_allowed(headers.get("origin")):
            return rejection(403, "Forbidden: Origin not allowed")
        return None

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Behind CORSMiddleware, which has answered CORS preflights already."""
        _trim_header_values(scope)
        headers = Headers(scope=scope)
        problem = _check_method(scope["method"]) or self._check_length(headers)
        if problem is None:
            body = await _read_body(receive, self.max_body_bytes)
            if body is None:
                problem = _too_large(self.max_body_bytes)
            else:
                message = _parse(body)
                request_id = _request_id(message)
                problem = (
                    _check_headers(headers, request_id)
                    or _check_message(message, request_id)
                    or _check_task_name(message, headers, request_id)
                )
                if problem is None:
                    scope[REQUEST_ID_KEY] = request_id
                    info = scope.get(INFO_KEY)
                    if isinstance(info, RequestInfo):
                        info.describe(message, headers)
                    problem = await self.access.admit(scope, message)
                if problem is None:
                    await self.mcp(scope, _replay(body, receive), send)
                    return
        await problem(scope, receive, send)

    def _check_length(self, headers: Headers) -> Response | None:
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return _too_large(self.max_body_bytes)
        return None


def _check_method(method: str) -> Response | None:
    if method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": ALLOW})
    if method != "POST":
        # Stateless: there is no stream to GET and no session to DELETE. Never hold a Lambda open.
        return rejection(405, "Method Not Allowed: POST only", headers={"Allow": ALLOW})
    return None


def _check_headers(headers: Headers, request_id: str | int | None) -> Response | None:
    content_type = headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return rejection(
            415, "Unsupported Media Type: Content-Type must be application/json", request_id=request_id
        )
    accept = [part.split(";", 1)[0].strip().lower() for part in headers.get("accept", "").split(",")]
    if not {"application/json", "application/*", "*/*"}.intersection(accept):
        return rejection(406, "Not Acceptable: Accept must include application/json", request_id=request_id)
    version = headers.get("mcp-protocol-version")
    if version is not None and version not in SUPPORTED_VERSIONS:
        return unsupported_version(version, list(HANDSHAKE_PROTOCOL_VERSIONS), request_id=request_id)
    return None


def _check_message(message: object, request_id: str | int | None) -> Response | None:
    if isinstance(message, list):
        return rejection(400, "JSON-RPC batches are not supported (removed in 2025-06-18)")
    if message is not _UNPARSEABLE and (invalid := _invalid_message(message)) is not None:
        return rejection(400, f"Invalid Request: {invalid}", request_id=request_id)
    return None


TASK_METHODS = frozenset({"tasks/get", "tasks/update", "tasks/cancel"})


def _check_task_name(message: object, headers: Headers, request_id: str | int | None) -> Response | None:
    """The tasks extension makes ``tasks/*`` name-bearing over Streamable HTTP: ``Mcp-Name`` must be the
    ``taskId`` (routing intermediaries rely on it). The SDK checks ``Mcp-Name`` only for tools/call,
    prompts/get and resources/read (``mcp.shared.inbound.NAME_BEARING_METHODS``, SDK 2.3), so the edge
    checks these: missing or different is 400 -32020, as for the SDK's own."""
    if not isinstance(message, dict) or message.get("method") not in TASK_METHODS:
        return None
    if headers.get("mcp-protocol-version") not in MODERN_PROTOCOL_VERSIONS:
        return None  # tasks/* exist from 2026-07-28 on (the SDK answers -32601 before)
    params = message.get("params")
    task_id = params.get("taskId") if isinstance(params, dict) else None
    if not isinstance(task_id, str):
        return None  # the SDK refuses the params themselves (-32602)
    name = headers.get("mcp-name")
    if name == task_id:
        return None
    found = "is missing" if name is None else "does not match params.taskId"
    return rejection(
        400, f"Header mismatch: Mcp-Name {found} (it must be the taskId)", code=HEADER_MISMATCH,
        request_id=request_id,
    )  # fmt: skip


def _request_id(message: object) -> str | int | None:
    """The id to echo in an error response: the request's own, when it has a valid one."""
    if isinstance(message, dict):
        value = message.get("id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return value
    return None


def _trim_header_values(scope: Scope) -> None:
    """RFC 9110 section 5.5: leading and trailing whitespace (SP, HTAB) is not part of a field value.

    API Gateway passes header values on as the client sent them, and the SDK compares ``Mcp-Name`` (and
    ``Mcp-Method``, ``MCP-Protocol-Version``, ``Mcp-Param-*``) with the body verbatim, so ``Mcp-Name:
    "  ping  "`` would be refused with -32020 (mcp.shared.inbound, SDK 2.3). Trimmed here, once, for all."""
    scope["headers"] = [(name, value.strip(b" \t")) for name, value in scope.get("headers", [])]


def _too_large(limit: int) -> Response:
    return rejection(413, f"Payload Too Large: at most {limit} bytes")


def _stage_in_path(context: dict[str, object]) -> str | None:
    """The named stage when the path carries it: only an HTTP API (payload 2.0) on its execute-api domain
    puts ``/{stage}`` in the path. REST APIs (v1) never do, nor do custom domains (their base path mapping
    is ``LAMBDA_OPS_BASE_PATH``): stripping there would turn a stage named like a path segment into a 404."""
    stage, domain = context.get("stage"), str(context.get("domainName") or "")
    if "http" not in context or ".execute-api." not in domain or not isinstance(stage, str):
        return None
    return None if stage == "$default" else stage


def _route_path(path: str, stage: str | None) -> str:
    """`/prod/mcp` (an HTTP API named stage puts it in rawPath) and `/mcp/` both route to `/mcp`."""
    if stage and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]
    return path.rstrip("/") or "/"


def _invalid_message(message: object) -> str | None:
    """What makes a parsed body an invalid JSON-RPC message for MCP, if anything. The SDK would take an
    object id (or null) for a notification and answer 202 to a request it never runs, and answer a
    non-object body with a -32602 validation dump."""
    if not isinstance(message, dict):
        return "a JSON-RPC message is a JSON object"
    if "id" in message and (isinstance(message["id"], bool) or not isinstance(message["id"], str | int)):
        return "the id must be a string or an integer (MCP: never null)"
    if "method" in message and not isinstance(message["method"], str):
        return "the method must be a string"
    return None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(chunks)
        chunks.extend(message.get("body", b""))
        if len(chunks) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(chunks)


_UNPARSEABLE = object()


def _parse(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _UNPARSEABLE  # passed on: the SDK answers a parse error with 400 -32700


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
