"""Loopback doubles for testing scripts/smoke.py before the real sign-in lands in the local server.

- ``handler``: a Lambda handler profile for ``python -m app.local --handler tests.smoke_double:handler``:
  the production handler behind a bearer-token gate that behaves as the deployed server's edge does (401 with
  ``WWW-Authenticate: Bearer resource_metadata="..."``, RFC 9728 metadata at
  ``/.well-known/oauth-protected-resource/mcp``). The one valid token comes from ``SMOKE_DOUBLE_TOKEN``.
- ``TokenEndpoint``: an OAuth token endpoint on 127.0.0.1 that grants ``client_credentials`` to one client
  (HTTP Basic) and answers anything else with the RFC 6749 error.

Test-only: never part of the artifact. Replace with the real local authorization server when it exists.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from app.handler import handler as production

METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    base = f"http://{headers.get('host', '127.0.0.1')}"
    if event.get("rawPath") == METADATA_PATH:
        issuer = os.environ.get("SMOKE_DOUBLE_ISSUER", "http://127.0.0.1")
        return _json(200, {"resource": f"{base}/mcp", "authorization_servers": [issuer]})
    if headers.get("authorization") != f"Bearer {os.environ['SMOKE_DOUBLE_TOKEN']}":
        challenge = f'Bearer resource_metadata="{base}{METADATA_PATH}"'
        error = {"code": -32001, "message": "Unauthorized"}
        return _json(401, {"jsonrpc": "2.0", "id": None, "error": error}, {"www-authenticate": challenge})
    return production(event, context)


class TokenEndpoint:
    """``with TokenEndpoint(client_id, secret, token) as url:`` — the token URL on an ephemeral port."""

    def __init__(self, client_id: str, secret: str, token: str) -> None:
        self.expected = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.token = token
        self.requests: list[dict[str, list[str]]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                form = parse_qs(self.rfile.read(int(self.headers.get("content-length", "0"))).decode())
                endpoint.requests.append(form)
                if self.headers.get("authorization") != endpoint.expected:
                    self._answer(401, {"error": "invalid_client"})
                elif form.get("grant_type") != ["client_credentials"]:
                    self._answer(400, {"error": "unsupported_grant_type"})
                else:
                    self._answer(
                        200, {"access_token": endpoint.token, "token_type": "Bearer", "expires_in": 3600}
                    )

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="token-endpoint", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/oauth2/token"

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
