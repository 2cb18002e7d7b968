"""The work each task-capable tool does in the worker: the same domain calls as the tool, without the
gateway's budget. A job returns the task's ``Outcome``; its result is the domain model the tool returns
(``{"shape": <model>, "value": ...}``), which the server renders exactly as the synchronous tool would.

- ``update-function-runtime``: the safe upgrade with durable effects — waits as long as AWS takes, the smoke
  test up to the function's own timeout, a cancellation honoured where AWS can be left consistent (the
  result says whether it was rolled back or finished).
- ``audit-runtimes``: the whole account, every page and every alias needed (complete).
- ``invoke-function``: a synchronous invoke that waits for the function's whole timeout.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app.lambda_ops import InvokeResult, LambdaOps, OpsError, UpgradeResult
from app.lambda_ops.errors import OpsFailure
from app.lambda_ops.upgrade.plan import Outcome as UpgradeOutcome
from app.records import audit, outcomes
from app.tasks.model import TaskStatus
from app.worker.effects import ONCE, DurableEffects
from app.worker.environment import Environment
from app.worker.task import Outcome, TaskRun, completed

Job = Callable[[TaskRun, Environment], Outcome]

AUDIT_BUDGET_S = 12 * 60.0  # inside one worker invocation (15 min at most)
INVOKE_MARGIN_S = 10.0


def _payload(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _caller(task: TaskRun) -> dict[str, Any]:
    return task.order.caller.model_dump()


def _reach(task: TaskRun, env: Environment, *, write: bool = False) -> LambdaOps | OpsError:
    """The order's target (home, or a member account through its role), or why it cannot be reached."""
    try:
        return env.ops(task.order, write=write)
    except OpsFailure as failure:
        return failure.error


def _where(task: TaskRun) -> dict[str, Any]:
    """The audit line's target fields (none for the home target)."""
    order = task.order
    return {k: v for k, v in {"account": order.account, "region": order.region}.items() if v}


def _unreachable(error: OpsError) -> Outcome:
    return completed("OpsError", error.model_dump(mode="json"), error.message)


def upgrade(task: TaskRun, env: Environment) -> Outcome:
    args = task.order.arguments
    name = str(args["name"])
    effects = DurableEffects(task)
    ops = _reach(task, env, write=True)
    if isinstance(ops, OpsError):
        return _unreachable(ops)
    outcome = ops.update_runtime(
        name,
        str(args["target_runtime"]),
        dry_run=False,
        allow_cross_family=bool(args.get("allow_cross_family", False)),
        allow_downgrade=bool(args.get("allow_downgrade", False)),
        smoke_payload=_payload(args.get("smoke_payload")),
        alias=args.get("alias"),
        allow_layer_mismatch=bool(args.get("allow_layer_mismatch", False)),
        ship_latest_code=bool(args.get("ship_latest_code", False)),
        effects=effects,
    )
    change = {
        "target_runtime": args["target_runtime"],
        "smoke_test": args.get("smoke_payload") is not None,
        "alias": args.get("alias"),
        **_where(task),
    }

    def after() -> None:
        audit.write("update-function-runtime", name, change, outcome, _caller(task), task_id=task.task_id)
        if isinstance(outcome, UpgradeResult):
            outcomes.record(outcome)

    if isinstance(outcome, OpsError):
        return completed("OpsError", outcome.model_dump(mode="json"), outcome.message, after)
    if outcome.outcome is UpgradeOutcome.CANCELLED:
        return Outcome(TaskStatus.CANCELLED, outcome.message, after=after)
    return completed("UpgradeResult", outcome.model_dump(mode="json"), outcome.message, after)


def audit_runtimes(task: TaskRun, env: Environment) -> Outcome:
    args = task.order.arguments
    task.progress("reading every function and published version of the account")

    def run() -> dict[str, Any]:
        ops = _reach(task, env)
        if isinstance(ops, OpsError):
            return {"shape": "OpsError", "value": ops.model_dump(mode="json")}
        result = ops.audit_runtimes(
            family=args.get("family"),
            names_per_group=int(args.get("names_per_group", 10)),
            routes_limit=int(args.get("routes_limit", 20)),
            rank_by=args.get("rank_by"),
            budget_s=AUDIT_BUDGET_S,
        )
        shape = "OpsError" if isinstance(result, OpsError) else "RuntimeAudit"
        return {"shape": shape, "value": result.model_dump(mode="json")}

    # One step: its result goes straight into the task record, and a re-run after a crash only reads.
    result = task.step("audit", run)
    message = "Audit complete." if result["shape"] == "RuntimeAudit" else str(result["value"]["message"])
    return completed(result["shape"], result["value"], message)


def invoke(task: TaskRun, env: Environment) -> Outcome:
    args = task.order.arguments
    name = str(args["name"])
    ops = _reach(task, env, write=True)
    if isinstance(ops, OpsError):
        return _unreachable(ops)
    timeout = task.step("read timeout", lambda: _timeout(ops.function_timeout(name)))
    task.progress(f"invoking {name} (it may run up to {timeout} s)")

    def run() -> dict[str, Any]:
        result = ops.invoke(
            name, _payload(args.get("payload")), log_tail=bool(args.get("log_tail")),
            read_timeout_s=min(timeout + INVOKE_MARGIN_S, 14 * 60.0),
        )  # fmt: skip
        return {"shape": type(result).__name__, "value": result.model_dump(mode="json")}

    # The invoke runs at most once, even if the worker dies mid-call.
    result = task.context.step(lambda _: run(), name="invoke", config=ONCE)
    value = result["value"]
    model: InvokeResult | OpsError = (
        InvokeResult.model_validate(value)
        if result["shape"] == "InvokeResult"
        else OpsError.model_validate(value)
    )

    def after() -> None:
        change = {"log_tail": bool(args.get("log_tail")), **_where(task)}
        audit.write("invoke-function", name, change, model, _caller(task), task_id=task.task_id)

    message = "Invoked." if isinstance(model, InvokeResult) else model.message
    return completed(result["shape"], value, message, after)


def _timeout(found: int | OpsError) -> int:
    return found if isinstance(found, int) else 900  # unknown: the invoke's policy check reports why


def run_campaign(task: TaskRun, env: Environment) -> Outcome:
    """``run-runtime-campaign`` (app/worker/campaign.py), imported when a campaign runs: every task on a cold
    worker pays its imports, and the campaign's and the fleet audit's domain models are most of the jobs'."""
    from app.worker.campaign import run_campaign as run

    return run(task, env)


def fleet_audit(task: TaskRun, env: Environment) -> Outcome:
    """``audit-fleet``: audit-runtimes across accounts and regions (app/worker/fleet_audit.py), imported when
    one runs."""
    from app.worker.fleet_audit import fleet_audit as run

    return run(task, env)


JOBS: dict[str, Job] = {
    "update-function-runtime": upgrade,
    "run-runtime-campaign": run_campaign,
    "audit-runtimes": audit_runtimes,
    "audit-fleet": fleet_audit,  # app.fleet.audit.FLEET_TOOL (tests/tasks keep the two equal)
    "invoke-function": invoke,
}
