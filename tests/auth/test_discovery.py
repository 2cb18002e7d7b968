"""RFC 9728 protected-resource metadata (and the facade's RFC 8414 document and registration endpoint)
through the production handler, behind the $default stage, a named stage and a custom-domain base path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mcp.shared.auth import ProtectedResourceMetadata

from app.config import Settings
from tests.auth.calls import challenge_params, tool_call
from tests.auth.conftest import Invoke
from tests.auth.issuer import READ, WRITE, Issuer
from tests.helpers import body_of, event, header

API = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"


def get(path: str, *, stage: str = "$default", domain: str = API, **kwargs: Any) -> dict[str, Any]:
    ev = event(method=kwargs.pop("method", "GET"), path=path, **kwargs)
    ev["requestContext"]["stage"] = stage
    ev["requestContext"]["domainName"] = ev["headers"]["host"] = domain
    return ev


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
def test_protected_resource_metadata(invoke: Invoke, issuer: Issuer, path: str) -> None:
    response = invoke(get(path))
    assert response["statusCode"] == 200
    document = body_of(response)
    assert document == {
        "resource": f"https://{API}/mcp",  # byte-identical to the canonical URL, no trailing slash
        "authorization_servers": [issuer.url],
        "scopes_supported": [READ, WRITE],
        "bearer_methods_supported": ["header"],
        "resource_name": "lambda-ops-mcp",
    }
    ProtectedResourceMetadata.model_validate(document)  # what the SDK's client parses


def test_behind_a_named_stage_every_url_carries_the_stage(invoke: Invoke, issuer: Issuer) -> None:
    document = body_of(invoke(get("/prod/.well-known/oauth-protected-resource/mcp", stage="prod")))
    assert document["resource"] == f"https://{API}/prod/mcp"
    challenge = challenge_params(
        header(invoke(get("/prod/mcp", stage="prod", method="POST")), "www-authenticate")
    )
    assert challenge["resource_metadata"] == f"https://{API}/prod/.well-known/oauth-protected-resource/mcp"
    # A token for the stage's resource is accepted there, and one for the $default URL is not.
    ok = tool_call(token=issuer.token(aud=f"https://{API}/prod/mcp"), path="/prod/mcp")
    ok["requestContext"]["stage"] = "prod"
    assert invoke(ok)["statusCode"] == 200
    wrong = tool_call(token=issuer.token(), path="/prod/mcp")
    wrong["requestContext"]["stage"] = "prod"
    assert invoke(wrong)["statusCode"] == 401


def test_behind_a_custom_domain_base_path(
    build: Callable[[Settings], Invoke], auth_settings: Settings, issuer: Issuer
) -> None:
    invoke = build(
        auth_settings.model_copy(update={"base_path": "/ops", "allowed_hosts": ["api.example.com"]})
    )
    document = body_of(invoke(get("/ops/.well-known/oauth-protected-resource/mcp", domain="api.example.com")))
    assert document["resource"] == "https://api.example.com/ops/mcp"
    call = tool_call(token=issuer.token(aud="https://api.example.com/ops/mcp"), path="/ops/mcp")
    call["requestContext"]["domainName"] = call["headers"]["host"] = "api.example.com"
    assert invoke(call)["statusCode"] == 200


def test_a_configured_resource_url_wins(
    build: Callable[[Settings], Invoke], auth_settings: Settings, issuer: Issuer
) -> None:
    invoke = build(auth_settings.model_copy(update={"resource_url": "https://mcp.example.com/mcp"}))
    assert (
        body_of(invoke(get("/.well-known/oauth-protected-resource")))["resource"]
        == "https://mcp.example.com/mcp"
    )
    assert invoke(tool_call(token=issuer.token()))["statusCode"] == 401  # aud is the execute-api URL
    assert invoke(tool_call(token=issuer.token(aud="https://mcp.example.com/mcp")))["statusCode"] == 200


def test_metadata_cors_preflight_and_methods(invoke: Invoke) -> None:
    origin = "https://inspector.example.com"
    preflight = get(
        "/.well-known/oauth-protected-resource/mcp",
        method="OPTIONS",
        headers={"origin": origin, "access-control-request-method": "GET"},
    )
    response = invoke(preflight)
    assert response["statusCode"] == 200
    assert header(response, "access-control-allow-origin") == origin
    assert header(invoke(get("/.well-known/oauth-protected-resource", headers={"origin": origin})),
                  "access-control-allow-origin") == origin  # fmt: skip
    refused = invoke(get("/.well-known/oauth-protected-resource", method="POST"))
    assert refused["statusCode"] == 405
    assert header(refused, "allow") == "GET, OPTIONS"


def test_no_metadata_without_sign_in(build: Callable[[Settings], Invoke]) -> None:
    for settings in (Settings(auth_mode="none"), Settings()):
        assert build(settings)(get("/.well-known/oauth-protected-resource/mcp"))["statusCode"] == 404


def test_other_well_known_paths_are_404(invoke: Invoke) -> None:
    assert invoke(get("/.well-known/oauth-protected-resource/other"))["statusCode"] == 404
    assert invoke(get("/.well-known/oauth-authorization-server"))["statusCode"] == 404  # facade off


def test_a_rest_api_stage_is_part_of_the_resource_url(invoke: Invoke, issuer: Issuer) -> None:
    """REST APIs (payload 1.0) leave the stage out of the event's path, not out of the URL the client used."""
    domain = "f9e8d7c6b5.execute-api.eu-west-1.amazonaws.com"
    response = invoke(event("rest_api_v1", body=None, method="POST", headers={"host": domain}))
    challenge = challenge_params(header(response, "www-authenticate"))
    assert challenge["resource_metadata"] == f"https://{domain}/prod/.well-known/oauth-protected-resource/mcp"
    token = issuer.token(aud=f"https://{domain}/prod/mcp")
    ok = event("rest_api_v1", body={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers={"host": domain,
               "authorization": f"Bearer {token}"})  # fmt: skip
    assert invoke(ok)["statusCode"] == 200


@pytest.mark.parametrize("host", ["127.0.0.1:3999", "localhost:3999"])
def test_behind_the_local_gateway_the_resource_is_the_loopback_url(
    build: Callable[[Settings], Invoke], auth_settings: Settings, host: str
) -> None:
    """The events `python -m app.local` makes (what the local sign-in mode and its clients see): the
    resource is the URL the client typed, scheme and port included."""
    from app.local.events import forwarding_headers, http_api_event

    invoke = build(auth_settings.model_copy(update={"allowed_hosts": ["127.0.0.1:*", "localhost:*"]}))
    headers = [("host", host), *forwarding_headers(source_ip="127.0.0.1", port=3999)]
    ev = http_api_event(
        method="GET", raw_path="/.well-known/oauth-protected-resource/mcp", query_string="", headers=headers,
        body=b"", source_ip="127.0.0.1",
    )  # fmt: skip
    assert body_of(invoke(ev))["resource"] == f"http://{host}/mcp"
