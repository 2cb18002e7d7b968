"""Tasks in `make serve` (``python -m app.local``), as a client that declares the tasks extension drives
them over HTTP: the worker runs in the durable SDK's local runner, the records in the sandbox's DynamoDB, and
the sandbox's slow function takes 40 s to update — longer than any tool call may take."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.lambda_ops.runtimes import shipped_catalog
from app.local.launcher import LocalServer
from app.tasks.model import EXTENSION

pytestmark = pytest.mark.realclient
MODERN = "2026-07-28"
# The server runs on the real calendar: the target the catalog recommends for nodejs16.x today.
TARGET = shipped_catalog().recommended_target("nodejs16.x", datetime.now(UTC).date())


def call(url: str, method: str, params: dict[str, Any], *, tasks: bool = True) -> dict[str, Any]:
    capabilities = {"extensions": {EXTENSION: {}}} if tasks else {}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": method,
        "params": {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                                       "io.modelcontextprotocol/clientCapabilities": capabilities}},
    }  # fmt: skip
    headers = {"content-type": "application/json", "accept": "application/json",
               "mcp-protocol-version": MODERN, "mcp-method": method}  # fmt: skip
    name = params.get("taskId", params.get("name"))
    if isinstance(name, str):
        headers["mcp-name"] = name
    response = httpx.post(url, json=body, headers=headers, timeout=35)
    answer: dict[str, Any] = response.json()
    return answer


def test_a_40_second_upgrade_runs_to_verified_as_a_task(lambda_ops_server: LocalServer) -> None:
    assert "tasks: on: the worker runs in the durable SDK's local runner" in lambda_ops_server.text()
    url = lambda_ops_server.url
    arguments = {"name": "partner-feed-exporter", "target_runtime": TARGET, "dry_run": False}
    started = time.monotonic()
    created = call(url, "tools/call", {"name": "update-function-runtime", "arguments": arguments})["result"]
    assert created["resultType"] == "task", created
    messages = set()
    while time.monotonic() - started < 150:
        task = call(url, "tasks/get", {"taskId": created["taskId"]})["result"]
        messages.add(task.get("statusMessage"))
        if task["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(min(task["pollIntervalMs"], 2000) / 1000)
    assert task["status"] == "completed", task
    result = task["result"]["structuredContent"]
    assert (result["outcome"], result["verified"]) == ("succeeded", True)
    (wait,) = [step for step in result["steps"] if step["action"] == "wait"]
    assert wait["elapsed_s"] >= 40.0  # AWS (the sandbox) took 40 s; a tool call would have given up at 20
    assert any("InProgress" in (m or "") for m in messages)
    detail = call(url, "tools/call", {"name": "get-function", "arguments": {"name": "partner-feed-exporter"}},
                  tasks=False)["result"]["structuredContent"]  # fmt: skip
    assert detail["runtime"]["runtime"] == TARGET
