"""The upgrade's ``Effects`` (app/lambda_ops/upgrade/effects.py) as a Lambda durable execution.

- ``call``: a checkpointed step. Its value is JSON data; an ``OpsFailure`` becomes part of the checkpoint
  and is raised again on replay (an AWS refusal is a result, not a reason to retry the step). ``once``
  steps (the smoke invoke) run at most once: a worker that dies mid-invoke is not re-run (it is reported
  as "could not run", unverified), since invoking the function twice is worse.
- ``poll``: ``wait_for_condition``: each look is a step, and between looks a durable wait that holds no
  Lambda (2 s, growing by half each time to 20 s), for as long as AWS takes, up to the wait's limit.
- ``now``: the wall-clock time recorded by the last step (the order's time before the first), so elapsed
  times in the report are true and the same on every replay.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_durable_execution_sdk_python import StepContext, StepError
from aws_durable_execution_sdk_python.config import Duration, StepConfig, StepSemantics
from aws_durable_execution_sdk_python.exceptions import UnrecoverableError
from aws_durable_execution_sdk_python.retries import RetryDecision
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitForConditionDecision

from app.lambda_ops.errors import ErrorKind, OpsError, OpsFailure
from app.lambda_ops.upgrade.effects import INFINITE, Probe
from app.lambda_ops.upgrade.wait import DURABLE_WAIT_LIMIT_S
from app.worker.task import TaskRun

T = TypeVar("T")
FIRST_DELAY_S = 2.0
MAX_DELAY_S = 20.0


def _no_retry(error: Exception, attempt: int) -> RetryDecision:
    return RetryDecision.no_retry()


ONCE = StepConfig(step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY, retry_strategy=_no_retry)


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class DurableEffects:
    durable = True

    def __init__(
        self, task: TaskRun, *, first_delay_s: float = FIRST_DELAY_S, max_delay_s: float = MAX_DELAY_S
    ) -> None:
        self.task = task
        self.first_delay_s, self.max_delay_s = first_delay_s, max_delay_s
        self._now = task.order.requested_at
        self._count = 0

    def _name(self, name: str) -> str:
        self._count += 1
        return f"{self._count:02d} {name}"[:250]

    def now(self) -> float:
        return self._now

    def call(self, name: str, action: Callable[[], T], *, once: bool = False) -> T:
        def run(_: StepContext) -> dict[str, Any]:
            try:
                return {"value": _json(action()), "at": time.time()}
            except OpsFailure as failure:
                return {"error": failure.error.model_dump(mode="json"), "at": time.time()}

        step_name = self._name(name)
        try:
            out = self.task.context.step(run, name=step_name, config=ONCE if once else None)
        except StepError as error:
            if not once:
                raise
            raise OpsFailure(
                OpsError(
                    kind=ErrorKind.SERVICE_ERROR,
                    message=f"{name} was interrupted (the worker stopped while it ran) and is not run twice: "
                    f"whether it ran is unknown ({error})",
                    retryable=False,
                )
            ) from error
        self._now = float(out["at"])
        if "error" in out:
            raise OpsFailure(OpsError.model_validate(out["error"]))
        value: T = out["value"]
        return value

    def poll(self, name: str, probe: Probe, limit_s: float | None = None) -> tuple[bool, Any]:
        limit = DURABLE_WAIT_LIMIT_S if limit_s is None else limit_s

        def check(state: dict[str, Any], _: Any) -> dict[str, Any]:
            done, seen = probe()
            at = time.time()
            return {"done": done, "seen": _json(seen), "at": at, "first": state.get("first") or at}

        def strategy(state: dict[str, Any], attempts: int) -> WaitForConditionDecision:
            if state["done"] or state["at"] - state["first"] >= limit:
                return WaitForConditionDecision.stop_polling()
            delay = min(self.first_delay_s * 1.5 ** max(attempts - 1, 0), self.max_delay_s)
            return WaitForConditionDecision.continue_waiting(Duration(seconds=max(1, math.ceil(delay))))

        initial: dict[str, Any] = {"done": False, "seen": None, "at": 0.0, "first": 0.0}
        config = WaitForConditionConfig(wait_strategy=strategy, initial_state=initial)
        out = self.task.context.wait_for_condition(check, config, name=self._name(name))
        self._now = float(out["at"])
        return bool(out["done"]), out["seen"]

    def wait(self, name: str, seconds: float) -> None:
        """A durable wait: no Lambda runs while it lasts (the engine resumes the execution after it); at
        least 1 s, the engine's granularity."""
        self.task.context.wait(Duration(seconds=max(1, math.ceil(seconds))), name=self._name(name))
        self._now += max(1, math.ceil(seconds))

    def remaining(self) -> float:
        return INFINITE

    def cancelled(self) -> bool:
        return self.task.cancel_requested()

    def progress(self, message: str) -> None:
        self.task.progress(message)

    def passes(self, error: Exception) -> bool:
        return isinstance(error, UnrecoverableError)
