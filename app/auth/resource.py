"""The URLs of this protected resource: the canonical MCP URL (RFC 8707 audience, RFC 9728 ``resource``)
and the documents beside it. Configured (``LAMBDA_OPS_RESOURCE_URL``) or derived from the request: the
domain API Gateway received it on (``requestContext.domainName``, never the client's Host header), the
scheme and port it forwarded, and the stage or custom-domain base path the URL carries."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import Scope

MCP_SUFFIX = "/mcp"
PRM_PATH = "/.well-known/oauth-protected-resource"
AS_PATH = "/.well-known/oauth-authorization-server"
OIDC_PATH = "/.well-known/openid-configuration"
REGISTER_PATH = "/oauth/register"
_DEFAULT_PORTS = {"https": "443", "http": "80"}


@dataclass(frozen=True)
class ResourceUrls:
    base: str  # scheme://host[:port][/stage or /base-path], no trailing slash

    @property
    def resource(self) -> str:
        return self.base + MCP_SUFFIX

    @property
    def metadata(self) -> str:
        """Under the stage or base path — where the request can reach it — not RFC 9728's path-inserted
        form (``/.well-known/...{/stage}/mcp``), which API Gateway would route to no stage at all."""
        return self.base + PRM_PATH + MCP_SUFFIX

    @property
    def issuer(self) -> str:
        """The authorization-server facade's issuer (its metadata is at ``AS_PATH`` under it)."""
        return self.base

    @property
    def registration(self) -> str:
        return self.base + REGISTER_PATH


def resource_urls(scope: Scope, prefix: str, configured: str) -> ResourceUrls:
    if configured:
        return ResourceUrls(configured.removesuffix(MCP_SUFFIX))
    headers = Headers(scope=scope)
    context = scope.get("aws.event", {}).get("requestContext", {})
    scheme = str(scope.get("scheme")) if scope.get("scheme") in _DEFAULT_PORTS else "https"
    domain = str(context.get("domainName") or (scope.get("server") or ("localhost",))[0]).lower()
    port = headers.get("x-forwarded-port", _DEFAULT_PORTS[scheme])
    netloc = domain if port == _DEFAULT_PORTS[scheme] or not port.isdigit() else f"{domain}:{port}"
    return ResourceUrls(f"{scheme}://{netloc}{prefix}")
