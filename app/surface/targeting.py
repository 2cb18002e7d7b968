"""Where a tool call looks: its optional ``account`` and ``region``, the signed-in caller every
cross-account session names, and the target's facade (or why it cannot be reached, as a value)."""

from __future__ import annotations

from mcp.server.auth.middleware.auth_context import get_access_token

from app.fleet.failures import classify
from app.fleet.fleet import Fleet
from app.fleet.targets import Caller
from app.lambda_ops import LambdaOps, OpsError
from app.lambda_ops.errors import OpsFailure


def caller(tool: str) -> Caller:
    """The signed-in caller of this request (their ``sub``, else a machine token's client id; anonymous
    when sign-in is off) asking through ``tool``."""
    access = get_access_token()
    if access is None:
        return Caller(tool=tool)
    return Caller(identity=access.subject or access.client_id or "anonymous", tool=tool)


def ops_for(
    fleet: Fleet, account: str | None, region: str | None, tool: str, *, write: bool = False
) -> LambdaOps | OpsError:
    """The facade of the target ``account``/``region`` name (None: home), reached for ``tool`` as the
    caller (the writer role when ``write``); an ``OpsError`` (invalid, access_denied, ...) otherwise."""
    try:
        target = fleet.resolve(account, region)
    except OpsFailure as failure:
        return failure.error
    try:
        return fleet.ops(target, caller(tool), write=write)
    except OpsFailure as failure:
        return classify(failure.error, target, fleet.home.region)


def where(fleet: Fleet, account: str | None, region: str | None) -> str:
    """' in account A (region R)' for a target other than home, for confirmation questions; '' for home."""
    if not (account or "").strip() and not (region or "").strip():
        return ""
    try:
        target = fleet.resolve(account, region)
    except OpsFailure:
        return ""
    return f" in account {target.account}, region {target.region}"


def task_target(fleet: Fleet, account: str | None, region: str | None) -> tuple[str | None, str | None]:
    """What a task's ``WorkOrder`` carries: the resolved account id and region (None, None: home)."""
    if not (account or "").strip() and not (region or "").strip():
        return None, None
    try:
        target = fleet.resolve(account, region)
    except OpsFailure:
        return None, None  # the tool answered the error before starting anything
    return target.account, target.region
