"""A campaign's alias path: after the new version passed its smoke test, shift the alias's traffic to it by
steps (``RoutingConfig.AdditionalVersionWeights``, as CodeDeploy does for Lambda), gate each step
(``gates``) and, on a breach, put everything back: the alias where it was with its routing, then
``$LATEST``'s runtime (the runner's ``restore``).

Every AWS call is an ``Effects`` call and every bake a durable ``wait`` (a task holds no Lambda while a
canary bakes). Each ``UpdateAlias`` is guarded by the alias's RevisionId: if someone else moves the alias
during the campaign, the shift is refused and rolled back rather than fight them. A cancellation between
steps rolls back (the alias was only partly shifted: back is the consistent state nearest).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.lambda_ops.errors import OpsFailure, aws_call
from app.lambda_ops.upgrade.alias import AliasState
from app.lambda_ops.upgrade.gates import Verdict, judge, read_gate
from app.lambda_ops.upgrade.plan import Outcome, UpgradeResult
from app.lambda_ops.upgrade.run import Run, Runner
from app.lambda_ops.upgrade.ship import AliasShipper
from app.lambda_ops.upgrade.strategy import Strategy
from app.lambda_ops.upgrade.wait import Observed


class TrafficStep(BaseModel):
    weight: float = Field(description="The new version's share of the alias's traffic in this step (1: all).")
    at_s: float = Field(description="Seconds since the function's upgrade started, when the step began.")
    waited_s: float = Field(description="Seconds the step lasted before its gate.")
    verdict: Verdict | None = Field(
        description="The gate's verdict after the step (pass, breach, no_data); null for the final move."
    )
    detail: str = Field(description="What the gate saw, or what happened.")


def _routing(weights: dict[str, float], primary: str) -> dict[str, Any]:
    return {"AdditionalVersionWeights": {v: w for v, w in weights.items() if v != primary}}


class Shift:
    """What one function's shift did (read by the campaign after the runner returns)."""

    def __init__(self) -> None:
        self.steps: list[TrafficStep] = []
        self.rollback_reason: str | None = None


