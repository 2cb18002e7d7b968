"""The audit record of a write made in a tool call: app/records/audit.py's line, with the caller the SDK's
auth context holds (the principal the edge verified). A refused write (sign-in passed, the write policy
said no) and a declined confirmation are recorded too."""

from __future__ import annotations

from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token

from app.lambda_ops import InvokeResult, OpsError, UpgradeResult
from app.records import audit


def caller() -> dict[str, Any]:
    access = get_access_token()
    if access is None:
        return dict(audit.ANONYMOUS)
    issuer = (access.claims or {}).get("iss")
    return {"sub": access.subject, "client_id": access.client_id, "issuer": issuer, "signed_in": True}


def record(
    action: str,
    function: str,
    change: dict[str, Any],
    result: InvokeResult | UpgradeResult | OpsError,
    *,
    task_id: str | None = None,
) -> None:
    audit.write(action, function, change, result, caller(), task_id=task_id)


def started(action: str, function: str, change: dict[str, Any], task_id: str) -> None:
    """The write was handed to the task worker (which records its outcome, with the same task id)."""
    audit.write_started(action, function, change, caller(), task_id)
