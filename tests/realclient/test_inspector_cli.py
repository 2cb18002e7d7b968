"""MCP Inspector's CLI (npm ``@modelcontextprotocol/inspector``, pinned in tests/clients) against
``python -m app.local`` — the README's own commands:

    mcp-inspector --cli URL --transport http --method tools/list [--protocol-era legacy|auto|modern]
    mcp-inspector --cli URL --transport http --method tools/call --tool-name ping [--protocol-era ...]

``legacy`` is the initialize handshake (the default for an ad-hoc URL); ``modern`` speaks 2026-07-28
(``server/discover``, no initialize); ``auto`` discovers and, this server being modern-capable, stays modern.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from app.local.launcher import LocalServer

if TYPE_CHECKING:
    from tests.realclient.conftest import GatewayRequest, NodeTools

pytestmark = pytest.mark.realclient

TIMEOUT_S = 60.0
SERVER_INFO_STAMP = "io.modelcontextprotocol/serverInfo"  # _meta on every 2026-07-28 result
# The connect sequence each era makes before its call (what the gateway sees).
CONNECT = {
    "legacy": ["initialize", "notifications/initialized"],
    "auto": ["server/discover"],
    "modern": ["server/discover"],
}
ERAS = list(CONNECT)


def inspector(node_tools: NodeTools, url: str, era: str, *method: str) -> dict[str, Any]:
    args = ["--cli", url, "--transport", "http", "--protocol-era", era, "--format", "json", *method]
    done = node_tools.run(node_tools.inspector, args, timeout=TIMEOUT_S)
    context = (
        f"inspector {' '.join(args)} → exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    assert done.returncode == 0, context
    output = json.loads(done.stdout)
    assert isinstance(output, dict), context
    assert "error" not in output, context
    return output


def connect_sequence(requests: list[GatewayRequest]) -> list[str]:
    """The connect methods, in order, before the first call (the Inspector may list tools more than once)."""
    return [
        request.method for request in requests if request.method in {*CONNECT["legacy"], "server/discover"}
    ]


@pytest.mark.parametrize("era", ERAS)
def test_inspector_cli_lists_tools(
    era: str,
    node_tools: NodeTools,
    lambda_ops_server: LocalServer,
    gateway_log: Callable[..., list[GatewayRequest]],
) -> None:
    since = len(lambda_ops_server.output)

    output = inspector(node_tools, lambda_ops_server.url, era, "--method", "tools/list")

    tools = {tool["name"]: tool for tool in output["result"]["tools"]}
    ping = tools["ping"]
    assert "Pong!" in ping["description"]
    assert ping["inputSchema"]["type"] == "object"
    assert ping["annotations"]["readOnlyHint"] is True
    requests = gateway_log(lambda_ops_server, since, until="tools/list")
    assert connect_sequence(requests) == CONNECT[era], requests
    assert all(request.status < 500 for request in requests), requests


@pytest.mark.parametrize("era", ERAS)
def test_inspector_cli_calls_ping(
    era: str,
    node_tools: NodeTools,
    lambda_ops_server: LocalServer,
    gateway_log: Callable[..., list[GatewayRequest]],
) -> None:
    since = len(lambda_ops_server.output)

    output = inspector(
        node_tools, lambda_ops_server.url, era, "--method", "tools/call", "--tool-name", "ping"
    )

    result = output["result"]
    assert result["content"] == [{"type": "text", "text": "Pong!"}]
    assert result["isError"] is False
    assert result["structuredContent"] == {"result": "Pong!"}
    stamp = result.get("_meta", {}).get(SERVER_INFO_STAMP)
    if era == "legacy":
        assert stamp is None  # handshake era: serverInfo came with initialize
    else:
        assert stamp is not None
        assert stamp["name"] == "lambda-ops"
    requests = gateway_log(lambda_ops_server, since, until="tools/call ping")
    assert connect_sequence(requests) == CONNECT[era], requests
    assert [r.mcp for r in requests if r.method == "tools/call"] == ["tools/call ping"]
    assert all(request.status < 500 for request in requests), requests
