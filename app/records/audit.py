"""One audit record per write — who asked, which function, what change, and the outcome — as one structured
line in the service's JSON log (``"message": "audit"``), with the task id when the write ran in a task. The
caller is who the sign-in verified (subject, client, issuer), never a token."""

from __future__ import annotations

import logging
from typing import Any

from app.lambda_ops import InvokeResult, OpsError, UpgradeResult

# A child of the service's Powertools logger ("lambda-ops-mcp"): its records go through the same JSON
# handler, with the Lambda request id and correlation id.
log = logging.getLogger("lambda-ops-mcp.audit")

ANONYMOUS: dict[str, Any] = {"sub": None, "client_id": None, "signed_in": False}


def outcome_fields(result: InvokeResult | UpgradeResult | OpsError) -> dict[str, Any]:
    if isinstance(result, OpsError):
        return {
            "outcome": "refused" if result.setting else "error",
            "error": result.kind,
            "setting": result.setting,
        }
    if isinstance(result, InvokeResult):
        if not result.invoked:  # the user declined the confirmation (2026-07-28): nothing ran
            return {"outcome": "declined"}
        return {
            "outcome": "function_error" if result.function_error else "invoked",
            "status": result.status_code,
        }
    return {
        "outcome": result.outcome,
        "verified": result.verified,
        "previous_runtime": result.previous_runtime,
        "final_runtime": result.final_runtime,
    }


def write(
    action: str,
    function: str,
    change: dict[str, Any],
    result: InvokeResult | UpgradeResult | OpsError,
    caller: dict[str, Any],
    *,
    task_id: str | None = None,
) -> None:
    record: dict[str, Any] = {
        "action": action,
        "function": function,
        "change": change,
        "caller": caller,
        **outcome_fields(result),
    }
    if task_id is not None:
        record["task_id"] = task_id
    log.info("audit", extra={"audit": record})


def write_started(
    action: str, function: str, change: dict[str, Any], caller: dict[str, Any], task_id: str
) -> None:
    """A write handed to the task worker: who asked for it, now; the worker writes the outcome's line."""
    record = {"action": action, "function": function, "change": change, "caller": caller,
              "outcome": "task_started", "task_id": task_id}  # fmt: skip
    log.info("audit", extra={"audit": record})
