"""One audit record per write — who asked, which function, what change, and the outcome — as one
structured line in the service's JSON log (``"message": "audit"``). Written by the tools, which know the
outcome; the caller comes from the SDK's auth context (the principal the edge verified), never a token.
A refused write (sign-in passed, the write policy said no) and a declined confirmation are recorded too."""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token

from app.lambda_ops import InvokeResult, OpsError, UpgradeResult

# A child of the service's Powertools logger ("lambda-ops-mcp"): its records go through the same JSON
# handler, with the Lambda request id and correlation id. (The name is the service's, not imported from
# app.web: the surface does not import the edge.)
log = logging.getLogger("lambda-ops-mcp.audit")


def caller() -> dict[str, Any]:
    access = get_access_token()
    if access is None:
        return {"sub": None, "client_id": None, "signed_in": False}
    issuer = (access.claims or {}).get("iss")
    return {"sub": access.subject, "client_id": access.client_id, "issuer": issuer, "signed_in": True}


def _outcome(result: InvokeResult | UpgradeResult | OpsError) -> dict[str, Any]:
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


def record(
    action: str, function: str, change: dict[str, Any], result: InvokeResult | UpgradeResult | OpsError
) -> None:
    log.info(
        "audit",
        extra={
            "audit": {
                "action": action,
                "function": function,
                "change": change,
                "caller": caller(),
                **_outcome(result),
            }
        },
    )
