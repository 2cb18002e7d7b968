"""Lambda's control-plane limits in the sandbox: a request rate per account and region, and per-call latency.

On AWS the Lambda control plane (every API but ``Invoke``) allows about 15 requests per second per account and
region, shared with everything else calling it there, and answers more with HTTP 429
``TooManyRequestsException`` (``Reason: CallerRateLimitExceeded``, a ``Retry-After`` header in seconds); each
call takes tens of milliseconds. moto answers everything at once. ``python -m app.local --throttle RPS
--latency MS`` puts this in front of the sandbox's moto server (a WSGI middleware, ``ControlPlane``): a token
bucket per (account, region) — the account from the request's access key as moto resolves it (assumed-role
credentials count against the member account), the region from its SigV4 credential scope — holding one
second of tokens, and a sleep of ``latency_ms`` before each Lambda call. Other services (STS, IAM,
Organizations, CloudWatch, DynamoDB) and ``Invoke`` pass untouched.

The clock and the sleep are injectable: tests count, never time.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_INVOKE = re.compile(r"^/(?:2015-03-31|2014-11-13|2021-11-15)/functions/[^/]+/(?:invocations|invoke-async)")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` saved; ``take()`` → 0 (granted) or seconds to wait."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = capacity
        self.clock = clock
        self.tokens = capacity
        self.updated = clock()

    def take(self) -> float:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass(frozen=True)
class Limits:
    """``throttle_rps``: Lambda control-plane requests per second per account and region (None: unlimited);
    ``latency_ms``: added to each Lambda call."""

    throttle_rps: float | None = None
    latency_ms: float = 0.0

    @property
    def active(self) -> bool:
        return self.throttle_rps is not None or self.latency_ms > 0

    def describe(self) -> str:
        parts = []
        if self.throttle_rps is not None:
            parts.append(f"{self.throttle_rps:g} Lambda requests/s per account and region")
        if self.latency_ms > 0:
            parts.append(f"{self.latency_ms:g} ms per Lambda call")
        return ", ".join(parts) or "none"


class ControlPlane:
    """WSGI middleware in front of moto's app (see the module docstring)."""

    def __init__(
        self,
        app: WsgiApp | None,
        limits: Limits,
        *,
        armed: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        account_of: Callable[[str], str] | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.armed = armed  # off while the sandbox seeds itself
        self.clock = clock
        self.sleep = sleep
        self.account_of = account_of or _moto_account
        self.buckets: dict[tuple[str, str], TokenBucket] = {}
        self.throttled: dict[tuple[str, str], int] = {}  # refusals per (account, region), for tests and logs
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        assert self.app is not None
        found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if (
            not self.armed
            or found is None
            or found.group(3) != "lambda"
            or _INVOKE.match(environ.get("PATH_INFO", ""))
        ):
            return self.app(environ, start_response)
        access_key, region = found.group(1), found.group(2)
        if self.limits.latency_ms > 0:
            self.sleep(self.limits.latency_ms / 1000)
        if self.limits.throttle_rps is not None:
            wait = self._take((self.account_of(access_key), region))
            if wait > 0:
                return _too_many_requests(start_response, wait)
        return self.app(environ, start_response)

    def _take(self, key: tuple[str, str]) -> float:
        rate = self.limits.throttle_rps
        assert rate is not None
        with self._lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = TokenBucket(rate, max(1.0, rate), self.clock)
            wait = bucket.take()
            if wait > 0:
                self.throttled[key] = self.throttled.get(key, 0) + 1
            return wait


def _too_many_requests(start_response: StartResponse, wait: float) -> list[bytes]:
    """Lambda's throttle as botocore's model has it: 429, ``Retry-After`` (seconds), ``Type``, ``message``,
    ``Reason``; the code in ``x-amzn-ErrorType``."""
    body = json.dumps(
        {"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"}
    ).encode()
    start_response(
        "429 Too Many Requests",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("x-amzn-ErrorType", "TooManyRequestsException"),
            ("Retry-After", str(max(1, math.ceil(wait)))),
        ],
    )
    return [body]


def _moto_account(access_key: str) -> str:
    """The account moto scopes this access key's requests to (an assumed role's: the member account)."""
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


def moto_server(limits: Limits, host: str = "127.0.0.1") -> Any:
    """A ``ThreadedMotoServer`` on a free port whose app sits behind ``ControlPlane`` when limits are set
    (``server.control_plane``, not armed: arm it once seeding is done), else moto's own app."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class LimitedMotoServer(ThreadedMotoServer):
        control_plane = ControlPlane(None, limits, armed=False) if limits.active else None

        def _server_entry(self) -> None:
            app: Any = DomainDispatcherApplication(create_backend_app)
            if self.control_plane is not None:
                self.control_plane.app = app
                app = self.control_plane
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return LimitedMotoServer(ip_address=host, port=0, verbose=False)
