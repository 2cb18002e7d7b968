"""One EMF metric per task event: ``TaskEvents`` (count 1) with ``event`` (created, completed, failed,
cancelled) and ``tool`` dimensions — the dashboard shows them by tool, the failed-tasks alarm sums every
``failed`` with a Metrics Insights query (template.yaml ``TaskFailuresAlarm``). Emitted on its own line (as
``UpgradeOutcome`` is): the request's metrics share one dimension set."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from app.tasks.model import TaskStatus

NAMESPACE = "LambdaOpsMcp"
SERVICE = "lambda-ops-mcp"
METRIC = "TaskEvents"


def record_task_event(tool: str, event: str) -> None:
    with single_metric(
        name=METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="event", value=event)
        metric.add_dimension(name="tool", value=tool)


def record_task_end(tool: str, status: TaskStatus) -> None:
    record_task_event(tool, status.value)
