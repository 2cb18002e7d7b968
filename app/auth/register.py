"""The facade's registration endpoint (RFC 7591 shape): every client gets the one pre-registered public
client (no secret, ever), provided each redirect URI it asks for is one that client has registered at the
issuer — else the issuer would refuse the authorization request later, with a less helpful error."""

from __future__ import annotations

import json

from mcp.shared.auth import OAuthClientMetadata
from pydantic import AnyUrl, ValidationError

from app.auth.metadata import Facade
from app.auth.scopes import Scopes


def _error(code: str, description: str) -> tuple[int, dict[str, object]]:
    return 400, {"error": code, "error_description": description}


def register(body: bytes, facade: Facade, scopes: Scopes) -> tuple[int, dict[str, object]]:
    """(status, JSON body): 201 with the public client, or 400 with an RFC 7591 error."""
    try:
        metadata = OAuthClientMetadata.model_validate(json.loads(body or b"null"))
    except (ValueError, RecursionError, ValidationError):
        return _error("invalid_client_metadata", "a JSON object with redirect_uris is required")
    requested = [str(uri) for uri in metadata.redirect_uris or []]
    # Compared as the SDK's model spells them (a bare origin gains its "/"), on both sides.
    allowed = {str(AnyUrl(uri)) for uri in facade.redirect_uris}
    refused = [uri for uri in requested if uri not in allowed]
    if refused:
        return _error(
            "invalid_redirect_uri",
            f"not a registered callback: {', '.join(refused)[:300]}; ask the operator to add it",
        )
    return 201, {
        "client_id": facade.client_id,
        "redirect_uris": requested,
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": " ".join(scopes.supported()),
        **({"client_name": metadata.client_name} if metadata.client_name else {}),
    }
