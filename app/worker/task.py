"""One task as the worker sees it: its order, the durable context, and the ways it talks to its record —
progress, questions, the cancel flag, the final outcome.

Replay safety: the durable SDK runs the handler again from the top after every wait (a new invocation), and
returns checkpointed results instead of re-running completed steps. So everything that reads the outside
world and steers the work is a step (``step``, ``cancel_requested``); progress messages are written only
while not replaying (a replay must not rewind the message); the outcome is recorded in one last step.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aws_durable_execution_sdk_python import DurableContext, StepContext
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig

from app.tasks.metrics import record_task_end
from app.tasks.model import TaskStatus, WorkOrder
from app.tasks.store import ResultTooLarge, TaskStore

T = TypeVar("T")
log = logging.getLogger("lambda-ops-mcp.worker")

INTERNAL_ERROR = -32603
QUESTION_TIMEOUT = Duration.from_hours(23)  # inside the task's default 24 h: a question left unanswered


@dataclass
class Outcome:
    """How a job ended: the task's terminal status, its message, and a result (completed) or a JSON-RPC
    error (failed); ``after`` runs inside the final step (audit lines and metrics, once)."""

    status: TaskStatus
    message: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    after: Callable[[], None] | None = field(default=None, repr=False)


def completed(
    shape: str, value: dict[str, Any], message: str, after: Callable[[], None] | None = None
) -> Outcome:
    return Outcome(TaskStatus.COMPLETED, message, result={"shape": shape, "value": value}, after=after)


def failed(message: str, code: int = INTERNAL_ERROR, data: Any = None) -> Outcome:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return Outcome(TaskStatus.FAILED, message, error=error)


class TaskRun:
    def __init__(self, order: WorkOrder, context: DurableContext, store: TaskStore) -> None:
        self.order, self.context, self.store = order, context, store
        self.task_id = order.task_id
        self._rounds = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def step(self, name: str, action: Callable[[], T]) -> T:
        """A checkpointed step: run once (again only if the worker died inside it), replayed after."""

        def run(_: StepContext) -> T:
            return action()

        return self.context.step(run, name=name)

    def progress(self, message: str) -> None:
        """Where the work is, in the task's statusMessage (a heartbeat, too: the server checks a task whose
        record stopped moving)."""
        if self.context.is_replaying():
            return
        try:
            self.store.progress(self.task_id, message[:500], self.now_ms())
        except Exception as error:  # a progress line is not worth failing the work for
            log.warning("progress not recorded", extra={"task_id": self.task_id, "reason": repr(error)[:300]})

    def cancel_requested(self) -> bool:
        def read() -> bool:
            record = self.store.load(self.task_id)
            return record is None or record.cancel_requested or record.terminal

        return self.step("cancellation check", read)

    def ask(self, requests: dict[str, dict[str, Any]], message: str) -> dict[str, Any]:
        """Ask the client (``inputRequests``: key → an MRTR request such as ``elicitation/create``) and wait,
        holding no Lambda, until ``tasks/update`` has answered every key; the answers by key. Keys are
        made unique for the task (``<round>.<key>``), as the extension requires; answers come back by the
        caller's keys. ``{"cancelled": True}`` when the task was cancelled meanwhile."""
        self._rounds += 1
        prefix = f"r{self._rounds}."
        wire = {prefix + key: request for key, request in requests.items()}

        def submit(callback_id: str, _: Any) -> None:
            if not self.store.ask(self.task_id, wire, callback_id, message, self.now_ms()):
                raise RuntimeError("the task is no longer active")

        config = WaitForCallbackConfig(timeout=QUESTION_TIMEOUT)
        raw = self.context.wait_for_callback(submit, name=f"question {self._rounds}", config=config)
        answers = json.loads(raw) if isinstance(raw, str | bytes) else (raw or {})
        if not isinstance(answers, dict) or answers.get("cancelled") is True:
            return {"cancelled": True}
        return {key[len(prefix) :]: value for key, value in answers.items() if key.startswith(prefix)}

    def finish(self, outcome: Outcome) -> bool:
        """Record the outcome, once (the final step); False if the task was already terminal (stopped, or
        failed by the server's staleness check)."""

        def record() -> bool:
            try:
                done = self.store.finish(
                    self.task_id,
                    outcome.status,
                    outcome.message[:2000],
                    self.now_ms(),
                    result=outcome.result,
                    error=outcome.error,
                )
            except ResultTooLarge as error:
                too_large = too_large_result(error.size)
                done = self.store.finish(
                    self.task_id, TaskStatus.COMPLETED, too_large["value"]["message"], self.now_ms(),
                    result=too_large,
                )  # fmt: skip
            if outcome.after is not None:
                outcome.after()  # the change happened whatever the record says: audit it
            if done:
                record_task_end(self.order.tool, outcome.status)
            return done

        return self.step("record outcome", record)


def too_large_result(size: int) -> dict[str, Any]:
    """What a task answers when its result does not fit the record: an error result a model can act on."""
    message = (
        f"The result is too large to keep as a task result ({size} bytes compressed, at most 300 KiB). The "
        "work itself finished; ask again for less (a family, fewer accounts or regions, fewer names per "
        "group) to see it."
    )
    return {
        "shape": "OpsError",
        "value": {"kind": "invalid_argument", "message": message, "retryable": False},
    }
