"""``run-runtime-campaign`` as a task, through the production handler (API Gateway events) with the worker in
the durable SDK's local runner over the sandbox's moto: the seeded old Node.js functions, three behind alias
``live`` (app/local/seed_campaign.py), their traffic (seed_health), and the campaign's faults
(campaign_faults: legacy-checkout-webhook's smoke test fails, user-profile-api's canary breaches)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from app.local import campaign_faults
from app.local.seed_campaign import ALIAS, BEHIND_ALIAS, RUNTIMES, seed_campaign
from app.local.seed_health import seed_health
from app.local.stack import task_stack
from tests.helpers import service_log
from tests.tasks.conftest import Stack, call, terminal, wait_for

SELECTION: dict[str, Any] = {"runtimes": list(RUNTIMES), "alias": ALIAS, "smoke_payload": {}}
NEW = "nodejs24.x"  # the catalog's recommendation for Node.js
BEFORE = {
    "partner-feed-exporter": "nodejs16.x",
    "legacy-checkout-webhook": "nodejs16.x",
    "slack-alerts-forwarder": "nodejs18.x",
    "user-profile-api": "nodejs18.x",
    "marketing-landing-ssr": "nodejs16.x",
}


def campaign_stack(minute_s: float) -> Iterator[Stack]:
    campaign_faults.install()
    try:
        with task_stack(campaign_minute_s=minute_s) as started:
            seed_campaign(boto3.client("lambda"))
            seed_health(boto3.client("cloudwatch"), boto3.client("logs"))
            yield Stack(**vars(started))
    finally:
        campaign_faults.uninstall()


@pytest.fixture
def fast() -> Iterator[Stack]:
    """A strategy's minute lasts 10 ms (a durable wait lasts at least 1 s: each bake takes 1 s)."""
    yield from campaign_stack(0.01)


@pytest.fixture
def slow() -> Iterator[Stack]:
    """A minute lasts 1 s: Canary10Percent5Minutes bakes 5 s, long enough to cancel during it."""
    yield from campaign_stack(1.0)


