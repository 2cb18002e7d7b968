"""scripts/smoke.py — the pipeline's post-deploy check — against the local server in its sign-in mode
(``python -m app.local --auth local``: the production handler as the protected resource of a real
authorization server, npm oidc-provider, on loopback), run as the pipeline runs it: a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from app.local.launcher import REPOSITORY, LocalServer

pytestmark = pytest.mark.realclient
SCRIPT = REPOSITORY / "scripts" / "smoke.py"


def smoke(*args: str, client: tuple[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMOKE_")}
    if client:
        env["SMOKE_CLIENT_ID"], env["SMOKE_CLIENT_SECRET"] = client
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--attempts", "2", "--delay", "0.2", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def gated() -> Iterator[tuple[str, str, tuple[str, str]]]:
    """(MCP URL, token endpoint, machine client) of the local server signed in by its authorization server."""
    with LocalServer(auth="local", ready_timeout=60) as server:
        assert server.auth_server_url is not None
        assert server.machine_client is not None
        yield server.url, f"{server.auth_server_url}/token", server.machine_client


def test_passes_against_a_server_that_requires_sign_in(gated: tuple[str, str, tuple[str, str]]) -> None:
    url, token_url, client = gated
    done = smoke("--url", url, "--token-endpoint", token_url, "--scope", "read", "--resource", client=client)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok  ") == 3
    assert "smoke test passed" in done.stdout
    assert client[1] not in done.stdout + done.stderr


def test_fails_when_the_machine_client_is_refused(gated: tuple[str, str, tuple[str, str]]) -> None:
    url, token_url, client = gated
    done = smoke(
        "--url", url, "--token-endpoint", token_url, "--resource", client=(client[0], "wrong-secret")
    )
    assert done.returncode == 1
    assert "FAILED machine sign-in (client credentials): token endpoint: HTTP 401" in done.stdout
    assert "wrong-secret" not in done.stdout


def test_fails_when_the_server_lets_anyone_in() -> None:
    """A server without sign-in must fail the check that an anonymous call is refused."""
    with LocalServer() as server:
        done = smoke("--url", server.url, "--token-endpoint", "http://127.0.0.1:9/token", client=("a", "b"))
        assert done.returncode == 1
        assert "expected 401 without a token, got 200" in done.stdout
        done = smoke("--url", server.url, "--no-auth")
        assert done.returncode == 0, done.stdout + done.stderr


def test_needs_the_client_secret_from_the_environment(gated: tuple[str, str, tuple[str, str]]) -> None:
    url, token_url, _ = gated
    done = smoke("--url", url, "--token-endpoint", token_url)
    assert done.returncode == 1
    assert "set SMOKE_CLIENT_ID and SMOKE_CLIENT_SECRET" in done.stdout
