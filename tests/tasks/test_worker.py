"""The worker as a durable function, run by the durable SDK's in-process runner (waits skipped): replays
never repeat an AWS call, questions wait for every answer, and whatever goes wrong ends in a terminal task
with a message — never one left working."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from moto import mock_aws

from app.lambda_ops import LambdaClients
from app.local.tasks_table import TABLE, create_tasks_table
from app.tasks.model import Caller, Owner, TaskRecord, TaskStatus, WorkOrder, new_task_id
from app.tasks.service import TaskService
from app.tasks.store import MAX_RESULT_BYTES, TaskStore
from app.worker.environment import Environment
from app.worker.handler import make_handler
from app.worker.jobs import JOBS, Job
from app.worker.settings import WorkerSettings
from app.worker.task import Outcome, TaskRun, completed
from tests.lambda_ops.helpers import REGION, streaming, stubbed_client
from tests.lambda_ops.test_upgrade import NAME, poll, start

OWNER = Owner(sub="alice")


@pytest.fixture
def store(aws_env: None) -> Iterator[TaskStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tasks_table(client)
        yield TaskStore(TABLE, lambda: client)


def new_task(store: TaskStore, tool: str) -> str:
    now = time.time()
    task_id = new_task_id()
    store.create(
        TaskRecord(
            task_id=task_id, owner=OWNER.key, tool=tool, arguments_digest="-", status=TaskStatus.WORKING,
            created_ms=int(now * 1000), updated_ms=int(now * 1000), expires_at=int(now) + 3600,
            ttl_ms=3_600_000, poll_interval_ms=200,
        )
    )  # fmt: skip
    return task_id


def run(
    store: TaskStore,
    jobs: dict[str, Job],
    tool: str,
    arguments: dict[str, Any] | None = None,
    clients: LambdaClients | None = None,
    during: Callable[[DurableFunctionTestRunner, str, str], None] | None = None,
) -> tuple[TaskRecord, Any]:
    task_id = new_task(store, tool)
    env = Environment(WorkerSettings(allow_writes=True, tasks_table=TABLE), store, clients or LambdaClients())
    order = WorkOrder(
        task_id=task_id, tool=tool, arguments=arguments or {}, caller=Caller(), requested_at=time.time()
    )
    with DurableFunctionTestRunner(handler=make_handler(jobs, lambda: env), skip_time=True) as runner:
        arn = runner.run_async(input=order.model_dump_json(), function_name="worker", execution_name=task_id)
        if during is not None:
            during(runner, arn, task_id)
        outcome = runner.wait_for_result(arn, timeout=30)
    record = store.load(task_id)
    assert record is not None
    return record, outcome


def test_a_durable_upgrade_waits_for_aws_and_replays_without_repeating_a_call(store: TaskStore) -> None:
    client, stubber = stubbed_client()  # each AWS call exactly once, in order: a repeated one would fail
    start(stubber, runtime="nodejs18.x")
    for _ in range(5):  # the update takes a while: every look is its own step, replayed after each wait
        poll(stubber, "nodejs22.x", "InProgress")
    poll(stubber, "nodejs22.x", "Successful")
    params = {
        "FunctionName": NAME,
        "InvocationType": "RequestResponse",
        "Payload": b'{"ping":1}',
        "LogType": "None",
    }
    stubber.add_response("invoke", {"StatusCode": 200, "Payload": streaming(b"{}")}, params)  # once only
    arguments = {"name": NAME, "target_runtime": "nodejs22.x", "smoke_payload": {"ping": 1}}
    record, outcome = run(store, JOBS, "update-function-runtime", arguments, LambdaClients.of(client))
    stubber.assert_no_pending_responses()
    assert outcome.status.value == "SUCCEEDED"
    assert record.status is TaskStatus.COMPLETED
    assert record.result is not None
    result = record.result["value"]
    assert (result["outcome"], result["verified"]) == ("succeeded", True)
    assert [s["action"] for s in result["steps"]] == ["update", "wait", "smoke_invoke"]


def test_a_throttled_look_during_the_wait_is_a_look_not_a_failure(store: TaskStore) -> None:
    client, stubber = stubbed_client()
    start(stubber)
    stubber.add_client_error("get_function_configuration", "TooManyRequestsException", "slow down", 429)
    poll(stubber, "nodejs22.x", "Successful")
    record, _ = run(store, JOBS, "update-function-runtime", {"name": NAME, "target_runtime": "nodejs22.x"},
                    LambdaClients.of(client))  # fmt: skip
    assert record.result is not None
    assert record.result["value"]["outcome"] == "succeeded"


def failing(task: TaskRun, env: Environment) -> Outcome:
    task.step("first", lambda: 1)
    raise RuntimeError("a bug in the job")


def huge(task: TaskRun, env: Environment) -> Outcome:
    noise = json.dumps([time.time_ns() * i for i in range(MAX_RESULT_BYTES // 4)])
    return completed("CallToolResult", {"content": [{"type": "text", "text": noise}]}, "big")


def test_a_job_that_raises_leaves_a_failed_task_with_a_protocol_error(store: TaskStore) -> None:
    record, outcome = run(store, {"boom": failing}, "boom")
    assert outcome.status.value == "SUCCEEDED"  # the worker handled it; the task says what happened
    assert record.status is TaskStatus.FAILED
    assert record.error is not None
    assert record.error["code"] == -32603
    assert "RuntimeError" in record.error["message"]
    assert "a bug in the job" not in record.error["message"]  # an exception's text stays in the log


def test_a_tool_the_worker_does_not_know_fails_the_task(store: TaskStore) -> None:
    record, _ = run(store, JOBS, "not-a-tool")
    assert record.status is TaskStatus.FAILED
    assert "no job for the tool 'not-a-tool'" in (record.status_message or "")


def test_a_result_too_big_to_keep_becomes_an_error_result_that_says_so(store: TaskStore) -> None:
    record, _ = run(store, {"huge": huge}, "huge")
    assert record.status is TaskStatus.COMPLETED
    assert record.result is not None
    assert record.result["shape"] == "OpsError"
    assert "too large to keep as a task result" in record.result["value"]["message"]


class RunnerEngine:
    """The engine's answer and stop, delivered to the in-process runner (what Lambda's API does)."""

    def __init__(self, runner: DurableFunctionTestRunner) -> None:
        self.runner = runner

    def answer(self, callback_id: str, answers: dict[str, Any]) -> None:
        self.runner.send_callback_success(callback_id, json.dumps(answers).encode())


def asking(task: TaskRun, env: Environment) -> Outcome:
    answers = task.ask(
        {"name": {"method": "elicitation/create"}, "go": {"method": "elicitation/create"}}, "2 q"
    )
    if answers.get("cancelled"):
        return Outcome(TaskStatus.CANCELLED, "Cancelled while asking: nothing done.")
    return completed("CallToolResult", {"content": [{"type": "text", "text": json.dumps(answers)}]}, "ok")


def until_asked(store: TaskStore, task_id: str) -> TaskRecord:
    for _ in range(200):
        record = store.load(task_id)
        if record is not None and record.status is TaskStatus.INPUT_REQUIRED:
            return record
        time.sleep(0.02)
    raise AssertionError("never asked")


def test_a_question_waits_for_every_answer_then_the_work_goes_on(store: TaskStore) -> None:
    def answer(runner: DurableFunctionTestRunner, arn: str, task_id: str) -> None:
        service = TaskService(store, RunnerEngine(runner))  # type: ignore[arg-type]
        asked = until_asked(store, task_id)
        assert set(asked.input_requests) == {"r1.name", "r1.go"}
        assert service.update(task_id, OWNER, {"r1.name": {"action": "accept", "content": {"name": "A"}}})
        still = store.load(task_id)
        assert still is not None
        assert (still.status, set(still.input_requests)) == (TaskStatus.INPUT_REQUIRED, {"r1.go"})
        assert not service.update(task_id, Owner(sub="bob"), {"r1.go": {"action": "accept"}})  # not bob's
        assert service.update(task_id, OWNER, {"r1.go": {"action": "decline"}, "r1.name": {"again": 1}})

    record, _ = run(store, {"ask": asking}, "ask", during=answer)
    assert record.status is TaskStatus.COMPLETED
    assert record.result is not None
    text = json.loads(record.result["value"]["content"][0]["text"])
    assert text == {"name": {"action": "accept", "content": {"name": "A"}}, "go": {"action": "decline"}}


def test_cancelling_a_task_that_waits_for_an_answer_wakes_it_to_finish_consistently(store: TaskStore) -> None:
    def cancel(runner: DurableFunctionTestRunner, arn: str, task_id: str) -> None:
        until_asked(store, task_id)
        assert TaskService(store, RunnerEngine(runner)).cancel(task_id, OWNER)  # type: ignore[arg-type]

    record, _ = run(store, {"ask": asking}, "ask", during=cancel)
    assert record.status is TaskStatus.CANCELLED
    assert record.status_message == "Cancelled while asking: nothing done."


def test_the_fleet_and_campaign_jobs_are_registered_and_imported_only_when_they_run() -> None:
    """Every task on a cold worker pays the worker's imports (its cold init is at most half the server's, in
    make bench): the campaign's and the fleet audit's modules load when such a task runs, not before."""
    import subprocess
    import sys
    from pathlib import Path

    from app.fleet.audit import FLEET_TOOL
    from app.surface.campaign_tools import RUN_TOOL
    from app.worker.jobs import JOBS

    assert {FLEET_TOOL, RUN_TOOL} <= set(JOBS)
    lazy = (
        "app.worker.campaign",
        "app.worker.fleet_audit",
        "app.lambda_ops.upgrade.campaign",
        "app.fleet.audit",
    )
    code = f"import sys, app.worker.handler; print([m for m in {lazy!r} if m in sys.modules])"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root, check=True
    )
    assert done.stdout.strip() == "[]"
