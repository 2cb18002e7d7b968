"""The issuer's keys: fetched on first need, cached across warm invocations with a TTL, one refetch for an
unknown kid at most every MIN_REFETCH_SECONDS, stale keys kept while the issuer is down; discovery from the
issuer's metadata. Against the loopback issuer, with a clock the test moves."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.auth.fetch import FetchError, get_json
from app.auth.keys import MIN_REFETCH_SECONDS, IssuerMetadata, KeySet, KeysUnavailable, UnknownKey
from app.config import Settings
from tests.auth.calls import tool_call
from tests.auth.conftest import Invoke
from tests.auth.issuer import Issuer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keyset(issuer: Issuer, clock: Clock, jwks_url: str | None = None, ttl: float = 600) -> KeySet:
    metadata = IssuerMetadata(issuer.url, 1.0, ttl, clock)
    url = f"{issuer.url}/jwks" if jwks_url is None else jwks_url
    return KeySet(url, metadata, 1.0, ttl, clock=clock)


def test_keys_are_cached_for_the_ttl(issuer: Issuer) -> None:
    clock = Clock()
    keys = keyset(issuer, clock)
    for _ in range(5):
        asyncio.run(keys.key(issuer.kid))
    assert issuer.hits["/jwks"] == 1
    clock.now += 601
    asyncio.run(keys.key(issuer.kid))
    assert issuer.hits["/jwks"] == 2


def test_an_unknown_kid_refetches_once_and_a_flood_of_them_does_not_hammer_the_issuer(issuer: Issuer) -> None:
    clock = Clock()
    keys = keyset(issuer, clock)
    asyncio.run(keys.key(issuer.kid))
    clock.now += MIN_REFETCH_SECONDS  # a rotation: the issuer publishes a new key
    issuer.kid = "rsa-2"
    issuer.serve_defaults()
    assert asyncio.run(keys.key("rsa-2")).key_id == "rsa-2"
    assert issuer.hits["/jwks"] == 2
    for n in range(50):
        with pytest.raises(UnknownKey):
            asyncio.run(keys.key(f"random-{n}"))
    assert issuer.hits["/jwks"] == 2  # within MIN_REFETCH_SECONDS of the last fetch: none
    clock.now += MIN_REFETCH_SECONDS
    with pytest.raises(UnknownKey):
        asyncio.run(keys.key("random-again"))
    assert issuer.hits["/jwks"] == 3


def test_stale_keys_keep_working_while_the_issuer_is_down(issuer: Issuer) -> None:
    clock = Clock()
    keys = keyset(issuer, clock)
    asyncio.run(keys.key(issuer.kid))
    issuer.routes["/jwks"] = (500, b"{}")
    clock.now += 601
    assert asyncio.run(keys.key(issuer.kid)).key_id == issuer.kid
    assert issuer.hits["/jwks"] == 2


def test_a_failed_first_fetch_is_not_retried_at_once(issuer: Issuer) -> None:
    clock = Clock()
    issuer.routes["/jwks"] = (200, b"garbage")
    keys = keyset(issuer, clock)
    for _ in range(3):
        with pytest.raises(KeysUnavailable):
            asyncio.run(keys.key(issuer.kid))
    assert issuer.hits["/jwks"] == 1
    issuer.serve_defaults()
    clock.now += MIN_REFETCH_SECONDS
    assert asyncio.run(keys.key(issuer.kid)).key_id == issuer.kid


def test_the_jwks_url_is_discovered_from_the_issuers_metadata(issuer: Issuer) -> None:
    """RFC 8414's URL first (404 here), then OpenID Connect discovery."""
    keys = keyset(issuer, Clock(), jwks_url="")
    assert asyncio.run(keys.key(issuer.kid)).key_id == issuer.kid
    assert issuer.hits["/.well-known/oauth-authorization-server"] == 1
    assert issuer.hits["/.well-known/openid-configuration"] == 1


def test_metadata_naming_another_issuer_is_not_trusted(issuer: Issuer) -> None:
    document = {"issuer": "https://evil.example.com", "jwks_uri": f"{issuer.url}/jwks"}
    issuer.routes["/.well-known/openid-configuration"] = (200, json.dumps(document).encode())
    with pytest.raises(KeysUnavailable):
        asyncio.run(keyset(issuer, Clock(), jwks_url="").key(issuer.kid))
    assert issuer.hits["/jwks"] == 0


def test_warm_invocations_share_the_keys(
    build: Callable[[Settings], Invoke], auth_settings: Settings, issuer: Issuer
) -> None:
    invoke = build(auth_settings.model_copy(update={"oauth_jwks_url": ""}))
    for _ in range(4):
        assert invoke(tool_call(token=issuer.token()))["statusCode"] == 200
    assert issuer.hits["/jwks"] == 1
    assert issuer.hits["/.well-known/openid-configuration"] == 1


def test_the_issuers_metadata_is_cached_and_a_failure_is_not_retried_at_once(issuer: Issuer) -> None:
    clock = Clock()
    metadata = IssuerMetadata(issuer.url, 1.0, 600, clock)
    issuer.routes["/.well-known/openid-configuration"] = (503, b"{}")
    for _ in range(3):
        with pytest.raises(FetchError):
            asyncio.run(metadata.document())
    assert issuer.hits["/.well-known/openid-configuration"] == 1
    issuer.serve_defaults()
    clock.now += MIN_REFETCH_SECONDS
    assert asyncio.run(metadata.document())["issuer"] == issuer.url
    issuer.routes["/.well-known/openid-configuration"] = (503, b"{}")
    clock.now += 601  # expired, and the issuer is down: the stale document serves
    assert asyncio.run(metadata.document())["issuer"] == issuer.url
    assert issuer.hits["/.well-known/openid-configuration"] == 3


def test_a_fetch_has_one_deadline_even_when_the_issuer_trickles_bytes() -> None:
    """httpx's timeout bounds each read, not the whole response: an issuer sending a byte at a time would
    hold every sign-in until the Lambda's own timeout. The fetch stops at its deadline instead."""
    stop = threading.Event()

    class Trickle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            for _ in range(100):  # 100 bytes over ~20 s, each read well within httpx's timeout
                if stop.wait(0.2):
                    return
                self.wfile.write(b" ")
                self.wfile.flush()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(FetchError, match=r"did not answer within 1 s"):
            asyncio.run(get_json(f"http://127.0.0.1:{server.server_port}/jwks", 1.0))
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
