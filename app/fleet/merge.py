"""The fleet answer from the targets' results (``merge``): totals per runtime across targets, each group's
names and routes with account and region — exact, since each target's first N hold the fleet's first N —
the targets' rankings merged, the Config inventory where a target could not be read, and the note."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

from app.fleet.answer import (
    FleetAudit,
    FleetFunction,
    FleetGroup,
    FleetRanked,
    FleetRanking,
    FleetRoute,
    TargetResult,
)
from app.fleet.coverage import (
    CoverageStatus,
    TargetCoverage,
)
from app.fleet.inventory import ConfigInventory, InventorySource, RecordedFunction
from app.fleet.targets import Target
from app.lambda_ops.audit import (
    _ATTENTION,
    DEFAULT_NAMES_PER_GROUP,
    DEFAULT_ROUTES,
    _order,
)
from app.lambda_ops.detail import assess_runtime
from app.lambda_ops.ranking import DEFAULT_RANKED, IDLE_NAMED, TrafficRanking
from app.lambda_ops.runtimes import STATUS_ORDER, RuntimeCatalog, family_of, severity


def _from_config(
    recorded: list[RecordedFunction], catalog: RuntimeCatalog, family: str | None
) -> list[RecordedFunction]:
    return [
        r for r in recorded
        if family is None or (r.runtime is not None and family_of(r.runtime, catalog) == family)
    ]  # fmt: skip


def merge(
    results: Sequence[TargetResult],
    *,
    catalog: RuntimeCatalog,
    today: date,
    family: str | None = None,
    names_per_group: int = DEFAULT_NAMES_PER_GROUP,
    routes_limit: int = DEFAULT_ROUTES,
    inventory: ConfigInventory | None = None,
    inventory_note: str | None = None,
) -> FleetAudit:
    """The fleet answer from each target's result. Counts add up; each group names its first
    ``names_per_group`` functions across targets (alphabetically, then by account and region) and the
    routes the first ``routes_limit`` across targets (worst first) — exact, because each target's answer
    already holds its own first ones. A target that did not complete adds what it read; with ``inventory``,
    its $LATEST counts come from Config instead (labelled)."""
    family = (family or "").strip().lower() or None
    counts: Counter[str | None] = Counter()
    versions: Counter[str | None] = Counter()
    routed: dict[str | None, int] = {}
    unreferenced: dict[str | None, int] = {}
    names: dict[str | None, list[FleetFunction]] = {}
    by_target: dict[str | None, dict[str, int]] = {}
    routes: list[FleetRoute] = []
    route_totals: Counter[str | None] = Counter()
    coverage: list[TargetCoverage] = []
    used_config: list[str] = []
    captured: list[datetime] = []
    serving = routes_total = aliases_read = aliases_needed = 0
    rankings: list[tuple[Target, TrafficRanking]] = []

    def add_latest(target: Target, runtime: str | None, count: int, shown: Sequence[str]) -> None:
        counts[runtime] += count
        names.setdefault(runtime, []).extend(
            FleetFunction(account=target.account, region=target.region, function=n) for n in shown
        )
        if count:
            by_target.setdefault(runtime, {})[target.label] = count

    for result in results:
        target, audit, cover = result.target, result.audit, result.coverage
        recorded = (
            inventory.of(target)
            if inventory is not None and cover.status is not CoverageStatus.COMPLETE
            else None
        )
        if recorded is not None:
            wanted = _from_config(recorded, catalog, family)
            per_runtime: dict[str | None, list[str]] = {}
            for r in wanted:
                per_runtime.setdefault(r.runtime, []).append(r.name)
                if r.captured is not None:
                    captured.append(r.captured)
            for runtime, found in per_runtime.items():
                add_latest(target, runtime, len(found), sorted(found)[:names_per_group])
            used_config.append(target.label)
            source = f"AWS Config aggregator {inventory.aggregator if inventory else ''}".strip()
            cover = cover.model_copy(
                update={
                    "status": CoverageStatus.PARTIAL,
                    "functions_read": len(wanted),
                    "latest_source": source,
                    "message": f"{cover.message} $LATEST counts from {source} (as recorded); published "
                    "versions and aliases not read.",
                }
            )
        coverage.append(cover)
        if audit is None:
            continue
        for group in audit.groups:
            if recorded is None:
                add_latest(target, group.runtime, group.count, group.functions)
            versions[group.runtime] += group.published_versions
            if group.versions_routed is not None:
                routed[group.runtime] = routed.get(group.runtime, 0) + group.versions_routed
                unreferenced[group.runtime] = unreferenced.get(group.runtime, 0) + (
                    group.versions_unreferenced or 0
                )
            routes += [
                FleetRoute(**r.model_dump(), account=target.account, region=target.region)
                for r in group.routes
            ]
            route_totals[group.runtime] += len(group.routes) + group.more_routes
        serving += audit.serving_from_attention
        routes_total += audit.routes_total
        aliases_read += audit.aliases_read
        aliases_needed += audit.aliases_needed
        if audit.ranking is not None:
            rankings.append((target, audit.ranking))

    routes.sort(
        key=lambda r: (
            severity(r.status),
            r.function,
            r.alias,
            -r.weight,
            r.version,
            r.account or "",
            r.region or "",
        )
    )
    listed = routes[:routes_limit]
    groups: list[FleetGroup] = []
    for runtime in set(counts) | set(versions):
        located = sorted(names.get(runtime, []), key=lambda f: (f.function, f.account, f.region))[
            :names_per_group
        ]
        count = counts[runtime]
        more = count - len(located)
        hint = None
        if more:
            hint = (
                f"list-functions with runtime='{runtime}', an account and a region pages through one target's"
                if runtime is not None
                else "list-functions pages through one target's functions; these have package type Image"
            )
        group_routes = [r for r in listed if r.runtime == runtime]
        groups.append(
            FleetGroup(
                **assess_runtime(runtime, catalog, today).model_dump(),
                family=family_of(runtime, catalog) if runtime is not None else None,
                count=count,
                functions=[f.function for f in located],
                located=located,
                more=more,
                list_hint=hint,
                published_versions=versions[runtime],
                versions_routed=routed.get(runtime),
                versions_unreferenced=unreferenced.get(runtime),
                routes=group_routes,
                more_routes=route_totals[runtime] - len(group_routes),
                count_by_target=dict(sorted(by_target.get(runtime, {}).items())),
            )
        )
    groups.sort(key=_order(catalog))
    statuses: Counter[str] = Counter()
    version_statuses: Counter[str] = Counter()
    for group in groups:
        statuses[group.status.value] += group.count
        version_statuses[group.status.value] += group.published_versions
    done = sum(c.status is CoverageStatus.COMPLETE for c in coverage)
    complete = done == len(coverage)
    labelled = None
    if inventory is not None and used_config:
        labelled = InventorySource(
            source=f"AWS Config aggregator {inventory.aggregator}",
            recorded_from=min(captured) if captured else None,
            recorded_to=max(captured) if captured else None,
            functions=sum(len(v) for v in inventory.functions.values()),
            used_for=used_config,
            note=None
            if inventory.complete
            else "The aggregator's paging stopped at the budget: counts from it are partial.",
        )
    return FleetAudit(
        today=today,
        catalog_as_of=catalog.as_of,
        family=family,
        complete=complete,
        total_functions=sum(statuses.values()),
        total_published_versions=sum(version_statuses.values()),
        needing_attention=sum(statuses[s.value] for s in _ATTENTION),
        serving_from_attention=serving,
        counts_by_status={s.value: statuses[s.value] for s in STATUS_ORDER if statuses[s.value]},
        versions_by_status={
            s.value: version_statuses[s.value] for s in STATUS_ORDER if version_statuses[s.value]
        },
        routes_total=routes_total,
        aliases_read=aliases_read,
        aliases_needed=aliases_needed,
        groups=groups,
        note=_note(coverage, done, labelled, inventory_note),
        ranking=_rankings(rankings) if rankings else None,
        targets_total=len(coverage),
        targets_complete=done,
        coverage=coverage,
        inventory=labelled,
    )


def _note(
    coverage: list[TargetCoverage], done: int, source: InventorySource | None, inventory_note: str | None
) -> str | None:
    parts = []
    if done < len(coverage):
        reasons = Counter(c.reason.value for c in coverage if c.reason is not None)
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        parts.append(
            f"Incomplete: {done} of {len(coverage)} targets read completely; counts are exact only for those "
            f"(the others: {why}; see coverage for each target's reason and fix)."
        )
    if source is not None:
        parts.append(
            f"$LATEST counts of {len(source.used_for)} target(s) come from {source.source} as recorded "
            f"between {source.recorded_from} and {source.recorded_to}."
        )
    if inventory_note:
        parts.append(inventory_note)
    return " ".join(parts) or None


def _rankings(rankings: list[tuple[Target, TrafficRanking]]) -> FleetRanking:
    busiest = sorted(
        (
            FleetRanked(**entry.model_dump(), account=target.account, region=target.region)
            for target, ranking in rankings
            for entry in ranking.busiest
        ),
        key=lambda e: (-e.invocations, severity(e.status), e.function, e.account or "", e.region or ""),
    )
    idle = sorted(f"{target.label}/{name}" for target, ranking in rankings for name in ranking.idle)
    with_traffic = sum(len(r.busiest) + r.more for _, r in rankings)
    notes = [f"{t.label}: {r.note}" for t, r in rankings if r.note]
    return FleetRanking(
        rank_by="invocations",
        days=rankings[0][1].days,
        functions_ranked=sum(r.functions_ranked for _, r in rankings),
        busiest=busiest[:DEFAULT_RANKED],
        more=max(0, with_traffic - DEFAULT_RANKED),
        idle_count=sum(r.idle_count for _, r in rankings),
        idle=idle[:IDLE_NAMED],
        calls=sum(r.calls for _, r in rankings),
        note=" ".join(notes) or None,
    )
