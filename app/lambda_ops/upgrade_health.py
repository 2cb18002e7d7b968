"""After a real upgrade: how the function behaves since the change against its 7-day baseline.

A separate, bounded step after the upgrade runner returns (the runner knows nothing of it): it never turns
an upgrade's outcome into an error — a failing read is reported as "health unavailable: <why>" — and it
never pushes the call past the function's 29 s timeout (one attempt on a client with a short timeout, or
not at all when the upgrade used the time). Right after a change CloudWatch usually has no datapoints yet:
the result then says the data cannot tell, and ``LambdaOps.health_since`` can be asked again later.
"""

from __future__ import annotations

from datetime import datetime

from app.lambda_ops.clients import LambdaClients
from app.lambda_ops.errors import OpsFailure
from app.lambda_ops.health import health_since, unavailable
from app.lambda_ops.upgrade.plan import Outcome, UpgradeResult

CALL_LIMIT_S = 27.0  # the tool call must end inside the function's 29 s timeout
MIN_LEFT_S = 2.0
READ_TIMEOUT_S = 5.0
# Nothing of the change is live after these: the function is on its previous runtime.
_NOT_LIVE = {Outcome.FAILED, Outcome.ROLLED_BACK}


def attach_health(
    result: UpgradeResult, clients: LambdaClients, since: datetime, now: datetime, elapsed_s: float
) -> UpgradeResult:
    """``result`` with ``health`` set when the upgrade changed something that is still live (not a dry run,
    steps taken, neither failed nor rolled back)."""
    if result.dry_run or not result.steps or result.outcome in _NOT_LIVE:
        return result
    # Shipped through an alias that now serves the published version: that alias's traffic is the change's.
    alias = result.alias
    moved = alias is not None and alias.published_version is not None
    moved = moved and alias is not None and alias.version_after == alias.published_version
    qualifier = alias.name if alias is not None and moved else None
    left = CALL_LIMIT_S - elapsed_s
    if left < MIN_LEFT_S:
        result.health = unavailable(
            "the upgrade used the time this call has; ask get-function-health later", since, qualifier
        )
        return result
    try:
        cloudwatch = clients.client_within("cloudwatch", min(left - 1.0, READ_TIMEOUT_S))
        result.health = health_since(cloudwatch, result.function_name, qualifier, since, now)
    except OpsFailure as failure:
        result.health = unavailable(failure.error.message, since, qualifier)
    except Exception as error:  # never an error for an upgrade that happened
        result.health = unavailable(f"{type(error).__name__}: {error}"[:200], since, qualifier)
    return result
