"""The account's runtimes in one answer: every function read server-side, grouped by runtime, with each
runtime's status, dates and recommended target.

Counts are exact whenever ``complete`` is true; names are listed up to a limit per group, with a hint on
how to page through the rest. The scan stops at a time budget (fits a 30 s gateway) and then says so.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.lambda_ops.detail import RuntimeAssessment, assess_runtime
from app.lambda_ops.errors import aws_call, invalid
from app.lambda_ops.runtimes import (
    STATUS_ORDER,
    RuntimeCatalog,
    RuntimeStatus,
    family_of,
    severity,
    version_key,
)

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

DEFAULT_NAMES_PER_GROUP = 10
MAX_NAMES_PER_GROUP = 100
AUDIT_SECONDS = 20.0
_ATTENTION = (RuntimeStatus.BLOCKED, RuntimeStatus.DEPRECATED, RuntimeStatus.DEPRECATING_SOON)


class RuntimeGroup(RuntimeAssessment):
    """One runtime's functions: the runtime's status and dates (as ``get-function`` reports them), and who."""

    family: str | None = Field(description="Runtime family (nodejs, python, ...); null for container images.")
    count: int = Field(description="Number of functions on this runtime (exact when the audit is complete).")
    functions: list[str] = Field(description="Function names, alphabetically, up to the per-group limit.")
    more: int = Field(description="How many more functions this group has than are named.")
    list_hint: str | None = Field(default=None, description="How to get every name when some are omitted.")


class RuntimeAudit(BaseModel):
    today: date = Field(description="The day statuses were computed for.")
    catalog_as_of: date = Field(description="Date of the runtime catalog used.")
    family: str | None = Field(description="The family filter applied, if any.")
    complete: bool = Field(description="True if every function in the account was read.")
    total_functions: int = Field(description="Functions counted (after the family filter).")
    needing_attention: int = Field(
        description="Functions on blocked, deprecated or soon deprecated runtimes."
    )
    counts_by_status: dict[str, int] = Field(description="Functions per runtime status, worst first.")
    groups: list[RuntimeGroup] = Field(description="One group per runtime: worst status first, newest first.")
    note: str | None = Field(default=None, description="Caveats, e.g. an incomplete scan.")


def scan_account(
    client: LambdaClient, deadline: float, clock: Callable[[], float]
) -> tuple[list[dict[str, Any]], bool]:
    """(name, runtime, package type) of every function, and whether the scan finished before the deadline."""
    functions: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        request: dict[str, Any] = {"MaxItems": 50}
        if marker:
            request["Marker"] = marker
        with aws_call("ListFunctions"):
            response = client.list_functions(**request)
        functions.extend(
            {"name": c["FunctionName"], "runtime": c.get("Runtime")} for c in response.get("Functions", [])
        )
        marker = response.get("NextMarker") or None
        if marker is None:
            return functions, True
        if clock() >= deadline:
            return functions, False


def audit_runtimes(
    client: LambdaClient,
    catalog: RuntimeCatalog,
    today: date,
    *,
    family: str | None = None,
    names_per_group: int = DEFAULT_NAMES_PER_GROUP,
    clock: Callable[[], float] = time.monotonic,
    budget_s: float = AUDIT_SECONDS,
) -> RuntimeAudit:
    if not 0 <= names_per_group <= MAX_NAMES_PER_GROUP:
        raise invalid(f"names_per_group must be between 0 and {MAX_NAMES_PER_GROUP}, got {names_per_group}.")
    family = (family or "").strip().lower() or None
    if family is not None and family not in catalog.families:
        known = ", ".join(sorted(catalog.families))
        raise invalid(f"Unknown runtime family '{family}'. Known families: {known}.")
    functions, complete = scan_account(client, clock() + budget_s, clock)
    by_runtime: dict[str | None, list[str]] = defaultdict(list)
    for function in functions:
        runtime = function["runtime"]
        if family is None or (runtime is not None and family_of(runtime, catalog) == family):
            by_runtime[runtime].append(function["name"])
    groups = [
        _group(runtime, names, catalog, today, names_per_group) for runtime, names in by_runtime.items()
    ]
    groups.sort(key=_order(catalog))
    statuses: Counter[str] = Counter()
    for group in groups:
        statuses[group.status.value] += group.count
    total = sum(statuses.values())
    note = None
    if not complete:
        note = (
            f"Incomplete: the account has more functions than could be read in {budget_s:.0f} s; counts "
            f"cover the first {len(functions)} functions only. Page with list-functions (runtime filter)."
        )
    return RuntimeAudit(
        today=today,
        catalog_as_of=catalog.as_of,
        family=family,
        complete=complete,
        total_functions=total,
        needing_attention=sum(statuses[s.value] for s in _ATTENTION),
        counts_by_status={s.value: statuses[s.value] for s in STATUS_ORDER if statuses[s.value]},
        groups=groups,
        note=note,
    )


def _group(
    runtime: str | None, names: list[str], catalog: RuntimeCatalog, today: date, limit: int
) -> RuntimeGroup:
    names.sort()
    shown = names[:limit]
    more = len(names) - len(shown)
    hint = None
    if more:
        hint = (
            f"list-functions with runtime='{runtime}' pages through all {len(names)}"
            if runtime is not None
            else f"list-functions pages through all functions; these {len(names)} have package type Image"
        )
    return RuntimeGroup(
        **assess_runtime(runtime, catalog, today).model_dump(),
        family=family_of(runtime, catalog) if runtime is not None else None,
        count=len(names),
        functions=shown,
        more=more,
        list_hint=hint,
    )


def _order(catalog: RuntimeCatalog) -> Callable[[RuntimeGroup], tuple[Any, ...]]:
    def key(group: RuntimeGroup) -> tuple[Any, ...]:
        known = catalog.get(group.runtime) if group.runtime is not None else None
        newest_first = (*(-n for n in version_key(known)[0]), -version_key(known)[1]) if known else ()
        return severity(group.status), group.family or "~", newest_first, group.runtime or ""

    return key
