"""The README's runtime campaign in `make serve` (``python -m app.local``), driven over HTTP as a client that
declares the tasks extension: the seeded old Node.js functions, ``legacy-checkout-webhook``'s smoke test
failing and ``user-profile-api``'s canary breaching (app/local/campaign_faults.py), both rolled back, the rest
upgraded — canaries baking seconds (LAMBDA_OPS_CAMPAIGN_MINUTE_S=1, set by the launcher)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.local.launcher import LocalServer
from tests.realclient.test_tasks_serve import TARGET, call

pytestmark = pytest.mark.realclient
SELECTION = {"runtimes": ["nodejs16.x", "nodejs18.x"], "alias": "live", "smoke_payload": {}}


def test_the_readme_campaign_upgrades_what_passes_and_rolls_back_the_two_faults(
    lambda_ops_server: LocalServer,
) -> None:
    url = lambda_ops_server.url
    plan = call(url, "tools/call", {"name": "plan-runtime-campaign", "arguments": SELECTION})["result"]
    planned = plan["structuredContent"]
    assert [w["tier"] for w in planned["waves"]] == ["idle", "low", "busiest"]
    # across make serve's fleet: a member account's function too; the account that denies its role is noted
    assert "222222222222/eu-west-1/eu-events-router" in planned["waves"][0]["functions"]
    assert any(n.startswith("333333333333/us-east-1: not reached") for n in planned["notes"]), planned[
        "notes"
    ]
    assert planned["complete"] is False
    arguments = {**SELECTION, "digest": planned["digest"]}
    created = call(url, "tools/call", {"name": "run-runtime-campaign", "arguments": arguments})["result"]
    assert created["resultType"] == "task", created
    started, messages = time.monotonic(), []
    while time.monotonic() - started < 240:  # partner-feed-exporter's update takes 40 s in the sandbox
        task: dict[str, Any] = call(url, "tasks/get", {"taskId": created["taskId"]})["result"]
        messages.append(task.get("statusMessage", ""))
        if task["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(1.0)
    assert task["status"] == "completed", task
    report = task["result"]["structuredContent"]
    outcomes = {f["name"]: (f["outcome"], f["runtime_after"]) for f in report["functions"]}
    assert outcomes == {
        "partner-feed-exporter": ("succeeded", TARGET),
        "slack-alerts-forwarder": ("succeeded", TARGET),
        "legacy-checkout-webhook": ("rolled_back", "nodejs16.x"),
        "user-profile-api": ("rolled_back", "nodejs18.x"),
        "marketing-landing-ssr": ("succeeded", TARGET),
        "eu-events-router": ("succeeded", TARGET),  # 222222222222/eu-west-1, through its writer role
    }
    assert report["message"] == "Campaign complete: 6 function(s) attempted. 2 rolled_back, 4 succeeded."
    rows = {f["name"]: f for f in report["functions"]}
    assert rows["legacy-checkout-webhook"]["rollback_reason"].startswith(f"The smoke test failed on {TARGET}")
    assert rows["user-profile-api"]["rollback_reason"].startswith("The gate at 10% breached (errors:")
    assert any("LastUpdateStatus" in m for m in messages)  # it waited for partner-feed-exporter's update
