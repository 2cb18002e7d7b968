"""CloudWatch ``GetMetricData`` for Lambda's own metrics (namespace ``AWS/Lambda``): plain metric queries
only, no metric math (rates are divided here — cheaper, clearer, and moto returns nothing for math), at
most 500 queries a call (the API's limit), every page read (``NextToken``).

Dimensions, as Lambda publishes them: ``FunctionName`` alone aggregates every version and alias of a
function; ``FunctionName`` + ``Resource`` (``name:alias`` or ``name:version``) counts invocations made through
that qualifier; ``FunctionName`` + ``Resource`` + ``ExecutedVersion`` splits an alias's invocations by the
version that ran them (a weighted alias routes to two). CloudWatch matches the dimension set exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.lambda_ops.errors import ErrorKind, OpsError, OpsFailure, aws_call

NAMESPACE = "AWS/Lambda"
MAX_QUERIES = 500  # GetMetricData's limit per call
MAX_PAGES = 20  # per chunk of queries: far more than a few datapoints per query ever need

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetricQuery:
    id: str  # [a-z][a-zA-Z0-9_]*: GetMetricData's rule
    metric: str
    stat: str  # Sum, Maximum, p50, p99, ...
    dimensions: Dimensions

    def request(self, period_s: int) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
                },
                "Period": period_s,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


def dimensions_for(
    name: str, qualifier: str | None = None, executed_version: str | None = None
) -> Dimensions:
    """The dimension set of a function, of one of its qualifiers, or of an alias's executed version."""
    if qualifier is None:
        return (("FunctionName", name),)
    found: Dimensions = (("FunctionName", name), ("Resource", f"{name}:{qualifier}"))
    if executed_version is not None:
        found += (("ExecutedVersion", executed_version),)
    return found


Series = dict[str, list[tuple[datetime, float]]]


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def ceil_minute(moment: datetime) -> datetime:
    floored = floor_minute(moment)
    return floored if floored == moment else floored + timedelta(minutes=1)


def get_metric_data(
    cloudwatch: Any,
    queries: Iterable[MetricQuery],
    start: datetime,
    end: datetime,
    period_s: int,
    *,
    deadline: tuple[Callable[[], float], float] | None = None,
) -> tuple[Series, int]:
    """(datapoints per query id, oldest first; the number of GetMetricData calls made). A query without
    datapoints is absent or empty: Lambda publishes most metrics only when they are non-zero.

    ``deadline`` (clock, moment): no call is started after it — the read fails whole (a timeout) rather
    than answer for some queries only, since a missing query would read as zero."""
    queries = list(queries)
    series: Series = defaultdict(list)
    calls = 0
    for offset in range(0, len(queries), MAX_QUERIES):
        chunk = [q.request(period_s) for q in queries[offset : offset + MAX_QUERIES]]
        token: str | None = None
        for _ in range(MAX_PAGES):
            if deadline is not None and deadline[0]() >= deadline[1]:
                raise OpsFailure(
                    OpsError(
                        kind=ErrorKind.TIMEOUT,
                        message=f"no time left for the metrics after {calls} GetMetricData calls",
                        retryable=True,
                        operation="GetMetricData",
                    )
                )
            request: dict[str, Any] = {
                "MetricDataQueries": chunk,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                request["NextToken"] = token
            with aws_call("GetMetricData", service="cloudwatch"):
                response = cloudwatch.get_metric_data(**request)
            calls += 1
            for result in response.get("MetricDataResults", []):
                pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                series[result["Id"]].extend((stamp, float(value)) for stamp, value in pairs)
            token = response.get("NextToken")
            if not token:
                break
    for points in series.values():
        points.sort(key=lambda point: point[0])
    return dict(series), calls


def split(points: list[tuple[datetime, float]], boundary: datetime) -> tuple[list[float], list[float]]:
    """Values before ``boundary`` and from it on."""
    before = [value for stamp, value in points if _aware(stamp) < boundary]
    after = [value for stamp, value in points if _aware(stamp) >= boundary]
    return before, after


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