class TrafficShifter(AliasShipper):
    def __init__(
        self,
        runner: Runner,
        run: Run,
        state: AliasState,
        *,
        strategy: Strategy,
        alarms: list[str],
        baseline_end: datetime,
        wall: Callable[[], datetime],
        record: Shift,
    ) -> None:
        super().__init__(runner, run, state)
        self.strategy, self.alarms, self.baseline_end, self.wall = strategy, alarms, baseline_end, wall
        self.record = record
        self.revision = state.revision_id

    def _update(self, function: str, version: str, weights: dict[str, float], what: str) -> str:
        """UpdateAlias to ``version`` primary with ``weights``' other versions; the wall time it happened."""
        name = self.state.name
        request: dict[str, Any] = {
            "FunctionName": function,
            "Name": name,
            "FunctionVersion": version,
            "RoutingConfig": _routing(weights, version),
        }
        if self.revision:
            request["RevisionId"] = self.revision

        def send() -> dict[str, Any]:
            with aws_call("UpdateAlias", f"{function}:{name}"):
                answer = self.control.update_alias(**request)
            return {"revision": answer.get("RevisionId"), "at": self.wall().isoformat()}

        out = self.runner.effects.call(f"UpdateAlias {what}", send)
        self.revision = out.get("revision") or self.revision
        return str(out["at"])

    def _move(self, seen: Observed, function: str, version: str, tested: Any) -> UpgradeResult:
        run, name, effects = self.run, self.state.name, self.runner.effects
        old = self.state.version
        for step in self.strategy.steps:
            if effects.cancelled():
                why = f"Cancelled during the traffic shift of alias {name}"
                return self._roll_back(seen, function, why, tested, done=Outcome.CANCELLED)
            weights = {old: round(1 - step.weight, 6), version: step.weight}
            effects.progress(f"alias {name}: {step.weight:.0%} to version {version}")
            at = effects.now() - run.started
            try:
                since = self._update(function, old, weights, f"{step.weight:.0%} to {version}")
            except OpsFailure as failure:
                self.runner.step(run, "traffic_shift", False, run.target, failure.error.message)
                why = f"The traffic shift of alias {name} was refused: {failure.error.message}"
                return self._roll_back(seen, function, why, tested)
            self.runner.step(run, "traffic_shift", True, run.target, f"alias {name} → {weights}")
            effects.wait(f"bake {step.weight:.0%} of {version}", step.bake_s)
            verdict, detail = self._gate(function, version, old, since)
            self.runner.step(run, "gate", verdict != "breach", run.target, f"{verdict}: {detail}")
            self.record.steps.append(
                TrafficStep(
                    weight=step.weight,
                    at_s=round(at, 3),
                    waited_s=step.bake_s,
                    verdict=verdict,
                    detail=detail,
                )
            )
            if verdict == "breach":
                why = f"The gate at {step.weight:.0%} breached ({detail[:400]})"
                return self._roll_back(seen, function, why, tested)
        if self.strategy.steps and effects.cancelled():  # asked during the last bake: not all of it
            why = f"Cancelled during the traffic shift of alias {name}"
            return self._roll_back(seen, function, why, tested, done=Outcome.CANCELLED)
        return self._finish(seen, function, version, tested)

    def _gate(self, function: str, new: str, old: str, since: str) -> tuple[Verdict, str]:
        cloudwatch = self.runner.clients.client("cloudwatch")

        def read() -> dict[str, Any]:
            reading = read_gate(
                cloudwatch,
                function,
                self.state.name,
                new,
                old,
                datetime.fromisoformat(since),
                self.wall(),
                self.baseline_end,
                self.alarms,
            )
            verdict, detail = judge(reading, new, old)
            return {"verdict": verdict, "detail": detail}

        try:
            out = self.runner.effects.call(f"gate {new}", read)
        except OpsFailure as failure:  # unreadable metrics are no evidence of health: stop this one
            return "breach", f"the gate could not read CloudWatch: {failure.error.message}"
        return out["verdict"], str(out["detail"])

    def _finish(self, seen: Observed, function: str, version: str, tested: Any) -> UpgradeResult:
        """All traffic to the new version (the routing cleared), then read back."""
        run, name = self.run, self.state.name
        at = self.runner.effects.now() - run.started
        try:
            self._update(function, version, {version: 1.0}, f"100% to {version}")
        except OpsFailure as failure:
            self.runner.step(run, "alias_update", False, None, failure.error.message)
            if self.strategy.steps:
                why = f"Moving all of alias {name} to version {version} was refused: {failure.error.message}"
                return self._roll_back(seen, function, why, tested)
            return self._not_moved(seen, f"UpdateAlias was refused: {failure.error.message}", tested)
        self.runner.step(run, "alias_update", True, run.target, f"UpdateAlias accepted version {version}")
        self.record.steps.append(
            TrafficStep(
                weight=1.0,
                at_s=round(at, 3),
                waited_s=0.0,
                verdict=None,
                detail=f"all traffic to version {version}",
            )
        )
        shifted = f" after {len(self.strategy.steps)} gated step(s) ({self.strategy.name})"
        return self._verify_alias(
            seen,
            function,
            version,
            tested,
            unreadable=f"Version {version} took all of alias {name}'s traffic, but the alias could not be "
            "read back: not verified.",
            done=shifted if self.strategy.steps else "",
        )

    def _roll_back(
        self, seen: Observed, function: str, why: str, tested: Any, *, done: Outcome = Outcome.ROLLED_BACK
    ) -> UpgradeResult:
        """The alias back where it was (its version and routing), then ``$LATEST``'s runtime."""
        run, name = self.run, self.state.name
        self.record.rollback_reason = why
        before = self.state.version
        try:
            self._update(function, before, self.state.weights, f"back to {before}")
        except OpsFailure as failure:
            self.runner.step(run, "alias_rollback", False, None, failure.error.message)
            return self.runner.result(
                run,
                seen,
                Outcome.ROLLBACK_FAILED,
                f"{why}; putting alias {name} back on version {before} failed: {failure.error.message}. "
                f"Check alias {name}'s routing now (get-function '{function}').",
                smoke_test=tested,
            )
        self.change.version_after = before
        self.change.runtime_after = self.change.runtime_before
        self.runner.step(
            run, "alias_rollback", True, self.change.runtime_before, f"alias {name} → {self.state.weights}"
        )
        self.record.steps.append(
            TrafficStep(
                weight=0.0,
                at_s=round(self.runner.effects.now() - run.started, 3),
                waited_s=0.0,
                verdict=None,
                detail=f"rolled back: alias {name} → {self.state.weights}",
            )
        )
        return self.runner.restore(
            run, seen, f"{why}; alias {name} is back on version {before}", tested, done=done
        )


def shifter(
    strategy: Strategy,
    alarms: list[str],
    baseline_end: datetime,
    record: Shift,
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Callable[[Runner, Run, AliasState], TrafficShifter]:
    """The ``UpgradeRunner(shipper=...)`` of one function of a campaign."""

    def make(runner: Runner, run: Run, state: AliasState) -> TrafficShifter:
        return TrafficShifter(
            runner,
            run,
            state,
            strategy=strategy,
            alarms=alarms,
            baseline_end=baseline_end,
            wall=wall,
            record=record,
        )

    return make
