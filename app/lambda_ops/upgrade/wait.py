"""Changing a function's runtime and waiting for AWS to apply it — within a deadline, never longer.

boto3's ``function_updated`` waiter polls for up to 300 s, far beyond a 30 s gateway; this polls
GetFunctionConfiguration with a growing interval (1 s, 1.5 s, ... at most 3 s) until ``LastUpdateStatus``
leaves ``InProgress`` or the deadline passes. Clock and sleep are injectable for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.lambda_ops.clients import LambdaClients
from app.lambda_ops.errors import OpsFailure, aws_call


@dataclass(frozen=True)
class Observed:
    """The function as last read: ``status`` is its LastUpdateStatus, Unknown if it couldn't be read."""

    status: str
    runtime: str | None
    revision_id: str | None = None
    reason: str | None = None

    def on(self, runtime: str | None) -> bool:
        """True if AWS reports ``runtime`` fully applied."""
        return self.status == "Successful" and self.runtime == runtime

    @property
    def detail(self) -> str:
        return f"last update status {self.status}" + (f": {self.reason}" if self.reason else "")


class RuntimeUpdater:
    def __init__(
        self,
        clients: LambdaClients,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 1.0,
        max_poll_interval_s: float = 3.0,
    ) -> None:
        self.clients, self.clock, self.sleep = clients, clock, sleep
        self.poll_interval_s, self.max_poll_interval_s = poll_interval_s, max_poll_interval_s

    def read(self, function: str) -> dict[str, Any]:
        with aws_call("GetFunctionConfiguration", function):
            return dict(self.clients.control.get_function_configuration(FunctionName=function))

    def update(self, function: str, runtime: str | None, revision_id: str | None) -> None:
        """Raises ``OpsFailure`` if AWS rejects the change (then nothing changed)."""
        request: dict[str, Any] = {"FunctionName": function, "Runtime": runtime}
        if revision_id:
            request["RevisionId"] = revision_id  # AWS refuses rather than overwrite a concurrent change
        with aws_call("UpdateFunctionConfiguration", function):
            self.clients.control.update_function_configuration(**request)

    def wait(self, function: str, deadline: float) -> Observed:
        """Polls until LastUpdateStatus is Successful or Failed, or the deadline passes."""
        interval, seen = self.poll_interval_s, Observed("Unknown", None)
        while True:
            try:
                config = self.read(function)
            except OpsFailure as failure:  # e.g. a throttled read: keep waiting, remember why
                seen = Observed("Unknown", seen.runtime, seen.revision_id, failure.error.message)
            else:
                seen = Observed(
                    str(config.get("LastUpdateStatus") or "Unknown"),
                    config.get("Runtime"),
                    config.get("RevisionId"),
                    config.get("LastUpdateStatusReason"),
                )
                if seen.status in ("Successful", "Failed"):
                    return seen
            remaining = deadline - self.clock()
            if remaining <= 0:
                return seen
            self.sleep(min(interval, remaining))
            interval = min(interval * 1.5, self.max_poll_interval_s)
