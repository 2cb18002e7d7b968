"""What a task is: its status, whose it is, its record, and the order the worker receives."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

EXTENSION = "io.modelcontextprotocol/tasks"


class TaskStatus(StrEnum):
    WORKING = "working"
    INPUT_REQUIRED = "input_required"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = frozenset({TaskStatus.WORKING, TaskStatus.INPUT_REQUIRED})
TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})


def new_task_id() -> str:
    """256 random bits, URL-safe (43 characters of ``[A-Za-z0-9_-]``): a valid DurableExecutionName too."""
    return secrets.token_urlsafe(32)


def digest(arguments: dict[str, Any]) -> str:
    """The arguments' SHA-256 over canonical JSON: which call a task is, without keeping its payloads."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Owner:
    """The principal a task belongs to: the signed-in caller (issuer, subject, client), or nobody when
    sign-in is off (local runs), where every caller is the same anonymous principal."""

    issuer: str = ""
    sub: str = ""
    client_id: str = ""

    @property
    def key(self) -> str:
        """One string to compare and condition on (each part's length first, so no two owners collide)."""
        parts = (self.issuer, self.sub, self.client_id)
        return "|".join(f"{len(part)}:{part}" for part in parts)

    @property
    def signed_in(self) -> bool:
        return bool(self.sub or self.client_id)


class TaskRecord(BaseModel):
    """One task, as stored (one DynamoDB item) and read back."""

    task_id: str
    owner: str  # Owner.key
    owner_sub: str = ""
    owner_client_id: str = ""
    tool: str
    arguments_digest: str
    status: TaskStatus
    status_message: str | None = None
    created_ms: int
    updated_ms: int
    expires_at: int  # epoch seconds: DynamoDB's TTL attribute, and checked on every read
    ttl_ms: int
    poll_interval_ms: int
    result: dict[str, Any] | None = None  # a completed task's outcome (``{"shape": ..., "value": ...}``)
    error: dict[str, Any] | None = None  # a failed task's JSON-RPC error {code, message, data?}
    input_requests: dict[str, dict[str, Any]] = Field(default_factory=dict)  # open, by key
    answers: dict[str, Any] = Field(default_factory=dict)  # answered in this round, by key
    answered_keys: list[str] = Field(default_factory=list)  # every key ever answered: never reused
    input_round: int = 0
    callback_id: str | None = None
    cancel_requested: bool = False
    stop_on_cancel: bool = False  # nothing to leave consistent: cancelling stops the execution at once
    execution_arn: str | None = None
    version: int = 0  # optimistic concurrency for read-modify-write updates

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class Caller(BaseModel):
    """Who asked, as the worker records it in audit lines (never a token)."""

    sub: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    signed_in: bool = False


class WorkOrder(BaseModel):
    """What the worker is asked to do: the durable execution's input (≤ 256 KB)."""

    task_id: str
    tool: str
    arguments: dict[str, Any]
    caller: Caller
    requested_at: float  # epoch seconds: the worker's clock starts here (the same on every replay)
    server_function: str | None = None  # the server's own function: the worker never writes it either
    # The target (issue #14): the account id and region the tool was asked about; None: the home one.
    account: str | None = None
    region: str | None = None
