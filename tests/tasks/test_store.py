"""The task record's transitions against DynamoDB (moto): conditional, final once terminal, consistent
under concurrent answers, bounded in size."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from app.local.tasks_table import TABLE, create_tasks_table
from app.tasks.model import Owner, TaskRecord, TaskStatus, new_task_id
from app.tasks.store import MAX_RESULT_BYTES, ResultTooLarge, TaskStore, encode_result
from tests.lambda_ops.helpers import REGION


@pytest.fixture
def store(aws_env: None) -> Iterator[TaskStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tasks_table(client)
        yield TaskStore(TABLE, lambda: client)


def record(**changes: Any) -> TaskRecord:
    now = int(time.time() * 1000)
    fields: dict[str, Any] = {
        "task_id": new_task_id(),
        "owner": Owner(sub="alice").key,
        "tool": "update-function-runtime",
        "arguments_digest": "0" * 64,
        "status": TaskStatus.WORKING,
        "created_ms": now,
        "updated_ms": now,
        "expires_at": now // 1000 + 3600,
        "ttl_ms": 3_600_000,
        "poll_interval_ms": 2000,
    }
    return TaskRecord(**{**fields, **changes})


def test_a_task_reads_back_as_written_and_ids_are_unique(store: TaskStore) -> None:
    task = record()
    store.create(task)
    assert store.load(task.task_id) == task
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        store.create(task)  # the same id twice: refused
    assert store.load("unknown") is None


def test_a_terminal_status_is_final(store: TaskStore) -> None:
    task = record()
    store.create(task)
    result = {"shape": "CallToolResult", "value": {"content": [], "isError": False}}
    assert store.finish(task.task_id, TaskStatus.COMPLETED, "done", 1, result=result)
    assert not store.finish(task.task_id, TaskStatus.FAILED, "late", 2, error={"code": -1, "message": "x"})
    assert store.progress(task.task_id, "still going?", 3) is not None  # reads it back...
    final = store.load(task.task_id)
    assert final is not None
    assert (final.status, final.status_message, final.result) == (TaskStatus.COMPLETED, "done", result)
    assert store.request_cancel(final, "cancel", 4) is None


def test_answers_to_open_requests_only_and_the_task_resumes_when_all_are_in(store: TaskStore) -> None:
    task = record()
    store.create(task)
    questions = {"r1.name": {"method": "elicitation/create"}, "r1.confirm": {"method": "elicitation/create"}}
    assert store.ask(task.task_id, questions, "callback-1", "two questions", 10)
    asked = store.load(task.task_id)
    assert asked is not None
    assert (asked.status, set(asked.input_requests)) == (TaskStatus.INPUT_REQUIRED, set(questions))
    partial = store.answer(asked, {"r1.name": {"action": "accept"}, "unknown": {"x": 1}}, 11)
    assert partial is not None
    assert partial.status is TaskStatus.INPUT_REQUIRED
    assert set(partial.input_requests) == {"r1.confirm"}  # the answered key is gone, the other stays
    assert "unknown" not in partial.answers
    stale = store.answer(asked, {"r1.confirm": {"action": "accept"}}, 12)
    assert stale is None  # written against an old version: refused (the service reads again)
    done = store.answer(partial, {"r1.confirm": {"action": "accept", "content": {"confirm": True}}}, 13)
    assert done is not None
    assert (done.status, done.input_requests) == (TaskStatus.WORKING, {})
    assert set(done.answers) == set(questions)
    assert set(done.answered_keys) == set(questions)
    with pytest.raises(ValueError, match="reused"):
        store.ask(task.task_id, {"r1.name": {"method": "elicitation/create"}}, "callback-2", "again", 14)


def test_cancelling_read_only_work_is_final_at_once_and_writes_wait_for_the_worker(store: TaskStore) -> None:
    reads = record(stop_on_cancel=True)
    writes = record()
    store.create(reads)
    store.create(writes)
    stopped = store.request_cancel(reads, "Cancelled.", 5)
    assert stopped is not None
    assert (stopped.status, stopped.cancel_requested) == (TaskStatus.CANCELLED, True)
    flagged = store.request_cancel(writes, "Cancellation requested", 5)
    assert flagged is not None
    assert (flagged.status, flagged.cancel_requested) == (TaskStatus.WORKING, True)


def test_a_result_too_big_for_an_item_is_refused_before_anything_is_written(store: TaskStore) -> None:
    task = record()
    store.create(task)
    noise = os.urandom(MAX_RESULT_BYTES).hex()  # incompressible
    with pytest.raises(ResultTooLarge):
        store.finish(task.task_id, TaskStatus.COMPLETED, "big", 1, result={"shape": "x", "value": noise})
    still = store.load(task.task_id)
    assert still is not None
    assert still.status is TaskStatus.WORKING
    assert len(encode_result({"value": "a" * MAX_RESULT_BYTES})) < MAX_RESULT_BYTES  # compressed


def test_owners_are_told_apart_however_their_parts_are_cut() -> None:
    assert Owner("i", "ab", "c").key != Owner("i", "a", "bc").key
    assert Owner().key != Owner(sub="x").key
    assert len({new_task_id() for _ in range(1000)}) == 1000
