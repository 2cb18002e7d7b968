"""``audit-fleet``: the fleet audit a tool call could not finish, fanned out in the durable engine.

The targets are the order's (``targets``: account/region labels, chosen by the tool). Each target's audit is
one step inside its own child context of a durable ``map`` (``max_concurrency`` bounded, every item run
whatever the others do): a finished target is checkpointed and never read again, so a fleet larger than one
invocation's 15 minutes continues in the next invocation from where it was. Then one step merges the
targets' results into the answer (app/fleet/audit.py ``merge``). The status message counts targets done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from aws_durable_execution_sdk_python import DurableContext
from aws_durable_execution_sdk_python.concurrency.models import BatchResult
from aws_durable_execution_sdk_python.config import CompletionConfig, MapConfig

from app.fleet.answer import TargetResult
from app.fleet.audit import DEFAULT_WORKERS, audit_target, catalog_of
from app.fleet.coverage import TargetCoverage, timed_out
from app.fleet.deadline import within
from app.fleet.fleet import Fleet
from app.fleet.merge import merge
from app.fleet.targets import Caller, Target
from app.worker.environment import Environment
from app.worker.task import Outcome, TaskRun, completed

TARGET_BUDGET_S = 5 * 60.0  # one target's audit, inside one invocation (15 min) with room to checkpoint


def default_fleet(env: Environment, task: TaskRun) -> Fleet:
    """The worker's configured fleet (app/worker/environment.py)."""
    return env.fleet


def parse(label: str) -> Target:
    account, _, region = label.partition("/")
    return Target(account, region)


def make_job(
    fleet_of: Callable[[Environment, TaskRun], Fleet] = default_fleet,
    *,
    concurrency: int = DEFAULT_WORKERS,
    target_budget_s: float = TARGET_BUDGET_S,
) -> Callable[[TaskRun, Environment], Outcome]:
    def job(task: TaskRun, env: Environment) -> Outcome:
        args = task.order.arguments
        labels: list[str] = [str(label) for label in args.get("targets") or []]
        fleet = fleet_of(env, task)
        if not labels:
            labels = task.step("targets", lambda: [t.label for t in fleet.targets()])
        caller = Caller(identity=env.caller(task.order).identity, tool="audit-runtimes")
        total = len(labels)
        done = {"n": 0}
        lock = threading.Lock()
        task.progress(f"0 of {total} targets read")
        options: dict[str, Any] = {
            "family": args.get("family"),
            "names_per_group": int(args.get("names_per_group", 10)),
            "routes_limit": int(args.get("routes_limit", 20)),
            "rank_by": args.get("rank_by"),
        }

        def one(context: DurableContext, label: str, index: int, items: Sequence[str]) -> dict[str, Any]:
            target = parse(label)

            def read(_: Any) -> dict[str, Any]:
                with within(target_budget_s):  # its AWS calls (retries, STS) end with the target's budget
                    return audit_target(
                        target, lambda t: fleet.ops(t, caller), budget_s=target_budget_s,
                        home_region=fleet.home.region, **options,
                    ).model_dump(mode="json")  # fmt: skip

            result: dict[str, Any] = context.step(read, name=f"audit {label}")
            with lock:
                done["n"] += 1
                count = done["n"]
            task.progress(f"{count} of {total} targets read")
            return result

        config: MapConfig[str] = MapConfig(
            max_concurrency=max(1, concurrency),
            completion_config=CompletionConfig.all_completed(),  # type: ignore[no-untyped-call]
            item_namer=lambda label, index: f"target {label}",
        )
        batch: BatchResult[dict[str, Any]] = task.context.map(labels, one, name="targets", config=config)
        by_index = {item.index: item.result for item in batch.all}

        def merged() -> dict[str, Any]:
            results = []
            for index, label in enumerate(labels):
                value = by_index.get(index)
                if isinstance(value, dict):
                    results.append(TargetResult.model_validate(value))
                else:  # the branch itself failed (not the target's read: that is a value)
                    lost: TargetCoverage = timed_out(parse(label), target_budget_s, started=True)
                    results.append(TargetResult(coverage=lost))
            catalog, today = catalog_of(env.ops(task.order))
            return merge(
                results, catalog=catalog, today=today, **{k: v for k, v in options.items() if k != "rank_by"}
            ).model_dump(mode="json")

        value = task.step("merge", merged)
        read, asked_for = value["targets_complete"], value["targets_total"]
        message = f"Audit complete: {read} of {asked_for} targets read completely."
        return completed("FleetAudit", value, message)

    return job


fleet_audit = make_job()
