"""Event fixtures and MCP message builders shared by the handler tests (Powertools' load_event style)."""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import itertools
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from app.web.observability import SERVICE

EVENTS = Path(__file__).parent / "events"
MODERN = "2026-07-28"
LEGACY = "2025-11-25"
_ids = itertools.count(1)


@cache
def _load(name: str) -> str:
    return (EVENTS / f"{name}.json").read_text()


def load_event(name: str) -> dict[str, Any]:
    return json.loads(_load(name))  # a fresh copy every time: tests may change it


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and Mangum read."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "lambda-ops-mcp"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:lambda-ops-mcp"
    log_group_name: str = "/aws/lambda/lambda-ops-mcp"
    log_stream_name: str = "2026/11/24/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def request(
    method: str, params: dict[str, Any] | None = None, *, notification: bool = False
) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if not notification:
        message["id"] = next(_ids)
    return message


def initialize(version: str = LEGACY) -> dict[str, Any]:
    return request(
        "initialize",
        {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "tests", "version": "1"}},
    )


def modern(method: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """A 2026-07-28 request (no handshake: _meta in every request) and the headers that must go with it."""
    params = dict(params or {})
    params["_meta"] = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    headers = {"mcp-protocol-version": MODERN, "mcp-method": method}
    if "name" in params:
        headers["mcp-name"] = params["name"]
    elif "uri" in params:
        headers["mcp-name"] = params["uri"]
    return request(method, params), headers


def event(
    name: str = "http_api_v2",
    body: object = None,
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str | None = None,
    raw_body: bytes | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """A complete API Gateway / Function URL event from tests/events/, with this request's details."""
    ev = load_event(name)
    data = raw_body if raw_body is not None else (b"" if body is None else json.dumps(body).encode())
    ev["body"] = base64.b64encode(data).decode() if base64_body else data.decode()
    ev["isBase64Encoded"] = base64_body
    v1 = "httpMethod" in ev
    extra = {k.lower(): v for k, v in (headers or {}).items()}
    if v1:
        ev["httpMethod"] = ev["requestContext"]["httpMethod"] = method
        for key, value in extra.items():
            ev["headers"][key] = value
            ev["multiValueHeaders"][key] = [value]
    else:
        ev["requestContext"]["http"]["method"] = method
        ev["headers"].update(extra)
        ev["headers"]["content-length"] = str(len(data))
    if path is not None and v1:
        ev["path"] = path
    elif path is not None:  # an HTTP API puts a named stage in both
        ev["rawPath"] = ev["requestContext"]["http"]["path"] = path
    ev["requestContext"]["requestId"] = str(uuid.uuid4())
    return copy.deepcopy(ev)


def body_of(response: dict[str, Any]) -> Any:
    raw = response.get("body") or ""
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return json.loads(raw) if raw else None


def header(response: dict[str, Any], name: str) -> str | None:
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ", ".join(values)
    return None


@contextmanager
def service_log() -> Iterator[io.StringIO]:
    """What the service's JSON logger writes while the block runs (its handler keeps the stream it was
    created with, so the stream is swapped, then put back)."""
    stream = io.StringIO()
    handlers = [h for h in logging.getLogger(SERVICE).handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.stream for h in handlers]
    for h in handlers:  # not setStream: it flushes the old stream, which may be an earlier test's, closed
        with h.lock or contextlib.nullcontext():
            h.stream = stream
    try:
        yield stream
    finally:
        for h, old in zip(handlers, previous, strict=True):
            with h.lock or contextlib.nullcontext():
                h.stream = old
