"""The local sign-in mode's authorization server (npm oidc-provider, configured by
tests/clients/auth-server.mjs) on its own: what the MCP server and its clients rely on it for. Tokens are
checked with PyJWT against the server's published keys, as a resource server would.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest

from app.local.auth import AuthServerInfo, LocalAuthServer
from tests.realclient import signin
from tests.realclient.signin import Person, code_from

pytestmark = pytest.mark.realclient

RESOURCE = "http://127.0.0.1:3999/mcp"  # nothing listens there: the server only names it in tokens
REDIRECT = "http://127.0.0.1:3998/callback"


@pytest.fixture(scope="module")
def auth_server() -> Iterator[AuthServerInfo]:
    server = LocalAuthServer(RESOURCE)
    with server as info:
        yield info
    assert server.process is not None
    assert server.process.returncode == 0, "".join(server.errors)  # it stopped cleanly on SIGTERM


def register(info: AuthServerInfo, **metadata: Any) -> dict[str, Any]:
    return signin.register(info.registration_endpoint, REDIRECT, **metadata)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def verify(info: AuthServerInfo, token: str) -> dict[str, Any]:
    """What a resource server does: signature by the published keys, RS256, iss, aud, exp."""
    key = jwt.PyJWKClient(info.jwks_uri, timeout=10).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        issuer=info.issuer,
        audience=info.resource,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    return claims


def authorize(info: AuthServerInfo, client_id: str, scope: str | None, **extra: str) -> tuple[str, str]:
    """(code, verifier) after a person signs in and consents."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        **({"scope": scope} if scope is not None else {}),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": info.resource,
        **extra,
    }
    person = Person()
    try:
        result = code_from(person.authorize(f"{info.authorization_endpoint}?{urlencode(query)}", REDIRECT))
    finally:
        person.close()
    assert person.forms == ["login", "consent"]
    assert result.state == state
    assert result.iss == info.issuer  # RFC 9207
    return result.code, verifier


def exchange(info: AuthServerInfo, client_id: str, code: str, verifier: str, **extra: str) -> httpx.Response:
    """The authorization code grant's token request (RFC 6749 §4.1.3, with PKCE) of a public client."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
    }
    return httpx.post(info.token_endpoint, data={**form, "code_verifier": verifier, **extra}, timeout=10)


def redeem(info: AuthServerInfo, client_id: str, code: str, verifier: str) -> dict[str, Any]:
    response = exchange(info, client_id, code, verifier)
    assert response.status_code == 200, response.text
    return verify(info, response.json()["access_token"])


def test_metadata_declares_what_mcp_clients_need(auth_server: AuthServerInfo) -> None:
    metadata = httpx.get(f"{auth_server.issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == auth_server.issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["registration_endpoint"] == auth_server.registration_endpoint
    assert metadata["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(
        metadata["grant_types_supported"]
    )


def test_registration_code_pkce_resource_give_a_jwt_for_the_mcp_server(auth_server: AuthServerInfo) -> None:
    client = register(auth_server)
    code, verifier = authorize(auth_server, client["client_id"], "read write")

    token = exchange(auth_server, client["client_id"], code, verifier, resource=auth_server.resource)

    assert token.status_code == 200, token.text
    body = token.json()
    claims = verify(auth_server, body["access_token"])
    assert claims["aud"] == RESOURCE
    assert claims["client_id"] == client["client_id"]
    assert claims["sub"] == "alice@example.com"
    assert set(claims["scope"].split()) == {"read", "write"}
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"  # RFC 9068


def test_a_request_without_scope_or_resource_gets_a_read_token_for_the_mcp_server(
    auth_server: AuthServerInfo,
) -> None:
    """OAuth 2.1's pre-defined default scope (read) and resource (the MCP URL): some clients send neither."""
    client = register(auth_server)
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    person = Person()
    try:
        result = code_from(
            person.authorize(f"{auth_server.authorization_endpoint}?{urlencode(query)}", REDIRECT)
        )
    finally:
        person.close()
    claims = redeem(auth_server, client["client_id"], result.code, verifier)
    assert claims["scope"] == "read"
    assert claims["aud"] == RESOURCE


