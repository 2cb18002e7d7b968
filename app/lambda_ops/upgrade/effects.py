"""Where an upgrade's AWS calls, waits and clock come from: the one seam between the upgrade's logic and the
way it is run.

- ``Immediate`` (a tool call, inside API Gateway's 30 s): calls run at once, waits poll with a growing
  interval until the time budget (``budget_s``) runs out, the clock is the process's.
- A durable worker (app/worker/effects.py) runs the same logic as a Lambda durable execution: each call is a
  checkpointed step (replayed, not repeated, after a restart), each wait a durable wait that holds no Lambda
  while AWS works, and the clock is the time recorded in the last step, so a replay takes the same path.

The logic in ``runner``/``ship`` may only touch AWS through ``call`` and ``poll``, and only read time through
``now``: that is what makes it replay-safe. A call's value must be JSON data (or an ``OpsFailure``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from app.lambda_ops.errors import OpsFailure

T = TypeVar("T")
Probe = Callable[[], tuple[bool, Any]]  # one look: (done, what was seen as JSON data); may raise OpsFailure


class Effects(Protocol):
    durable: bool  # True: no gateway budget; waits last as long as AWS takes (up to ``wait_limit_s``)

    def now(self) -> float:
        """Seconds on a monotonic scale: differences are elapsed time."""
        ...

    def call(self, name: str, action: Callable[[], T], *, once: bool = False) -> T:
        """Run ``action`` (AWS calls) and return its JSON value; an ``OpsFailure`` it raises is re-raised.
        ``once``: never run it twice (an invoke), even if the worker restarts mid-call."""
        ...

    def poll(self, name: str, probe: Probe, limit_s: float | None = None) -> tuple[bool, Any]:
        """Look with ``probe`` until it says done or the limit passes; the last look. ``limit_s`` None: the
        run's own budget (``remaining``)."""
        ...

    def wait(self, name: str, seconds: float) -> None:
        """Let ``seconds`` pass (a traffic shift's bake time): a durable wait that holds no Lambda in a
        task, a sleep (within the budget) in a tool call or a test."""
        ...

    def remaining(self) -> float:
        """Seconds left for the whole upgrade (the gateway's budget); infinite when durable."""
        ...

    def cancelled(self) -> bool:
        """Whether the person asked to stop (a task's ``tasks/cancel``); never for a tool call."""
        ...

    def progress(self, message: str) -> None:
        """Where the work is, in words (a task's statusMessage); nothing for a tool call."""
        ...

    def passes(self, error: Exception) -> bool:
        """Whether ``error`` belongs to the engine running the effects and must be let through rather than
        reported as an unverified upgrade."""
        ...


class Immediate:
    """Run now, within ``budget_s`` (the synchronous tool call)."""

    durable = False

    def __init__(
        self,
        budget_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 1.0,
        max_poll_interval_s: float = 3.0,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self.poll_interval_s, self.max_poll_interval_s = poll_interval_s, max_poll_interval_s
        self.deadline = clock() + budget_s

    def now(self) -> float:
        return self.clock()

    def call(self, name: str, action: Callable[[], T], *, once: bool = False) -> T:
        return action()

    def poll(self, name: str, probe: Probe, limit_s: float | None = None) -> tuple[bool, Any]:
        deadline = self.deadline if limit_s is None else min(self.deadline, self.clock() + limit_s)
        interval = self.poll_interval_s
        while True:
            done, seen = probe()
            remaining = deadline - self.clock()
            if done or remaining <= 0:
                return done, seen
            self.sleep(min(interval, remaining))
            interval = min(interval * 1.5, self.max_poll_interval_s)

    def wait(self, name: str, seconds: float) -> None:
        self.sleep(max(0.0, min(seconds, self.deadline - self.clock())))

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def cancelled(self) -> bool:
        return False

    def progress(self, message: str) -> None:
        return None

    def passes(self, error: Exception) -> bool:
        return False


class InProcess(Immediate):
    """Without a gateway's budget, in this process (a campaign in tests, ``make bench``, an emulated fleet):
    as ``durable`` as a task (waits last as long as AWS takes, up to the wait's limit), with an injectable
    clock and sleep, and a cancellation flag anyone may set (``cancel``)."""

    durable = True

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 1.0,
        max_poll_interval_s: float = 3.0,
        cancelled: Callable[[], bool] = lambda: False,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(
            math.inf, clock=clock, sleep=sleep, poll_interval_s=poll_interval_s,
            max_poll_interval_s=max_poll_interval_s,
        )  # fmt: skip
        self._cancelled, self._progress = cancelled, progress

    def wait(self, name: str, seconds: float) -> None:
        self.sleep(max(0.0, seconds))

    def cancelled(self) -> bool:
        return self._cancelled()

    def progress(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)


def failure_of(probe: Probe) -> Probe:
    """A probe that turns an ``OpsFailure`` (a throttled read, say) into a look that is not done, so a wait
    goes on and remembers why."""

    def look() -> tuple[bool, Any]:
        try:
            return probe()
        except OpsFailure as failure:
            return False, {"unreadable": failure.error.message}

    return look


INFINITE = math.inf
