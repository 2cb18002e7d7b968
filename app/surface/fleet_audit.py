"""``audit-runtimes`` for a fleet: which targets the arguments select, the fan-out within the tool call's
budget (app/fleet/audit.py), and — for a client that takes tasks — the rest as a task whose worker fans out
in the durable engine (app/worker/fleet_audit.py)."""

from __future__ import annotations

from typing import Any

from app.fleet.answer import FleetAudit
from app.fleet.audit import FLEET_TOOL, FleetOptions, audit_fleet, catalog_of
from app.fleet.coverage import Reason
from app.fleet.fleet import Fleet
from app.fleet.inventory import ConfigInventory, read_inventory
from app.fleet.reach import select, unlisted
from app.lambda_ops import OpsError
from app.lambda_ops.errors import OpsFailure
from app.surface.targeting import caller
from app.surface.task_offer import TaskOffer

TOOL = "audit-runtimes"


def home_only(fleet: Fleet) -> bool:
    """True when only the home target is configured — known without a call when the fleet says so."""
    known = getattr(fleet, "home_only", None)  # AwsFleet knows without a call (nothing configured)
    return bool(known) if known is not None else len(fleet.targets()) <= 1


def answer(
    fleet: Fleet,
    accounts: list[str] | None,
    regions: list[str] | None,
    arguments: dict[str, Any],
    options: FleetOptions,
    *,
    budget_s: float,
    task: TaskOffer | None,
) -> FleetAudit | OpsError:
    try:
        targets = select(fleet, accounts, regions)
        asking = caller(TOOL)
        home = fleet.ops(fleet.home, asking)
        catalog, today = catalog_of(home)
        inventory = None
        if options.aggregator:

            def inventory(deadline: float) -> ConfigInventory:
                return read_inventory(home.clients.client("config"), options.aggregator, deadline=deadline)

        found = audit_fleet(
            targets,
            lambda target: fleet.ops(target, asking),
            catalog=catalog,
            today=today,
            family=arguments.get("family"),
            names_per_group=int(arguments["names_per_group"]),
            routes_limit=int(arguments["routes_limit"]),
            rank_by=arguments.get("rank_by"),
            budget_s=budget_s,
            workers=options.workers,
            inventory=inventory,
            home_region=fleet.home.region,
            unlisted=unlisted(fleet, targets),  # accounts whose enabled regions could not be read
        )
    except OpsFailure as failure:
        return failure.error
    finally:
        release = getattr(fleet, "release", None)  # no connection to the members outlives the request
        if release is not None:
            release()
    timed_out = [c for c in found.coverage or [] if c.reason is Reason.TIMEOUT]
    if task is not None and timed_out:
        # Too big for a tool call: the worker reads every target, fanning out in the durable engine.
        work = {**arguments, "targets": [t.label for t in targets]}
        not_started = task.start(
            FLEET_TOOL,
            work,
            message=f"{found.targets_complete} of {found.targets_total} targets read in the tool call: "
            "reading all of them",
            stop_on_cancel=True,
        )
        found = found.model_copy(
            update={"note": f"{found.note} (A task could not be started: {not_started.message})"}
        )
    return found