class Progress:
    """Every statusMessage the worker records, in order (the store's own method, called through)."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.messages: list[str] = []
        original = stack.store.progress

        def progress(task_id: str, message: str, now_ms: int) -> Any:
            self.messages.append(message)
            return original(task_id, message, now_ms)

        monkeypatch.setattr(stack.store, "progress", progress)


def planned(handler: Any, selection: dict[str, Any] = SELECTION) -> dict[str, Any]:
    status, answer = call(handler, "tools/call", {"name": "plan-runtime-campaign", "arguments": selection})
    assert status == 200, answer
    plan: dict[str, Any] = answer["result"]["structuredContent"]
    return plan


def run(handler: Any, digest: str, **options: Any) -> dict[str, Any]:
    arguments = {**SELECTION, "digest": digest, **options}
    status, answer = call(handler, "tools/call", {"name": "run-runtime-campaign", "arguments": arguments})
    assert status == 200, answer
    result: dict[str, Any] = answer["result"]
    return result


def state(name: str) -> tuple[str, str | None, dict[str, float]]:
    """$LATEST's runtime, alias live's version and its extra weights (None: no alias)."""
    client = boto3.client("lambda")
    runtime = client.get_function_configuration(FunctionName=name)["Runtime"]
    if name not in BEHIND_ALIAS:
        return runtime, None, {}
    alias = client.get_alias(FunctionName=name, Name=ALIAS)
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return runtime, alias["FunctionVersion"], weights


def emitted(out: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def test_a_campaign_upgrades_what_passes_rolls_back_what_breaches_and_reports_exactly(
    fast: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = fast.handler()
    progress = Progress(fast, monkeypatch)
    plan = planned(handler)
    assert [(w["number"], w["tier"]) for w in plan["waves"]] == [(1, "idle"), (2, "low"), (3, "busiest")]
    capsys.readouterr()
    with service_log() as log:
        created = run(handler, plan["digest"])
        assert created["resultType"] == "task", created
        done = wait_for(handler, created["taskId"], terminal, timeout=120)
    assert done["status"] == "completed", done
    report = done["result"]["structuredContent"]
    assert (report["status"], report["waves"], report["waves_done"]) == ("completed", 3, 3)
    assert report["counts"] == {"rolled_back": 2, "succeeded": 3}
    assert report["failures"] == 2
    assert report["message"] == "Campaign complete: 5 function(s) attempted. 2 rolled_back, 3 succeeded."
    rows = {f["name"]: f for f in report["functions"]}
    assert list(rows) == list(BEFORE)  # wave by wave, least traffic first
    outcome = {
        n: (f["wave"], f["outcome"], f["verified"], f["runtime_after"], f["strategy"])
        for n, f in rows.items()
    }
    assert outcome == {
        "partner-feed-exporter": (1, "succeeded", True, NEW, "AllAtOnce"),
        "legacy-checkout-webhook": (2, "rolled_back", False, "nodejs16.x", "AllAtOnce"),
        "slack-alerts-forwarder": (2, "succeeded", True, NEW, "Canary10Percent5Minutes"),
        "user-profile-api": (2, "rolled_back", False, "nodejs18.x", "Canary10Percent5Minutes"),
        "marketing-landing-ssr": (3, "succeeded", True, NEW, "Canary10Percent5Minutes"),
    }
    assert all(f["runtime_before"] == BEFORE[n] for n, f in rows.items())
    assert rows["legacy-checkout-webhook"]["rollback_reason"].startswith(f"The smoke test failed on {NEW}")
    breach = rows["user-profile-api"]
    assert breach["rollback_reason"].startswith("The gate at 10% breached (errors: version 2 failed 20.0%")
    assert [(s["weight"], s["verdict"]) for s in breach["traffic_steps"]] == [(0.1, "breach"), (0.0, None)]
    shipped = rows["slack-alerts-forwarder"]
    assert (shipped["version_before"], shipped["published_version"], shipped["version_after"]) == (
        "1",
        "2",
        "2",
    )
    assert [s["weight"] for s in shipped["traffic_steps"]] == [0.1, 1.0]
    # AWS agrees with the report
    assert state("slack-alerts-forwarder") == (NEW, "2", {})
    assert state("marketing-landing-ssr") == (NEW, "2", {})
    assert state("user-profile-api") == ("nodejs18.x", "1", {})
    assert state("legacy-checkout-webhook") == ("nodejs16.x", None, {})
    assert state("partner-feed-exporter") == (NEW, None, {})
    # progress counted wave by wave
    counted = [m for m in progress.messages if m.startswith("wave ")]
    assert counted == ["wave 1 of 3: 0 of 5 done", "wave 2 of 3: 1 of 5 done", "wave 3 of 3: 4 of 5 done"]
    assert done["statusMessage"].startswith("Campaign complete: 5 function(s) attempted")
    # one audit line per function, with the task id; the metrics
    records = [line["audit"] for line in emitted(log.getvalue()) if "audit" in line]
    assert records[0]["outcome"] == "task_started"
    per_function = {r["function"]: r for r in records[1:]}
    assert len(records) == 6
    assert set(per_function) == set(BEFORE)
    assert {r["task_id"] for r in records} == {created["taskId"]}
    assert {n: r["outcome"] for n, r in per_function.items()} == {n: o[1] for n, o in outcome.items()}
    assert per_function["user-profile-api"]["change"]["strategy"] == "Canary10Percent5Minutes"
    assert per_function["user-profile-api"]["final_runtime"] == "nodejs18.x"
    metrics = [line for line in emitted(capsys.readouterr().out) if "_aws" in line]
    upgrades = sorted(m["outcome"] for m in metrics if "UpgradeOutcome" in m)
    assert upgrades == ["rolled_back", "rolled_back", "succeeded", "succeeded", "succeeded"]
    (campaign,) = [m for m in metrics if "CampaignOutcome" in m]
    (failures,) = [m for m in metrics if "CampaignFailures" in m]
    assert (campaign["status"], campaign["CampaignOutcome"]) == ("completed", [1.0])
    assert (failures["status"], failures["CampaignFailures"]) == ("completed", [2.0])
    for line in (campaign, failures):
        assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LambdaOpsMcp"
        assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "status"]]


def test_the_circuit_breaker_stops_the_campaign_and_leaves_the_rest_untouched(fast: Stack) -> None:
    handler = fast.handler()
    plan = planned(handler)
    done = wait_for(handler, run(handler, plan["digest"], max_failures=1)["taskId"], terminal, timeout=120)
    report = done["result"]["structuredContent"]
    assert report["status"] == "stopped"
    # both failures of wave 2 were in flight together (one batch): the breaker counts after the batch
    assert report["message"] == (
        "Stopped by the circuit breaker: 2 failures in all (limit 1). "
        "1 not_started, 2 rolled_back, 2 succeeded."
    )
    rows = {f["name"]: f["outcome"] for f in report["functions"]}
    assert rows["marketing-landing-ssr"] == "not_started"  # wave 3 never started
    assert state("marketing-landing-ssr") == ("nodejs16.x", "1", {})


def test_cancelling_mid_shift_leaves_every_function_consistent(
    slow: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = slow.handler()
    plan = planned(handler)
    with service_log() as log:
        task_id = run(handler, plan["digest"], concurrency_per_account=1)["taskId"]
        shifting = wait_for(handler, task_id, lambda t: "alias live: 10%" in t.get("statusMessage", ""), 120)
        assert "alias live: 10% to version 2" in shifting["statusMessage"], shifting
        # the functions already done were audited when each finished, not at the task's end: a worker
        # dying now would lose no record of a change
        audited = [line["audit"] for line in emitted(log.getvalue()) if "audit" in line]
        assert [(r["function"], r["outcome"]) for r in audited[1:]] == [
            ("partner-feed-exporter", "succeeded")
        ]
        status, _ = call(handler, "tasks/cancel", {"taskId": task_id})
        assert status == 200
        done = wait_for(handler, task_id, terminal, timeout=120)
    assert done["status"] == "cancelled", done
    assert "result" not in done
    audited = [line["audit"] for line in emitted(log.getvalue()) if "audit" in line]
    assert [(r["function"], r["outcome"]) for r in audited[1:]] == [  # once each, replays wrote none again
        ("partner-feed-exporter", "succeeded"),
        ("slack-alerts-forwarder", "cancelled"),  # wave 2 goes by traffic: slack first; then it stopped
    ]
    assert {r["task_id"] for r in audited} == {task_id}
    for name, before in BEFORE.items():
        runtime, version, weights = state(name)
        assert weights == {}, (name, weights)  # never half-shifted
        if version is not None:  # the alias where it was, with $LATEST as it was, or all on the new version
            assert (runtime, version) in ((before, "1"), (NEW, "2")), (name, runtime, version)
    assert state("slack-alerts-forwarder") == ("nodejs18.x", "1", {})  # the one in flight: put back
    assert state("marketing-landing-ssr") == ("nodejs16.x", "1", {})  # not reached
    assert state("legacy-checkout-webhook") == ("nodejs16.x", None, {})
    metrics = [line for line in emitted(capsys.readouterr().out) if "CampaignOutcome" in line]
    assert [m["status"] for m in metrics] == ["cancelled"]
