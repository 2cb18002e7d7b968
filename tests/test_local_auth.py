"""The local sign-in mode's wiring (app/local/auth.py): the flag, the settings it gives the handler, the
banner (and that tests can read it back), and its failures. The authorization server's own behaviour and
the whole sign-in: tests/realclient/test_local_auth_server.py and test_sign_in.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.local import auth
from app.local.auth import AuthServerError, AuthServerInfo, LocalAuthServer, apply_settings, banner_lines
from app.local.cli import banner, parse_args
from app.local.launcher import AUTH_SERVER, MACHINE_CLIENT

URL = "http://127.0.0.1:3000/mcp"
INFO = AuthServerInfo(
    issuer="http://127.0.0.1:4000",
    jwks_uri="http://127.0.0.1:4000/jwks",
    authorization_endpoint="http://127.0.0.1:4000/auth",
    token_endpoint="http://127.0.0.1:4000/token",
    registration_endpoint="http://127.0.0.1:4000/reg",
    resource=URL,
    read_scope="read",
    write_scope="write",
    machine_client_id="lambda-ops-machine",
    machine_client_secret="s3cr3t-_dev",
)


def test_auth_flag() -> None:
    assert parse_args([], {}).auth == "off"
    assert parse_args(["--auth", "local"], {}).auth == "local"
    with pytest.raises(SystemExit):
        parse_args(["--auth", "cognito"], {})


def test_local_mode_points_the_handler_at_its_server_over_anything_exported() -> None:
    environ = {
        "LAMBDA_OPS_AUTH_MODE": "none",  # what make serve's environment sets
        "LAMBDA_OPS_OAUTH_ISSUER": "https://elsewhere.example",
        "LAMBDA_OPS_OAUTH_AUDIENCE": "api://other",
        "LAMBDA_OPS_OAUTH_CLIENT_IDS": "abc",
    }
    apply_settings(INFO, environ)
    assert environ == {
        "LAMBDA_OPS_AUTH_MODE": "oauth",
        "LAMBDA_OPS_OAUTH_ISSUER": "http://127.0.0.1:4000",
        "LAMBDA_OPS_OAUTH_JWKS_URL": "http://127.0.0.1:4000/jwks",
        "LAMBDA_OPS_RESOURCE_URL": URL,
        "LAMBDA_OPS_OAUTH_READ_SCOPE": "read",
        "LAMBDA_OPS_OAUTH_WRITE_SCOPE": "write",
    }


def test_banner_says_what_to_paste_and_the_launcher_reads_it_back() -> None:
    environ: dict[str, str] = {}
    apply_settings(INFO, environ)
    text = banner(URL, "sandbox", None, environ, INFO)
    assert "sign-in: OAuth bearer tokens from http://127.0.0.1:4000" in text
    assert "\n".join(banner_lines(INFO)) in text
    assert f'--cli {URL} --transport http --header "Authorization: Bearer <access_token>"' in text
    assert f"-d resource={URL} http://127.0.0.1:4000/token" in text
    found = AUTH_SERVER.search(text)
    assert found is not None
    assert found.group(1) == INFO.issuer
    machine = MACHINE_CLIENT.search(text)
    assert machine is not None
    assert machine.groups() == ("lambda-ops-machine", "s3cr3t-_dev")
    assert "authorization server" not in banner(URL, "sandbox", None, {})  # only in the local sign-in mode


def test_without_oidc_provider_installed_it_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "CLIENTS", tmp_path)
    with pytest.raises(AuthServerError, match=r"make node-deps"):
        LocalAuthServer(URL).start()


@pytest.mark.realclient
def test_the_server_exits_when_the_process_that_started_it_is_gone() -> None:
    """It watches its stdin (a pipe only its parent holds): a parent killed before it could stop the server
    leaves no orphan listening on loopback."""
    server = LocalAuthServer(URL)
    info = server.start()
    assert info.resource == URL
    assert server.process is not None
    assert server.process.stdin is not None
    server.process.stdin.close()  # what the parent's death does
    deadline = time.monotonic() + 10
    while server.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.process.returncode == 0
    server.stop()
