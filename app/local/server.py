"""The local API Gateway: an HTTP server on loopback that hands each request to the Lambda runtime as a
payload 2.0 event and answers with what API Gateway would make of the result.

Connections are served on threads (HTTP/1.1 keep-alive); invocations all run on the runtime's one thread.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from app.local.events import (
    GatewayResponse,
    forwarding_headers,
    gateway_error,
    gateway_response,
    http_api_event,
    new_request_id,
)
from app.local.runtime import InvocationTimeout, LambdaRuntime

log = logging.getLogger("app.local")

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
_DROPPED_REQUEST_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
    }
)
_METHOD_SNIFF_LIMIT = 64 * 1024


class LocalGateway(ThreadingHTTPServer):
    daemon_threads = True  # an idle keep-alive connection never holds up shutdown

    def __init__(self, host: str, port: int, runtime: LambdaRuntime) -> None:
        super().__init__((host, port), GatewayRequestHandler)
        self.runtime = runtime
        self.host = host

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/mcp"

    def domain_for(self, host_header: str) -> str:
        """The domain the request came in on, as API Gateway names it: one of the local API's own names.

        API Gateway only routes its own domains to the function; locally any Host reaches this server, so a
        foreign Host (DNS rebinding) is passed on as it came, for the handler's Host check to refuse.
        """
        name = host_header.strip().lower()
        name = name[: name.find("]") + 1] if name.startswith("[") else name.rsplit(":", 1)[0]
        return name if name in LOOPBACK_NAMES else self.host

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (a reset keep-alive connection, an aborted request) is not a server
        error: socketserver would print a traceback for each. Anything else still gets one."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class GatewayRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalGateway
    timeout = 60  # an idle keep-alive connection is closed after this many seconds

    def do_GET(self) -> None:
        self._proxy()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def _proxy(self) -> None:
        started = time.perf_counter()
        request_id = new_request_id()
        body = self._read_body()
        if isinstance(body, GatewayResponse):
            self._respond(body, started, None)
            return
        try:
            target = urlsplit(self.path)
        except ValueError:  # e.g. "http://[x/mcp": API Gateway answers such a request line itself
            self._respond(gateway_error(400, "Bad Request", request_id), started, None)
            return
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _DROPPED_REQUEST_HEADERS]
        if body and self.headers.get("content-length") is None:  # it came chunked
            headers.append(("content-length", str(len(body))))
        headers += forwarding_headers(source_ip=self.client_address[0], port=self.server.port)
        event = http_api_event(
            method=self.command,
            raw_path=target.path or "/",
            query_string=target.query,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
            domain_name=self.server.domain_for(self.headers.get("host", "")),
            protocol=self.request_version,
            request_id=request_id,
        )
        try:
            response = gateway_response(self.server.runtime.invoke(event), request_id)
        except InvocationTimeout as error:
            log.error("%s: API Gateway answers 503", error)
            response = gateway_error(503, "Service Unavailable", request_id)
        except Exception:
            log.exception("the handler raised: API Gateway answers 500")
            response = gateway_error(500, "Internal Server Error", request_id)
        self._respond(response, started, _mcp_call(self.headers.get("content-type", ""), body))

    def _read_body(self) -> bytes | GatewayResponse:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("content-length")
        if length is None:
            return b""
        if not length.isdigit():
            self.close_connection = True
            return gateway_error(400, "Bad Request", new_request_id())
        if int(length) > MAX_PAYLOAD:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            return gateway_error(413, "Request Entity Too Large", new_request_id())
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes | GatewayResponse:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            # Plain hex digits only: int() would take "-1" (and read(-1) waits for the client to hang up),
            # "+1", "0x10" or "1_0".
            if not size_line or size_line.strip(b"0123456789abcdefABCDEF"):
                self.close_connection = True
                return gateway_error(400, "Bad Request", new_request_id())
            size = int(size_line, 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > MAX_PAYLOAD:
                self.close_connection = True
                return gateway_error(413, "Request Entity Too Large", new_request_id())
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _respond(self, response: GatewayResponse, started: float, mcp: str | None) -> None:
        self.send_response_only(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("date", self.date_time_string())
        no_body = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        if not no_body or self.command == "HEAD":
            self.send_header("content-length", str(len(response.body)))
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        if not no_body:
            self.wfile.write(response.body)
        elapsed = (time.perf_counter() - started) * 1000
        log.info(
            "%s %s %d %.1f ms%s", self.command, self.path, response.status, elapsed, f"  {mcp}" if mcp else ""
        )

    def log_message(self, format: str, *args: Any) -> None:
        """http.server's own access log: replaced by the line ``_respond`` writes."""


def _mcp_call(content_type: str, body: bytes) -> str | None:
    """The MCP method (and tool/prompt/resource name) of a request, when it is cheap to tell."""
    if not body or len(body) > _METHOD_SNIFF_LIMIT or "json" not in content_type.lower():
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return None
    params = message.get("params")
    name = params.get("name", params.get("uri")) if isinstance(params, dict) else None
    return f"{message['method']} {name}" if isinstance(name, str) else str(message["method"])
