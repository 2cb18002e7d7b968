from __future__ import annotations

import pytest

from app.web.origins import OriginPolicy

POLICY = OriginPolicy(
    ["127.0.0.1:*", "localhost:*", "mcp.example.com", "*.tools.example.com"],
    ["http://localhost:*", "https://inspector.example.com"],
)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:3000", True),
        ("127.0.0.1", True),
        ("LOCALHOST:8080", True),
        ("mcp.example.com", True),
        ("mcp.example.com:443", False),
        ("a.tools.example.com", True),
        ("a.b.tools.example.com", True),
        ("tools.example.com", False),
        ("evil.tools.example.com.attacker.net", False),
        ("127.0.0.1.attacker.net", False),
        ("127.0.0.1:3000x", False),
        ("", False),
        (None, False),
    ],
)
def test_hosts(host: str | None, allowed: bool) -> None:
    assert POLICY.host_allowed(host, None) is allowed


def test_the_request_context_domain_is_allowed_with_any_port() -> None:
    assert POLICY.host_allowed(
        "abc.execute-api.us-east-1.amazonaws.com", "abc.execute-api.us-east-1.amazonaws.com"
    )
    assert not POLICY.host_allowed("abc.execute-api.us-east-1.amazonaws.com", "other.example.com")


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("http://localhost:6274", True),
        ("http://localhost", True),
        ("https://inspector.example.com", True),
        ("https://inspector.example.com.evil.net", False),
        ("http://inspector.example.com", False),
        ("null", False),
        ("", False),
    ],
)
def test_origins(origin: str | None, allowed: bool) -> None:
    assert POLICY.origin_allowed(origin) is allowed


def test_nothing_configured_allows_nothing_but_absent_origin() -> None:
    empty = OriginPolicy([], [])
    assert not empty.host_allowed("localhost", None)
    assert empty.origin_allowed(None)
    assert not empty.origin_allowed("http://localhost")
