"""The unauthenticated documents beside ``/mcp``, under the same stage or base path: RFC 9728
protected-resource metadata (``/.well-known/oauth-protected-resource`` and ``.../mcp``) and, when the
authorization-server facade is on, its RFC 8414 metadata (also at the OpenID discovery path, the one form a
client can reach under a named stage) and its registration endpoint. GET (POST to register) and CORS
preflights; anything else 405."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from app.auth.fetch import FetchError
from app.auth.metadata import authorization_server, protected_resource
from app.auth.register import register
from app.auth.resource import AS_PATH, MCP_SUFFIX, OIDC_PATH, PRM_PATH, REGISTER_PATH, ResourceUrls
from app.web.access import URLS_KEY, Access
from app.web.origins import OriginPolicy

PATHS = frozenset({PRM_PATH, PRM_PATH + MCP_SUFFIX, AS_PATH, OIDC_PATH, REGISTER_PATH})
MAX_REGISTRATION_BYTES = 16 * 1024


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


class Discovery:
    def __init__(self, access: Access, policy: OriginPolicy) -> None:
        self.access = access
        self.cors = CORSMiddleware(
            self._serve,
            allow_origin_regex=policy.origin_regex,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Content-Type", "Accept", "MCP-Protocol-Version"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.cors(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._answer(scope, receive)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        path, method = scope["path"], scope["method"]
        allow = "POST, OPTIONS" if path == REGISTER_PATH else "GET, OPTIONS"
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        if method not in allow:
            return _oauth_error(405, "invalid_request", f"{allow.split(',')[0]} only", Allow=allow)
        gate, facade, urls = self.access.gate, self.access.facade, scope[URLS_KEY]
        if not gate.enabled or not gate.issuer:
            return _oauth_error(404, "not_found", "sign-in is not configured on this server")
        if path.startswith(PRM_PATH):
            document = protected_resource(urls, gate.issuer, facade, gate.scopes)
            return JSONResponse(document, headers={"Cache-Control": "max-age=300"})
        if facade is None:
            return _oauth_error(404, "not_found", "this server is not an authorization server")
        if path == REGISTER_PATH:
            status, body = register(await _body(receive), facade, gate.scopes)
            return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
        return await self._authorization_server(urls)

    async def _authorization_server(self, urls: ResourceUrls) -> Response:
        gate, facade = self.access.gate, self.access.facade
        assert facade is not None
        try:
            document = await authorization_server(urls, facade, gate.metadata, gate.scopes)
        except FetchError:
            return _oauth_error(
                503,
                "temporarily_unavailable",
                "the issuer's metadata is unavailable",
                **{"Retry-After": "30"},
            )
        return JSONResponse(document, headers={"Cache-Control": "max-age=300"})


async def _body(receive: Receive) -> bytes:
    chunks = bytearray()
    while True:
        message = await receive()
        chunks.extend(message.get("body", b""))
        if len(chunks) > MAX_REGISTRATION_BYTES or not message.get("more_body", False):
            return bytes(chunks[: MAX_REGISTRATION_BYTES + 1])
