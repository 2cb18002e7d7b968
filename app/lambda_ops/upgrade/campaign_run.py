"""Running a campaign's plan: wave by wave, in batches bounded per account, each function the verified
upgrade of today — through its alias with the traffic shifted by the strategy and gated (``shift``) — with a
circuit breaker and cancellation, and a report per function.

The engine is the caller's (``FanOut``): the worker runs a batch as a durable ``map`` with a child context
and its own ``DurableEffects`` per function; tests and benchmarks run it in this process. Everything that
decides (the breaker, cancellation) happens between batches, on the batches' results — deterministic, so a
durable replay takes the same path:

- a batch holds at most ``concurrency_per_account`` functions of each account (its waits overlap; the
  fleet's rate limiter paces the calls), and the next batch starts when it is done;
- the breaker: after a batch, ``first_wave_failures`` failures in wave 1, or ``max_failures`` in all, stop
  the campaign (the rest are reported ``not_started``); a failure is any outcome but succeeded, unchanged
  or cancelled;
- cancellation: checked before every batch and, inside each function, where the upgrade can be left
  consistent (before the change, after it — rolled back — and between traffic steps — the alias put back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.lambda_ops.errors import OpsFailure, invalid
from app.lambda_ops.facade import LambdaOps
from app.lambda_ops.runtimes import RuntimeCatalog
from app.lambda_ops.upgrade.campaign_model import CampaignPlan, PlannedFunction
from app.lambda_ops.upgrade.effects import Effects
from app.lambda_ops.upgrade.gates import missing_alarms
from app.lambda_ops.upgrade.plan import MAX_BUDGET_S, Outcome, UpgradeOptions, UpgradeResult
from app.lambda_ops.upgrade.runner import UpgradeRunner
from app.lambda_ops.upgrade.shift import Shift, TrafficStep, shifter
from app.lambda_ops.upgrade.strategy import DEFAULT_STRATEGY, Strategy, for_function, parse_strategy

NOT_FAILED = frozenset({Outcome.SUCCEEDED.value, Outcome.UNCHANGED.value, Outcome.CANCELLED.value})
NOT_STARTED = "not_started"
ERROR = "error"
MAX_ALARMS = 10


class RunOptions(BaseModel):
    strategy: str = Field(default=DEFAULT_STRATEGY, description="CodeDeploy's name of the traffic shift.")
    alarms: list[str] = Field(default_factory=list, max_length=MAX_ALARMS)
    max_failures: int = Field(default=3, ge=1, description="Stop after this many failures in all.")
    first_wave_failures: int = Field(default=1, ge=1, description="Stop after this many in wave 1.")
    concurrency_per_account: int = Field(default=4, ge=1, le=20)
    minute_s: float = Field(default=60.0, gt=0, description="Seconds a strategy's minute lasts.")


class FunctionReport(BaseModel):
    account: str
    region: str
    name: str
    wave: int
    outcome: str = Field(description="The upgrade's outcome, not_started, or error (not attempted).")
    verified: bool
    runtime_before: str
    runtime_after: str | None = Field(description="$LATEST's runtime as last read back.")
    target_runtime: str
    alias: str | None = None
    version_before: str | None = None
    published_version: str | None = None
    version_after: str | None = Field(default=None, description="The alias's version as read back.")
    strategy: str
    traffic_steps: list[TrafficStep] = Field(default_factory=list)
    rollback_reason: str | None = None
    message: str
    upgrade: UpgradeResult | None = Field(default=None, exclude=True)  # for the audit record, not shown

    @property
    def failed(self) -> bool:
        return self.outcome != NOT_STARTED and self.outcome not in NOT_FAILED


class CampaignReport(BaseModel):
    digest: str
    strategy: str
    status: Literal["completed", "stopped", "cancelled"] = Field(
        description="completed: every planned function was attempted; stopped: the circuit breaker; "
        "cancelled: tasks/cancel (the functions in flight were left consistent first)."
    )
    message: str
    waves: int
    waves_done: int
    counts: dict[str, int] = Field(description="Functions per outcome.")
    failures: int
    functions: list[FunctionReport]


FunctionRun = Callable[[PlannedFunction, Effects], FunctionReport]
FanOut = Callable[[int, list[PlannedFunction], FunctionRun], list[FunctionReport]]
"""(batch number, the batch, how to run one) → the reports, in the batch's order."""


