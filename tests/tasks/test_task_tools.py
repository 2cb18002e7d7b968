"""Which calls become tasks, besides the upgrade: an audit that cannot finish within a tool call's budget,
an invoke of a function that may run longer than a tool call waits. And writes done in a task leave the
same audit record as a tool call's, with the task id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import service_log
from tests.tasks.conftest import Stack, call, terminal, wait_for


def test_an_audit_too_big_for_the_tool_call_runs_to_completion_as_a_task(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = stack.handler()
    monkeypatch.setattr("app.surface.tools.TASK_PROBE_S", 0.0)  # the synchronous attempt reads too little
    audit_nodejs = {"name": "audit-runtimes", "arguments": {"family": "nodejs"}}
    status, answer = call(handler, "tools/call", audit_nodejs)
    assert status == 200
    created = answer["result"]
    assert created["resultType"] == "task", created
    assert "larger than a tool call can read" in created["statusMessage"]
    done = wait_for(handler, created["taskId"], terminal)
    assert done["status"] == "completed", done
    audit = done["result"]["structuredContent"]
    assert audit["complete"] is True
    assert audit["aliases_read"] == audit["aliases_needed"] > 0
    _, synchronous = call(handler, "tools/call", audit_nodejs, capabilities={})
    assert synchronous["result"]["structuredContent"]["groups"] == audit["groups"]  # the same answer


def test_a_fleet_audit_that_misses_its_budget_runs_as_a_task_fanned_out_by_the_worker(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """audit-runtimes with accounts/regions: the targets not read within the tool call (here: none, the probe
    has no time) are named timeout; a task client gets an audit-fleet task whose worker reads each target in
    its durable map and answers complete, counting targets in its status message."""
    handler = stack.handler()
    monkeypatch.setattr("app.surface.tools.TASK_PROBE_S", 0.0)
    fleet_audit = {"name": "audit-runtimes", "arguments": {"accounts": ["123456789012"], "family": "nodejs"}}
    _, answer = call(handler, "tools/call", fleet_audit)
    created = answer["result"]
    assert created["resultType"] == "task", created
    assert created["statusMessage"].startswith("0 of 1 targets read in the tool call")
    done = wait_for(handler, created["taskId"], terminal)
    assert done["status"] == "completed", done
    audit = done["result"]["structuredContent"]
    assert (audit["complete"], audit["targets_total"], audit["targets_complete"]) == (True, 1, 1)
    assert [c["status"] for c in audit["coverage"]] == ["complete"]
    plain = {"name": "audit-runtimes", "arguments": {"family": "nodejs"}}
    _, synchronous = call(handler, "tools/call", plain, capabilities={})  # no tasks: the account audit
    by_runtime = {g["runtime"]: g["functions"] for g in synchronous["result"]["structuredContent"]["groups"]}
    assert {g["runtime"]: g["functions"] for g in audit["groups"]} == by_runtime  # the same counts


def test_a_complete_audit_is_answered_at_once(stack: Stack) -> None:
    _, answer = call(stack.handler(), "tools/call", {"name": "audit-runtimes", "arguments": {}})
    assert answer["result"]["resultType"] == "complete"
    assert answer["result"]["structuredContent"]["complete"] is True


def test_invoking_a_function_slower_than_a_tool_call_waits_is_a_task(stack: Stack) -> None:
    handler = stack.handler()
    arguments: dict[str, Any] = {"name": "legacy-report-cron", "payload": {"ping": 1}}  # timeout 900 s
    with service_log() as log:
        _, answer = call(handler, "tools/call", {"name": "invoke-function", "arguments": arguments})
        created = answer["result"]
        assert created["resultType"] == "task", created
        done = wait_for(handler, created["taskId"], terminal)
    assert done["status"] == "completed", done
    invoked = done["result"]["structuredContent"]
    assert (invoked["invoked"], invoked["status_code"]) == (True, 200)
    records = [json.loads(line)["audit"] for line in log.getvalue().splitlines() if '"audit"' in line]
    assert [r["outcome"] for r in records] == ["task_started", "invoked"]
    assert {r["task_id"] for r in records} == {created["taskId"]}
    assert all(r["function"] == "legacy-report-cron" for r in records)


def test_a_quick_function_is_invoked_in_the_tool_call(stack: Stack) -> None:
    arguments = {"name": "coupon-validator-v1", "payload": {}}  # timeout 6 s
    _, answer = call(stack.handler(), "tools/call", {"name": "invoke-function", "arguments": arguments})
    assert answer["result"]["resultType"] == "complete"
    assert answer["result"]["structuredContent"]["invoked"] is True


def test_an_upgrade_in_a_task_is_audited_as_in_a_tool_call_with_the_task_id(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = stack.handler()
    arguments = {"name": "coupon-validator-v1", "target_runtime": "nodejs22.x", "dry_run": False}
    with service_log() as log:
        _, answer = call(handler, "tools/call", {"name": "update-function-runtime", "arguments": arguments})
        done = wait_for(handler, answer["result"]["taskId"], terminal)
    assert done["status"] == "completed"
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    records = [line["audit"] for line in lines if "audit" in line]
    assert [r["outcome"] for r in records] == ["task_started", "succeeded"]
    assert records[1]["task_id"] == answer["result"]["taskId"]
    assert records[1]["change"] == {"target_runtime": "nodejs22.x", "smoke_test": False, "alias": None}
    assert (records[1]["previous_runtime"], records[1]["final_runtime"]) == ("nodejs14.x", "nodejs22.x")
    emitted = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    metrics = [line for line in emitted if "_aws" in line]
    events = {(m.get("event"), m.get("tool")) for m in metrics if "TaskEvents" in m}
    assert {("created", "update-function-runtime"), ("completed", "update-function-runtime")} <= events
    assert any(m.get("outcome") == "succeeded" for m in metrics if "UpgradeOutcome" in m)
