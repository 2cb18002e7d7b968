"""Who may call: the bearer token from the Authorization header, verified, and the scopes the call needs.

``Gate.admit`` returns the SDK's ``AuthenticatedUser`` (None when sign-in is off) or raises a ``Refusal``;
``Gate.authorize`` raises the 403 ``Refusal`` when the principal lacks a scope the call needs. Fails closed:
sign-in on (the default) without an issuer refuses every request, and says why at start.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.datastructures import Headers
from starlette.types import Scope

from app.auth import PRIMING_CLIENT_ID, PRIMING_KEY
from app.auth.keys import IssuerMetadata, KeySet
from app.auth.refusal import Refusal
from app.auth.scopes import Scopes
from app.auth.tokens import TokenPolicy, verify
from app.config import Settings


class Gate:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.auth_mode == "oauth"
        self.issuer = settings.oauth_issuer
        self.audience = settings.oauth_audience
        self.scopes = Scopes(settings.oauth_read_scope, settings.oauth_write_scope)
        self.policy = TokenPolicy(
            issuer=settings.oauth_issuer,
            algorithms=tuple(settings.oauth_algorithms),
            leeway=settings.oauth_leeway_seconds,
            client_ids=frozenset(settings.oauth_client_ids),
        )
        timeout, ttl = settings.oauth_http_timeout_seconds, settings.oauth_jwks_ttl_seconds
        self.metadata = IssuerMetadata(settings.oauth_issuer, timeout, ttl)
        self.keys = KeySet(settings.oauth_jwks_url, self.metadata, timeout, ttl)

    @property
    def startup_problem(self) -> str | None:
        """What the cold-start log says when the deployment cannot admit anyone."""
        if self.enabled and not self.issuer:
            return (
                "sign-in is on (LAMBDA_OPS_AUTH_MODE=oauth, the default) but LAMBDA_OPS_OAUTH_ISSUER is "
                "not set: every MCP request is refused with 401. Set the issuer, or "
                "LAMBDA_OPS_AUTH_MODE=none for a server nobody else can reach."
            )
        return None

    async def admit(self, scope: Scope, resource: str) -> AuthenticatedUser | None:
        """Who is calling: None when sign-in is off, else the principal, or a ``Refusal``."""
        if scope.get(PRIMING_KEY) is True:  # in-process only (see app/auth/__init__.py)
            access = AccessToken(token="", client_id=PRIMING_CLIENT_ID, scopes=[self.scopes.read])
        elif not self.enabled:
            return None
        else:
            access = await self._authenticate(scope, resource)
        return AuthenticatedUser(access)

    def authorize(self, user: AuthenticatedUser | None, message: object) -> None:
        """A ``Refusal`` (403) unless the principal holds every scope the call needs."""
        needed = self.scopes.needed(message)
        if user is not None and not set(needed) <= set(user.scopes):
            raise Refusal(
                403,
                "insufficient_scope",
                f"this call needs the scopes {' '.join(needed)}",
                error="insufficient_scope",
            )

    async def _authenticate(self, scope: Scope, resource: str) -> AccessToken:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "access_token" in query:
            # RFC 6750 §2.3 is not supported: a token in a URL ends up in logs and histories.
            raise Refusal(
                400, "token_in_query", "send the token in the Authorization header only", "invalid_request"
            )
        authorization = Headers(scope=scope).get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refusal(401, "missing_token", "sign-in required: send a bearer token")
        if not self.issuer:
            raise Refusal(401, "not_configured", "sign-in is not configured on this server")
        return await verify(token, self.policy, self.keys, self.audience or resource)
