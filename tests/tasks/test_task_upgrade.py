"""An upgrade as a task, through the production handler (API Gateway events) with the worker in the durable
SDK's local runner: longer than a tool call may take, verified, cancellable, and each principal's own."""

from __future__ import annotations

from typing import Any

from app.local.slow_updates import slow_updates
from tests.tasks.conftest import Stack, call, terminal, wait_for

UPGRADE = {
    "name": "legacy-report-cron",
    "target_runtime": "nodejs22.x",
    "dry_run": False,
    "smoke_payload": {},
}


def waiting_for_aws(task: dict[str, Any]) -> bool:
    return "LastUpdateStatus" in task.get("statusMessage", "")


def start(handler: Any, arguments: dict[str, Any] = UPGRADE) -> dict[str, Any]:
    status, answer = call(handler, "tools/call", {"name": "update-function-runtime", "arguments": arguments})
    assert status == 200, answer
    result: dict[str, Any] = answer["result"]
    return result


def test_an_upgrade_longer_than_a_tool_call_becomes_a_task_and_ends_verified(stack: Stack) -> None:
    handler = stack.handler()
    with slow_updates({"legacy-report-cron": 3.0}):  # InProgress for the first looks (moto: at once)
        created = start(handler)
        assert created["resultType"] == "task"
        assert set(created) >= {"taskId", "status", "createdAt", "lastUpdatedAt", "ttlMs", "pollIntervalMs"}
        assert created["status"] == "working"
        assert len(created["taskId"]) >= 43  # 256 random bits
        seen = wait_for(handler, created["taskId"], waiting_for_aws)
        done = wait_for(handler, created["taskId"], terminal, timeout=60)
    assert done["status"] == "completed", done
    result = done["result"]["structuredContent"]
    assert (result["outcome"], result["verified"]) == ("succeeded", True)
    waits = [step for step in result["steps"] if step["action"] == "wait"]
    assert waits
    assert waits[0]["elapsed_s"] >= 3.0  # it really waited for AWS, not for a budget
    assert "InProgress" in seen["statusMessage"]
    assert done["result"]["content"][0]["text"].startswith("legacy-report-cron: succeeded (verified: true)")
    config = stack.lambda_client().get_function_configuration(FunctionName="legacy-report-cron")
    assert config["Runtime"] == "nodejs22.x"


def test_clients_without_the_extension_get_todays_synchronous_answer(stack: Stack) -> None:
    params = {"name": "update-function-runtime", "arguments": UPGRADE}
    status, answer = call(stack.handler(), "tools/call", params, capabilities={})
    assert status == 200
    result = answer["result"]
    assert "taskId" not in result
    assert result["resultType"] == "complete"
    assert result["structuredContent"]["outcome"] == "succeeded"


def test_a_refused_or_finished_upgrade_is_answered_at_once_not_as_a_task(stack: Stack) -> None:
    handler = stack.handler()
    unchanged = start(handler, {**UPGRADE, "name": "notifications-email-sender"})  # on nodejs22.x already
    assert unchanged["resultType"] == "complete", unchanged
    assert unchanged["structuredContent"]["outcome"] == "unchanged"
    refused = start(handler, {**UPGRADE, "target_runtime": "python3.12"})  # another family
    assert refused["resultType"] == "complete"
    assert refused["isError"] is True


def test_cancelling_mid_way_rolls_the_function_back_and_says_so(stack: Stack) -> None:
    handler = stack.handler()
    with slow_updates({"legacy-report-cron": 2.0}):
        task_id = start(handler)["taskId"]
        wait_for(handler, task_id, waiting_for_aws)
        status, ack = call(handler, "tasks/cancel", {"taskId": task_id})
        assert status == 200
        assert {k: v for k, v in ack["result"].items() if k != "_meta"} == {"resultType": "complete"}
        done = wait_for(handler, task_id, terminal, timeout=60)
    assert done["status"] == "cancelled", done
    assert "result" not in done
    assert "rolled back to nodejs14.x (verified)" in done["statusMessage"]
    config = stack.lambda_client().get_function_configuration(FunctionName="legacy-report-cron")
    assert (config["Runtime"], config["LastUpdateStatus"]) == ("nodejs14.x", "Successful")
