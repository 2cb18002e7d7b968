"""Shipping a runtime upgrade through an alias: what production actually serves.

A published version is immutable and keeps its runtime, so changing ``$LATEST`` leaves ``prod`` → version 7
where it was. With an alias, after the verified ``$LATEST`` update: ``PublishVersion`` (guarded by the
verified RevisionId), wait until that version is Active on the target runtime, smoke-invoke **that version**
(``Qualifier``), and only then ``UpdateAlias`` (guarded by the alias's RevisionId) and read the alias back
with ``GetAlias``. A failing smoke test leaves the alias where it was and restores ``$LATEST``'s runtime.

Refused in the plan: weighted aliases (moving the primary version would keep sending the additional share to
the old version — a deployment in progress belongs to whoever started it), an alias on ``$LATEST`` (it moves
with the update anyway), no smoke payload (production moves only after a passing test), and — unless
``ship_latest_code`` — a ``$LATEST`` whose code differs from the alias's version (publishing would ship it).
Provisioned concurrency on the alias is a warning: Lambda re-provisions it for the new version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.lambda_ops.deployment import read_layers, version_runtime
from app.lambda_ops.errors import OpsFailure, aws_call, invalid
from app.lambda_ops.runtimes import Runtime
from app.lambda_ops.upgrade.checks import compatibility_checks
from app.lambda_ops.upgrade.plan import AliasChange, Check, Plan, UpgradeOptions
from app.lambda_ops.versions import LATEST, weights_of

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

_ALIAS = re.compile(r"^(?!\d+$)[A-Za-z0-9_-]{1,128}$")


def validate_alias(alias: str | None) -> str | None:
    alias = (alias or "").strip() or None
    if alias is not None and not _ALIAS.match(alias):
        raise invalid(
            f"'{alias}' is not an alias name: 1-128 letters, digits, - or _, not only digits (that would be "
            "a version). Omit alias to change $LATEST only."
        )
    return alias


@dataclass(frozen=True)
class AliasState:
    name: str
    version: str
    weights: dict[str, float]
    revision_id: str | None
    version_config: dict[str, Any]  # the configuration of the version it points to ({} for $LATEST)
    provisioned: int | None
    provisioned_note: str | None

    def change(self) -> AliasChange:
        return AliasChange(
            name=self.name,
            version_before=self.version,
            runtime_before=self.version_config.get("Runtime"),
            weights_before=self.weights,
            provisioned_concurrency=self.provisioned,
        )


def extend_plan(
    plan: Plan,
    config: Mapping[str, Any],
    options: UpgradeOptions,
    known_target: Runtime | None,
    client: LambdaClient,
    alias: str | None,
) -> AliasState | None:
    """Adds the layer, architecture and SnapStart checks and, with an alias, the alias's checks to the plan
    (reads only: ``GetLayerVersion``, ``GetAlias``, the version's configuration); the alias's state."""
    layers = read_layers(client, config)
    checks, warnings = compatibility_checks(
        config,
        options.target_runtime,
        known_target,
        layers,
        allow_layer_mismatch=options.allow_layer_mismatch,
    )
    state = read_alias_state(client, str(config.get("FunctionName")), alias) if alias else None
    if state is not None:
        more_checks, more_warnings = alias_checks(state, config, options)
        checks, warnings = checks + more_checks, warnings + more_warnings
    plan.checks[-1:-1] = checks  # before write_policy, which stays last
    plan.warnings[:0] = warnings
    return state


def read_alias_state(client: LambdaClient, function: str, alias: str) -> AliasState:
    """The alias (``GetAlias``: it must belong to this function), its version's configuration and the
    provisioned concurrency configured on it. Raises ``OpsFailure`` (not_found) for an unknown alias."""
    with aws_call("GetAlias", f"{function}:{alias}"):
        read = dict(client.get_alias(FunctionName=function, Name=alias))
    version = str(read.get("FunctionVersion") or LATEST)
    config = version_runtime(client, function, version) if version != LATEST else {}
    provisioned, note = None, None
    try:
        with aws_call("GetProvisionedConcurrencyConfig", f"{function}:{alias}"):
            pc = client.get_provisioned_concurrency_config(FunctionName=function, Qualifier=alias)
        provisioned = int(pc.get("RequestedProvisionedConcurrentExecutions") or 0) or None
    except OpsFailure as failure:
        if failure.error.aws_code != "ProvisionedConcurrencyConfigNotFoundException":
            note = failure.error.message
    revision = str(read["RevisionId"]) if read.get("RevisionId") else None
    return AliasState(alias, version, weights_of(read), revision, config, provisioned, note)


def alias_checks(
    state: AliasState, latest: Mapping[str, Any], options: UpgradeOptions
) -> tuple[list[Check], list[str]]:
    checks: list[Check] = []
    warnings: list[str] = []
    name, target = state.name, options.target_runtime

    def check(check_name: str, passed: bool, detail: str) -> None:
        checks.append(Check(name=check_name, passed=passed, detail=detail))

    check(
        "alias_on_published_version",
        state.version != LATEST,
        f"alias {name} points to version {state.version}"
        if state.version != LATEST
        else f"alias {name} points to $LATEST: it follows the update anyway; omit alias",
    )
    split = ", ".join(f"version {v} {w:.0%}" for v, w in state.weights.items())
    check(
        "alias_not_weighted",
        len(state.weights) == 1,
        f"alias {name} routes all traffic to one version"
        if len(state.weights) == 1
        else f"alias {name} splits traffic ({split}): moving its primary version would keep sending the "
        "additional share to the old version. Finish or roll back that weighted deployment with the tool "
        "that started it (e.g. CodeDeploy), then upgrade",
    )
    check(
        "smoke_test_for_alias",
        options.smoke_payload is not None,
        "the new version is smoke tested before the alias moves"
        if options.smoke_payload is not None
        else f"shipping through alias {name} needs smoke_payload: production moves only after the new "
        "version passed a test invoke",
    )
    if state.version != LATEST:
        same = latest.get("CodeSha256") == state.version_config.get("CodeSha256")
        check(
            "alias_code_matches",
            same or options.ship_latest_code,
            f"$LATEST has the same code as version {state.version}"
            if same
            else f"$LATEST's code differs from version {state.version}'s: publishing would ship $LATEST's "
            "code, not only a new runtime"
            + (" (allowed by ship_latest_code)" if options.ship_latest_code else ""),
        )
        if state.version_config.get("Runtime") == target:
            warnings.append(f"Alias {name} already serves version {state.version} on {target}.")
    if state.provisioned:
        warnings.append(
            f"Alias {name} has {state.provisioned} provisioned concurrency: moving it makes Lambda provision "
            "that many environments of the new version (billed while both exist) and, until they are "
            "ready, some requests may start cold. The result reads the alias back, not the allocation: "
            "check it with GetProvisionedConcurrencyConfig."
        )
    elif state.provisioned_note:
        warnings.append(f"Provisioned concurrency on alias {name} not checked: {state.provisioned_note}")
    return checks, warnings
