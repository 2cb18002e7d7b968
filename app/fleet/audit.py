"""The fleet's runtimes in one answer: each target (account x region) audited as the account audit does it
(``LambdaOps.audit_runtimes``), the answers merged — totals per runtime across targets, each group's
functions and alias routes named with their account and region — and a coverage section saying, per target,
whether its counts are exact and, if not, why and what fixes it.

Three pieces, so the worker can fan out in its durable engine (app/worker/fleet_audit.py) and the server in
a thread pool (``audit_fleet``): ``audit_target`` (one target, its failure classified, never raised),
``merge`` (the answer from the targets' results; exact: group names and routes are each target's first N,
so the fleet's first N are among them) and ``audit_fleet`` (a bounded pool, shut down before it returns:
targets still being read when the budget is spent are named ``timeout``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.fleet.coverage import (
    CoverageStatus,
    Reason,
    TargetCoverage,
    failed,
    fix,
    regions_unlisted,
    timed_out,
)
from app.fleet.deadline import until
from app.fleet.failures import classify
from app.fleet.inventory import ConfigInventory, InventorySource, RecordedFunction
from app.fleet.targets import Target
from app.lambda_ops import LambdaOps, OpsError, RuntimeAudit, RuntimeGroup
from app.lambda_ops.audit import (
    _ATTENTION,
    AUDIT_SECONDS,
    DEFAULT_NAMES_PER_GROUP,
    DEFAULT_ROUTES,
    MAX_NAMES_PER_GROUP,
    MAX_ROUTES,
    _order,
)
from app.lambda_ops.detail import assess_runtime
from app.lambda_ops.errors import OpsFailure, invalid
from app.lambda_ops.ranking import DEFAULT_RANKED, IDLE_NAMED, RankedFunction, TrafficRanking
from app.lambda_ops.runtimes import STATUS_ORDER, RuntimeCatalog, family_of, severity
from app.lambda_ops.versions import AliasRoute

FLEET_TOOL = "audit-fleet"  # the task (and worker job) of a fleet audit that outgrew its tool call
OpsFor = Callable[[Target], LambdaOps]  # may raise OpsFailure (the target cannot be reached)
DEFAULT_WORKERS = 16
MIN_TARGET_S = 0.5  # a target is not started with less of the budget left: it would only time out
GRACE_S = 1.0  # after the budget, how long in-flight targets may take to return what they read


@dataclass(frozen=True)
class FleetOptions:
    """The fleet audit's settings: parallel targets in one process, the Config aggregator (if any)."""

    workers: int = DEFAULT_WORKERS  # LAMBDA_OPS_FLEET_WORKERS
    aggregator: str = ""  # LAMBDA_OPS_CONFIG_AGGREGATOR


class FleetFunction(BaseModel):
    account: str = Field(description="Account id.")
    region: str = Field(description="Region.")
    function: str = Field(description="Function name.")


class FleetRoute(AliasRoute):
    """An alias route, with the account and region of its function."""

    account: str | None = Field(default=None, description="Account id of the function (fleet answers).")
    region: str | None = Field(default=None, description="Region of the function (fleet answers).")


class FleetGroup(RuntimeGroup):
    """A runtime group across targets: counts summed, the named functions with their account and region."""

    located: list[FleetFunction] = Field(
        default_factory=list, description="The named functions with their account and region (same order)."
    )
    count_by_target: dict[str, int] = Field(
        default_factory=dict, description="Functions ($LATEST) on this runtime per target (account/region)."
    )
    routes: list[FleetRoute] = Field(  # type: ignore[assignment]
        default_factory=list,
        description="Aliases routing traffic to versions on this runtime, with account and region (the "
        "audit lists routes_limit in all, worst runtimes first).",
    )


class FleetRanked(RankedFunction):
    account: str | None = Field(default=None, description="Account id (fleet answers).")
    region: str | None = Field(default=None, description="Region (fleet answers).")


class FleetRanking(TrafficRanking):
    busiest: list[FleetRanked] = Field(  # type: ignore[assignment]
        description="The busiest functions on old runtimes across targets, most invocations first."
    )


