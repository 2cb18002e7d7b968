"""The edge's side of sign-in: the resource's URLs for this request, and the gate's verdict rendered as
HTTP — a challenge (401/403 with ``WWW-Authenticate``), a 503 when the issuer's keys cannot be had, or the
SDK's ``AuthenticatedUser`` in ``scope["user"]`` (which the SDK's ``AuthContextMiddleware`` then puts
where ``get_access_token()`` finds it)."""

from __future__ import annotations

from starlette.authentication import AuthCredentials
from starlette.responses import Response
from starlette.types import Scope

from app.auth.gate import Gate
from app.auth.metadata import Facade
from app.auth.refusal import Refusal, www_authenticate
from app.auth.resource import ResourceUrls, resource_urls
from app.config import Settings
from app.web.errors import rejection
from app.web.observability import INFO_KEY, RequestInfo

URLS_KEY = "lambda_ops.resource_urls"


class Access:
    def __init__(self, settings: Settings) -> None:
        self.gate = Gate(settings)
        self.base_path = settings.base_path
        self.configured_resource = settings.resource_url
        self.facade = (
            Facade(
                client_id=settings.oauth_public_client_id,
                redirect_uris=tuple(settings.oauth_redirect_uris),
                authorization_endpoint=settings.oauth_authorization_endpoint,
                token_endpoint=settings.oauth_token_endpoint,
            )
            if settings.oauth_public_client_id
            else None
        )

    def locate(self, scope: Scope, stage: str | None) -> ResourceUrls:
        """Called by the edge once the path is known; the URLs are kept in the scope for later steps."""
        context = scope.get("aws.event", {}).get("requestContext", {})
        prefix = f"/{stage}" if stage else _rest_api_stage(context) or self.base_path
        urls = resource_urls(scope, prefix, self.configured_resource)
        scope[URLS_KEY] = urls
        return urls

    async def admit(self, scope: Scope, message: object) -> Response | None:
        """None when the request may go on (with ``scope["user"]`` set when sign-in is on)."""
        urls: ResourceUrls = scope[URLS_KEY]
        info = scope.get(INFO_KEY)
        try:
            user = await self.gate.admit(scope, urls.resource)
            if user is not None and isinstance(info, RequestInfo):  # named in the log even when refused
                info.caller_sub = user.access_token.subject
                info.caller_client_id = user.access_token.client_id
            self.gate.authorize(user, message)
        except Refusal as refusal:
            if isinstance(info, RequestInfo):
                info.auth_failure = refusal.reason
            if refusal.status == 503:
                return rejection(503, refusal.message, headers={"Retry-After": "30"})
            challenge = www_authenticate(refusal, self.gate.scopes.needed(message), urls.metadata)
            return rejection(refusal.status, refusal.message, headers={"WWW-Authenticate": challenge})
        if user is not None:
            scope["user"], scope["auth"] = user, AuthCredentials(user.scopes)
            # No token passthrough: the SDK and the tools see the principal, not the Authorization header.
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
        return None


def _rest_api_stage(context: dict[str, object]) -> str:
    """A REST API (payload 1.0) on its execute-api domain: the event's path lacks the stage, but the URL
    the client used has it (``/prod/mcp``)."""
    stage, domain = context.get("stage"), str(context.get("domainName") or "")
    if (
        "http" in context
        or ".execute-api." not in domain
        or not isinstance(stage, str)
        or stage == "$default"
    ):
        return ""
    return f"/{stage}"
