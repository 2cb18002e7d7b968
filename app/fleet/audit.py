"""The fleet's runtimes in one answer: each target (account x region) audited as the account audit does it
(``LambdaOps.audit_runtimes``), the answers merged — totals per runtime across targets, each group's
functions and alias routes named with their account and region — and a coverage section saying, per target,
whether its counts are exact and, if not, why and what fixes it.

Three pieces, so the worker can fan out in its durable engine (app/worker/fleet_audit.py) and the server in
a thread pool (``audit_fleet``): ``audit_target`` (one target, its failure classified, never raised),
``merge`` (app/fleet/merge.py: the answer, app/fleet/answer.py, from the targets' results; exact: group
names and routes are each target's first N, so the fleet's first N are among them) and ``audit_fleet`` (a
bounded pool, shut down before it returns: targets still being read when the budget is spent are named
``timeout``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from app.fleet.answer import FleetAudit, TargetResult
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
from app.fleet.inventory import ConfigInventory
from app.fleet.merge import merge
from app.fleet.targets import Target
from app.lambda_ops import LambdaOps, OpsError
from app.lambda_ops.audit import (
    AUDIT_SECONDS,
    DEFAULT_NAMES_PER_GROUP,
    DEFAULT_ROUTES,
    validate_arguments,
)
from app.lambda_ops.errors import OpsFailure
from app.lambda_ops.runtimes import RuntimeCatalog

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


def validate(catalog: RuntimeCatalog, family: str | None, names_per_group: int, routes_limit: int) -> None:
    """The arguments checked before any target is read (the account audit's own checks)."""
    validate_arguments(catalog, family, names_per_group, routes_limit)


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


def catalog_of(ops: LambdaOps) -> tuple[RuntimeCatalog, date]:
    """The runtime catalog and day the targets' audits use (the home facade's)."""
    today = ops.today()
    return ops.catalogs.current(today)[0], today
