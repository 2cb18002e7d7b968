"""Changing a function's runtime and waiting for AWS to apply it — through the run's ``Effects``.

boto3's ``function_updated`` waiter polls for up to 300 s, far beyond a 30 s gateway; here the wait is the
effects' ``poll``: within the tool call's budget (1 s, 1.5 s, ... at most 3 s apart), or as a durable wait
in a task, until ``LastUpdateStatus`` leaves ``InProgress``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.lambda_ops.clients import LambdaClients
from app.lambda_ops.errors import aws_call
from app.lambda_ops.upgrade.effects import Effects, failure_of

# A task waits as long as AWS may take. Lambda applies a runtime change in seconds to a few minutes (longer
# with SnapStart or a VPC); past this the outcome is in_progress, as in a tool call whose budget ran out.
DURABLE_WAIT_LIMIT_S = 60 * 60.0


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


def plain(response: dict[str, Any]) -> dict[str, Any]:
    """A boto3 response as JSON data, without ResponseMetadata (request ids: noise in a checkpoint)."""
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


class RuntimeUpdater:
    def __init__(self, clients: LambdaClients, effects: Effects) -> None:
        self.clients, self.effects = clients, effects

    def read(self, function: str) -> dict[str, Any]:
        return self.effects.call("read configuration", lambda: self._read(function))

    def _read(self, function: str) -> dict[str, Any]:
        with aws_call("GetFunctionConfiguration", function):
            return plain(dict(self.clients.control.get_function_configuration(FunctionName=function)))

    def update(self, function: str, runtime: str | None, revision_id: str | None) -> None:
        """Raises ``OpsFailure`` if AWS rejects the change (then nothing changed)."""
        request: dict[str, Any] = {"FunctionName": function, "Runtime": runtime}
        if revision_id:
            request["RevisionId"] = revision_id  # AWS refuses rather than overwrite a concurrent change

        def send() -> None:
            with aws_call("UpdateFunctionConfiguration", function):
                self.clients.control.update_function_configuration(**request)

        self.effects.call(f"UpdateFunctionConfiguration Runtime={runtime}", send)

    def wait(self, function: str, what: str) -> Observed:
        """Polls until LastUpdateStatus is Successful or Failed, or the wait's limit passes."""

        def look() -> tuple[bool, Any]:
            config = self._read(function)
            seen = Observed(
                str(config.get("LastUpdateStatus") or "Unknown"),
                config.get("Runtime"),
                config.get("RevisionId"),
                config.get("LastUpdateStatusReason"),
            )
            self.effects.progress(f"{what}: waiting for LastUpdateStatus (now {seen.status})")
            return seen.status in ("Successful", "Failed"), asdict(seen)

        limit = DURABLE_WAIT_LIMIT_S if self.effects.durable else None
        _, seen = self.effects.poll(f"wait: {what}", failure_of(look), limit)
        if "unreadable" in seen:  # the last look failed (e.g. throttled): unknown, say why
            return Observed("Unknown", None, None, str(seen["unreadable"]))
        return Observed(**seen)