def in_process(make_effects: Callable[[PlannedFunction], Effects], *, threads: bool = False) -> FanOut:
    """A fan-out in this process (tests, ``make bench``): one ``Effects`` per function; ``threads``: the
    batch's functions at once (their waits overlap), else one after the other (deterministic)."""

    def fan_out(number: int, batch: list[PlannedFunction], run: FunctionRun) -> list[FunctionReport]:
        if not threads:
            return [run(function, make_effects(function)) for function in batch]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, len(batch))) as pool:
            return list(pool.map(lambda f: run(f, make_effects(f)), batch))

    return fan_out


def batches(wave: list[PlannedFunction], per_account: int) -> list[list[PlannedFunction]]:
    """The wave cut into batches of at most ``per_account`` functions of each account, in plan order."""
    queues: dict[str, list[PlannedFunction]] = {}
    for function in wave:
        queues.setdefault(function.account, []).append(function)
    out: list[list[PlannedFunction]] = []
    while any(queues.values()):
        batch: list[PlannedFunction] = []
        for queue in queues.values():
            batch += queue[:per_account]
            del queue[:per_account]
        out.append(batch)
    return out


class CampaignRunner:
    def __init__(
        self,
        plan: CampaignPlan,
        options: RunOptions,
        ops_for: Callable[[str, str], LambdaOps],
        *,
        catalog: RuntimeCatalog,
        today: date | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        baseline_end: datetime | None = None,
    ) -> None:
        self.plan, self.options, self.ops_for, self.catalog, self.wall = plan, options, ops_for, catalog, wall
        self.baseline_end = baseline_end or wall()
        self.today = today or wall().date()
        self.strategy: Strategy = parse_strategy(options.strategy, options.minute_s)

    def preflight(self) -> None:
        """Before anything changes: every named alarm exists where functions are planned (raises invalid)."""
        if not self.options.alarms:
            return
        places = sorted({(f.account, f.region) for f in self.plan.functions})
        for account, region in places:
            cloudwatch = self.ops_for(account, region).clients.client("cloudwatch")
            missing = missing_alarms(cloudwatch, self.options.alarms)
            if missing:
                raise invalid(
                    f"Alarm {', '.join(missing)} does not exist in {account}/{region}: a gate "
                    "cannot watch it. Name alarms that exist in every target planned."
                )

    def run(self, effects: Effects, fan_out: FanOut) -> CampaignReport:
        plan = self.plan
        done: dict[str, FunctionReport] = {}
        failures, total = 0, len(plan.functions)
        by_key = {f.key: f for f in plan.functions}
        status: Literal["completed", "stopped", "cancelled"] = "completed"
        why = ""
        waves_done = 0
        for wave in plan.waves:
            members = [by_key[key] for key in wave.functions]
            for number, batch in enumerate(batches(members, self.options.concurrency_per_account), 1):
                if effects.cancelled():
                    status, why = (
                        "cancelled",
                        "Cancelled: the functions in flight were finished or rolled back",
                    )
                    break
                effects.progress(f"wave {wave.number} of {len(plan.waves)}: {len(done)} of {total} done")
                for report in fan_out(wave.number * 1000 + number, batch, self.upgrade_one):
                    done[self._key(report)] = report
                    failures += report.failed
                    if report.outcome == Outcome.CANCELLED.value:
                        status, why = "cancelled", "Cancelled while functions were in flight"
                if status == "cancelled":
                    break
                wave_failures = sum(done[f.key].failed for f in members if f.key in done)
                if wave.number == 1 and wave_failures >= self.options.first_wave_failures:
                    status = "stopped"
                    why = (
                        f"Stopped by the circuit breaker: {wave_failures} failure(s) in the first wave "
                        f"(limit {self.options.first_wave_failures})"
                    )
                    break
                if failures >= self.options.max_failures:
                    status = "stopped"
                    why = (
                        f"Stopped by the circuit breaker: {failures} failures in all "
                        f"(limit {self.options.max_failures})"
                    )
                    break
            if status != "completed":
                break
            waves_done += 1
        reports = [done.get(f.key) or self._not_started(f, status) for f in self._ordered()]
        counts = dict(sorted(Counter(r.outcome for r in reports).items()))
        summary = ", ".join(f"{n} {outcome}" for outcome, n in counts.items())
        if status == "completed":
            why = f"Campaign complete: {total} function(s) attempted"
        effects.progress(f"{why}: {summary}"[:500])
        return CampaignReport(
            digest=plan.digest,
            strategy=self.strategy.name,
            status=status,
            message=f"{why}. {summary}.",
            waves=len(plan.waves),
            waves_done=waves_done,
            counts=counts,
            failures=failures,
            functions=reports,
        )

    def _ordered(self) -> list[PlannedFunction]:
        return sorted(self.plan.functions, key=lambda f: (f.wave, f.key))

    @staticmethod
    def _key(report: FunctionReport) -> str:
        return f"{report.account}/{report.region}/{report.name}"

    def _not_started(self, function: PlannedFunction, status: str) -> FunctionReport:
        why = (
            "the campaign was cancelled"
            if status == "cancelled"
            else "the circuit breaker stopped the campaign"
        )
        return FunctionReport(
            account=function.account,
            region=function.region,
            name=function.name,
            wave=function.wave,
            outcome=NOT_STARTED,
            verified=False,
            runtime_before=function.runtime,
            runtime_after=function.runtime,
            target_runtime=function.target_runtime,
            alias=function.alias.name if function.alias else None,
            version_before=function.alias.version if function.alias else None,
            strategy=for_function(self.strategy, function.alias is not None).name,
            message=f"Not started: {why} before it; nothing changed.",
        )

    def upgrade_one(self, function: PlannedFunction, effects: Effects) -> FunctionReport:
        """One function's verified upgrade (never raises for AWS: an error is its report)."""
        strategy = for_function(self.strategy, function.alias is not None)
        record = Shift()
        base = {
            "account": function.account,
            "region": function.region,
            "name": function.name,
            "wave": function.wave,
            "runtime_before": function.runtime,
            "target_runtime": function.target_runtime,
            "strategy": strategy.name,
            "alias": function.alias.name if function.alias else None,
            "version_before": function.alias.version if function.alias else None,
        }
        try:
            ops = self.ops_for(function.account, function.region)
            runner = UpgradeRunner(
                ops.clients,
                self.catalog,
                self.today,
                ops.policy,
                shipper=shifter(strategy, self.options.alarms, self.baseline_end, record, self.wall),
            )
            options = UpgradeOptions(
                target_runtime=function.target_runtime,
                smoke_payload=self.plan.selection.smoke_payload,
                alias=function.alias.name if function.alias else None,
                budget_s=MAX_BUDGET_S,
                in_task=True,
            )
            result = runner.run(function.name, options, effects)
        except OpsFailure as failure:
            return FunctionReport(
                **base,
                outcome=ERROR,
                verified=False,
                runtime_after=None,
                message=f"Not upgraded: {failure.error.message}",
            )
        alias = result.alias
        reason = record.rollback_reason
        if reason is None and result.outcome in (
            Outcome.ROLLED_BACK,
            Outcome.ROLLBACK_FAILED,
            Outcome.ROLLBACK_REFUSED,
            Outcome.ROLLBACK_IN_PROGRESS,
        ):
            reason = result.message  # a failed smoke test
        return FunctionReport(
            **base,
            outcome=result.outcome.value,
            verified=result.verified,
            runtime_after=result.final_runtime,
            published_version=alias.published_version if alias else None,
            version_after=alias.version_after if alias else None,
            traffic_steps=record.steps,
            rollback_reason=reason,
            message=result.message,
            upgrade=result,
        )


def totals_by_outcome(report: CampaignReport) -> Mapping[str, int]:
    return report.counts
