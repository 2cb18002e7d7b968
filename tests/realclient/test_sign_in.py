"""Sign-in end to end: ``python -m app.local --auth local`` (``make serve-auth``) — the production handler as
a protected resource of a real authorization server on loopback (oidc-provider) — driven by real clients.

- The MCP Python SDK's own OAuth client (``mcp.client.auth.OAuthClientProvider``): 401 → protected-resource
  metadata → authorization-server metadata → dynamic registration → authorization code with PKCE and
  ``resource`` (a person at the login and consent pages: tests/realclient/signin.py) → token → MCP calls;
  in the handshake era and in 2026-07-28 (sessionless).
- Step-up: a read token calling a write tool gets 403 ``insufficient_scope``; the SDK asks for read + write,
  the person consents again, and the call passes the gate (the tool runs against the sandbox).
- MCP Inspector's CLI with a bearer header (``--header "Authorization: Bearer …"``), a machine token from the
  client-credentials grant.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from mcp_types import TextContent

from app.local.launcher import LocalServer
from tests.realclient.signin import MemoryTokens, Person, SignIn

if TYPE_CHECKING:
    from tests.realclient.conftest import GatewayRequest, NodeTools

pytestmark = pytest.mark.realclient

REDIRECT = "http://127.0.0.1:3997/callback"  # never loaded: the person stops at the redirect
TIMEOUT_S = 60.0
WRITE_CALL = ("invoke-function", {"name": "legacy-report-cron", "payload": {"source": "sign-in test"}})


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(auth="local", ready_timeout=60) as running:
        yield running
    assert running.returncode == 0, "".join(running.output[-40:])


@dataclass
class Traffic:
    """Every request the SDK's HTTP client sent (its own and the OAuth flow's), with the status it got."""

    seen: list[tuple[str, str, int]] = field(default_factory=list)

    async def record(self, response: httpx2.Response) -> None:
        self.seen.append(
            (response.request.method, urlsplit(str(response.request.url)).path, response.status_code)
        )


@dataclass
class Outcome:
    tools: list[str]
    read_text: list[str]
    read_is_error: bool | None
    write_is_error: bool | None = None
    write_text: list[str] = field(default_factory=list)


async def session(
    url: str, provider: OAuthClientProvider, traffic: Traffic, *, write: bool, mode: str
) -> Outcome:
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30, event_hooks={"response": [traffic.record]}) as http,
        Client(
            streamable_http_client(url, http_client=http), mode="legacy", read_timeout_seconds=30
        ) as client,
    ):
        tools = await client.list_tools()
        read = await client.call_tool("list-functions", {"family": "nodejs"})
        outcome = Outcome(
            tools=[tool.name for tool in tools.tools],
            read_text=[block.text for block in read.content if isinstance(block, TextContent)],
            read_is_error=read.is_error,
        )
        if write:
            name, arguments = WRITE_CALL
            written = await client.call_tool(name, arguments)
            outcome.write_is_error = written.is_error
            outcome.write_text = [block.text for block in written.content if isinstance(block, TextContent)]
        return outcome


def sign_in(
    server: LocalServer, *, write: bool, mode: str = "legacy"
) -> tuple[Outcome, SignIn, MemoryTokens, Traffic]:
    person = Person()
    handlers = SignIn(person, REDIRECT)
    tokens = MemoryTokens()
    traffic = Traffic()
    provider = OAuthClientProvider(
        server.url,
        OAuthClientMetadata(
            client_name="lambda-ops-mcp sign-in test",
            redirect_uris=[REDIRECT],  # type: ignore[list-item]  # pydantic coerces str to AnyUrl
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        tokens,
        redirect_handler=handlers.redirect,
        callback_handler=handlers.callback,
    )
    try:
        outcome = asyncio.run(
            asyncio.wait_for(session(server.url, provider, traffic, write=write, mode=mode), TIMEOUT_S)
        )
    finally:
        person.close()
    return outcome, handlers, tokens, traffic


def claims(server: LocalServer, token: str) -> dict[str, Any]:
    """The access token as the resource server checks it: RS256 by the issuer's keys, iss, aud, exp."""
    issuer = server.auth_server_url
    assert issuer is not None
    key = jwt.PyJWKClient(f"{issuer}/jwks", timeout=10).get_signing_key_from_jwt(token)
    decoded: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256"], issuer=issuer, audience=server.url
    )
    return decoded


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_python_sdk_signs_in_by_discovery_registration_and_pkce_then_reads(
    server: LocalServer, mode: str
) -> None:
    outcome, handlers, tokens, traffic = sign_in(server, write=False, mode=mode)

    # Discovery, registration, authorization, token, then the MCP calls — in that order.
    paths = [(method, path, status) for method, path, status in traffic.seen]
    assert paths[0] == ("POST", "/mcp", 401)
    assert ("GET", "/.well-known/oauth-protected-resource/mcp", 200) in paths
    assert ("GET", "/.well-known/oauth-authorization-server", 200) in paths
    assert ("POST", "/reg", 201) in paths
    assert ("POST", "/token", 200) in paths
    assert paths.index(("POST", "/reg", 201)) < paths.index(("POST", "/token", 200))
    after = paths[paths.index(("POST", "/token", 200)) + 1 :]
    assert after, paths
    assert all(path == "/mcp" and status in (200, 202) for _, path, status in after), (
        after
    )  # 202: notifications
    # One authorization: code + PKCE (S256) + resource = the MCP URL, the scope the 401 named (read).
    assert len(handlers.authorization_urls) == 1
    asked = handlers.parameters()
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43
    assert asked["resource"] == server.url
    assert asked["scope"].split() == ["read", "offline_access"]  # the SDK adds offline_access when offered
    assert handlers.person.forms == ["login", "consent"]
    # A dynamically registered public client, and a token for this server only, read scope only.
    assert tokens.client_info is not None
    assert tokens.client_info.client_id != (server.machine_client or ("", ""))[0]
    assert tokens.tokens is not None
    token = claims(server, tokens.tokens.access_token)
    assert token["scope"] == "read"
    assert token["client_id"] == tokens.client_info.client_id
    # The MCP calls went through.
    assert {"audit-runtimes", "list-functions", "invoke-function"} <= set(outcome.tools)
    assert outcome.read_is_error is False
    assert any("legacy-report-cron" in text for text in outcome.read_text), outcome.read_text


