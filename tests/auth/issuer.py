"""A stand-in authorization server for the sign-in tests: keys made here with ``cryptography``, tokens
signed by PyJWT, and the issuer's metadata and JWKS served on 127.0.0.1 (an ephemeral port) by a
ThreadingHTTPServer the test starts and stops. Each response can be swapped (garbage, 500, a stall)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

RESOURCE = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/mcp"


@cache
def _keys() -> tuple[Any, Any]:
    """Made once per test session (an RSA key takes a while): the issuer's key pair is not what varies."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), ec.generate_private_key(
        ec.SECP256R1()
    )


READ, WRITE = "lambda-ops/read", "lambda-ops/write"


@dataclass
class Issuer:
    url: str = ""
    rsa_key: Any = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ec_key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    kid: str = "rsa-1"
    ec_kid: str = "ec-1"
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    stall: float = 0.0

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa_key.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec_key.public_key()))
        return {
            "keys": [
                {**rsa_jwk, "kid": self.kid, "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": self.ec_kid, "use": "sig", "alg": "ES256"},
            ]
        }

    def serve_defaults(self) -> None:
        self.routes["/jwks"] = (200, json.dumps(self.jwks()).encode())
        metadata = {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
        }
        self.routes["/.well-known/openid-configuration"] = (200, json.dumps(metadata).encode())

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": "user-123",
            "aud": RESOURCE,
            "client_id": "client-abc",
            "scope": READ,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, *, alg: str = "RS256", kid: str | None = None, headers: Any = None, **claims: Any) -> str:
        key = self.ec_key if alg == "ES256" else self.rsa_key
        default_kid = self.ec_kid if alg == "ES256" else self.kid
        return jwt.encode(
            self.claims(**claims), key, algorithm=alg, headers={"kid": kid or default_kid, **(headers or {})}
        )


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.hits[self.path] += 1
            if issuer.stall:
                time.sleep(issuer.stall)
            status, body = issuer.routes.get(self.path, (404, b"{}"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    server.daemon_threads = True
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    issuer.serve_defaults()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
