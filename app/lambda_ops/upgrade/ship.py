"""The alias path of an upgrade, after ``$LATEST`` is verified on the target (see ``alias``):
publish, wait for the version, smoke test it, move the alias, read the alias back — within the run's deadline.

Only ``succeeded`` (verified) means the alias was read back pointing, unweighted, at the new version. Every
other ending says where the alias is: before ``UpdateAlias`` it is untouched.
"""

from __future__ import annotations

from typing import Any

from app.lambda_ops.deployment import version_runtime
from app.lambda_ops.errors import ErrorKind, OpsFailure, aws_call
from app.lambda_ops.policy import function_name_of
from app.lambda_ops.upgrade.alias import AliasState
from app.lambda_ops.upgrade.effects import failure_of
from app.lambda_ops.upgrade.plan import (
    MIN_SMOKE_S,
    Check,
    Outcome,
    UpgradeOptions,
    UpgradeResult,
)
from app.lambda_ops.upgrade.run import Run, Runner
from app.lambda_ops.upgrade.wait import DURABLE_WAIT_LIMIT_S, Observed, plain
from app.lambda_ops.versions import weights_of

_AMBIGUOUS = frozenset({ErrorKind.TIMEOUT, ErrorKind.CONNECTION, ErrorKind.SERVICE_ERROR})


def dry_run_message(
    failed: list[Check], current: str | None, options: UpgradeOptions, state: AliasState | None
) -> str:
    if failed:
        return "Dry run, nothing changed. Would refuse: " + "; ".join(c.detail for c in failed)
    if state is not None:
        return "Dry run, nothing changed. " + _ship_plan(state, current, options)
    return (
        f"Dry run, nothing changed. Would update {current} → {options.target_runtime} and wait up to "
        f"{options.budget_s:.0f} s for AWS to apply it"
        + (", then smoke test it and roll back on a function error." if options.smoke_payload else ".")
    )


def _ship_plan(state: AliasState, current: str | None, options: UpgradeOptions) -> str:
    first = (
        f"$LATEST is already on {options.target_runtime}: would publish it as a new version"
        if current == options.target_runtime
        else f"Would update $LATEST {current} → {options.target_runtime}, wait for AWS to apply it, publish "
        "it as a new version"
    )
    return (
        f"{first}, smoke test that version, then point alias {state.name} from version {state.version} "
        f"({state.version_config.get('Runtime')}) to it and read the alias back — all within "
        f"{options.budget_s:.0f} s. A failed smoke test leaves {state.name} on version {state.version} and "
        "restores $LATEST's runtime."
    )


