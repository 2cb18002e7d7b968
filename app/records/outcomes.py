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
CAMPAIGN_FAILURES = "CampaignFailures"


def record_campaign(status: str, failures: int) -> None:
    """Per campaign that ran (``status``: completed, stopped, cancelled): ``CampaignOutcome`` (count 1)
    and ``CampaignFailures`` (its failures), each on its own EMF line with the ``status`` dimension — a
    ``single_metric`` holds one metric (Powertools drops a second one) — a stopped campaign is what its
    breaker alarm watches."""
    for name, value in ((CAMPAIGN_METRIC, 1), (CAMPAIGN_FAILURES, failures)):
        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=value,
            namespace=NAMESPACE,
            default_dimensions={"service": SERVICE},
        ) as metric:
            metric.add_dimension(name="status", value=status)