def test_python_sdk_steps_up_from_read_to_write_on_insufficient_scope(
    server: LocalServer, gateway_log: Callable[..., list[GatewayRequest]]
) -> None:
    since = len(server.output)

    outcome, handlers, tokens, traffic = sign_in(server, write=True)

    # The write call was refused with 403 first (no tool ran), then passed with the new token.
    mcp_calls = [status for method, path, status in traffic.seen if path == "/mcp"]
    assert 403 in mcp_calls
    assert mcp_calls[-1] == 200
    requests = gateway_log(server, since, until="tools/call invoke-function")
    invoked = [request.status for request in requests if request.mcp == "tools/call invoke-function"]
    assert invoked == [403, 200], requests
    # Two authorizations: read, then read + write; the person signed in once and consented twice.
    assert [handlers.parameters(i)["scope"].split() for i in range(len(handlers.authorization_urls))] == [
        ["read", "offline_access"],
        ["read", "offline_access", "write"],
    ]
    assert handlers.person.forms == ["login", "consent", "consent"]
    assert tokens.tokens is not None
    assert set(claims(server, tokens.tokens.access_token)["scope"].split()) == {"read", "write"}
    # The tool ran (the sandbox echoes the payload) and reported success.
    assert outcome.write_is_error is False, outcome.write_text
    assert "sign-in test" in " ".join(outcome.write_text)


def machine_token(server: LocalServer, scope: str = "read") -> str:
    assert server.auth_server_url is not None
    assert server.machine_client is not None
    response = httpx.post(
        f"{server.auth_server_url}/token",
        auth=server.machine_client,
        data={"grant_type": "client_credentials", "scope": scope, "resource": server.url},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def inspector(node_tools: NodeTools, url: str, *args: str) -> tuple[int, str, str]:
    command = ["--cli", url, "--transport", "http", "--format", "json", *args]
    done = node_tools.run(node_tools.inspector, command, timeout=TIMEOUT_S)
    return done.returncode, done.stdout, done.stderr


def test_inspector_cli_with_a_bearer_header(node_tools: NodeTools, server: LocalServer) -> None:
    token = machine_token(server)
    bearer = ["--header", f"Authorization: Bearer {token}"]

    code, out, err = inspector(node_tools, server.url, *bearer, "--method", "tools/list")
    assert code == 0, out + err
    assert "audit-runtimes" in {tool["name"] for tool in json.loads(out)["result"]["tools"]}

    code, out, err = inspector(
        node_tools,
        server.url,
        *bearer,
        "--method",
        "tools/call",
        "--tool-name",
        "get-function",
        "--tool-arg",
        "name=legacy-report-cron",
    )
    assert code == 0, out + err
    assert json.loads(out)["result"]["isError"] is False


def test_inspector_cli_without_a_token_or_with_a_read_token_for_a_write_is_refused(
    node_tools: NodeTools, server: LocalServer, gateway_log: Callable[..., list[GatewayRequest]]
) -> None:
    since = len(server.output)
    code, out, err = inspector(node_tools, server.url, "--method", "tools/list")
    # The 401 sent it to sign in, which a CLI without a terminal cannot do: it says so and stops.
    assert code != 0, out + err
    assert json.loads(err.strip().splitlines()[-1])["error"]["code"] == "auth_required", out + err
    assert 401 in [r.status for r in gateway_log(server, since, until="__none__", timeout=1.0)]

    token = machine_token(server)
    code, out, err = inspector(
        node_tools,
        server.url,
        "--header",
        f"Authorization: Bearer {token}",
        "--method",
        "tools/call",
        "--tool-name",
        WRITE_CALL[0],
        "--tool-arg",
        "name=legacy-report-cron",
    )
    assert code != 0, out + err
    # It read the 403's WWW-Authenticate: the scopes the call needs.
    message = json.loads(err.strip().splitlines()[-1])["error"]["message"]
    assert message == 'Insufficient scope: required "read write"', out + err
    requests = gateway_log(server, since, until="tools/call invoke-function")
    assert [r.status for r in requests if r.mcp == "tools/call invoke-function"] == [403], requests
