"""The MCP Python SDK's own client (``mcp.Client``) against ``python -m app.local``, in each way it connects:

- ``mode="legacy"``: the initialize handshake (2025-11-25, the handshake era);
- ``mode="auto"``: probes ``server/discover`` and adopts 2026-07-28 when the server speaks it, else falls back
  to initialize — this server speaks it, so auto must end up modern;
- ``mode="2026-07-28"``: adopts the sessionless revision directly (no initialize, no discover).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from mcp import Client
from mcp_types import TextContent

from app.local.launcher import LocalServer

if TYPE_CHECKING:
    from tests.realclient.conftest import GatewayRequest

pytestmark = pytest.mark.realclient

HANDSHAKE_VERSIONS = {"2025-11-25", "2025-06-18"}
MODERN = "2026-07-28"


@dataclass
class Session:
    protocol_version: str
    server_name: str | None
    tool_names: list[str]
    ping_text: list[str]
    ping_is_error: bool | None
    ping_structured: object


async def list_and_ping(url: str, mode: str) -> Session:
    async with Client(url, mode=mode, read_timeout_seconds=30) as client:
        tools = await client.list_tools()
        result = await client.call_tool("ping", {})
        return Session(
            protocol_version=client.protocol_version,
            server_name=client.server_info.name if client.server_info else None,
            tool_names=[tool.name for tool in tools.tools],
            ping_text=[block.text for block in result.content if isinstance(block, TextContent)],
            ping_is_error=result.is_error,
            ping_structured=result.structured_content,
        )


def run(url: str, mode: str) -> Session:
    return asyncio.run(asyncio.wait_for(list_and_ping(url, mode), timeout=60))


@pytest.mark.parametrize(
    ("mode", "versions", "handshake"),
    [
        pytest.param("legacy", HANDSHAKE_VERSIONS, ["initialize", "notifications/initialized"], id="legacy"),
        pytest.param("auto", {MODERN}, ["server/discover"], id="auto"),
        pytest.param(MODERN, {MODERN}, [], id="modern"),
    ],
)
def test_python_sdk_client_lists_tools_and_calls_ping(
    mode: str,
    versions: set[str],
    handshake: list[str],
    lambda_ops_server: LocalServer,
    gateway_log: Callable[..., list[GatewayRequest]],
) -> None:
    since = len(lambda_ops_server.output)

    session = run(lambda_ops_server.url, mode)

    assert session.protocol_version in versions
    assert "ping" in session.tool_names
    assert session.ping_text == ["Pong!"]
    assert session.ping_is_error is False
    assert session.ping_structured == {"result": "Pong!"}
    if mode != MODERN:  # a pinned modern connection learns no serverInfo up front (the stamp is optional)
        assert session.server_name == "lambda-ops"

    # What reached the server: the era's connect sequence, then the two calls; nothing failed.
    requests = gateway_log(lambda_ops_server, since, until="tools/call ping")
    methods = [request.method for request in requests if request.method]
    assert methods == [*handshake, "tools/list", "tools/call"], requests
    assert all(request.status < 400 for request in requests), requests
