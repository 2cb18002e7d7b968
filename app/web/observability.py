"""Powertools logs, metrics and tracing for each MCP request.

One JSON log line per request (MCP method, tool/resource/prompt name, protocol version, status, duration),
correlated by the Lambda request id and the API Gateway request id. EMF metrics per MCP method and tool.
X-Ray only when tracing is on: Powertools' Tracer imports aws_xray_sdk (~0.45 s), so it is imported lazily.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.priming import is_priming

INFO_KEY = "lambda_ops.request_info"
SERVICE = "lambda-ops-mcp"
NAMESPACE = "LambdaOpsMcp"
AUTH_FAILURES = "AuthFailures"  # one per refused sign-in, by reason (template.yaml alarms on it)
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAX_JUDGED_REPLY = 64 * 1024  # larger replies are not parsed to tell an error from a result
ToolNames = Callable[[], Awaitable[set[str]]]

# Metric dimensions are bounded: a method or tool name a client made up is counted as "other".
CLIENT_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "server/discover",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/read",
        "resources/templates/list",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "subscriptions/listen",
        "tasks/get",
        "tasks/list",
        "tasks/result",
        "tasks/cancel",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
    }
)


NOT_ERRORS = frozenset({"ok", "input_required"})


@dataclass
class RequestInfo:
    """What one HTTP request asked of the MCP server: filled by the edge, read by the request log."""

    mcp_method: str | None = None
    name: str | None = None
    protocol_version: str | None = None
    outcome: str = "ok"
    caller_sub: str | None = None
    caller_client_id: str | None = None
    auth_failure: str | None = None  # a bounded reason (app/auth/refusal.py REASONS), never the token
    reply: bytearray = field(default_factory=bytearray, repr=False)

    def judge(self, status: int) -> None:
        """``http_error``, ``jsonrpc_error`` (an error reply), ``tool_error`` (isError: true),
        ``input_required`` (a 2026-07-28 question to the user, such as a confirmation: no error) or ``ok``."""
        if status >= 400:
            self.outcome = "http_error"
            return
        try:
            reply = json.loads(self.reply) if 0 < len(self.reply) <= MAX_JUDGED_REPLY else None
        except ValueError:
            reply = None
        if isinstance(reply, dict) and "error" in reply:
            self.outcome = "jsonrpc_error"
        elif (
            isinstance(reply, dict)
            and isinstance(reply.get("result"), dict)
            and reply["result"].get("isError")
        ):
            self.outcome = "tool_error"
        elif (
            isinstance(reply, dict)
            and isinstance(reply.get("result"), dict)
            and reply["result"].get("resultType") == "input_required"
        ):
            self.outcome = "input_required"

    def describe(self, message: object, headers: Headers) -> None:
        self.protocol_version = headers.get("mcp-protocol-version")
        if not isinstance(message, dict):
            return
        method = message.get("method")
        self.mcp_method = method if isinstance(method, str) else None
        params = message.get("params")
        if isinstance(params, dict):
            name = params.get("name", params.get("uri"))
            self.name = name if isinstance(name, str) else None
            if self.mcp_method == "initialize" and isinstance(params.get("protocolVersion"), str):
                self.protocol_version = params["protocolVersion"]


class Observability:
    """The process's Logger, Metrics and (optional) Tracer, and the decorator for the Lambda handler."""

    def __init__(self, tracing: bool) -> None:
        self.logger = Logger(service=SERVICE)
        # Powertools' logger propagates to the root logger, which has a handler of its own on Lambda (and
        # locally once the SDK called basicConfig): every line would be written twice.
        logging.getLogger(SERVICE).propagate = False
        self.metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
        # The SDK's and Mangum's loggers go through the same JSON logger, at WARNING: no line per request.
        logging.getLogger("mcp").setLevel(logging.WARNING)
        copy_config_to_registered_loggers(
            source_logger=self.logger, log_level="WARNING", include={"mcp", "mangum"}
        )
        self.tracer: Any = None
        if tracing:
            from aws_lambda_powertools import Tracer

            self.tracer = Tracer(service=SERVICE)

    def wrap(self, handler: LambdaHandler) -> LambdaHandler:
        wrapped: LambdaHandler = self.logger.inject_lambda_context(
            correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
        )(handler)
        wrapped = self.metrics.log_metrics(capture_cold_start_metric=True)(wrapped)
        if self.tracer is not None:
            wrapped = self.tracer.capture_lambda_handler(wrapped, capture_response=False)
        return wrapped


class RequestLog:
    """ASGI middleware: one log line and one set of metrics per request."""

    def __init__(self, app: ASGIApp, observability: Observability, tool_names: ToolNames) -> None:
        self.app = app
        self.logger = observability.logger
        self.metrics = observability.metrics
        self._tool_names = tool_names
        self._known_tools: set[str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if is_priming(scope):  # SnapStart priming during init (app/web/priming.py): not traffic
            await self.app(scope, receive, send)
            if self._known_tools is None:
                self._known_tools = await self._tool_names()
            return None
        info = RequestInfo()
        scope[INFO_KEY] = info
        status = 500
        started = time.perf_counter()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(info.reply) <= MAX_JUDGED_REPLY:
                info.reply.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            if self._known_tools is None:
                self._known_tools = await self._tool_names()
            self._record(scope["method"], info, status, (time.perf_counter() - started) * 1000)

    def refused_before_asgi(self, http_method: str, status: int) -> None:
        """A request answered before it reached the ASGI app (see app/handler.py): logged and counted too."""
        self._record(http_method, RequestInfo(), status, 0.0)

    def _record(self, http_method: str, info: RequestInfo, status: int, duration_ms: float) -> None:
        info.judge(status)
        method = info.mcp_method if info.mcp_method in CLIENT_METHODS else "other"
        self.logger.info(
            "mcp request",
            extra={
                "http_method": http_method,
                "mcp_method": info.mcp_method,
                "mcp_name": info.name,
                "protocol_version": info.protocol_version,
                "status": status,
                "outcome": info.outcome,
                "duration_ms": round(duration_ms, 3),
                "caller": {"sub": info.caller_sub, "client_id": info.caller_client_id},
            },
        )
        if info.auth_failure is not None:
            self.logger.warning("sign-in refused", extra={"reason": info.auth_failure, "status": status})
            with single_metric(
                name=AUTH_FAILURES, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
            ) as metric:
                metric.add_dimension(name="service", value=SERVICE)
                metric.add_dimension(name="reason", value=info.auth_failure)
        self.metrics.add_dimension(name="method", value=method)
        if info.mcp_method == "tools/call":
            known = info.name in (self._known_tools or set())
            self.metrics.add_dimension(name="tool", value=info.name if known and info.name else "other")
        self.metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        self.metrics.add_metric(
            name="Errors", unit=MetricUnit.Count, value=0 if info.outcome in NOT_ERRORS else 1
        )
        self.metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=duration_ms)
