"""The SDK's own client answers the confirmation question: ``python -m app.local`` (the production handler
against the sandbox account, writes allowed there) driven over HTTP at 2026-07-28 with an elicitation
callback. The client runs the multi-round-trip loop itself (InputRequiredResult → callback → retry)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from mcp import Client
from mcp_types import ElicitRequestParams, ElicitResult

from app.lambda_ops.runtimes import shipped_catalog
from app.local.launcher import LocalServer

pytestmark = pytest.mark.realclient
MODERN = "2026-07-28"
# The server runs in another process, on the real calendar: the target is the one the catalog recommends
# for nodejs16.x today (nodejs22.x until its deprecation, then the next), not a name that ages.
TARGET = shipped_catalog().recommended_target("nodejs16.x", datetime.now(UTC).date())


async def upgrade(url: str, function: str, action: str) -> tuple[list[str], Any, Any]:
    questions: list[str] = []

    async def user(_context: Any, params: ElicitRequestParams) -> ElicitResult:
        questions.append(getattr(params, "message", ""))
        return ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)  # type: ignore[arg-type]

    async with Client(url, mode=MODERN, read_timeout_seconds=30, elicitation_callback=user) as client:
        arguments = {"name": function, "target_runtime": TARGET, "dry_run": False}
        result = await client.call_tool("update-function-runtime", arguments)
        detail = await client.call_tool("get-function", {"name": function})
    return questions, result.structured_content, detail.structured_content


def run(url: str, function: str, action: str) -> tuple[list[str], Any, Any]:
    return asyncio.run(asyncio.wait_for(upgrade(url, function, action), timeout=60))


def test_the_user_is_asked_and_a_yes_upgrades(lambda_ops_server: LocalServer) -> None:
    questions, result, detail = run(lambda_ops_server.url, "legacy-checkout-webhook", "accept")
    assert len(questions) == 1
    assert f"legacy-checkout-webhook from nodejs16.x to {TARGET}" in questions[0]
    assert (result["outcome"], result["verified"]) == ("succeeded", True)
    assert detail["runtime"]["runtime"] == TARGET


def test_a_decline_changes_nothing(lambda_ops_server: LocalServer) -> None:
    questions, result, detail = run(lambda_ops_server.url, "marketing-landing-ssr", "decline")
    assert len(questions) == 1
    assert result["outcome"] == "declined"
    assert detail["runtime"]["runtime"] == "nodejs16.x"
