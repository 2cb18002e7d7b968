"""The discovery documents: RFC 9728 protected-resource metadata, and — for an issuer that cannot serve
MCP clients itself (Amazon Cognito: no ``code_challenge_methods_supported``, no dynamic registration) — an
RFC 8414 authorization-server metadata document of the function's own: it declares S256 and a registration
endpoint, and sends clients to the issuer's own authorize and token endpoints. Tokens stay the issuer's."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.fetch import FetchError
from app.auth.keys import IssuerMetadata
from app.auth.resource import ResourceUrls
from app.auth.scopes import Scopes


@dataclass(frozen=True)
class Facade:
    """On when a public client id is configured (LAMBDA_OPS_OAUTH_PUBLIC_CLIENT_ID)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    authorization_endpoint: str  # else from the issuer's metadata
    token_endpoint: str


def protected_resource(
    urls: ResourceUrls, issuer: str, facade: Facade | None, scopes: Scopes
) -> dict[str, object]:
    return {
        "resource": urls.resource,
        "authorization_servers": [urls.issuer if facade else issuer],
        "scopes_supported": scopes.supported(),
        "bearer_methods_supported": ["header"],
        "resource_name": "lambda-ops-mcp",
    }


async def authorization_server(
    urls: ResourceUrls, facade: Facade, upstream: IssuerMetadata, scopes: Scopes
) -> dict[str, object]:
    """Raises ``FetchError`` when an endpoint is neither configured nor in the issuer's metadata."""
    endpoints = {
        "authorization_endpoint": facade.authorization_endpoint,
        "token_endpoint": facade.token_endpoint,
    }
    if not all(endpoints.values()):
        document = await upstream.document()
        for name, value in endpoints.items():
            found = document.get(name)
            if not value and not isinstance(found, str):
                raise FetchError(f"the issuer's metadata has no {name}")
            endpoints[name] = value or str(found)
    return {
        "issuer": urls.issuer,
        **endpoints,
        "registration_endpoint": urls.registration,
        "scopes_supported": scopes.supported(),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
    }
