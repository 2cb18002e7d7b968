"""The gate's decisions that need no HTTP: the scopes a call needs (checked against the surface's own tool
annotations), the SnapStart priming principal, and the settings it refuses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from pydantic import ValidationError

from app.auth import PRIMING_CLIENT_ID, PRIMING_KEY
from app.auth.gate import Gate
from app.auth.refusal import Refusal
from app.auth.scopes import ALWAYS_WRITE, WRITE_UNLESS_DRY_RUN, is_write
from app.config import Settings
from app.surface.server import build_server


def test_every_tool_that_can_change_the_account_needs_the_write_scope() -> None:
    """A new write tool added to the surface without a line in app/auth/scopes.py fails here."""
    tools = asyncio.run(build_server(Settings(auth_mode="none")).list_tools())
    writers = {t.name for t in tools if t.annotations is None or t.annotations.read_only_hint is not True}
    assert writers == ALWAYS_WRITE | WRITE_UNLESS_DRY_RUN


@pytest.mark.parametrize(
    ("message", "write"),
    [
        ({"method": "tools/call", "params": {"name": "invoke-function", "arguments": {}}}, True),
        ({"method": "tools/call", "params": {"name": "run-runtime-campaign", "arguments": {}}}, True),
        ({"method": "tools/call", "params": {"name": "plan-runtime-campaign", "arguments": {}}}, False),
        ({"method": "tools/call", "params": {"name": "update-function-runtime"}}, False),
        ({"method": "tools/call", "params": {"name": "update-function-runtime", "arguments": {}}}, False),
        (
            {
                "method": "tools/call",
                "params": {"name": "update-function-runtime", "arguments": {"dry_run": True}},
            },
            False,
        ),
        (
            {
                "method": "tools/call",
                "params": {"name": "update-function-runtime", "arguments": {"dry_run": False}},
            },
            True,
        ),
        (
            {
                "method": "tools/call",
                "params": {"name": "update-function-runtime", "arguments": {"dry_run": "no"}},
            },
            True,
        ),
        (
            {"method": "tools/call", "params": {"name": "list-functions", "arguments": {"dry_run": False}}},
            False,
        ),
        (
            {"method": "tools/call", "params": {"name": "get-function-health", "arguments": {"name": "f"}}},
            False,
        ),  # a read (issue 15): the read scope alone
        ({"method": "resources/read", "params": {"name": "invoke-function"}}, False),
        ({"method": "tools/list"}, False),
        ("not a message", False),
    ],
)
def test_which_calls_are_writes(message: Any, write: bool) -> None:
    assert is_write(message) is write


def _gate() -> Gate:
    return Gate(Settings(auth_mode="oauth", oauth_issuer="https://issuer.example.com"))


def _scope(**extra: Any) -> dict[str, Any]:
    return {"type": "http", "headers": [], "query_string": b"", **extra}


READ_CALL = {"method": "tools/call", "params": {"name": "ping"}}
WRITE_CALL = {"method": "tools/call", "params": {"name": "invoke-function", "arguments": {}}}


def test_priming_is_a_read_only_principal() -> None:
    """SnapStart priming (#8) calls the ASGI chain in-process with scope[PRIMING_KEY] = True."""
    gate = _gate()
    user = asyncio.run(gate.admit(_scope(**{PRIMING_KEY: True}), "https://x/mcp"))
    assert isinstance(user, AuthenticatedUser)
    assert user.access_token.client_id == PRIMING_CLIENT_ID
    assert user.scopes == ["lambda-ops/read"]
    gate.authorize(user, READ_CALL)
    with pytest.raises(Refusal) as refused:
        gate.authorize(user, WRITE_CALL)
    assert refused.value.status == 403


@pytest.mark.parametrize("value", ["true", 1, "True", b"1"])
def test_only_the_value_true_primes(value: Any) -> None:
    with pytest.raises(Refusal) as refused:
        asyncio.run(_gate().admit(_scope(**{PRIMING_KEY: value}), "https://x/mcp"))
    assert refused.value.reason == "missing_token"


def test_sign_in_off_admits_without_a_principal() -> None:
    gate = Gate(Settings(auth_mode="none"))
    assert asyncio.run(gate.admit(_scope(), "https://x/mcp")) is None
    gate.authorize(None, WRITE_CALL)  # no principal, no scopes to check: the write policy still applies


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("auth_mode", "off"),
        ("oauth_algorithms", ["HS256"]),
        ("oauth_algorithms", ["none"]),
        ("oauth_algorithms", []),
        ("oauth_read_scope", 'read" , x="y'),
        ("oauth_write_scope", "two words"),
        ("resource_url", "https://api.example.com/mcp/"),
        ("resource_url", "https://api.example.com/other"),
        ("oauth_public_client_id", "a b"),
    ],
)
def test_unsafe_settings_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_OPS_OAUTH_CLIENT_IDS", " a, b ,")
    monkeypatch.setenv("LAMBDA_OPS_OAUTH_ALGORITHMS", "RS256,ES256")
    monkeypatch.setenv("LAMBDA_OPS_RESOURCE_URL", "https://api.example.com/ops/mcp")
    settings = Settings()
    assert settings.auth_mode == "oauth"  # the default: fails closed
    assert settings.oauth_client_ids == ["a", "b"]
    assert settings.oauth_algorithms == ["RS256", "ES256"]
    assert settings.resource_url == "https://api.example.com/ops/mcp"
