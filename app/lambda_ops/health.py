"""A function's metrics over a window against its baseline, and the differences that matter, in words.

One ``GetMetricData`` call covers both: the range is the 7 days before the window plus the window, with a
period of exactly 7 days, so each query answers with (at most) two datapoints — the baseline bucket and the
window bucket. Sums, maxima and percentiles then come out of CloudWatch exact for each bucket (percentiles
cannot be combined from smaller buckets; this way none need to be). Rates are divided here from plain sums.

``health_since`` is the same measurement from a given moment on (an upgrade's start): the upgrade attaches
it to its result, and a later caller (a durable worker) can ask again when the data can tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from app.lambda_ops.metrics import (
    MetricQuery,
    ceil_minute,
    dimensions_for,
    floor_minute,
    get_metric_data,
    split,
)

BASELINE = timedelta(days=7)
PERIOD_S = int(BASELINE.total_seconds())
MAX_WINDOW = timedelta(days=7)

# Anomaly thresholds (docs/design.md "Function health" says why each is what it is).
MIN_ERRORS = 3  # fewer errors than this in a window is noise, whatever the rate
RATE_FACTOR = 2.0  # a rate must at least double against the baseline ...
ERROR_RATE_MARGIN = 0.01  # ... and rise by at least 1 percentage point
MIN_THROTTLES = 3
THROTTLE_RATE_MIN = 0.01
MIN_SAMPLES = 20  # invocations needed on both sides before percentiles are compared
LATENCY_FACTOR = 1.5
LATENCY_MARGIN_MS = 100.0
NEAR_TIMEOUT = 0.9  # the longest invocation took 90 % of the timeout or more
TRAFFIC_DROP = 0.25  # fewer than a quarter of the expected invocations ...
MIN_EXPECTED = 20.0  # ... when at least this many were expected
TRAFFIC_SURGE = 4.0
MIN_SURGE = 50
ITERATOR_AGE_MIN_MS = 60_000.0
MIN_TO_TELL = 20  # invocations since a change before "no anomaly" means something

_CORE = (
    ("invocations", "Invocations", "Sum"),
    ("errors", "Errors", "Sum"),
    ("throttles", "Throttles", "Sum"),
    ("duration_p50", "Duration", "p50"),
    ("duration_p99", "Duration", "p99"),
    ("duration_max", "Duration", "Maximum"),
    ("concurrency", "ConcurrentExecutions", "Maximum"),
)
# Asynchronous-invocation and stream metrics: requested for every function, reported only when they have
# data. The configuration cannot tell whether anything invokes a function asynchronously (any S3 bucket,
# SNS topic or EventBridge rule may), and CloudWatch has no datapoints for a metric a function never
# emitted; a few more metrics in the same call cost next to nothing.
OTHER_METRICS = (
    ("AsyncEventsReceived", "Sum"),
    ("AsyncEventAge", "Maximum"),
    ("AsyncEventsDropped", "Sum"),
    ("DeadLetterErrors", "Sum"),
    ("DestinationDeliveryFailures", "Sum"),
    ("IteratorAge", "Maximum"),
)


class Stats(BaseModel):
    """One side of the comparison: the window, or the baseline before it."""

    start: datetime = Field(description="Start of the period (UTC).")
    end: datetime = Field(description="End of the period (UTC).")
    invocations: int = Field(description="Invocations (Sum); throttled attempts are not invocations.")
    errors: int = Field(description="Invocations that ended in a function error or timeout (Sum).")
    throttles: int = Field(description="Invocation attempts throttled (Sum).")
    error_rate: float | None = Field(
        description="errors / invocations (0.041 = 4.1 %); null: no invocations."
    )
    throttle_rate: float | None = Field(
        description="throttles / (invocations + throttles); null: no attempts at all."
    )
    duration_p50_ms: float | None = Field(description="Median duration (ms); null: no datapoints.")
    duration_p99_ms: float | None = Field(description="99th percentile duration (ms); null: no datapoints.")
    duration_max_ms: float | None = Field(description="Longest duration (ms); null: no datapoints.")
    concurrent_executions_max: float | None = Field(
        description="Most concurrent executions; null: CloudWatch has no datapoints for it."
    )
    other: dict[str, float] = Field(
        default_factory=dict,
        description="Asynchronous-invocation and stream metrics that have data (AsyncEventsReceived, "
        "AsyncEventAge ms, AsyncEventsDropped, DeadLetterErrors, DestinationDeliveryFailures, "
        "IteratorAge ms).",
    )


class VersionSplit(BaseModel):
    version: str = Field(description="The version that ran (ExecutedVersion) through the alias.")
    invocations: int = Field(description="Its invocations in the window.")
    errors: int = Field(description="Its errors in the window.")
    error_rate: float | None = Field(description="errors / invocations; null: no invocations.")


class RouteSplit(BaseModel):
    """For a version: how its invocations reached it (its own ARN, or an alias routing to it)."""

    via: str = Field(description="'version' (invoked by its own qualified ARN) or the alias's name.")
    invocations: int = Field(description="Invocations in the window by that route.")
    errors: int = Field(description="Errors in the window by that route.")


class Anomaly(BaseModel):
    kind: str = Field(
        description="errors_up, throttles, latency_up, near_timeout, traffic_drop, traffic_surge, "
        "async_dropped, delivery_failures, iterator_age_up or version_errors."
    )
    message: str = Field(description="The difference, in words, with both numbers.")


class HealthSince(BaseModel):
    """How a function behaves since a moment (an upgrade's start) against the 7 days before it."""

    available: bool = Field(description="False: the metrics could not be read (message says why).")
    conclusive: bool = Field(
        description="True if the data can tell: enough invocations since the change, or an anomaly."
    )
    message: str = Field(description="In words: what the data says, or why it cannot tell yet.")
    since: datetime | None = Field(default=None, description="The moment compared from (UTC).")
    qualifier: str | None = Field(default=None, description="The alias measured, if any.")
    window: Stats | None = Field(default=None, description="Since the change.")
    baseline: Stats | None = Field(default=None, description="The 7 days before the change.")
    anomalies: list[Anomaly] = Field(default_factory=list, description="Differences that matter.")


@dataclass
class Measured:
    window: Stats
    baseline: Stats
    versions: list[VersionSplit]
    calls: int
    routes: list[RouteSplit] = field(default_factory=list)

    @property
    def expected(self) -> float:
        """Invocations the window would have at the baseline's average rate."""
        span = (self.window.end - self.window.start) / (self.baseline.end - self.baseline.start)
        return self.baseline.invocations * span


def measure(
    cloudwatch: Any,
    name: str,
    qualifier: str | None,
    window_start: datetime,
    window_end: datetime,
    versions: list[str] | tuple[str, ...] = (),
    via_aliases: list[str] | tuple[str, ...] = (),
) -> Measured:
    """One GetMetricData call: the core and other metrics of the function (or qualifier), for the window and
    the 7 days before it; with ``versions`` (an alias's), invocations and errors per executed version.

    ``via_aliases`` (a version's): the aliases routing to it. Lambda counts an invocation through an alias
    under the alias's ``Resource`` (split by ``ExecutedVersion``), not under the version's own ``Resource``,
    so a version's series are its own plus its ``ExecutedVersion`` series under each of those aliases:
    counts are added, maxima and percentiles take the highest series (a percentile of merged series cannot
    be computed without the raw values; the highest is an upper bound)."""
    sources = [dimensions_for(name, qualifier)]
    if qualifier is not None:
        sources += [dimensions_for(name, alias, qualifier) for alias in via_aliases]
    queries: list[MetricQuery] = []
    for j, dims in enumerate(sources):
        queries += [MetricQuery(f"s{j}_{key}", metric, stat, dims) for key, metric, stat in _CORE]
        queries += [
            MetricQuery(f"s{j}_other{i}", metric, stat, dims)
            for i, (metric, stat) in enumerate(OTHER_METRICS)
        ]
    for i, version in enumerate(versions):
        executed = dimensions_for(name, qualifier, version)
        queries += [
            MetricQuery(f"v{i}_invocations", "Invocations", "Sum", executed),
            MetricQuery(f"v{i}_errors", "Errors", "Sum", executed),
        ]
    baseline_start = window_start - BASELINE
    series, calls = get_metric_data(cloudwatch, queries, baseline_start, window_end, PERIOD_S)
    sides: dict[str, tuple[list[float], list[float]]] = {
        key: split(points, window_start) for key, points in series.items()
    }

    def side_values(key: str, side: int) -> list[float]:
        return sides.get(key, ([], []))[side]

    def stats(side: int, start: datetime, end: datetime) -> Stats:
        def values(key: str) -> list[float]:
            return [v for j in range(len(sources)) for v in side_values(f"s{j}_{key}", side)]

        def count(key: str) -> int:
            return round(sum(values(key)))

        def highest(key: str) -> float | None:
            found = values(key)
            return round(max(found), 1) if found else None

        invocations, errors, throttles = count("invocations"), count("errors"), count("throttles")
        other = {}
        for i, (metric, stat) in enumerate(OTHER_METRICS):
            found = values(f"other{i}")
            if found:
                other[metric] = round(sum(found) if stat == "Sum" else max(found), 1)
        return Stats(
            start=start,
            end=end,
            invocations=invocations,
            errors=errors,
            throttles=throttles,
            error_rate=errors / invocations if invocations else None,
            throttle_rate=throttles / (invocations + throttles) if invocations + throttles else None,
            duration_p50_ms=highest("duration_p50"),
            duration_p99_ms=highest("duration_p99"),
            duration_max_ms=highest("duration_max"),
            concurrent_executions_max=highest("concurrency"),
            other=other,
        )

    splits = []
    for i, version in enumerate(versions):
        invoked = round(sum(side_values(f"v{i}_invocations", 1)))
        failed = round(sum(side_values(f"v{i}_errors", 1)))
        rate = failed / invoked if invoked else None
        splits.append(VersionSplit(version=version, invocations=invoked, errors=failed, error_rate=rate))
    routes = []
    if len(sources) > 1:
        for j, via in enumerate(["version", *via_aliases]):
            routes.append(
                RouteSplit(
                    via=via,
                    invocations=round(sum(side_values(f"s{j}_invocations", 1))),
                    errors=round(sum(side_values(f"s{j}_errors", 1))),
                )
            )
    return Measured(
        window=stats(1, window_start, window_end),
        baseline=stats(0, baseline_start, window_start),
        versions=splits,
        calls=calls,
        routes=routes,
    )


def pct(rate: float | None) -> str:
    if rate is None:
        return "n/a"
    value = rate * 100
    return f"{value:.1f} %" if value >= 0.1 or value == 0 else f"{value:.2f} %"


def anomalies(measured: Measured, timeout_s: int | None = None) -> list[Anomaly]:
    """The differences that matter between the window and the baseline (thresholds above)."""
    now, base = measured.window, measured.baseline
    found: list[Anomaly] = []

    def add(kind: str, message: str) -> None:
        found.append(Anomaly(kind=kind, message=message))

    base_rate = base.error_rate or 0.0
    if (
        now.errors >= MIN_ERRORS
        and now.error_rate is not None
        and now.error_rate >= RATE_FACTOR * base_rate
        and now.error_rate >= base_rate + ERROR_RATE_MARGIN
    ):
        add(
            "errors_up",
            f"errors {pct(now.error_rate)} ({now.errors} of {now.invocations:,}) against "
            f"{pct(base.error_rate)} over the previous 7 days",
        )
    base_throttle = base.throttle_rate or 0.0
    if (
        now.throttles >= MIN_THROTTLES
        and now.throttle_rate is not None
        and now.throttle_rate >= THROTTLE_RATE_MIN
        and now.throttle_rate >= RATE_FACTOR * base_throttle
    ):
        add(
            "throttles",
            f"throttled {pct(now.throttle_rate)} of attempts ({now.throttles}) against "
            f"{pct(base.throttle_rate)} over the previous 7 days",
        )
    if (
        now.invocations >= MIN_SAMPLES
        and base.invocations >= MIN_SAMPLES
        and now.duration_p99_ms is not None
        and base.duration_p99_ms is not None
        and now.duration_p99_ms >= LATENCY_FACTOR * base.duration_p99_ms
        and now.duration_p99_ms - base.duration_p99_ms >= LATENCY_MARGIN_MS
    ):
        add(
            "latency_up",
            f"duration p99 {now.duration_p99_ms:,.0f} ms against {base.duration_p99_ms:,.0f} ms over the "
            "previous 7 days",
        )
    if (
        timeout_s
        and now.duration_max_ms is not None
        and now.duration_max_ms >= NEAR_TIMEOUT * timeout_s * 1000
    ):
        add(
            "near_timeout",
            f"the longest invocation took {now.duration_max_ms:,.0f} ms of the {timeout_s} s timeout: "
            "invocations are timing out or close to it",
        )
    expected = measured.expected
    if expected >= MIN_EXPECTED and now.invocations < TRAFFIC_DROP * expected:
        add(
            "traffic_drop",
            f"{now.invocations:,} invocations against about {expected:,.0f} expected from the previous 7 "
            "days (did a trigger stop?)",
        )
    if now.invocations >= MIN_SURGE and now.invocations > TRAFFIC_SURGE * expected:
        add(
            "traffic_surge",
            f"{now.invocations:,} invocations against about {expected:,.0f} expected from the previous 7 "
            "days",
        )
    if now.other.get("AsyncEventsDropped", 0) > 0:
        add(
            "async_dropped",
            f"{now.other['AsyncEventsDropped']:,.0f} asynchronous events dropped without being processed",
        )
    failures = now.other.get("DeadLetterErrors", 0) + now.other.get("DestinationDeliveryFailures", 0)
    if failures > 0:
        add(
            "delivery_failures",
            f"{failures:,.0f} failed events could not be sent to their DLQ or destination",
        )
    age, base_age = now.other.get("IteratorAge"), base.other.get("IteratorAge", 0.0)
    if age is not None and age >= ITERATOR_AGE_MIN_MS and age >= RATE_FACTOR * base_age:
        add(
            "iterator_age_up",
            f"stream records wait up to {age / 1000:,.0f} s (iterator age) against {base_age / 1000:,.0f} s "
            "over the previous 7 days",
        )
    found += _version_anomalies(measured.versions)
    return found


def _version_anomalies(versions: list[VersionSplit]) -> list[Anomaly]:
    """A weighted alias: one version failing more than the other (a canary going wrong)."""
    if len(versions) < 2:
        return []
    found = []
    for version in versions:
        others = [v for v in versions if v is not version]
        other_invocations = sum(v.invocations for v in others)
        other_rate = sum(v.errors for v in others) / other_invocations if other_invocations else 0.0
        if (
            version.errors >= MIN_ERRORS
            and version.error_rate is not None
            and version.error_rate >= RATE_FACTOR * other_rate
            and version.error_rate >= other_rate + ERROR_RATE_MARGIN
        ):
            found.append(
                Anomaly(
                    kind="version_errors",
                    message=f"version {version.version} errors {pct(version.error_rate)} "
                    f"({version.errors} of {version.invocations:,}) against {pct(other_rate)} on the alias's "
                    "other version",
                )
            )
    return found


def window_bounds(now: datetime, minutes: int) -> tuple[datetime, datetime]:
    """The last ``minutes`` up to now, on whole minutes (CloudWatch rounds to them anyway)."""
    end = ceil_minute(now)
    return end - timedelta(minutes=minutes), end


def health_since(
    cloudwatch: Any, name: str, qualifier: str | None, since: datetime, now: datetime
) -> HealthSince:
    """Errors and duration since ``since`` (at most the last 7 days) against the 7 days before it."""
    start = max(floor_minute(since), floor_minute(now - MAX_WINDOW))
    end = max(ceil_minute(now), start + timedelta(minutes=1))
    measured = measure(cloudwatch, name, qualifier, start, end)
    found = anomalies(measured)
    window, base = measured.window, measured.baseline
    minutes = max(1, round((now - since).total_seconds() / 60))
    target = f"{name}:{qualifier}" if qualifier else name
    conclusive = bool(found) or window.invocations >= MIN_TO_TELL
    if found:
        message = (
            f"Since the change ({_ago(since, now)}), {target}: " + "; ".join(a.message for a in found) + "."
        )
    elif window.invocations == 0:
        message = (
            f"The data cannot tell yet: CloudWatch has no invocations of {target} since the change "
            f"({_ago(since, now)}); Lambda publishes metrics a minute or more after each invocation. Check "
            f"again with get-function-health (window={max(minutes + 5, 10)})."
        )
    elif not conclusive:
        message = (
            f"The data cannot tell yet: only {window.invocations} invocations of {target} since the change "
            f"({window.errors} errors); at least {MIN_TO_TELL} are needed to compare with the 7 days before "
            f"({pct(base.error_rate)} errors). Check again later with get-function-health."
        )
    else:
        p99 = f", duration p99 {window.duration_p99_ms:,.0f} ms" if window.duration_p99_ms is not None else ""
        base_p99 = f", p99 {base.duration_p99_ms:,.0f} ms" if base.duration_p99_ms is not None else ""
        message = (
            f"No anomaly since the change ({_ago(since, now)}): {window.invocations:,} invocations, errors "
            f"{pct(window.error_rate)}{p99}; the 7 days before: errors {pct(base.error_rate)}{base_p99}."
        )
    return HealthSince(
        available=True,
        conclusive=conclusive,
        message=message,
        since=since,
        qualifier=qualifier,
        window=window,
        baseline=base,
        anomalies=found,
    )


def unavailable(reason: str, since: datetime | None = None, qualifier: str | None = None) -> HealthSince:
    return HealthSince(
        available=False,
        conclusive=False,
        message=f"health unavailable: {reason}",
        since=since,
        qualifier=qualifier,
    )


def _ago(since: datetime, now: datetime) -> str:
    seconds = max(0, round((now - since).total_seconds()))
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"
