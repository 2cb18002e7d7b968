"""One EMF metric per runtime upgrade that changed (or tried to change) a function: ``UpgradeOutcome``
(count 1) with an ``outcome`` dimension — the alarm watches ``rollback_failed``, ``rollback_refused`` and
``unverified``: a function possibly left on a runtime its smoke test rejected, or a change nobody verified.

Emitted on its own EMF line (Powertools ``single_metric``), not into the request's metric set: the
request's metrics share one dimension set (method, tool), which an outcome dimension would split.
Dry runs (planned, refused) and declined confirmations change nothing and are not counted.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from app.lambda_ops import UpgradeResult
from app.lambda_ops.upgrade.plan import Outcome

NAMESPACE = (
    "LambdaOpsMcp"  # the request metrics' namespace (app/web/observability.py; a test keeps them equal)
)
SERVICE = "lambda-ops-mcp"
METRIC = "UpgradeOutcome"
ALARMING = frozenset({Outcome.ROLLBACK_FAILED, Outcome.ROLLBACK_REFUSED, Outcome.UNVERIFIED})
_NOT_COUNTED = frozenset({Outcome.PLANNED, Outcome.REFUSED, Outcome.DECLINED})  # nothing changed


def record(result: UpgradeResult) -> None:
    if result.outcome in _NOT_COUNTED:
        return
    with single_metric(
        name=METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="outcome", value=result.outcome.value)


CAMPAIGN_METRIC = "CampaignOutcome"


def record_campaign(status: str, failures: int) -> None:
    """One EMF line per campaign that ran (``status``: completed, stopped, cancelled), its failures as a
    second metric of the same line: a stopped campaign is what its breaker alarm watches."""
    with single_metric(
        name=CAMPAIGN_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="status", value=status)
        metric.add_metric(name="CampaignFailures", unit=MetricUnit.Count, value=failures)
