"""The authorization-server facade for Amazon Cognito (issue #7 §4): Cognito's discovery document lacks
``code_challenge_methods_supported`` and it has no dynamic registration, so MCP clients abort. The function
serves an RFC 8414 document of its own (S256, the issuer's authorize/token endpoints, a registration
endpoint) and hands out the pre-registered public client. Tokens are still the issuer's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp.client.auth.utils import build_oauth_authorization_server_metadata_discovery_urls
from mcp.shared.auth import OAuthClientInformationFull, OAuthMetadata, ProtectedResourceMetadata

from app.config import Settings
from tests.auth.calls import tool_call
from tests.auth.conftest import Invoke
from tests.auth.issuer import READ, WRITE, Issuer
from tests.helpers import body_of, event, header

API = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
CALLBACKS = ["https://claude.ai/api/mcp/auth_callback", "cursor://anysphere.cursor-mcp/oauth/callback",
             "http://localhost:6274/oauth/callback"]  # fmt: skip


@pytest.fixture
def facade(build: Callable[[Settings], Invoke], auth_settings: Settings) -> Invoke:
    return build(
        auth_settings.model_copy(
            update={"oauth_public_client_id": "cognito-public-client", "oauth_redirect_uris": CALLBACKS}
        )
    )


def at(path: str, method: str = "GET", stage: str = "$default", **kwargs: Any) -> dict[str, Any]:
    ev = event(method=method, path=path, **kwargs)
    ev["requestContext"]["stage"] = stage
    return ev


def test_the_resource_points_clients_at_the_facade(facade: Invoke) -> None:
    prm = body_of(facade(at("/.well-known/oauth-protected-resource/mcp")))
    assert prm["authorization_servers"] == [f"https://{API}"]


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_the_facade_metadata_declares_pkce_registration_and_the_issuer_endpoints(
    facade: Invoke, issuer: Issuer, path: str
) -> None:
    response = facade(at(path))
    assert response["statusCode"] == 200
    document = body_of(response)
    assert document["issuer"] == f"https://{API}"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_endpoint"] == f"{issuer.url}/authorize"  # from the issuer's metadata
    assert document["token_endpoint"] == f"{issuer.url}/token"
    assert document["registration_endpoint"] == f"https://{API}/oauth/register"
    assert document["scopes_supported"] == [READ, WRITE]
    # The SDK's client accepts it: it parses, and its issuer is the PRM's authorization server as the
    # client compares them (str of the pydantic URL: a bare origin gains "/" on both sides).
    parsed = OAuthMetadata.model_validate(document)
    prm = ProtectedResourceMetadata.model_validate(
        body_of(facade(at("/.well-known/oauth-protected-resource")))
    )
    assert str(parsed.issuer) == str(prm.authorization_servers[0])


def test_under_a_named_stage_the_sdk_client_finds_the_facade_at_the_openid_path(facade: Invoke) -> None:
    """RFC 8414's path-inserted URL (/.well-known/...{/prod}) reaches no stage of an HTTP API; the OpenID
    form ({issuer}/.well-known/openid-configuration) does, and the SDK's client tries it."""
    prm = body_of(facade(at("/prod/.well-known/oauth-protected-resource/mcp", stage="prod")))
    issuer = prm["authorization_servers"][0]
    assert issuer == f"https://{API}/prod"
    urls = build_oauth_authorization_server_metadata_discovery_urls(issuer, f"https://{API}/prod/mcp")
    reachable = [u for u in urls if u.startswith(f"https://{API}/prod/")]
    assert reachable == [f"https://{API}/prod/.well-known/openid-configuration"]
    document = body_of(facade(at("/prod/.well-known/openid-configuration", stage="prod")))
    assert document["issuer"] == issuer
    assert document["registration_endpoint"] == f"https://{API}/prod/oauth/register"


def register(invoke: Invoke, metadata: Any) -> dict[str, Any]:
    return invoke(at("/oauth/register", method="POST", raw_body=json.dumps(metadata).encode(),
                     headers={"content-type": "application/json"}))  # fmt: skip


def test_registration_hands_out_the_public_client_and_never_a_secret(facade: Invoke) -> None:
    response = register(
        facade,
        {
            "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
            "client_name": "Claude",
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code", "refresh_token"],
        },
    )
    assert response["statusCode"] == 201
    assert header(response, "cache-control") == "no-store"
    info = OAuthClientInformationFull.model_validate(body_of(response))
    assert info.client_id == "cognito-public-client"
    assert info.client_secret is None
    assert info.token_endpoint_auth_method == "none"
    assert [str(u) for u in info.redirect_uris or []] == ["https://claude.ai/api/mcp/auth_callback"]


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["https://evil.example.com/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": [CALLBACKS[0], "https://evil.example.com/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_client_metadata"),
        ({"client_name": "no redirect"}, "invalid_client_metadata"),
        ("not an object", "invalid_client_metadata"),
    ],
)
def test_registration_refuses_unknown_callbacks_and_bad_metadata(
    facade: Invoke, metadata: Any, error: str
) -> None:
    response = register(facade, metadata)
    assert response["statusCode"] == 400
    assert body_of(response)["error"] == error


def test_registration_is_post_only_and_off_without_the_facade(facade: Invoke, invoke: Invoke) -> None:
    assert facade(at("/oauth/register"))["statusCode"] == 405
    assert register(invoke, {"redirect_uris": CALLBACKS[:1]})["statusCode"] == 404


def test_configured_endpoints_need_no_issuer_metadata(
    build: Callable[[Settings], Invoke], auth_settings: Settings, issuer: Issuer
) -> None:
    del issuer.routes["/.well-known/openid-configuration"]
    settings = auth_settings.model_copy(
        update={"oauth_public_client_id": "c", "oauth_redirect_uris": CALLBACKS}
    )
    assert build(settings)(at("/.well-known/oauth-authorization-server"))["statusCode"] == 503
    configured = settings.model_copy(
        update={
            "oauth_authorization_endpoint": "https://auth.example.com/oauth2/authorize",
            "oauth_token_endpoint": "https://auth.example.com/oauth2/token",
        }
    )
    document = body_of(build(configured)(at("/.well-known/oauth-authorization-server")))
    assert document["authorization_endpoint"] == "https://auth.example.com/oauth2/authorize"


def test_tokens_are_still_the_issuers(facade: Invoke, issuer: Issuer) -> None:
    assert facade(tool_call(token=issuer.token()))["statusCode"] == 200
    assert facade(tool_call(token=issuer.token(iss=f"https://{API}")))["statusCode"] == 401