class AliasShipper:
    def __init__(self, runner: Runner, run: Run, state: AliasState) -> None:
        self.runner, self.run, self.state = runner, run, state
        self.change = run.base["alias"]
        self.control = runner.clients.control

    def ship(self, seen: Observed, smoke: bytes) -> UpgradeResult:
        run, name, target = self.run, self.state.name, self.run.target
        effects = self.runner.effects
        function = function_name_of(run.function)
        request: dict[str, Any] = {"FunctionName": function, "Description": f"runtime {target}"}
        if seen.revision_id:
            request["RevisionId"] = seen.revision_id  # publish exactly what was verified

        def publish() -> str:
            with aws_call("PublishVersion", function):
                return str(self.control.publish_version(**request)["Version"])

        effects.progress(f"$LATEST verified on {target}: publishing a version for alias {name}")
        try:
            version = effects.call("PublishVersion", publish)
        except OpsFailure as failure:
            self.runner.step(run, "publish", False, target, failure.error.message)
            return self._not_moved(seen, f"PublishVersion failed: {failure.error.message}")
        self.change.published_version = version
        self.runner.step(run, "publish", True, target, f"PublishVersion created version {version}")
        ready = self._wait_version(function, version)
        if ready is not None:
            return self._not_moved(seen, ready)
        allowed = self.runner.smoke_seconds(run)
        if allowed < MIN_SMOKE_S:
            self.runner.step(run, "smoke_invoke", False, target, "not run: no time left in budget_s")
            return self._not_moved(seen, f"no time was left in budget_s to smoke test version {version}")
        try:
            tested = self.runner.smoke_invoke(run, smoke, allowed, qualifier=version, function=function)
        except OpsFailure as failure:
            self.runner.step(run, "smoke_invoke", False, target, failure.error.message)
            return self._not_moved(seen, f"the smoke invoke of version {version} could not run")
        if tested.function_error is not None:
            self.runner.step(run, "smoke_invoke", False, target, f"function error: {tested.function_error}")
            failed = (
                f"The smoke test of version {version} failed on {target} ({tested.function_error} function "
                f"error); alias {name} was not moved and still serves version {self.state.version}"
            )
            return self.runner.smoke_failed(run, seen, failed, tested)
        self.runner.step(run, "smoke_invoke", True, target, f"version {version}: no function error")
        if effects.cancelled():
            why = (
                f"Cancelled before alias {name} moved (version {version} passed its smoke test); alias "
                f"{name} still serves version {self.state.version}"
            )
            return self.runner.restore(run, seen, why, tested, done=Outcome.CANCELLED)
        return self._move(seen, function, version, tested)

    def _wait_version(self, function: str, version: str) -> str | None:
        """None once the version is Active on the target; else why not (within the run's wait limit)."""
        run, effects = self.run, self.runner.effects

        def look() -> tuple[bool, Any]:
            config = version_runtime(self.control, function, version)
            state = str(config.get("State") or "Unknown")
            effects.progress(f"waiting for version {version} to be Active (now {state})")
            return state in ("Active", "Failed"), {"state": state, "runtime": config.get("Runtime")}

        limit = DURABLE_WAIT_LIMIT_S if effects.durable else None
        done, seen = effects.poll(f"wait: version {version} Active", failure_of(look), limit)
        state = str(seen.get("state") or f"unreadable ({seen.get('unreadable')})")
        if not done:
            self.runner.step(run, "version_wait", False, run.target, f"version {version}: {state}")
            return (
                f"version {version} was not Active within {self.runner.within(0)} (state {state}; SnapStart "
                "is slower)"
                if effects.durable
                else f"version {version} was not Active within budget_s (state {state}; SnapStart is slower)"
            )
        runtime = seen.get("runtime")
        ok = state == "Active" and runtime == run.target
        self.runner.step(run, "version_wait", ok, runtime, f"version {version}: {state}")
        return None if ok else f"version {version} is {state} on {runtime}, not Active on {run.target}"

    def _move(self, seen: Observed, function: str, version: str, tested: Any) -> UpgradeResult:
        run, name, effects = self.run, self.state.name, self.runner.effects
        request: dict[str, Any] = {"FunctionName": function, "Name": name, "FunctionVersion": version}
        if self.state.revision_id:
            request["RevisionId"] = self.state.revision_id  # refused if someone moved the alias meanwhile

        def move() -> None:
            with aws_call("UpdateAlias", f"{function}:{name}"):
                self.control.update_alias(**request)

        effects.progress(f"version {version} passed its smoke test: moving alias {name} to it")
        try:
            effects.call("UpdateAlias", move)
        except OpsFailure as failure:
            self.runner.step(run, "alias_update", False, None, failure.error.message)
            if failure.error.kind not in _AMBIGUOUS:
                return self._not_moved(seen, f"UpdateAlias was refused: {failure.error.message}", tested)
        else:
            self.runner.step(run, "alias_update", True, run.target, f"UpdateAlias accepted version {version}")
        return self._verify_alias(
            seen,
            function,
            version,
            tested,
            unreadable=f"Version {version} passed its smoke test and UpdateAlias was sent, but alias {name} "
            "could not be read back: not verified.",
            how_to_check=f"get-function '{function}': alias {name} should point to version {version}.",
            note_cancel=True,
        )

    def _verify_alias(
        self,
        seen: Observed,
        function: str,
        version: str,
        tested: Any,
        *,
        unreadable: str,
        how_to_check: str | None = None,
        done: str = "",
        note_cancel: bool = False,
    ) -> UpgradeResult:
        """Read the alias back: ``succeeded`` only if it serves ``version`` alone (``done``: how it got there,
        for the message); ``unverified`` if it cannot be read; else not moved. Shared by the single upgrade's
        move and a campaign's last traffic step (app/lambda_ops/upgrade/shift.py)."""
        run, name, effects = self.run, self.state.name, self.runner.effects

        def read_back() -> dict[str, Any]:
            with aws_call("GetAlias", f"{function}:{name}"):
                return plain(dict(self.control.get_alias(FunctionName=function, Name=name)))

        try:
            read = effects.call("GetAlias", read_back)
        except OpsFailure as failure:
            self.runner.step(run, "alias_read", False, None, failure.error.message)
            extra = {"how_to_check": how_to_check} if how_to_check else {}
            return self.runner.result(run, seen, Outcome.UNVERIFIED, unreadable, smoke_test=tested, **extra)
        weights = weights_of(read)
        self.change.version_after = str(read.get("FunctionVersion"))
        moved = self.change.version_after == version and len(weights) == 1
        self.change.runtime_after = run.target if moved else None
        self.runner.step(run, "alias_read", moved, self.change.runtime_after, f"alias {name} → {weights}")
        if not moved:
            return self._not_moved(seen, f"alias {name} reads back as {weights}", tested)
        message = (
            f"Verified: alias {name} now serves version {version} on {run.target} (was version "
            f"{self.state.version} on {self.change.runtime_before}){done}; the version passed its smoke test."
        )
        if note_cancel and effects.cancelled():
            message += " A cancellation arrived after the alias moved: the upgrade was finished, not undone."
        return self.runner.result(run, seen, Outcome.SUCCEEDED, message, smoke_test=tested)

    def _not_moved(self, seen: Observed, why: str, tested: Any = None) -> UpgradeResult:
        run, name = self.run, self.state.name
        if run.updated:
            latest = (
                f"$LATEST is on {run.target} (verified); update-function-runtime with target {run.previous} "
                "restores it"
            )
        else:
            latest = f"$LATEST was already on {run.target} and is unchanged"
        alias = (
            f"Alias {name} still serves version {self.state.version}"
            if self.change.version_after is None
            else f"Alias {name} was read back on version {self.change.version_after}, not verified"
        )
        return self.runner.result(
            run,
            seen,
            Outcome.ALIAS_NOT_MOVED,
            f"Not verified: {why}. {alias}; {latest}. Call again to retry (the plan reads the alias afresh).",
            smoke_test=tested,
            how_to_check=f"get-function '{function_name_of(run.function)}' lists alias {name} and the "
            "runtime each of its versions runs.",
        )
