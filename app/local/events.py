"""What API Gateway (HTTP API, payload format 2.0) does around a Lambda handler, for local requests.

``http_api_event`` turns an HTTP request into the event API Gateway would send; ``gateway_response`` turns
what the handler returned into the HTTP response API Gateway would send back, following the payload 2.0
rules (a result without ``statusCode`` is a 200 JSON body; headers, ``multiValueHeaders`` and ``cookies``;
base64 bodies). ``gateway_error`` is API Gateway's own answer when the integration fails.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from app.local.context import ACCOUNT_ID

API_ID = "lcl0mcp0v2"  # ten lowercase letters and digits, like a real API id
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/javascript",
)


def http_api_event(
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    domain_name: str | None = None,
    protocol: str = "HTTP/1.1",
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The payload 2.0 event for one request to the API's ``$default`` route and stage.

    ``domain_name`` is the domain the API serves the request on (API Gateway only routes its own domains to
    the function); without it, the Host header's name. Cookies move from the headers to ``cookies``; other
    repeated headers and query parameters are comma-joined; a body is text when it is UTF-8 with a textual
    content type, else base64.
    """
    joined, cookies = _join_headers(headers)
    host = joined.get("host", "")
    domain = domain_name or _strip_port(host) or "localhost"
    when = time.time() if now is None else now
    request_id = request_id or new_request_id()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path or "/",
        "rawQueryString": query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    params = _query_parameters(query_string)
    if params:
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": method.upper(),
            "path": raw_path or "/",
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": _clf_time(when),
        "timeEpoch": int(when * 1000),
    }
    if body:
        if _is_text(body, joined.get("content-type", "")):
            event["body"], event["isBase64Encoded"] = body.decode("utf-8"), False
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    else:
        event["isBase64Encoded"] = False
    return event


def forwarding_headers(*, source_ip: str, port: int, proto: str = "http") -> list[tuple[str, str]]:
    """The headers API Gateway adds to every request it forwards."""
    epoch = f"{int(time.time()):08x}"
    return [
        ("x-amzn-trace-id", f"Root=1-{epoch}-{secrets.token_hex(12)}"),
        ("x-forwarded-for", source_ip),
        ("x-forwarded-port", str(port)),
        ("x-forwarded-proto", proto),
    ]


def new_request_id() -> str:
    """An API Gateway request id: 16 characters of base64, like ``Cx1ZbjJ0IAMEVxw=``."""
    return base64.b64encode(uuid.uuid4().bytes[:11]).decode("ascii")


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def gateway_response(result: object, request_id: str) -> GatewayResponse:
    """The HTTP response API Gateway makes of a handler's result (payload format 2.0)."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        # "If your function returns valid JSON and doesn't return a statusCode, API Gateway assumes" a 200.
        try:
            body = json.dumps(result).encode()
        except (TypeError, ValueError):
            return gateway_error(500, "Internal Server Error", request_id)
        return GatewayResponse(200, _with_id([("content-type", "application/json")], request_id), body)
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return gateway_error(500, "Internal Server Error", request_id)
    try:
        headers = _response_headers(result)
        body = _response_body(result)
    except (TypeError, ValueError, binascii.Error):
        return gateway_error(500, "Internal Server Error", request_id)
    return GatewayResponse(status, _with_id(headers, request_id), body)


def gateway_error(status: int, message: str, request_id: str) -> GatewayResponse:
    """API Gateway's own error answer, e.g. 500 when the function failed, 503 when it timed out."""
    headers = _with_id([("content-type", "application/json")], request_id)
    return GatewayResponse(status, headers, json.dumps({"message": message}).encode())


def _join_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        elif key in joined:
            joined[key] = f"{joined[key]},{value}"
        else:
            joined[key] = value
    return joined, cookies


def _query_parameters(query_string: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def _strip_port(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal: [::1]:3000
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def _clf_time(epoch: float) -> str:
    """API Gateway's ``time``: ``24/Nov/2026:12:00:00 +0000`` (English month, whatever the locale)."""
    t = time.gmtime(epoch)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:" + time.strftime("%H:%M:%S +0000", t)


def _is_text(body: bytes, content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    textual = (
        media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+json") or media.endswith("+xml")
    )
    if not textual:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _response_headers(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name).lower(), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name).lower(), str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    return [(name, value) for name, value in headers if name not in HOP_BY_HOP]


def _response_body(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise TypeError("body must be a string")
    if result.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode("utf-8")


def _with_id(headers: list[tuple[str, str]], request_id: str) -> list[tuple[str, str]]:
    return [*headers, ("apigw-requestid", request_id)]
