"""The fleet audit as a task: the worker fans out over the targets in the durable engine's map (the durable
SDK's in-process runner), then merges — the same answer the tool call gives, and a status message that
counts targets."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner

from app.fleet.answer import FleetAudit
from app.fleet.audit import FLEET_TOOL, audit_fleet
from app.lambda_ops import CatalogProvider, LambdaClients
from app.local.tasks_table import TABLE, create_tasks_table
from app.tasks.model import Caller, TaskRecord, TaskStatus, WorkOrder, new_task_id
from app.tasks.store import TaskStore
from app.worker.environment import Environment
from app.worker.fleet_audit import make_job
from app.worker.handler import make_handler
from app.worker.settings import WorkerSettings
from tests.fleet.moto_fleet import MotoFleet
from tests.lambda_ops.helpers import REGION, TODAY


@pytest.fixture
def store(fleet: MotoFleet) -> TaskStore:
    client = boto3.client("dynamodb", region_name=REGION)
    create_tasks_table(client)
    return TaskStore(TABLE, lambda: client)


def test_the_worker_audits_each_target_in_a_durable_map_and_merges(
    fleet: MotoFleet, store: TaskStore
) -> None:
    now = time.time()
    task_id = new_task_id()
    store.create(
        TaskRecord(
            task_id=task_id, owner="o", tool=FLEET_TOOL, arguments_digest="-", status=TaskStatus.WORKING,
            created_ms=int(now * 1000), updated_ms=int(now * 1000), expires_at=int(now) + 3600,
            ttl_ms=3_600_000, poll_interval_ms=200,
        )
    )  # fmt: skip
    labels = [t.label for t in fleet.targets()]
    arguments: dict[str, Any] = {"targets": labels, "names_per_group": 10, "routes_limit": 20}
    env = Environment(WorkerSettings(tasks_table=TABLE), store, LambdaClients())
    messages: list[str] = []
    progress = store.progress

    def record(task: str, message: str, at: int) -> Any:
        messages.append(message)
        return progress(task, message, at)

    store.progress = record  # type: ignore[method-assign]
    job = make_job(lambda env, task: fleet, concurrency=3)
    order = WorkOrder(
        task_id=task_id, tool=FLEET_TOOL, arguments=arguments, caller=Caller(sub="alice"), requested_at=now
    )
    with DurableFunctionTestRunner(
        handler=make_handler({FLEET_TOOL: job}, lambda: env), skip_time=True
    ) as runner:
        arn = runner.run_async(input=order.model_dump_json(), function_name="worker", execution_name=task_id)
        runner.wait_for_result(arn, timeout=60)
    finished = store.load(task_id)
    assert finished is not None
    assert finished.status is TaskStatus.COMPLETED
    assert finished.result is not None
    assert finished.result["shape"] == "FleetAudit"
    answer = FleetAudit.model_validate(finished.result["value"])
    assert finished.status_message == "Audit complete: 6 of 8 targets read completely."
    assert messages[0] == "0 of 8 targets read"
    assert "8 of 8 targets read" in messages
    # The same answer as the tool call's fan-out in threads.
    direct = audit_fleet(fleet.targets(), fleet.ops_for(), catalog=CatalogProvider().shipped, today=TODAY)
    assert answer.model_dump(exclude={"coverage"}) == direct.model_dump(exclude={"coverage"})
    assert [(c.account, c.region, c.status, c.reason) for c in answer.coverage or []] == [
        (c.account, c.region, c.status, c.reason) for c in direct.coverage or []
    ]
    assert {a["SourceIdentity"] for a in fleet.assumed} == {"alice", "alice@example.com"}
