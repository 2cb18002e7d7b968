"""Tasks for the people who asked for them: create, read, answer, cancel — through the store and the engine.

- **Whose:** every read and write is for one ``Owner``. A task of another principal is answered exactly as an
  unknown one (None): no oracle of which ids exist.
- **Expired:** past ``expires_at`` a task is gone for everyone but its owner, who is told it expired — also
  before DynamoDB's TTL sweeper removes the item.
- **Never stuck:** an active task whose item has not moved for ``stale_after_s`` is checked against the
  execution itself; an execution that failed, timed out, was stopped or ended without recording an outcome
  leaves the task ``failed`` with a message, not ``working`` forever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.lambda_ops.errors import OpsFailure
from app.tasks.engine import DurableEngine
from app.tasks.metrics import record_task_end, record_task_event
from app.tasks.model import Owner, TaskRecord, TaskStatus, WorkOrder, digest, new_task_id
from app.tasks.store import TaskStore

log = logging.getLogger("lambda-ops-mcp.tasks")

INTERNAL_ERROR = -32603
EXPIRED = "expired"


@dataclass(frozen=True)
class TaskTimes:
    ttl_s: int = 24 * 3600  # how long a task stays readable after it is created
    stale_after_s: float = 60.0  # an active task whose item has not moved for this long is checked
    default_poll_ms: int = 2000


class TaskService:
    def __init__(
        self,
        store: TaskStore,
        engine: DurableEngine,
        times: TaskTimes | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.engine = store, engine
        self.times = times or TaskTimes()
        self.clock = clock
        self._checked: dict[str, float] = {}  # task id → when its execution was last checked (this process)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # --- create ---------------------------------------------------------------------------------------------

    def create(
        self,
        *,
        tool: str,
        arguments: Mapping[str, Any],
        owner: Owner,
        caller: dict[str, Any],
        message: str,
        stop_on_cancel: bool,
        poll_interval_ms: int | None = None,
        server_function: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> TaskRecord:
        """A new task, durably stored, its execution started. Raises ``OpsFailure`` when the worker could
        not be started (the task is then recorded as failed)."""
        now = self.clock()
        created_ms = int(now * 1000)
        record = TaskRecord(
            task_id=new_task_id(),
            owner=owner.key,
            owner_sub=owner.sub,
            owner_client_id=owner.client_id,
            tool=tool,
            arguments_digest=digest(dict(arguments)),
            status=TaskStatus.WORKING,
            status_message=message,
            created_ms=created_ms,
            updated_ms=created_ms,
            expires_at=int(now) + self.times.ttl_s,
            ttl_ms=self.times.ttl_s * 1000,
            poll_interval_ms=poll_interval_ms or self.times.default_poll_ms,
            stop_on_cancel=stop_on_cancel,
        )
        self.store.create(record)
        order = WorkOrder(
            task_id=record.task_id,
            tool=tool,
            arguments=dict(arguments),
            caller=caller,
            requested_at=now,
            server_function=server_function,
            account=account,
            region=region,
        )
        try:
            arn = self.engine.start(record.task_id, order.model_dump(mode="json"))
        except OpsFailure as failure:
            message = f"The task worker could not be started: {failure.error.message}"
            error = {"code": INTERNAL_ERROR, "message": message}
            self.store.finish(record.task_id, TaskStatus.FAILED, message, self.now_ms(), error=error)
            record_task_end(tool, TaskStatus.FAILED)
            raise
        record_task_event(tool, "created")
        if arn:
            self.store.attach_execution(record.task_id, arn, self.now_ms())
            record = record.model_copy(update={"execution_arn": arn})
        return record

    # --- read -----------------------------------------------------------------------------------------------

    def get(self, task_id: str, owner: Owner) -> TaskRecord | str | None:
        """The task; ``EXPIRED`` for its owner once past its TTL; None for anyone else or an unknown id."""
        record = self._mine(task_id, owner)
        if record is None:
            return None
        if self._expired(record):
            return EXPIRED
        if not record.terminal:
            record = self._unless_stuck(record)
        return record

    def _mine(self, task_id: str, owner: Owner) -> TaskRecord | None:
        if not task_id or len(task_id) > 128:
            return None
        record = self.store.load(task_id)
        if record is None or record.owner != owner.key:
            return None
        return record

    def _expired(self, record: TaskRecord) -> bool:
        return self.clock() >= record.expires_at

    def _unless_stuck(self, record: TaskRecord) -> TaskRecord:
        now = self.clock()
        quiet = now - record.updated_ms / 1000
        if quiet < self.times.stale_after_s:
            return record
        with self._lock:
            last = self._checked.get(record.task_id, 0.0)
            if now - last < self.times.stale_after_s / 2:
                return record  # checked a moment ago
            self._checked[record.task_id] = now
            if len(self._checked) > 10_000:
                self._checked.clear()
        if record.execution_arn is None:
            why = f"the worker was never started (no execution recorded after {quiet:.0f} s)"
        else:
            try:
                execution = self.engine.describe(record.execution_arn)
            except OpsFailure as failure:
                log.warning("task execution not readable", extra={"task_id": record.task_id,
                            "reason": failure.error.message})  # fmt: skip
                return record
            if execution.running:
                return record
            why = (
                f"the worker's execution ended {execution.status}"
                + (f" ({execution.error})" if execution.error else "")
                + " without recording an outcome"
            )
        message = f"Failed: {why}. Nothing more will happen; call the tool again to retry."
        error = {"code": INTERNAL_ERROR, "message": message}
        if self.store.finish(record.task_id, TaskStatus.FAILED, message, self.now_ms(), error=error):
            record_task_end(record.tool, TaskStatus.FAILED)
            log.warning("task failed: worker gone", extra={"task_id": record.task_id, "reason": why})
        return self.store.load(record.task_id) or record

    # --- answer and cancel ----------------------------------------------------------------------------------

    def update(self, task_id: str, owner: Owner, responses: Mapping[str, Any]) -> bool:
        """Record answers to the task's open requests (unknown or answered keys are ignored); False when
        the task is unknown (or another principal's, or expired). Once every open request is answered, the
        worker gets the answers and resumes."""
        for _ in range(5):
            record = self._mine(task_id, owner)
            if record is None or self._expired(record):
                return False
            if record.status is not TaskStatus.INPUT_REQUIRED:
                return True  # nothing is asked: the answers are ignored (acknowledged, as the spec says)
            after = self.store.answer(record, responses, self.now_ms())
            if after is None:
                continue  # it changed meanwhile (another answer, a cancellation): read it again
            if after.status is TaskStatus.WORKING and record.callback_id:
                self._deliver(after, record.callback_id)
            return True
        return True

    def _deliver(self, record: TaskRecord, callback_id: str) -> None:
        try:
            self.engine.answer(callback_id, record.answers)
        except OpsFailure as failure:
            message = f"Failed: the answers could not be handed to the worker ({failure.error.message})."
            error = {"code": INTERNAL_ERROR, "message": message}
            if self.store.finish(record.task_id, TaskStatus.FAILED, message, self.now_ms(), error=error):
                record_task_end(record.tool, TaskStatus.FAILED)

    def cancel(self, task_id: str, owner: Owner) -> bool:
        """Ask the task to stop; False when it is unknown. Read-only work stops at once (the execution is
        stopped); work that changes AWS stops at its next consistent point, which the worker reports."""
        for _ in range(5):
            record = self._mine(task_id, owner)
            if record is None or self._expired(record):
                return False
            if record.terminal:
                return True  # idempotent: a finished task stays as it finished
            message = (
                "Cancelled."
                if record.stop_on_cancel
                else "Cancellation requested: the work stops at its next consistent point."
            )
            after = self.store.request_cancel(record, message, self.now_ms())
            if after is None:
                continue
            if record.stop_on_cancel:
                record_task_end(record.tool, TaskStatus.CANCELLED)
                self._stop(record)
            elif record.status is TaskStatus.INPUT_REQUIRED and record.callback_id:
                self._wake(record, record.callback_id)
            return True
        return True

    def _stop(self, record: TaskRecord) -> None:
        if record.execution_arn is None:
            return
        try:
            self.engine.stop(record.execution_arn, "cancelled by tasks/cancel")
        except OpsFailure as failure:  # the task is cancelled either way; a finished execution cannot stop
            log.info("stop refused", extra={"task_id": record.task_id, "reason": failure.error.message})

    def _wake(self, record: TaskRecord, callback_id: str) -> None:
        """A worker waiting for input is woken so it can see the cancellation and finish consistently."""
        try:
            self.engine.answer(callback_id, {"cancelled": True})
        except OpsFailure as failure:
            log.info("wake refused", extra={"task_id": record.task_id, "reason": failure.error.message})
