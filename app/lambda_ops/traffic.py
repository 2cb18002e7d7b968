"""Invocations of many functions at once: one ``GetMetricData`` query per function (``Invocations``, Sum,
dimension ``FunctionName`` — every version and alias), one period covering the whole range, up to 500
queries a call. For ordering functions by how much they serve (the audit's ranking, upgrade waves)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from app.lambda_ops.errors import invalid
from app.lambda_ops.metrics import MetricQuery, ceil_minute, dimensions_for, get_metric_data

DEFAULT_DAYS = 30
MAX_DAYS = 90
MAX_FUNCTIONS = 10_000  # 20 calls


class Traffic(BaseModel):
    days: int = Field(description="Length of the range, ending now.")
    start: datetime = Field(description="Start of the range (UTC).")
    end: datetime = Field(description="End of the range (UTC).")
    invocations: dict[str, int] = Field(
        description="Invocations per function over the range (0: CloudWatch has none for it)."
    )
    calls: int = Field(description="GetMetricData calls made (500 functions a call).")


def read_traffic(
    cloudwatch: Any,
    functions: list[str],
    days: int,
    now: datetime,
    *,
    deadline: tuple[Callable[[], float], float] | None = None,
) -> Traffic:
    """``deadline`` (clock, moment): fail whole (a timeout) rather than start a call after it."""
    if not 1 <= days <= MAX_DAYS:
        raise invalid(f"days must be between 1 and {MAX_DAYS}, got {days}.")
    names = list(dict.fromkeys(f for f in functions if f))
    if len(names) > MAX_FUNCTIONS:
        raise invalid(f"At most {MAX_FUNCTIONS} functions at once, got {len(names)}.")
    # Whole hours: a period that is a multiple of 3600 s is valid however old the start (CloudWatch
    # needs multiples of 300 s beyond 15 days, of 3600 s beyond 63).
    end = ceil_minute(now).replace(minute=0) + timedelta(hours=1)
    start = end - timedelta(days=days)
    queries = [MetricQuery(f"f{i}", "Invocations", "Sum", dimensions_for(n)) for i, n in enumerate(names)]
    series, calls = (
        get_metric_data(cloudwatch, queries, start, end, days * 86400, deadline=deadline)
        if names
        else ({}, 0)
    )
    counts = {name: round(sum(value for _, value in series.get(f"f{i}", []))) for i, name in enumerate(names)}
    return Traffic(days=days, start=start, end=end, invocations=counts, calls=calls)
