"""``run-runtime-campaign`` in the worker: the plan read again (refused if its digest changed since the
person confirmed it), then wave by wave, each batch a durable ``map`` over its functions — a child context
and its own ``DurableEffects`` per function, so each function's steps and waits checkpoint on their own and
a canary's bake is a durable wait that holds no Lambda — bounded per account (``concurrency_per_account``,
at most half the fleet's per-account rate: a function's upgrade makes about a call a second while it polls).

Each function's audit record (with the task id) and its ``UpgradeOutcome`` metric are written when that
function finishes, in its child context's last step — once (a replay skips the step), and before the
campaign goes on, so a worker that dies mid-campaign loses no record of a function already changed. A
function whose child failed outright (no step recorded it) is audited in the task's final step, with the
``CampaignOutcome`` metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_durable_execution_sdk_python.config import CompletionConfig, MapConfig

from app.fleet.reach import reach, select
from app.lambda_ops import LambdaOps, OpsError
from app.lambda_ops.errors import ErrorKind, OpsFailure
from app.lambda_ops.upgrade.campaign import plan_campaign
from app.lambda_ops.upgrade.campaign_digest import refusal
from app.lambda_ops.upgrade.campaign_model import CampaignPlan, Place, PlannedFunction, Selection
from app.lambda_ops.upgrade.campaign_run import (
    ERROR,
    NOT_STARTED,
    CampaignReport,
    CampaignRunner,
    FunctionReport,
    FunctionRun,
    RunOptions,
)
from app.lambda_ops.upgrade.plan import UpgradeResult
from app.records import audit, outcomes
from app.tasks.model import TaskStatus
from app.worker.effects import DurableEffects
from app.worker.environment import Environment
from app.worker.task import Outcome, TaskRun, completed

TOOL = "run-runtime-campaign"


def places(
    task: TaskRun, env: Environment, selection: Selection
) -> tuple[list[Place], list[tuple[str, str, str]], Selection]:
    """The fleet's targets the selection names, each reached through its writer role as the person who asked
    (``SourceIdentity``): the reachable as places, the others as (account, region, why) — as the tool
    planned them (``campaign_tools.places_of``), so the digest compares like with like."""
    fleet = env.fleet
    targets = select(fleet, selection.accounts or None, selection.regions or None)
    reached, failed = reach(fleet, targets, env.caller(task.order), write=True)
    if selection.accounts:
        selection = selection.model_copy(update={"accounts": sorted({t.account for t in targets})})
    policy = env.policy(task.order)  # the worker's own write policy (never itself nor the server), as env.ops
    found = [
        Place(t.account, t.region, LambdaOps(o.clients, policy=policy, catalog=o.catalogs))
        for t, o in reached
    ]
    return found, [(t.account, t.region, error.message) for t, error in failed], selection


def durable_fan_out(task: TaskRun, campaign: str, audited: set[str]) -> Any:
    """The batch as a durable map; ``audited`` collects the functions whose child wrote their record."""

    def fan_out(number: int, batch: list[PlannedFunction], run: FunctionRun) -> list[FunctionReport]:
        def item(context: Any, data: dict[str, Any], index: int, items: Any) -> dict[str, Any]:
            child = TaskRun(task.order, context, task.store)
            report = run(PlannedFunction.model_validate(data), DurableEffects(child))
            child.step("audit record", lambda: record_function(task, report, campaign))
            upgrade = report.upgrade.model_dump(mode="json") if report.upgrade else None
            return {"report": report.model_dump(mode="json"), "upgrade": upgrade, "audited": True}

        every: CompletionConfig = CompletionConfig.all_completed()  # type: ignore[no-untyped-call]
        config: MapConfig[dict[str, Any]] = MapConfig(
            max_concurrency=max(1, len(batch)), completion_config=every
        )
        found: Any = task.context.map(
            [f.model_dump(mode="json") for f in batch], item, name=f"batch {number}", config=config
        )
        by_index = {entry.index: entry for entry in found.all}
        reports: list[FunctionReport] = []
        for index, function in enumerate(batch):
            entry = by_index.get(index)
            value = getattr(entry, "result", None) if entry is not None else None
            if isinstance(value, dict) and "report" in value:
                report = FunctionReport.model_validate(value["report"])
                if value.get("upgrade"):
                    report.upgrade = UpgradeResult.model_validate(value["upgrade"])
                if value.get("audited"):
                    audited.add(function.key)
            else:
                error = getattr(entry, "error", None)
                report = FunctionReport(
                    account=function.account,
                    region=function.region,
                    name=function.name,
                    wave=function.wave,
                    outcome=ERROR,
                    verified=False,
                    runtime_before=function.runtime,
                    runtime_after=None,
                    target_runtime=function.target_runtime,
                    strategy="unknown",
                    message=f"The worker could not run this function's upgrade ({error}): check it.",
                )
            reports.append(report)
        return reports

    return fan_out


def run_campaign(task: TaskRun, env: Environment) -> Outcome:
    args = task.order.arguments
    selection = Selection.model_validate(args["selection"])
    options = RunOptions.model_validate({**args.get("options", {}), "minute_s": _minute_s(env)})
    try:
        targets, unreachable, selection = places(task, env, selection)
    except OpsFailure as failure:
        return completed("OpsError", failure.error.model_dump(mode="json"), failure.error.message)
    by_place = {(p.account, p.region): p.ops for p in targets}
    ops = env.ops(task.order)  # the home facade: the catalog and the clock
    catalog, today = ops.catalogs.current(ops.today())[0], ops.today()
    task.progress("planning: reading the selected functions of every target")

    def plan() -> dict[str, Any]:
        try:
            planned = plan_campaign(
                targets,
                selection,
                catalog=catalog,
                today=today,
                now=datetime.now(UTC),
                unreachable=unreachable,
            )
        except OpsFailure as failure:
            return {"error": failure.error.model_dump(mode="json")}
        return {"plan": planned.model_dump(mode="json"), "at": datetime.now(UTC).isoformat()}

    planned_data = task.step("plan", plan)
    if "error" in planned_data:
        error = OpsError.model_validate(planned_data["error"])
        return completed("OpsError", error.model_dump(mode="json"), error.message)
    planned = CampaignPlan.model_validate(planned_data["plan"])
    changed = refusal(str(args.get("digest", "")), planned)
    if changed is not None:
        return completed("OpsError", changed.model_dump(mode="json"), changed.message)
    runner = CampaignRunner(
        planned,
        options,
        lambda account, region: by_place[(account, region)],
        catalog=catalog,
        today=today,
        baseline_end=datetime.fromisoformat(planned_data["at"]),
    )

    def preflight() -> dict[str, Any] | None:
        try:
            runner.preflight()
        except OpsFailure as failure:
            return failure.error.model_dump(mode="json")
        return None

    refused = task.step("preflight", preflight)
    if refused is not None:
        return completed("OpsError", refused, str(refused["message"]))
    audited: set[str] = set()
    report = runner.run(DurableEffects(task), durable_fan_out(task, campaign_id(planned.digest), audited))
    return _outcome(task, report, audited)


def _minute_s(env: Environment) -> float:
    return float(getattr(env.settings, "campaign_minute_s", 60.0) or 60.0)


def campaign_id(digest: str) -> str:
    return digest.split(".", 1)[0][:16]


def record_function(task: TaskRun, function: FunctionReport, campaign: str) -> None:
    """The function's audit line (with the task id) and its ``UpgradeOutcome`` metric."""
    if function.outcome == NOT_STARTED:
        return
    change = {
        "target_runtime": function.target_runtime,
        "alias": function.alias,
        "strategy": function.strategy,
        "account": function.account,
        "region": function.region,
        "campaign": campaign,
    }
    result: UpgradeResult | OpsError = function.upgrade or OpsError(
        kind=ErrorKind.SERVICE_ERROR,
        message=function.message,
        retryable=False,
    )
    audit.write(TOOL, function.name, change, result, task.order.caller.model_dump(), task_id=task.task_id)
    if function.upgrade is not None:
        outcomes.record(function.upgrade)


def _outcome(task: TaskRun, report: CampaignReport, audited: set[str]) -> Outcome:
    def after() -> None:
        campaign = campaign_id(report.digest)
        for function in report.functions:
            if f"{function.account}/{function.region}/{function.name}" not in audited:
                record_function(task, function, campaign)  # its child failed before its record
        outcomes.record_campaign(report.status, report.failures)

    if report.status == "cancelled":
        return Outcome(TaskStatus.CANCELLED, report.message, after=after)
    return completed("CampaignReport", report.model_dump(mode="json"), report.message, after)
