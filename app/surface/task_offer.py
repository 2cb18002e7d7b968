"""How a tool call becomes a task: the extension (``tasks``) offers it, the tool decides.

For a ``tools/call`` whose client declared ``io.modelcontextprotocol/tasks`` on that request, the extension's
interceptor sets a ``TaskOffer`` for the duration of the call. A tool whose work would not fit the
gateway's budget (an upgrade, an audit too big to finish, an invoke of a slow function) calls
``offer().start(...)`` *after* its confirmation was resolved on the original call (the MRTR round happens
before the task exists, as the extension asks): the task is durably created and its execution started, and
``start`` raises ``TaskCreated`` — an ``MCPError``, which the SDK passes through its tool machinery
unchanged — carrying the ``CreateTaskResult`` the interceptor answers. No offer (the client did not declare
tasks, or tasks are not configured): the tool runs as before, synchronously.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR

from app.lambda_ops import OpsError
from app.lambda_ops.errors import OpsFailure
from app.surface import audit_trail
from app.tasks.model import Owner, TaskRecord
from app.tasks.service import TaskService


class TaskCreated(MCPError):
    """Not an error: the control flow that carries a ``CreateTaskResult`` from a tool body to the
    extension's interceptor through the SDK (which re-raises ``MCPError`` unchanged)."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(code=INTERNAL_ERROR, message="a task was created (the tasks extension answers)")
        self.result = result


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def task_fields(record: TaskRecord) -> dict[str, Any]:
    """The ``Task`` fields every task answer carries."""
    fields: dict[str, Any] = {
        "taskId": record.task_id,
        "status": record.status.value,
        "createdAt": iso(record.created_ms),
        "lastUpdatedAt": iso(record.updated_ms),
        "ttlMs": record.ttl_ms,
        "pollIntervalMs": record.poll_interval_ms,
    }
    if record.status_message:
        fields["statusMessage"] = record.status_message
    return fields


def owner() -> Owner:
    """The principal of this request, as the edge verified it (nobody, when sign-in is off)."""
    access = get_access_token()
    if access is None:
        return Owner()
    issuer = str((access.claims or {}).get("iss") or "")
    return Owner(issuer=issuer, sub=access.subject or "", client_id=access.client_id or "")


@dataclass(frozen=True)
class TaskOffer:
    service: TaskService

    def start(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        message: str,
        stop_on_cancel: bool,
        poll_interval_ms: int | None = None,
        started: Callable[[TaskRecord], None] | None = None,
        target: tuple[str | None, str | None] = (None, None),
    ) -> OpsError:
        """Create the task and answer ``CreateTaskResult`` (raises ``TaskCreated``, after ``started`` saw
        the new task: a write's audit line names it); the error when the task could not be started (the
        tool answers it as a tool error). ``target``: the (account id, region) the work is for (None: home).
        """
        try:
            record = self.service.create(
                tool=tool,
                arguments=arguments,
                owner=owner(),
                caller=audit_trail.caller(),
                message=message,
                stop_on_cancel=stop_on_cancel,
                poll_interval_ms=poll_interval_ms,
                server_function=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
                account=target[0],
                region=target[1],
            )
        except OpsFailure as failure:
            return failure.error
        if started is not None:
            started(record)
        raise TaskCreated({"resultType": "task", **task_fields(record)})


_offer: ContextVar[TaskOffer | None] = ContextVar("lambda_ops_task_offer", default=None)


def offer() -> TaskOffer | None:
    """The task offer of the current ``tools/call``, if its client takes tasks."""
    return _offer.get()


@contextmanager
def offering(task_offer: TaskOffer) -> Iterator[None]:
    """Offer tasks to the tool call that runs inside the block."""
    token = _offer.set(task_offer)
    try:
        yield
    finally:
        _offer.reset(token)
