"""The safe runtime upgrade: validate, update, wait, smoke test, roll back on failure.

Nothing is reported as a success without being read back: the outcome is ``succeeded`` (``verified``)
only when GetFunctionConfiguration shows the target runtime with ``LastUpdateStatus: Successful`` and,
when a smoke payload was given, the smoke invoke returned without a function error. Problems before the
first write raise ``OpsFailure`` (nothing changed); after it, the result says what changed.

Every AWS call, wait and clock reading goes through the run's ``Effects`` (``effects``): ``Immediate``
within a tool call's ``budget_s``, or a durable worker's steps and waits, where the budget no longer applies
(waits last as long as AWS takes, the smoke test as long as the function's own timeout) and a cancellation
is honoured at each point where AWS can be left consistent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from pydantic import BaseModel

from app.lambda_ops.clients import LambdaClients
from app.lambda_ops.errors import ErrorKind, OpsError, OpsFailure, aws_call, invalid
from app.lambda_ops.invoke import InvokeResult, invoke_function, validate_payload
from app.lambda_ops.policy import WritePolicy, function_name_of
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus
from app.lambda_ops.upgrade.alias import AliasState, extend_plan, validate_alias
from app.lambda_ops.upgrade.effects import Effects, Immediate
from app.lambda_ops.upgrade.plan import (
    MAX_BUDGET_S,
    MIN_SMOKE_S,
    ROLLBACK_RESERVE_S,
    Action,
    Check,
    Outcome,
    UpgradeOptions,
    UpgradeResult,
    UpgradeStep,
    make_plan,
)
from app.lambda_ops.upgrade.run import Run, ShipperFactory
from app.lambda_ops.upgrade.ship import AliasShipper, dry_run_message
from app.lambda_ops.upgrade.wait import Observed, RuntimeUpdater, plain

_AMBIGUOUS = frozenset({ErrorKind.TIMEOUT, ErrorKind.CONNECTION, ErrorKind.SERVICE_ERROR, ErrorKind.CONFLICT})
SMOKE_MARGIN_S = 10.0  # durable: the smoke invoke may run the function's whole timeout, plus this
MAX_SMOKE_S = 840.0  # durable: one worker invocation lasts at most 15 min; keep room to checkpoint


class Prepared(BaseModel):
    """Everything read and decided before the first write (one checkpoint in a durable run)."""

    config: dict[str, Any]
    checks: list[Check]
    warnings: list[str]
    rollback_possible: bool
    alias: dict[str, Any] | None = None  # an ``AliasState`` as data

    def alias_state(self) -> AliasState | None:
        return AliasState(**self.alias) if self.alias is not None else None

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


class UpgradeRunner:
    def __init__(
        self,
        clients: LambdaClients,
        catalog: RuntimeCatalog,
        today: date,
        policy: WritePolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 1.0,
        shipper: ShipperFactory = AliasShipper,
    ) -> None:
        """``shipper``: how the alias path ships a verified version (at once, or a campaign's shift)."""
        self.clients, self.catalog, self.today, self.policy = clients, catalog, today, policy
        self.shipper = shipper
        self.clock, self.sleep, self.poll_interval_s = clock, sleep, poll_interval_s
        self.effects: Effects = Immediate(0.0, clock=clock)
        self.aws = RuntimeUpdater(clients, self.effects)

    def run(self, function: str, options: UpgradeOptions, effects: Effects | None = None) -> UpgradeResult:
        """One upgrade; ``effects`` None: now, within ``options.budget_s`` (the budget covers the reads
        below too: all of it must fit the gateway)."""
        if effects is None:
            effects = Immediate(
                options.budget_s, clock=self.clock, sleep=self.sleep, poll_interval_s=self.poll_interval_s
            )
        self.effects = effects
        self.aws = RuntimeUpdater(self.clients, effects)
        entered = effects.now()
        target = options.target_runtime
        if not target:
            raise invalid("target_runtime is required, e.g. nodejs22.x.")
        if not 0 < options.budget_s <= MAX_BUDGET_S:
            raise invalid(
                f"budget_s must be above 0 and at most {MAX_BUDGET_S:.0f} s, got {options.budget_s}."
            )
        smoke = validate_payload(options.smoke_payload) if options.smoke_payload is not None else None
        alias = validate_alias(options.alias)
        refusal = self.policy.check_name(function)  # decided before any AWS call
        if refusal is not None and not options.dry_run:
            raise refusal
        effects.progress("planning: reading the function and checking the target")
        prepared = Prepared.model_validate(
            effects.call(
                "plan", lambda: self._prepare(function, options, alias, refusal).model_dump(mode="json")
            )
        )
        config, state = prepared.config, prepared.alias_state()
        current = config.get("Runtime")
        base = {
            "function_name": function_name_of(function),
            "dry_run": options.dry_run,
            "previous_runtime": current,
            "target_runtime": target,
            "checks": prepared.checks,
            "warnings": prepared.warnings,
            "rollback_possible": prepared.rollback_possible,
            "alias": state.change() if state else None,
        }
        ships = state is not None and (
            state.version_config.get("Runtime") != target or len(state.weights) > 1
        )
        if current == target and not ships:
            status = config.get("LastUpdateStatus")
            message = f"Already on {target} (last update status {status}): nothing to do."
            return UpgradeResult(
                **base,
                outcome=Outcome.UNCHANGED,
                verified=status == "Successful",
                final_runtime=current,
                message=message,
            )
        if options.dry_run:
            message = dry_run_message(prepared.failed, current, options, state)
            outcome = Outcome.REFUSED if prepared.failed else Outcome.PLANNED
            return UpgradeResult(
                **base, outcome=outcome, verified=False, final_runtime=current, message=message
            )
        if prepared.failed:
            busy = any(c.name == "function_ready" for c in prepared.failed)
            reasons = "; ".join(c.detail for c in prepared.failed)
            raise OpsFailure(
                OpsError(
                    kind=ErrorKind.CONFLICT if busy else ErrorKind.INVALID_ARGUMENT,
                    message=f"Not upgraded, nothing changed: {reasons}.",
                    retryable=busy,
                )
            )
        run = Run(function, current, target, entered, entered + options.budget_s, base)
        run.function_timeout_s = float(config.get("Timeout") or 3)
        if effects.cancelled():
            return self.result(run, Observed("Unknown", current), Outcome.CANCELLED,
                               "Cancelled before any change: nothing was changed.")  # fmt: skip
        if state is not None and smoke is not None and current == target:  # publish $LATEST as it is
            run.updated = False
            seen = Observed(str(config.get("LastUpdateStatus")), current, config.get("RevisionId"))
            return self.shipper(self, run, state).ship(seen, smoke)
        effects.progress(f"updating the runtime {current} → {target}")
        try:
            self.aws.update(function, target, config.get("RevisionId"))
        except OpsFailure as failure:
            if not self._took_effect_anyway(run, failure):
                raise  # AWS rejected it and the function is not on the target: nothing changed
        else:
            self.step(run, "update", True, target, f"UpdateFunctionConfiguration accepted Runtime={target}")
        try:
            seen = self._wait(run, target, "wait", "update applied")
            if seen.on(target) and effects.cancelled():
                return self.restore(run, seen, "Cancelled after the runtime change was applied", None,
                                    done=Outcome.CANCELLED)  # fmt: skip
            if state is not None and smoke is not None and seen.on(target):
                return self.shipper(self, run, state).ship(seen, smoke)
            return self._after_update(run, seen, smoke, options.budget_s)
        except Exception as error:  # the runtime may have changed: say so, never a bare error
            if effects.passes(error):
                raise  # the durable engine's own (a replay that cannot go on): not ours to report
            return self._unverified(run, f"{type(error).__name__}: {error}"[:300])

    def _prepare(
        self, function: str, options: UpgradeOptions, alias: str | None, refusal: OpsFailure | None
    ) -> Prepared:
        config = plain(self.aws._read(function))
        if refusal is None and self.policy.needs_tags:
            with aws_call("ListTags", function):
                tags = self.clients.control.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
            refusal = self.policy.check_tags(function, tags)
            if refusal is not None and not options.dry_run:
                raise refusal
        plan = make_plan(config, options, self.catalog, self.today, refusal)
        target = self.catalog.get(options.target_runtime)
        state = extend_plan(plan, config, options, target, self.clients.control, alias)
        alias_data = None
        if state is not None:
            alias_data = asdict(state)
            alias_data["version_config"] = plain(state.version_config)
        return Prepared(
            config=config,
            checks=plan.checks,
            warnings=plan.warnings,
            rollback_possible=plan.rollback_possible,
            alias=alias_data,
        )

    def _took_effect_anyway(self, run: Run, failure: OpsFailure) -> bool:
        """After an ambiguous failure of UpdateFunctionConfiguration (no answer, a 5xx, or a conflict — the
        standard-mode retry of an applied first attempt is refused for its stale RevisionId), read the
        function back: the first attempt may have been applied. A definite refusal changed nothing."""
        if failure.error.kind not in _AMBIGUOUS:
            return False
        try:
            runtime = self.aws.read(run.function).get("Runtime")
        except OpsFailure:
            runtime = None  # unknown: treated as changed, so the result tells the caller to check
        if runtime == run.previous:
            return False
        detail = f"{failure.error.message} — but the function now reads Runtime={runtime or 'unknown'}"
        self.step(run, "update", runtime == run.target, runtime, detail)
        return True

    def _unverified(self, run: Run, reason: str) -> UpgradeResult:
        name = function_name_of(run.function)
        return self.result(
            run,
            Observed("Unknown", None),  # not read back: the final runtime is not known
            Outcome.UNVERIFIED,
            f"The update to {run.target} was sent, then checking it failed ({reason}). The function may be "
            f"on {run.target} or still on {run.previous}: not verified, not rolled back.",
            how_to_check=f"Read the function again (get-function '{name}'): expect runtime {run.target} with "
            f"last_update_status Successful; update-function-runtime with target {run.previous} rolls back.",
        )

    def within(self, budget_s: float) -> str:
        """The limit a wait ran against, in words."""
        return "the task's wait limit" if self.effects.durable else f"{budget_s:.0f} s"

    def smoke_seconds(self, run: Run) -> float:
        """How long the smoke invoke may take: what is left of the budget less the rollback's reserve, or,
        in a durable run, the function's own timeout and a margin."""
        if self.effects.durable:
            return min(run.function_timeout_s + SMOKE_MARGIN_S, MAX_SMOKE_S)
        return self.effects.remaining() - ROLLBACK_RESERVE_S

    def smoke_invoke(
        self,
        run: Run,
        smoke: bytes,
        seconds: float,
        qualifier: str | None = None,
        function: str | None = None,
    ) -> InvokeResult:
        """The smoke invoke, never run twice (raises ``OpsFailure`` if it could not run)."""
        target = function or run.function
        what = f"smoke test of version {qualifier}" if qualifier else "smoke test"
        self.effects.progress(f"{what} (the function may run up to {run.function_timeout_s:.0f} s)")

        def invoke() -> dict[str, Any]:
            client = self.clients.invoke_within(seconds)
            return invoke_function(client, target, smoke, qualifier=qualifier).model_dump(mode="json")

        return InvokeResult.model_validate(self.effects.call(what, invoke, once=True))

    def _after_update(self, run: Run, seen: Observed, smoke: bytes | None, budget_s: float) -> UpgradeResult:
        target, previous = run.target, run.previous
        check = f"Read the function again (get-function '{function_name_of(run.function)}')"
        if seen.status == "Failed":
            return self.result(run, seen, Outcome.FAILED, f"AWS failed to apply {target}: {seen.reason}")
        if not seen.on(target):
            return self.result(
                run,
                seen,
                Outcome.IN_PROGRESS,
                f"Not verified: AWS had not finished applying {target} within {self.within(budget_s)} (last "
                f"status {seen.status}); it is not known to have succeeded.",
                how_to_check=f"{check}: last_update_status must be Successful with runtime {target}.",
            )
        if smoke is None:
            return self.result(run, seen, Outcome.SUCCEEDED, f"Verified: now on {target} (was {previous}).")
        allowed = self.smoke_seconds(run)
        if allowed < MIN_SMOKE_S:
            self.step(run, "smoke_invoke", False, target, "not run: no time left in budget_s")
            return self.result(
                run,
                seen,
                Outcome.SMOKE_TEST_ERROR,
                f"Updated to {target} (applied), but no time was left in budget_s for the smoke test. Not "
                f"verified, not rolled back; the previous runtime was {previous}. Invoke it to test it.",
            )
        try:
            tested = self.smoke_invoke(run, smoke, allowed)
        except OpsFailure as failure:
            self.step(run, "smoke_invoke", False, target, failure.error.message)
            return self.result(
                run,
                seen,
                Outcome.SMOKE_TEST_ERROR,
                f"Updated to {target}, but the smoke invoke could not run ({failure.error.message}). "
                f"Not verified, not rolled back; the previous runtime was {previous}.",
            )
        passed = tested.function_error is None
        outcome_text = f"function error: {tested.function_error}" if not passed else "no function error"
        self.step(run, "smoke_invoke", passed, target, outcome_text)
        if passed:
            message = f"Verified: now on {target} (was {previous}) and the smoke test passed."
            if self.effects.cancelled():
                message += " A cancellation arrived after the change was verified: nothing left to stop."
            return self.result(run, seen, Outcome.SUCCEEDED, message, smoke_test=tested)
        failed = f"The smoke test failed on {target} ({tested.function_error} function error)"
        return self.smoke_failed(run, seen, failed, tested)

    def smoke_failed(self, run: Run, seen: Observed, failed: str, tested: InvokeResult) -> UpgradeResult:
        """Restores $LATEST's runtime after a failed smoke test (when this run changed it)."""
        return self.restore(run, seen, failed, tested, done=Outcome.ROLLED_BACK)

    def restore(
        self, run: Run, seen: Observed, why: str, tested: InvokeResult | None, *, done: Outcome
    ) -> UpgradeResult:
        """Puts $LATEST back on the previous runtime (when this run changed it); ``done`` is the outcome
        when that is verified (rolled_back after a failed smoke test, cancelled after a cancellation)."""
        previous, target = run.previous, run.target
        check = f"Read the function again (get-function '{function_name_of(run.function)}')"
        if not run.updated:
            message = f"{why}. $LATEST was already on {target} before: nothing else to restore."
            return self.result(run, seen, done, message, smoke_test=tested)
        if previous is None or self.catalog.status(previous, self.today) is RuntimeStatus.BLOCKED:
            self.step(run, "rollback", False, previous, f"not attempted: AWS blocks updates to {previous}")
            return self.result(
                run,
                seen,
                Outcome.ROLLBACK_REFUSED,
                f"{why}, and rolling back is impossible: AWS blocks updates to functions on {previous}. "
                f"The function stays on {target}: fix it there or move it to another supported runtime.",
                smoke_test=tested,
            )
        return self._rollback(run, seen, why, tested, check, done)

    def _rollback(
        self, run: Run, seen: Observed, why: str, tested: InvokeResult | None, check: str, done: Outcome
    ) -> UpgradeResult:
        previous = run.previous
        self.effects.progress(f"{why}: rolling back to {previous}")
        try:
            self.aws.update(run.function, previous, seen.revision_id)
        except OpsFailure as failure:
            self.step(run, "rollback", False, previous, failure.error.message)
            message = f"{why}; the rollback to {previous} was rejected: {failure.error.message}"
            return self.result(run, seen, Outcome.ROLLBACK_FAILED, message, smoke_test=tested)
        self.step(run, "rollback", True, previous, f"UpdateFunctionConfiguration accepted Runtime={previous}")
        back = self._wait(run, previous, "rollback_wait", "rollback applied")
        if back.on(previous):
            return self.result(
                run, back, done, f"{why}; rolled back to {previous} (verified).", smoke_test=tested
            )
        if back.status == "Failed":
            message = f"{why}; the rollback to {previous} failed: {back.reason}"
            return self.result(run, back, Outcome.ROLLBACK_FAILED, message, smoke_test=tested)
        return self.result(
            run,
            back,
            Outcome.ROLLBACK_IN_PROGRESS,
            f"{why}; the rollback to {previous} started but had not finished within the time budget.",
            smoke_test=tested,
            how_to_check=f"{check}: expect runtime {previous}, last update Successful.",
        )

    def result(self, run: Run, seen: Observed, outcome: Outcome, message: str, **extra: Any) -> UpgradeResult:
        return UpgradeResult(
            **run.base,
            outcome=outcome,
            verified=outcome is Outcome.SUCCEEDED,
            message=message,
            final_runtime=seen.runtime,
            steps=run.steps,
            **extra,
        )

    def _wait(self, run: Run, runtime: str | None, action: Action, what: str) -> Observed:
        seen = self.aws.wait(run.function, what)
        self.step(run, action, seen.on(runtime), seen.runtime, seen.detail)
        return seen

    def step(self, run: Run, action: Action, ok: bool, runtime: str | None, detail: str) -> None:
        elapsed = round(self.effects.now() - run.started, 3)
        run.steps.append(UpgradeStep(action=action, ok=ok, runtime=runtime, detail=detail, elapsed_s=elapsed))
