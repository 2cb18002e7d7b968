"""The HTTP edge: everything about a request that is HTTP, not MCP, decided before the SDK sees it.

In order: the path (stage prefix, trailing slash; the discovery documents go to app/web/discovery.py), Host
and Origin, CORS, the method, for POST the headers and body the MCP transport requires, then sign-in: the
bearer token and the scopes this call needs (app/web/access.py). Each rejection is a JSON-RPC error with
the spec's status.
What passes reaches the SDK's Streamable-HTTP app with its body already read (once) and described in the
request's ``RequestInfo`` for logs and metrics.
"""

from __future__ import annotations

import json

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.access import Access
from app.web.discovery import PATHS as DISCOVERY_PATHS
from app.web.discovery import Discovery
from app.web.errors import rejection, unsupported_version
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
        headers = Headers(scope=scope)
        problem = self._check_method_and_headers(scope["method"], headers)
        if problem is None:
            body = await _read_body(receive, self.max_body_bytes)
            message = _parse(body) if body is not None else None
            if body is None:
                problem = _too_large(self.max_body_bytes)
            elif isinstance(message, list):
                problem = rejection(400, "JSON-RPC batches are not supported (removed in 2025-06-18)")
            elif message is not _UNPARSEABLE and (invalid := _invalid_message(message)) is not None:
                problem = rejection(400, f"Invalid Request: {invalid}")
            else:
                info = scope.get(INFO_KEY)
                if isinstance(info, RequestInfo):
                    info.describe(message, headers)
                problem = await self.access.admit(scope, message)
                if problem is None:
                    await self.mcp(scope, _replay(body, receive), send)
                    return
        await problem(scope, receive, send)

    def _check_method_and_headers(self, method: str, headers: Headers) -> Response | None:
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOW})
        if method != "POST":
            # Stateless: there is no stream to GET and no session to DELETE. Never hold a Lambda open.
            return rejection(405, "Method Not Allowed: POST only", headers={"Allow": ALLOW})
        content_type = headers.get("content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            return rejection(415, "Unsupported Media Type: Content-Type must be application/json")
        accept = [part.split(";", 1)[0].strip().lower() for part in headers.get("accept", "").split(",")]
        if not {"application/json", "application/*", "*/*"}.intersection(accept):
            return rejection(406, "Not Acceptable: Accept must include application/json")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return _too_large(self.max_body_bytes)
        version = headers.get("mcp-protocol-version")
        if version is not None and version not in SUPPORTED_VERSIONS:
            return unsupported_version(version, SUPPORTED_VERSIONS)
        return None


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
