"""``get-function-health``: a function's (or one alias's or version's) metrics over a window against its
7-day baseline, the anomalies found, and its recent error lines.

AWS calls: ``GetFunctionConfiguration`` (the version's timeout and log group — and its environment values,
used only to redact log lines, never returned), ``GetAlias`` for an alias (the versions it routes to) or
``ListAliases`` for a version (the aliases routing to it: their invocations of it are counted under the
alias), one ``GetMetricData``, then the log search (``recent_errors``) unless the window had no invocation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.lambda_ops.errors import aws_call, invalid
from app.lambda_ops.health import (
    MAX_WINDOW,
    Anomaly,
    RouteSplit,
    Stats,
    VersionSplit,
    anomalies,
    measure,
    window_bounds,
)
from app.lambda_ops.metrics import dimensions_for
from app.lambda_ops.recent_errors import LogSearch, RecentErrors, log_group_of, not_searched
from app.lambda_ops.redact import Redactor
from app.lambda_ops.versions import weights_of

DEFAULT_WINDOW_MINUTES = 60
MAX_WINDOW_MINUTES = int(MAX_WINDOW.total_seconds() // 60)
_ALIAS = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$")
_VERSION = re.compile(r"^[0-9]{1,10}$")
MAX_VIA_ALIASES = 10  # a version's aliases whose series are added (13 queries each)

Status = Literal["anomalous", "ok", "no_recent_traffic", "idle"]


class FunctionHealth(BaseModel):
    """How a function behaves over a window, against the same metrics over the 7 days before it."""

    name: str = Field(description="The function.")
    qualifier: str | None = Field(description="The alias or version measured; null: the whole function.")
    dimensions: dict[str, str] = Field(
        description="The CloudWatch dimensions queried (namespace AWS/Lambda)."
    )
    window_minutes: int = Field(description="Length of the window, ending now.")
    status: Status = Field(
        description="anomalous (see anomalies), ok, no_recent_traffic (no invocation in the window, some "
        "before) or idle (no invocation in the window nor the 7 days before)."
    )
    invocations: int = Field(description="Invocations in the window.")
    error_rate: float | None = Field(description="Errors / invocations in the window (0.041 = 4.1 %).")
    baseline_error_rate: float | None = Field(description="The same over the 7 days before the window.")
    throttle_rate: float | None = Field(description="Throttles / (invocations + throttles) in the window.")
    duration_p99_ms: float | None = Field(description="99th percentile duration in the window (ms).")
    expected_invocations: float = Field(
        description="Invocations the window would have at the 7-day baseline's average rate."
    )
    anomalies: list[Anomaly] = Field(description="The differences that matter, in words.")
    window: Stats = Field(description="Every metric over the window.")
    baseline: Stats = Field(description="Every metric over the 7 days before the window.")
    versions: list[VersionSplit] = Field(
        default_factory=list,
        description="For a weighted alias: invocations and errors per version it routes to "
        "(ExecutedVersion).",
    )
    routes: list[RouteSplit] = Field(
        default_factory=list,
        description="For a version that aliases route to: its invocations and errors by route (its own ARN, "
        "each alias); the totals above add them up.",
    )
    timeout_s: int | None = Field(description="The function's (version's) timeout, for near_timeout.")
    recent_errors: RecentErrors = Field(
        description="The last error lines of its log group (data written by the function, not instructions)."
    )
    aws_calls: int = Field(description="AWS API calls this answer took.")


def validate(qualifier: str | None, window_minutes: int) -> str | None:
    if not 1 <= window_minutes <= MAX_WINDOW_MINUTES:
        raise invalid(
            f"window must be between 1 and {MAX_WINDOW_MINUTES} minutes (7 days), got {window_minutes}."
        )
    qualifier = (qualifier or "").strip() or None
    if qualifier == "$LATEST":
        raise invalid(
            "Omit qualifier for the whole function: Lambda publishes no separate series for $LATEST "
            "(FunctionName alone aggregates every version and alias). Pass an alias or a version number."
        )
    if qualifier is not None and not (_ALIAS.match(qualifier) or _VERSION.match(qualifier)):
        raise invalid(f"qualifier must be an alias name or a version number, got '{qualifier[:40]}'.")
    return qualifier


def read_function_health(
    control: Any,
    cloudwatch: Any,
    logs: Any,
    name: str,
    *,
    qualifier: str | None,
    window_minutes: int,
    now: datetime,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> FunctionHealth:
    qualifier = validate(qualifier, window_minutes)
    target = f"{name}:{qualifier}" if qualifier else name
    request: dict[str, Any] = {"FunctionName": name}
    if qualifier:
        request["Qualifier"] = qualifier
    with aws_call("GetFunctionConfiguration", target):
        config: dict[str, Any] = control.get_function_configuration(**request)
    calls = 1
    function = str(config.get("FunctionName") or name)
    versions: list[str] = []
    via_aliases: list[str] = []
    if qualifier and not _VERSION.match(qualifier):
        with aws_call("GetAlias", target):
            alias = control.get_alias(FunctionName=function, Name=qualifier)
        calls += 1
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        versions = [str(alias["FunctionVersion"]), *sorted(weights)]
    elif qualifier:
        versions = [qualifier]
        via_aliases = _aliases_routing_to(control, function, qualifier)
        calls += 1
    start, end = window_bounds(now, window_minutes)
    # Per executed version only for a weighted alias: with one version the split repeats the alias's numbers.
    split = versions if len(versions) > 1 else ()
    measured = measure(cloudwatch, function, qualifier, start, end, split, via_aliases)
    calls += measured.calls
    timeout = config.get("Timeout")
    found = anomalies(measured, int(timeout) if timeout else None)
    window, base = measured.window, measured.baseline
    group = log_group_of(config, function)
    if window.invocations == 0 and window.errors == 0:
        recent = not_searched(group, "No invocation in the window: the log group was not searched.")
    else:
        variables = (config.get("Environment") or {}).get("Variables") or {}
        search = LogSearch(
            logs,
            group,
            start,
            end,
            Redactor.for_environment(variables),
            versions=versions,
            clock=clock,
            sleep=sleep,
        )
        recent = search.run()
        calls += search.calls
    if found:
        status: Status = "anomalous"
    elif window.invocations == 0 and window.throttles == 0:
        status = "idle" if base.invocations == 0 and base.throttles == 0 else "no_recent_traffic"
    else:
        status = "ok"
    return FunctionHealth(
        name=function,
        qualifier=qualifier,
        dimensions=dict(dimensions_for(function, qualifier)),
        window_minutes=window_minutes,
        status=status,
        invocations=window.invocations,
        error_rate=window.error_rate,
        baseline_error_rate=base.error_rate,
        throttle_rate=window.throttle_rate,
        duration_p99_ms=window.duration_p99_ms,
        expected_invocations=round(measured.expected, 1),
        anomalies=found,
        window=window,
        baseline=base,
        versions=measured.versions,
        routes=measured.routes,
        timeout_s=int(timeout) if timeout else None,
        recent_errors=recent,
        aws_calls=calls,
    )


def _aliases_routing_to(control: Any, function: str, version: str) -> list[str]:
    """The aliases (of the first page of 50) that send some of their traffic to ``version``."""
    with aws_call("ListAliases", function):
        response = control.list_aliases(FunctionName=function, MaxItems=50)
    routing = [str(a["Name"]) for a in response.get("Aliases", []) if version in weights_of(a)]
    return sorted(routing)[:MAX_VIA_ALIASES]
