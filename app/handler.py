"""The Lambda entry point, ``app.handler.handler``.

A request's whole path: API Gateway event → Mangum (event → ASGI) → ``OncePerEnvironment`` (lifespan
once, drain per invocation, app/web/lifespan.py) → ``RequestLog`` (logs, metrics, app/web/observability.py)
→ ``Edge`` (path, Host/Origin, CORS, method, headers, body, app/web/edge.py) → the SDK's Streamable-HTTP
app → the MCPServer built in app/surface/server.py → ``LambdaOps`` (app/lambda_ops/facade.py).

On Lambda the handler is built during init (module import), not on the first request, and SnapStart's
runtime hooks are registered (app/snapstart.py): the snapshot then holds a handler that has already served.
"""

from __future__ import annotations

import asyncio
import json
import os
import warnings
from dataclasses import dataclass
from typing import Any

from mangum import Mangum
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from app import snapstart
from app.config import Settings
from app.renewal import Renewal
from app.surface.server import build_server
from app.web.access import Access
from app.web.edge import Edge
from app.web.errors import JsonErrors
from app.web.lifespan import OncePerEnvironment
from app.web.observability import LambdaHandler, Observability, RequestLog
from app.web.origins import OriginPolicy

# Host and Origin are checked by the edge against a per-request policy: the allowed hosts from settings
# plus the domain API Gateway names in the request context. The SDK's check holds one static list and
# answers in plain text; it would reject the API's own domain, so the edge's check replaces it.
_SDK_TRANSPORT_SECURITY = TransportSecuritySettings(enable_dns_rebinding_protection=False)


@dataclass(frozen=True)
class Assembly:
    """One execution environment's handler and what SnapStart's hooks need of it."""

    handler: LambdaHandler  # the Lambda entry: Powertools' decorators → Mangum → ``asgi``
    asgi: ASGIApp  # OncePerEnvironment → RequestLog → Edge → the SDK app (primed in-process)
    renewal: Renewal  # what to drop after a restore (boto3 clients, ...); builders register into it
    settings: Settings


def build_handler(settings: Settings | None = None, *, server: MCPServer | None = None) -> LambdaHandler:
    """A new Lambda handler: one per execution environment (tests and profiles build their own)."""
    return assemble(settings, server=server).handler


def assemble(settings: Settings | None = None, *, server: MCPServer | None = None) -> Assembly:
    """Build the handler and keep its parts. A ``server`` passed in registers nothing for renewal."""
    settings = settings or Settings()
    observability = Observability(tracing=settings.tracing)
    renewal = Renewal()
    server = server or build_server(settings, renewal=renewal)
    sdk_app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=_SDK_TRANSPORT_SECURITY,
        max_request_body_size=settings.max_body_bytes,
    )
    policy = OriginPolicy(settings.allowed_hosts, settings.allowed_origins)
    access = Access(settings)
    _say_how_sign_in_works(observability, access)
    # The edge puts the signed-in principal in scope["user"]; the SDK's own middleware makes it what
    # get_access_token() returns inside tools (and what the SDK binds request state to).
    edge = Edge(AuthContextMiddleware(JsonErrors(sdk_app)), policy, settings.max_body_bytes, access)

    async def tool_names() -> set[str]:
        return {tool.name for tool in await server.list_tools()}

    request_log = RequestLog(edge, observability, tool_names)
    asgi = OncePerEnvironment(request_log)
    _ensure_event_loop()
    adapter = Mangum(asgi, lifespan="off", api_gateway_base_path=settings.base_path or "/")
    handler = observability.wrap(_refuse_unreadable_requests(adapter, request_log))
    return Assembly(handler=handler, asgi=asgi, renewal=renewal, settings=settings)


def _say_how_sign_in_works(observability: Observability, access: Access) -> None:
    """One line at cold start: why every request will be refused, or that nobody is asked to sign in."""
    problem = access.gate.startup_problem
    if problem is not None:
        observability.logger.warning(problem)
    elif not access.gate.enabled:
        observability.logger.warning(
            "sign-in is off (LAMBDA_OPS_AUTH_MODE=none): anyone who reaches the URL is served"
        )


# Mangum turns the event into an ASGI scope before any of our code runs, and a few inputs make that raise:
# it splits Host on ":" into exactly (name, int port) — "[::1]:3000" or "a:b" — and int()s X-Forwarded-Port.
# The invocation would fail (a 5xx). API Gateway always sends its own domain; a local client can send
# anything. Exceptions in the ASGI app never get here (Mangum answers them with a 500 itself), so a
# ValueError out of Mangum (binascii.Error, for a body that is not base64, is one) is its event
# translation refusing the request: answer 400, logged and counted.
def _unreadable() -> dict[str, Any]:
    """A new response each time: nothing of one invocation's answer is shared with the next."""
    error = {"code": -32600, "message": "Bad Request: the request could not be read (its Host, "
             "X-Forwarded-Port or body encoding)"}  # fmt: skip
    return {
        "statusCode": 400,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"jsonrpc": "2.0", "id": None, "error": error}),
        "isBase64Encoded": False,
    }


def _refuse_unreadable_requests(adapter: LambdaHandler, request_log: RequestLog) -> LambdaHandler:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # X-Ray names it "## handler"
        try:
            return adapter(event, context)
        except ValueError:
            http = event.get("requestContext", {}).get("http", {})
            request_log.refused_before_asgi(str(event.get("httpMethod") or http.get("method") or "?"), 400)
            return _unreadable()

    return handler


def _ensure_event_loop() -> None:
    """Mangum runs every invocation on this thread's event loop, found with ``asyncio.get_event_loop()``.

    Since Python 3.12 that call warns when no loop was set (and 3.14 raises): set one explicitly, once.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


_handler: LambdaHandler | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Built during init on Lambda (below), else on the first invocation; reused by every later one."""
    global _handler
    if _handler is None:
        _handler = build_handler()
    return _handler(event, context)


def _build_during_init() -> None:
    """On Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set by the runtime), build the handler now: init is what
    a SnapStart snapshot captures (on demand, the same work simply moves from the first request into init).
    Builds objects only: no AWS call, no secret read (what needs them is built on first use)."""
    global _handler
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and _handler is None:
        assembly = assemble()
        snapstart.register(assembly)
        _handler = assembly.handler


_build_during_init()