def test_a_code_is_worthless_without_its_pkce_verifier(auth_server: AuthServerInfo) -> None:
    client = register(auth_server)
    code, _ = authorize(auth_server, client["client_id"], "read")
    token = exchange(auth_server, client["client_id"], code, pkce()[0])  # another verifier
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


def test_authorization_without_pkce_or_for_another_resource_is_refused(auth_server: AuthServerInfo) -> None:
    client = register(auth_server)
    base = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "read",
    }
    for query, error in (
        (base, "invalid_request"),  # no code_challenge: PKCE is required
        (
            {
                **base,
                "code_challenge": pkce()[1],
                "code_challenge_method": "S256",
                "resource": "http://127.0.0.1:1/mcp",
            },
            "invalid_target",
        ),
    ):
        response = httpx.get(f"{auth_server.authorization_endpoint}?{urlencode(query)}", timeout=10)
        assert response.is_redirect, response.text
        assert f"error={error}" in response.headers["location"], response.headers["location"]


def test_machine_client_gets_read_tokens_and_never_write(auth_server: AuthServerInfo) -> None:
    credentials = (auth_server.machine_client_id, auth_server.machine_client_secret)

    def token(scope: str) -> dict[str, Any]:
        response = httpx.post(
            auth_server.token_endpoint,
            auth=credentials,
            data={"grant_type": "client_credentials", "scope": scope, "resource": auth_server.resource},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    read = verify(auth_server, token("read")["access_token"])
    assert read["scope"] == "read"
    assert read["aud"] == RESOURCE
    assert "scope" not in verify(auth_server, token("write")["access_token"])  # write is not granted
    wrong = httpx.post(
        auth_server.token_endpoint,
        auth=(auth_server.machine_client_id, "not-the-secret"),
        data={"grant_type": "client_credentials", "scope": "read"},
        timeout=10,
    )
    assert wrong.status_code == 401


def test_mcp_inspectors_web_ui_may_register_from_the_browser_and_no_other_page_may(
    auth_server: AuthServerInfo,
) -> None:
    """oidc-provider has no CORS on registration; auth-server.mjs answers the Inspector's origin only."""
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for origin in ("http://localhost:6274", "http://127.0.0.1:6274"):
        answer = httpx.options(
            auth_server.registration_endpoint, headers={"Origin": origin, **preflight}, timeout=10
        )
        assert answer.status_code == 204
        assert answer.headers["access-control-allow-origin"] == origin
        registered = httpx.post(
            auth_server.registration_endpoint,
            headers={"Origin": origin},
            json={"redirect_uris": [f"{origin}/oauth/callback"], "token_endpoint_auth_method": "none"},
            timeout=10,
        )
        assert registered.status_code == 201
        assert registered.headers["access-control-allow-origin"] == origin
    other = httpx.options(
        auth_server.registration_endpoint,
        headers={"Origin": "http://localhost:8080", **preflight},
        timeout=10,
    )
    assert "access-control-allow-origin" not in other.headers
    # The token endpoint answers a public client's browser calls from its redirect URIs' origin only.
    client = registered.json()
    form = {
        "grant_type": "authorization_code",
        "code": "not-a-code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "code_verifier": pkce()[0],
    }
    headers = {"Origin": origin}
    mine = httpx.post(auth_server.token_endpoint, headers=headers, data=form, timeout=10)
    assert (mine.status_code, mine.json()["error"]) == (400, "invalid_grant")
    assert mine.headers["access-control-allow-origin"] == origin
    headers = {"Origin": "http://localhost:8080"}
    theirs = httpx.post(auth_server.token_endpoint, headers=headers, data=form, timeout=10)
    assert "access-control-allow-origin" not in theirs.headers
    assert "not allowed" in theirs.json()["error_description"]