class FleetAudit(RuntimeAudit):
    """The account audit's shape, for a fleet: one output schema for the tool, whatever the targets."""

    groups: list[FleetGroup] = Field(  # type: ignore[assignment]
        description="One group per runtime across targets: worst status first, newest first."
    )
    ranking: FleetRanking | None = Field(
        default=None,
        description="With rank_by: the functions on old runtimes by invocations over 30 days, busiest first "
        "(each with account and region), and those with none; null otherwise.",
    )
    targets_total: int | None = Field(
        default=None, description="Targets (account x region) asked about; null: the home account only."
    )
    targets_complete: int | None = Field(
        default=None, description="Of those, targets read completely (their counts are exact)."
    )
    coverage: list[TargetCoverage] | None = Field(
        default=None,
        description="Per target: complete, partial or failed, the reason and its fix, functions read.",
    )
    inventory: InventorySource | None = Field(
        default=None, description="The AWS Config aggregator, when some $LATEST counts come from it."
    )


class TargetResult(BaseModel):
    """One target's audit (None when it failed) and its coverage: what a durable map step returns."""

    coverage: TargetCoverage
    audit: RuntimeAudit | None = None

    @property
    def target(self) -> Target:
        return Target(self.coverage.account, self.coverage.region)


def validate(catalog: RuntimeCatalog, family: str | None, names_per_group: int, routes_limit: int) -> None:
    """The arguments' errors before any target is read (raises ``OpsFailure`` invalid)."""
    if not 0 <= names_per_group <= MAX_NAMES_PER_GROUP:
        raise invalid(f"names_per_group must be between 0 and {MAX_NAMES_PER_GROUP}, got {names_per_group}.")
    if not 0 <= routes_limit <= MAX_ROUTES:
        raise invalid(f"routes_limit must be between 0 and {MAX_ROUTES}, got {routes_limit}.")
    wanted = (family or "").strip().lower() or None
    if wanted is not None and wanted not in catalog.families:
        known = ", ".join(sorted(catalog.families))
        raise invalid(f"Unknown runtime family '{wanted}'. Known families: {known}.")


def audit_target(
    target: Target,
    ops_for: OpsFor,
    *,
    family: str | None = None,
    names_per_group: int = DEFAULT_NAMES_PER_GROUP,
    routes_limit: int = DEFAULT_ROUTES,
    rank_by: Literal["invocations"] | None = None,
    budget_s: float = AUDIT_SECONDS,
    home_region: str | None = None,
) -> TargetResult:
    """One target's audit within ``budget_s``; a failure to reach or read it becomes its coverage, classified
    as the fleet reports it (``failures.classify``: an invalid-token answer outside ``home_region``, where the
    credentials come from, is a region not enabled there)."""
    try:
        outcome = ops_for(target).audit_runtimes(
            family=family,
            names_per_group=names_per_group,
            routes_limit=routes_limit,
            rank_by=rank_by,
            budget_s=budget_s,
        )
    except OpsFailure as failure:
        outcome = failure.error
    except Exception as error:  # a bug or an unexpected botocore error: this target only
        outcome = OpsError(
            kind="aws_error",
            message=f"{target.label}: reading failed ({type(error).__name__}).",
            retryable=True,
        )
    if isinstance(outcome, OpsError):
        if home_region is not None:
            outcome = classify(outcome, target, home_region)
        message = outcome.message if target.label in outcome.message else f"{target.label}: {outcome.message}"
        return TargetResult(
            coverage=failed(target, outcome.model_copy(update={"message": message}), budget_s)
        )
    coverage = TargetCoverage(
        account=target.account,
        region=target.region,
        status=CoverageStatus.COMPLETE if outcome.complete else CoverageStatus.PARTIAL,
        reason=None if outcome.complete else Reason.TIMEOUT,
        message=None
        if outcome.complete
        else f"{target.label}: {outcome.note} {fix(Reason.TIMEOUT, target, budget_s)}",
        functions_read=outcome.total_functions,
    )
    return TargetResult(coverage=coverage, audit=outcome)


