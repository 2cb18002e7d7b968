"""The account's runtimes in one answer: every function and every published version read server-side,
grouped by runtime, with each runtime's status, dates and recommended target — and, for published versions
on deprecated, blocked or soon deprecated runtimes, the aliases that still route traffic to them.

A function's ``$LATEST`` is what the next deployment changes; its aliases (``prod`` → version 7) are what
serves traffic, and a published version keeps the runtime it was published with. So each runtime group counts
both: functions whose ``$LATEST`` is there, and published versions still there — split, on attention
runtimes, into versions an alias routes traffic to (upgrade them by shipping a new version through the alias)
and versions no alias points to (deletable, not upgradable). ``ListAliases`` is called only for functions with
a published version on an attention runtime, worst runtime first.

Counts are exact whenever ``complete`` is true; names and routes are listed up to a limit per group. The scan
stops at a time budget (fits a 30 s gateway) and then says what it could not read.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.lambda_ops.detail import RuntimeAssessment, assess_runtime
from app.lambda_ops.errors import invalid
from app.lambda_ops.ranking import Ranker, TrafficRanking
from app.lambda_ops.runtimes import (
    STATUS_ORDER,
    RuntimeCatalog,
    RuntimeStatus,
    family_of,
    severity,
    version_key,
)
from app.lambda_ops.versions import LATEST, AliasRoute, VersionEntry, alias_routes, scan_all_versions

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

DEFAULT_NAMES_PER_GROUP = 10
MAX_NAMES_PER_GROUP = 100
DEFAULT_ROUTES = 20
MAX_ROUTES = 200
AUDIT_SECONDS = 20.0
_ATTENTION = (RuntimeStatus.BLOCKED, RuntimeStatus.DEPRECATED, RuntimeStatus.DEPRECATING_SOON)


class RuntimeGroup(RuntimeAssessment):
    """One runtime: its status and dates (as ``get-function`` reports them), the functions whose ``$LATEST``
    is on it, and the published versions still on it."""

    family: str | None = Field(description="Runtime family (nodejs, python, ...); null for container images.")
    count: int = Field(description="Functions whose $LATEST is on this runtime (exact when complete).")
    functions: list[str] = Field(description="Those functions' names, alphabetically, up to the limit.")
    more: int = Field(description="How many more functions this group has than are named.")
    list_hint: str | None = Field(default=None, description="How to get every name when some are omitted.")
    published_versions: int = Field(description="Published versions (not $LATEST) still on this runtime.")
    versions_routed: int | None = Field(
        default=None,
        description="Of those, versions an alias routes traffic to (attention runtimes only; else null).",
    )
    versions_unreferenced: int | None = Field(
        default=None,
        description="Of those, versions no alias points to: deletable, not upgradable (attention runtimes "
        "only; a caller may still invoke one by its qualified ARN).",
    )
    routes: list[AliasRoute] = Field(
        default_factory=list,
        description="Aliases routing traffic to versions on this runtime (the audit lists routes_limit in "
        "all, worst runtimes first).",
    )
    more_routes: int = Field(default=0, description="How many more alias routes than are listed.")


class RuntimeAudit(BaseModel):
    today: date = Field(description="The day statuses were computed for.")
    catalog_as_of: date = Field(description="Date of the runtime catalog used.")
    family: str | None = Field(description="The family filter applied, if any.")
    complete: bool = Field(
        description="True if every function, every published version and every alias needed was read."
    )
    total_functions: int = Field(description="Functions counted by their $LATEST (after the family filter).")
    total_published_versions: int = Field(description="Published versions counted (after the family filter).")
    needing_attention: int = Field(
        description="Functions whose $LATEST is on a blocked, deprecated or soon deprecated runtime."
    )
    serving_from_attention: int = Field(
        description="Functions with an alias routing traffic to a version on such a runtime (whatever "
        "their $LATEST runs)."
    )
    counts_by_status: dict[str, int] = Field(
        description="Functions ($LATEST) per runtime status, worst first."
    )
    versions_by_status: dict[str, int] = Field(
        description="Published versions per runtime status, worst first."
    )
    routes_total: int = Field(
        default=0, description="Alias routes to versions on attention runtimes found (listed: routes_limit)."
    )
    aliases_read: int = Field(description="Functions whose aliases were read (ListAliases).")
    aliases_needed: int = Field(
        description="Functions with a published version on an attention runtime: those whose aliases matter."
    )
    groups: list[RuntimeGroup] = Field(description="One group per runtime: worst status first, newest first.")
    note: str | None = Field(default=None, description="Caveats, e.g. an incomplete scan.")
    ranking: TrafficRanking | None = Field(
        default=None,
        description="With rank_by: the functions on old runtimes by invocations over 30 days, busiest first, "
        "and those with none (candidates for deletion rather than upgrade); null otherwise.",
    )


def validate_arguments(
    catalog: RuntimeCatalog, family: str | None, names_per_group: int, routes_limit: int
) -> str | None:
    """The audit's arguments checked before any AWS call (raises ``OpsFailure`` invalid); the family
    normalised (None: every family). The fleet audit checks them once before reading any target."""
    if not 0 <= names_per_group <= MAX_NAMES_PER_GROUP:
        raise invalid(f"names_per_group must be between 0 and {MAX_NAMES_PER_GROUP}, got {names_per_group}.")
    if not 0 <= routes_limit <= MAX_ROUTES:
        raise invalid(f"routes_limit must be between 0 and {MAX_ROUTES}, got {routes_limit}.")
    wanted = (family or "").strip().lower() or None
    if wanted is not None and wanted not in catalog.families:
        known = ", ".join(sorted(catalog.families))
        raise invalid(f"Unknown runtime family '{wanted}'. Known families: {known}.")
    return wanted


def audit_runtimes(
    client: LambdaClient,
    catalog: RuntimeCatalog,
    today: date,
    *,
    family: str | None = None,
    names_per_group: int = DEFAULT_NAMES_PER_GROUP,
    routes_limit: int = DEFAULT_ROUTES,
    clock: Callable[[], float] = time.monotonic,
    budget_s: float = AUDIT_SECONDS,
    ranker: Ranker | None = None,
) -> RuntimeAudit:
    family = validate_arguments(catalog, family, names_per_group, routes_limit)
    deadline = clock() + budget_s
    entries, scanned_all = scan_all_versions(client, deadline, clock)

    def wanted(runtime: str | None) -> bool:
        return family is None or (runtime is not None and family_of(runtime, catalog) == family)

    latest: dict[str, str | None] = {}
    by_runtime: dict[str | None, list[str]] = defaultdict(list)
    versions: dict[str | None, list[VersionEntry]] = defaultdict(list)
    for entry in entries:
        if entry.version == LATEST:
            latest[entry.function] = entry.runtime
            if wanted(entry.runtime):
                by_runtime[entry.runtime].append(entry.function)
        elif wanted(entry.runtime):
            versions[entry.runtime].append(entry)
    attention = {r for r in versions if catalog.status(r, today) in _ATTENTION}
    routes, read, needed = alias_routes(client, catalog, today, versions, attention, latest, deadline, clock)
    routed = {(r.function, r.version) for r in routes}
    groups = [
        _group(
            runtime, by_runtime.get(runtime, []), versions.get(runtime, []), catalog, today, names_per_group
        )
        for runtime in set(by_runtime) | set(versions)
    ]
    for group in groups:
        if group.runtime in attention:
            on_it = versions[group.runtime]
            group.versions_routed = sum((v.function, v.version) in routed for v in on_it)
            group.versions_unreferenced = len(on_it) - group.versions_routed
            group.routes = [r for r in routes[:routes_limit] if r.runtime == group.runtime]
            group.more_routes = sum(r.runtime == group.runtime for r in routes) - len(group.routes)
    groups.sort(key=_order(catalog))
    statuses: Counter[str] = Counter()
    version_statuses: Counter[str] = Counter()
    for group in groups:
        statuses[group.status.value] += group.count
        version_statuses[group.status.value] += group.published_versions
    complete = scanned_all and read == needed
    ranking = None
    if ranker is not None:  # issue 15: traffic of the functions on old runtimes, from CloudWatch
        old = {r: names for r, names in by_runtime.items() if catalog.status(r, today) in _ATTENTION}
        ranking = ranker(old, {r: catalog.status(r, today) for r in old}, routes)
    return RuntimeAudit(
        today=today,
        catalog_as_of=catalog.as_of,
        family=family,
        complete=complete,
        total_functions=sum(statuses.values()),
        total_published_versions=sum(version_statuses.values()),
        needing_attention=sum(statuses[s.value] for s in _ATTENTION),
        serving_from_attention=len({r.function for r in routes}),
        counts_by_status={s.value: statuses[s.value] for s in STATUS_ORDER if statuses[s.value]},
        versions_by_status={
            s.value: version_statuses[s.value] for s in STATUS_ORDER if version_statuses[s.value]
        },
        routes_total=len(routes),
        aliases_read=read,
        aliases_needed=needed,
        groups=groups,
        note=None if complete else _incomplete(scanned_all, len(entries), read, needed, budget_s),
        ranking=ranking,
    )


def _incomplete(scanned_all: bool, entries: int, read: int, needed: int, budget_s: float) -> str:
    if not scanned_all:
        return (
            f"Incomplete: the account has more functions and versions than could be read in {budget_s:.0f} s;"
            " "
            f"counts cover the first {entries} configurations ($LATEST and published versions) only, and "
            f"aliases were read for {read} of the {needed} functions found to need it. Page with "
            "list-functions (runtime filter, include_versions)."
        )
    return (
        f"Incomplete: every function and version was read, but aliases only for {read} of the {needed} "
        f"functions with versions on attention runtimes within {budget_s:.0f} s (worst runtimes first); "
        "routes and unreferenced counts cover those. get-function lists one function's aliases."
    )


def _group(
    runtime: str | None,
    names: list[str],
    on_runtime: list[VersionEntry],
    catalog: RuntimeCatalog,
    today: date,
    limit: int,
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
        published_versions=len(on_runtime),
    )


def _order(catalog: RuntimeCatalog) -> Callable[[RuntimeGroup], tuple[Any, ...]]:
    def key(group: RuntimeGroup) -> tuple[Any, ...]:
        known = catalog.get(group.runtime) if group.runtime is not None else None
        newest_first = (*(-n for n in version_key(known)[0]), -version_key(known)[1]) if known else ()
        return severity(group.status), group.family or "~", newest_first, group.runtime or ""

    return key
