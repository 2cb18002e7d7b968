#!/usr/bin/env python3
"""Smoke-test a deployed lambda-ops-mcp: the pipeline runs it after each deploy; anyone can run it by hand.

    SMOKE_CLIENT_ID=... SMOKE_CLIENT_SECRET=... python scripts/smoke.py \\
        --url https://abc123.execute-api.eu-west-1.amazonaws.com/mcp \\
        --token-endpoint https://login.example.com/oauth2/token [--scope lambda-ops/read]

1. Unauthenticated: a POST to the endpoint must get 401 with ``WWW-Authenticate: Bearer
   resource_metadata="..."``, and that document (RFC 9728) must name the endpoint as its resource.
2. Sign-in as a machine: the OAuth client-credentials grant (RFC 6749 §4.4) at the token endpoint, with the
   machine client's id and secret (HTTP Basic). They are read from the environment, never from arguments
   (a process's arguments are visible to other users); the token is never printed.
3. With the MCP Python SDK's client and the token: ``ping``, ``tools/list`` (must list audit-runtimes) and a
   ``tools/call`` of ``audit-runtimes``, which must not be an error.

Each step is retried briefly (a new deployment's first requests may meet a version still being published).
Exit status 0 when every check passed, 1 otherwise; one line per check on stdout.
``--no-auth`` skips steps 1 and 2 for a server deployed without sign-in (LAMBDA_OPS_AUTH_MODE=none).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import TextContent

T = TypeVar("T")
RESOURCE_METADATA = re.compile(r'resource_metadata="([^"]+)"')
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "lambda-ops-smoke", "version": "1"},
    },
}


class SmokeFailed(Exception):
    pass


def retry(label: str, attempts: int, delay: float, check: Callable[[], T]) -> T:
    for attempt in range(1, attempts + 1):
        try:
            result = check()
        except (SmokeFailed, httpx2.HTTPError, OSError, TimeoutError, ValueError) as error:
            if attempt == attempts:
                raise SmokeFailed(f"{label}: {error}") from error
            print(f"  {label}: attempt {attempt} failed ({error}); retrying in {delay:g} s", flush=True)
            time.sleep(delay)
        else:
            print(f"ok  {label}", flush=True)
            return result
    raise AssertionError("unreachable")


def unauthenticated_is_refused(url: str) -> None:
    headers = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25"}
    with httpx2.Client(timeout=15) as http:
        response = http.post(url, json=INITIALIZE, headers=headers)
        if response.status_code != 401:
            raise SmokeFailed(f"expected 401 without a token, got {response.status_code}")
        challenge = response.headers.get("www-authenticate", "")
        found = RESOURCE_METADATA.search(challenge)
        if not challenge.lower().startswith("bearer") or not found:
            raise SmokeFailed(f"401 without a Bearer resource_metadata challenge: {challenge[:200]!r}")
        metadata = http.get(found.group(1))
        if metadata.status_code != 200:
            raise SmokeFailed(f"resource metadata {found.group(1)}: HTTP {metadata.status_code}")
        document = metadata.json()
        if document.get("resource") != url.rstrip("/") or not document.get("authorization_servers"):
            raise SmokeFailed(f"resource metadata does not describe {url}: {document}")


def client_credentials_token(token_endpoint: str, scope: str | None, resource: str | None) -> str:
    client_id, secret = os.environ.get("SMOKE_CLIENT_ID"), os.environ.get("SMOKE_CLIENT_SECRET")
    if not client_id or not secret:
        raise SmokeFailed(
            "set SMOKE_CLIENT_ID and SMOKE_CLIENT_SECRET (the machine client) in the environment"
        )
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    if resource:  # RFC 8707: issuers that bind tokens to the resource put it in aud
        form["resource"] = resource
    with httpx2.Client(timeout=15) as http:
        response = http.post(token_endpoint, data=form, auth=(client_id, secret))
    if response.status_code != 200:  # the error body of a token endpoint names no secret
        raise SmokeFailed(f"token endpoint: HTTP {response.status_code} {response.text[:200]}")
    token = response.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise SmokeFailed("token endpoint: no access_token in the response")
    return token


async def mcp_checks(url: str, token: str | None) -> list[str]:
    headers = {"authorization": f"Bearer {token}"} if token else None
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    async with Client(transport, mode="legacy", read_timeout_seconds=30) as client:
        await client.send_ping()
        tools = [tool.name for tool in (await client.list_tools()).tools]
        if "audit-runtimes" not in tools:
            raise SmokeFailed(f"tools/list lacks audit-runtimes: {tools}")
        audit = await client.call_tool("audit-runtimes", {})
        if audit.is_error:
            text = " ".join(b.text for b in audit.content if isinstance(b, TextContent))
            raise SmokeFailed(f"audit-runtimes returned an error: {text[:300]}")
        return tools


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the stack's McpUrl output")
    parser.add_argument("--token-endpoint", help="the identity stack's TokenEndpoint output")
    parser.add_argument("--scope", help="scope to ask for (default: the client's default scopes)")
    parser.add_argument(
        "--resource",
        action="store_true",
        help="send the URL as the RFC 8707 resource of the token request (issuers that bind aud to it; "
        "Cognito without resource binding: leave off, the server accepts its client id instead)",
    )
    parser.add_argument("--no-auth", action="store_true", help="the server is deployed without sign-in")
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument("--delay", type=float, default=3.0, help="seconds between attempts")
    args = parser.parse_args(argv)
    if not args.no_auth and not args.token_endpoint:
        parser.error("--token-endpoint is required unless --no-auth")
    url: str = args.url
    try:
        token: str | None = None
        if not args.no_auth:
            retry("unauthenticated call gets 401 with resource_metadata", args.attempts, args.delay,
                  lambda: unauthenticated_is_refused(url))  # fmt: skip
            token = retry("machine sign-in (client credentials)", args.attempts, args.delay,
                          lambda: client_credentials_token(args.token_endpoint, args.scope,
                                                           url if args.resource else None))  # fmt: skip
        tools = retry("ping, tools/list, audit-runtimes", args.attempts, args.delay,
                      lambda: asyncio.run(asyncio.wait_for(mcp_checks(url, token), timeout=90)))  # fmt: skip
    except SmokeFailed as failure:
        print(f"FAILED {failure}", flush=True)
        return 1
    print(f"smoke test passed: {url} ({len(tools)} tools)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run())