def audit_fleet(
    targets: Sequence[Target],
    ops_for: OpsFor,
    *,
    catalog: RuntimeCatalog,
    today: date,
    family: str | None = None,
    names_per_group: int = DEFAULT_NAMES_PER_GROUP,
    routes_limit: int = DEFAULT_ROUTES,
    rank_by: Literal["invocations"] | None = None,
    budget_s: float = AUDIT_SECONDS,
    workers: int = DEFAULT_WORKERS,
    clock: Callable[[], float] = time.monotonic,
    grace_s: float = GRACE_S,
    inventory: Callable[[float], ConfigInventory] | None = None,
    home_region: str | None = None,
    unlisted: Sequence[tuple[str, OpsError]] = (),
) -> FleetAudit:
    """Every target read in a pool of at most ``workers`` threads, within ``budget_s``; each target's audit
    gets what is left of the budget when it starts. The pool is shut down before this returns: a target still
    being read ``grace_s`` after the budget is named ``timeout`` (its thread ends with its current AWS call,
    its own deadline being the same). ``inventory(deadline)``: the Config aggregator's, read alongside.
    ``unlisted``: accounts whose enabled regions could not be read (``reach.unlisted``), each a failed
    coverage entry (region ``*``): the answer is then incomplete."""
    validate(catalog, family, names_per_group, routes_limit)
    deadline = clock() + budget_s
    started: set[Target] = set()
    lock = threading.Lock()

    def run(target: Target) -> TargetResult | None:
        remaining = deadline - clock()
        if remaining < MIN_TARGET_S:
            return None
        with lock:
            started.add(target)
        with until(deadline, clock):  # every AWS call of this thread (STS included) ends with the budget
            return audit_target(
                target, ops_for, family=family, names_per_group=names_per_group, routes_limit=routes_limit,
                rank_by=rank_by, budget_s=remaining, home_region=home_region,
            )  # fmt: skip

    def read_inventory(read: Callable[[float], ConfigInventory]) -> ConfigInventory:
        with until(deadline, clock):
            return read(deadline)

    unique = list(dict.fromkeys(targets))
    results: dict[Target, TargetResult] = {}
    found: ConfigInventory | None = None
    inventory_note: str | None = None
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique) + 1)), thread_name_prefix="fleet")
    try:
        config: Future[ConfigInventory] | None = None
        if inventory is not None:
            config = pool.submit(read_inventory, inventory)
        futures = {pool.submit(run, target): target for target in unique}
        everything: list[Future[TargetResult | None]] = list(futures)
        pending: list[Future[Any]] = list(everything)
        if config is not None:
            pending.append(config)
        wait(pending, timeout=max(0.0, deadline - clock()) + grace_s)
        for future, target in futures.items():
            if future.done() and not future.cancelled() and (result := future.result()) is not None:
                results[target] = result
        if config is not None:
            if config.done():
                try:
                    found = config.result()
                except OpsFailure as failure:
                    inventory_note = f"The Config aggregator could not be read: {failure.error.message}"
            else:
                inventory_note = "The Config aggregator did not answer within the budget."
    finally:
        # Joins the threads: none sends a request after the deadline (deadline.py), so what is left of each
        # is the one attempt in flight then (bounded by its client's timeouts, docs/design.md).
        pool.shutdown(wait=True, cancel_futures=True)
    for target in unique:
        if target not in results:
            results[target] = TargetResult(coverage=timed_out(target, budget_s, started=target in started))
    gaps = [TargetResult(coverage=regions_unlisted(a, error, budget_s)) for a, error in unlisted]
    return merge(
        [results[target] for target in unique] + gaps,
        catalog=catalog, today=today, family=family, names_per_group=names_per_group,
        routes_limit=routes_limit, inventory=found, inventory_note=inventory_note,
    )  # fmt: skip


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


def catalog_of(ops: LambdaOps) -> tuple[RuntimeCatalog, date]:
    """The runtime catalog and day the targets' audits use (the home facade's)."""
    today = ops.today()
    return ops.catalogs.current(today)[0], today
