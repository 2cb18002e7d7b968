"""The gate after each traffic step: is the new version worse than the old one, or than the function's week?

One ``GetMetricData`` call per gate reads, for the alias's two versions over the step (dimensions
``FunctionName`` + ``Resource`` = ``name:alias`` + ``ExecutedVersion``, which is how Lambda splits a weighted
alias's invocations by the version that ran them), Invocations, Errors and Throttles; a second call reads the
function's own 7 days before the campaign (dimension ``FunctionName``) for the baseline error rate. The
CloudWatch alarms named in the request are read with ``DescribeAlarms``: one in state ``ALARM`` is a breach.

The verdict (``judge``, pure):
- ``breach``: a named alarm is in ALARM; or the new version's error rate exceeds every one of: the old
  version's rate times ``RATIO``, the baseline's rate times ``RATIO`` and ``ABSOLUTE`` (1 percentage
  point) — so a function that always fails a little is not rolled back for failing as usual, and one
  error in a thousand
  does not stop a campaign; likewise its throttle rate against the old version's;
- ``no_data``: no invocation reached the new version in the step (CloudWatch lags a minute or two; idle
  functions get no traffic at all): nothing contradicts the smoke test, the shift goes on and says so;
- ``pass``: otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from app.lambda_ops.errors import aws_call
from app.lambda_ops.metrics import MetricQuery, ceil_minute, dimensions_for, floor_minute, get_metric_data

RATIO = 2.0
ABSOLUTE = 0.01
BASELINE = timedelta(days=7)
METRICS = ("Invocations", "Errors", "Throttles")
Verdict = Literal["pass", "breach", "no_data"]


@dataclass(frozen=True)
class Counts:
    invocations: float = 0.0
    errors: float = 0.0
    throttles: float = 0.0

    def error_rate(self) -> float:
        return self.errors / max(self.invocations, self.errors, 1.0)

    def throttle_rate(self) -> float:
        return self.throttles / max(self.invocations + self.throttles, 1.0)

    def words(self) -> str:
        return f"{self.invocations:g} invocations, {self.errors:g} errors, {self.throttles:g} throttles"


@dataclass(frozen=True)
class GateReading:
    new: Counts
    old: Counts
    baseline: Counts
    alarms_in_alarm: tuple[str, ...]


def judge(reading: GateReading, new_version: str, old_version: str) -> tuple[Verdict, str]:
    new, old, base = reading.new, reading.old, reading.baseline
    if reading.alarms_in_alarm:
        return "breach", f"alarm {', '.join(reading.alarms_in_alarm)} in state ALARM"
    seen = f"version {new_version}: {new.words()}; version {old_version}: {old.words()}"
    if new.invocations == 0 and new.errors == 0 and new.throttles == 0:
        return "no_data", f"no invocation reached version {new_version} in this step ({seen})"
    allowed = max(old.error_rate() * RATIO, base.error_rate() * RATIO, ABSOLUTE)
    if new.errors > 0 and new.error_rate() > allowed:
        return "breach", (
            f"errors: version {new_version} failed {new.error_rate():.1%} of its invocations, above "
            f"{allowed:.1%} (version {old_version} {old.error_rate():.1%}, the function's 7 days "
            f"{base.error_rate():.1%}); {seen}"
        )
    allowed_throttles = max(old.throttle_rate() * RATIO, ABSOLUTE)
    if new.throttles > 0 and new.throttle_rate() > allowed_throttles:
        return "breach", (
            f"throttles: version {new_version} throttled {new.throttle_rate():.1%}, above "
            f"{allowed_throttles:.1%} (version {old_version} {old.throttle_rate():.1%}); {seen}"
        )
    return "pass", seen


def read_gate(
    cloudwatch: Any,
    function: str,
    alias: str,
    new_version: str,
    old_version: str,
    since: datetime,
    now: datetime,
    baseline_end: datetime,
    alarms: list[str],
) -> GateReading:
    """The metrics of the step that began at ``since`` and the alarms' states (raises ``OpsFailure``)."""
    start, end = floor_minute(since), ceil_minute(now) + timedelta(minutes=1)
    period = max(60, int((end - start).total_seconds()) // 60 * 60)
    queries = [
        MetricQuery(f"{tag}{i}", metric, "Sum", dimensions_for(function, alias, version))
        for tag, version in (("n", new_version), ("o", old_version))
        for i, metric in enumerate(METRICS)
    ]
    series, _ = get_metric_data(cloudwatch, queries, start, end, period)
    base_start = floor_minute(baseline_end - BASELINE)
    base_end = floor_minute(baseline_end)
    baseline_queries = [
        MetricQuery(f"b{i}", metric, "Sum", dimensions_for(function)) for i, metric in enumerate(METRICS)
    ]
    base_period = int((base_end - base_start).total_seconds())
    base_series, _ = get_metric_data(cloudwatch, baseline_queries, base_start, base_end, base_period)

    def counts(found: dict[str, list[tuple[datetime, float]]], tag: str) -> Counts:
        total: Callable[[int], float] = lambda i: sum(v for _, v in found.get(f"{tag}{i}", []))  # noqa: E731
        return Counts(total(0), total(1), total(2))

    return GateReading(
        new=counts(series, "n"),
        old=counts(series, "o"),
        baseline=counts(base_series, "b"),
        alarms_in_alarm=tuple(alarms_in_alarm(cloudwatch, alarms)),
    )


def alarms_in_alarm(cloudwatch: Any, alarms: list[str]) -> list[str]:
    if not alarms:
        return []
    with aws_call("DescribeAlarms", service="cloudwatch"):
        found = cloudwatch.describe_alarms(AlarmNames=alarms, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    states = [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]
    return sorted(str(a["AlarmName"]) for a in states if a.get("StateValue") == "ALARM")


def missing_alarms(cloudwatch: Any, alarms: list[str]) -> list[str]:
    """The named alarms that do not exist in this account and region (a run refuses to start on any)."""
    if not alarms:
        return []
    with aws_call("DescribeAlarms", service="cloudwatch"):
        found = cloudwatch.describe_alarms(AlarmNames=alarms, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    names = {str(a["AlarmName"]) for a in [*found.get("MetricAlarms", []), *found.get("CompositeAlarms", [])]}
    return [name for name in alarms if name not in names]
