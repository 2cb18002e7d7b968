"""What a runtime upgrade would do, and the checks that must pass before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.lambda_ops.errors import OpsFailure
from app.lambda_ops.health import HealthSince
from app.lambda_ops.invoke import InvokeResult
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus, family_of, version_key

DEFAULT_BUDGET_S = 20.0
MAX_BUDGET_S = 25.0  # + the reads before it, inside the function's 29 s timeout and the gateway's 30 s
ROLLBACK_RESERVE_S = 4.0  # of the budget, kept back from the smoke invoke for a rollback and its wait
MIN_SMOKE_S = 1.0  # a smoke invoke with less time than this left is not attempted


class Outcome(StrEnum):
    PLANNED = "planned"  # dry run: every check passed, nothing changed
    REFUSED = "refused"  # dry run: a check failed, nothing changed
    UNCHANGED = "unchanged"  # already on the target runtime, nothing changed
    SUCCEEDED = "succeeded"  # on the target runtime, LastUpdateStatus Successful, smoke test passed if asked
    IN_PROGRESS = "in_progress"  # AWS still applying the change when the time budget ran out: not verified
    FAILED = "failed"  # AWS reported LastUpdateStatus Failed
    SMOKE_TEST_ERROR = "smoke_test_error"  # updated, but the smoke invoke itself could not run: not verified
    ROLLED_BACK = "rolled_back"  # smoke test failed; back on the previous runtime
    ROLLBACK_IN_PROGRESS = "rollback_in_progress"  # smoke test failed; rollback not finished in the budget
    ROLLBACK_FAILED = "rollback_failed"  # smoke test failed; AWS rejected or failed the rollback
    ROLLBACK_REFUSED = "rollback_refused"  # smoke test failed; previous runtime is blocked for updates
    UNVERIFIED = "unverified"  # the update was sent, then something unexpected stopped the checks
    ALIAS_NOT_MOVED = "alias_not_moved"  # alias path: $LATEST updated, but the alias still serves the old one
    DECLINED = "declined"  # the user declined (or cancelled) the confirmation: nothing changed
    CANCELLED = "cancelled"  # a task's tasks/cancel: stopped with nothing changed, or rolled back (verified)


@dataclass(frozen=True)
class UpgradeOptions:
    target_runtime: str
    dry_run: bool = False
    allow_cross_family: bool = False
    allow_downgrade: bool = False
    smoke_payload: str | None = None  # JSON text; None: no smoke test
    budget_s: float = DEFAULT_BUDGET_S  # for the update, the smoke test and any rollback together
    alias: str | None = None  # ship through this alias: publish, smoke test the version, move the alias
    allow_layer_mismatch: bool = False  # go ahead although a layer declares other runtimes/architectures
    ship_latest_code: bool = False  # alias path: $LATEST's code differs from the alias's version: ship it
    in_task: bool = False  # run by the task worker: no budget_s (waits as long as AWS takes)


Action = Literal[
    "update",
    "wait",
    "smoke_invoke",
    "rollback",
    "rollback_wait",
    "publish",
    "version_wait",
    "alias_update",
    "alias_read",
    "traffic_shift",
    "gate",
    "alias_rollback",
]


class Check(BaseModel):
    name: str = Field(description="What is checked.")
    passed: bool = Field(description="Whether it passed.")
    detail: str = Field(description="The finding, in words.")


class UpgradeStep(BaseModel):
    action: Action = Field(
        description="update/rollback: the UpdateFunctionConfiguration call; wait/rollback_wait: polling "
        "until AWS applied it; smoke_invoke: the test invoke; alias path: publish (PublishVersion), "
        "version_wait (until the version is Active), alias_update (UpdateAlias), alias_read (GetAlias); a "
        "campaign's shift: traffic_shift (UpdateAlias with weights), gate (metrics and alarms after the "
        "step), alias_rollback (the alias put back where it was)."
    )
    ok: bool = Field(description="Whether the step achieved what it was for.")
    runtime: str | None = Field(description="The runtime the step concerns or observed.")
    detail: str = Field(description="What happened.")
    elapsed_s: float = Field(description="Seconds since the upgrade started.")


class AliasChange(BaseModel):
    """The alias an upgrade ships through: where it pointed before, and where it was read back after."""

    name: str = Field(description="The alias.")
    version_before: str = Field(description="The version it pointed to before.")
    runtime_before: str | None = Field(description="That version's runtime.")
    weights_before: dict[str, float] = Field(description="Its routing before (version → share).")
    provisioned_concurrency: int | None = Field(
        default=None, description="Provisioned concurrency configured on the alias, if any."
    )
    published_version: str | None = Field(default=None, description="The version published for it, if any.")
    version_after: str | None = Field(
        default=None, description="The version read back after; null: not read."
    )
    runtime_after: str | None = Field(default=None, description="The runtime the alias serves after.")


class UpgradeResult(BaseModel):
    function_name: str = Field(description="The function.")
    dry_run: bool = Field(description="True: a plan only, nothing was changed.")
    outcome: Outcome = Field(description="What happened; see verified.")
    verified: bool = Field(
        description="True only if the function was read back on the target runtime with LastUpdateStatus "
        "Successful — after this update (and a passing smoke test, if one was requested) or because it "
        "already was. With an alias: only if the alias was read back pointing (alone, unweighted) at a "
        "version verified on the target runtime that passed the smoke test. Never true for a planned or "
        "unfinished change."
    )
    message: str = Field(description="The outcome in plain words, with what to do next.")
    previous_runtime: str | None = Field(description="The runtime before the upgrade (the rollback target).")
    target_runtime: str = Field(description="The requested runtime.")
    final_runtime: str | None = Field(description="The runtime last read back from AWS, null if unknown.")
    checks: list[Check] = Field(description="Validation checks, run before any write.")
    warnings: list[str] = Field(description="Things to be aware of.")
    rollback_possible: bool = Field(description="Whether the previous runtime still accepts updates.")
    steps: list[UpgradeStep] = Field(default_factory=list, description="The steps performed, in order.")
    smoke_test: InvokeResult | None = Field(default=None, description="The smoke invoke's result, if run.")
    how_to_check: str | None = Field(default=None, description="How to check an unfinished outcome later.")
    alias: AliasChange | None = Field(
        default=None, description="With an alias: its before and after; verified means it serves the target."
    )
    health: HealthSince | None = Field(
        default=None,
        description="After a real upgrade: errors and duration since the change against the 7 days before "
        "(CloudWatch; the alias's when shipped through one). conclusive=false: the data cannot tell yet.",
    )


@dataclass(frozen=True)
class Plan:
    checks: list[Check]
    warnings: list[str]
    rollback_possible: bool

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


def make_plan(
    config: Mapping[str, Any],
    options: UpgradeOptions,
    catalog: RuntimeCatalog,
    today: date,
    refusal: OpsFailure | None,
) -> Plan:
    current = config.get("Runtime")
    target = options.target_runtime
    known_target = catalog.get(target)
    known_current = catalog.get(current) if current else None
    checks: list[Check] = []
    warnings: list[str] = []

    def check(name: str, passed: bool, detail: str) -> None:
        checks.append(Check(name=name, passed=passed, detail=detail))

    check(
        "zip_package",
        config.get("PackageType", "Zip") == "Zip" and current is not None,
        "a .zip function with a managed runtime"
        if current is not None
        else "a container image function has no runtime to change: rebuild its image on a newer base image",
    )
    status = catalog.status(target, today)
    check(
        "target_known",
        known_target is not None,
        f"{target} is {'a' if known_target else 'not a'} known runtime",
    )
    if known_target is not None:
        check(
            "target_is_zip_runtime",
            not known_target.container_only,
            f"{target} is "
            + ("only a container base image" if known_target.container_only else "a .zip runtime"),
        )
        check(
            "target_supported",
            status in (RuntimeStatus.SUPPORTED, RuntimeStatus.DEPRECATING_SOON),
            f"{target} is {status.value}"
            + (f" (deprecation {known_target.deprecation_date})" if known_target.deprecation_date else ""),
        )
        if status is RuntimeStatus.DEPRECATING_SOON:
            warnings.append(
                f"{target} is deprecated on {known_target.deprecation_date}: consider a newer one."
            )
    if current is not None:
        same = family_of(current, catalog) == family_of(target, catalog)
        check(
            "same_family",
            same or options.allow_cross_family,
            f"{current} → {target}: "
            + (
                "same family"
                if same
                else "different families" + (" (allowed)" if options.allow_cross_family else "")
            ),
        )
        if not same and options.allow_cross_family:
            warnings.append(
                "A cross-family change needs code built for the new runtime; the code is not changed."
            )
        if known_current is not None and known_target is not None and same:
            downgrade = version_key(known_target) < version_key(known_current)
            check(
                "not_downgrade",
                not downgrade or options.allow_downgrade,
                f"{target} is {'older than' if downgrade else 'not older than'} {current}"
                + (" (downgrade allowed)" if downgrade and options.allow_downgrade else ""),
            )
        elif known_current is None:
            warnings.append(f"{current} is not in the runtime catalog: versions could not be compared.")
    busy = config.get("LastUpdateStatus") == "InProgress" or config.get("State") == "Pending"
    check("function_ready", not busy, "another update is in progress" if busy else "no update in progress")
    check(
        "write_policy",
        refusal is None,
        refusal.error.message if refusal else "writes allowed for this function",
    )

    rollback_possible = current is not None and catalog.status(current, today) is not RuntimeStatus.BLOCKED
    if current is not None and not rollback_possible and known_current is not None:
        warnings.append(
            f"No way back: AWS blocks updates to functions on {current} since "
            f"{known_current.block_function_update}, so a rollback to it would be rejected."
        )
    elif (
        known_current is not None
        and known_current.block_function_create is not None
        and known_current.block_function_create <= today
    ):
        warnings.append(
            f"A rollback may be refused: AWS has blocked creating functions on {current} since "
            f"{known_current.block_function_create}; if it refuses to switch this one back, the result "
            "says so (rollback_failed) and the function stays on the target."
        )
    timeout = int(config.get("Timeout") or 0)
    smoke_time = options.budget_s - ROLLBACK_RESERVE_S
    if options.smoke_payload is not None and timeout > smoke_time and not options.in_task:
        warnings.append(
            f"The smoke invoke gets what is left of budget_s after the update, less "
            f"{ROLLBACK_RESERVE_S:.0f} s kept for a rollback (at most {max(smoke_time, 0):.0f} s); the "
            f"function may run up to {timeout} s. If it runs longer, the upgrade is reported unverified "
            "and not rolled back."
        )
    if options.smoke_payload is None:
        warnings.append(
            "No smoke test requested: success will mean AWS applied the runtime, not that the function "
            "works on it. Pass a smoke payload to invoke it after the update (rollback on a function error)."
        )
    warnings.append("Only the runtime changes: code and dependencies stay as they are.")
    return Plan(checks=checks, warnings=warnings, rollback_possible=rollback_possible)
