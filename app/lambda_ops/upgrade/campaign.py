"""A runtime campaign's plan: which functions of which targets, to which runtime, through which alias, in
which waves — and its digest.

- Selection (``Selection``): current runtime, family or status (default: every function on a deprecated,
  soon-deprecated or blocked runtime), name prefix, tags, accounts and regions (plain strings: the caller
  passes the targets and a facade per target; the domain knows nothing of how a target is reached).
- Per function, today's checks (``UpgradeRunner`` dry run: target, family, downgrade, layers, architecture,
  SnapStart, the alias's weights, provisioned concurrency, the write policy); a failed check, a function
  already on its target, a blocked runtime or one with no newer runtime is *excluded* with the reason.
- Blast radius: functions per account and region and each function's invocations over 30 days
  (``traffic.read_traffic``: one GetMetricData call per 500 functions and target).
- Waves, least risky first: idle (no invocation in 30 days), low traffic, busiest (the top quarter of the
  functions with traffic, and any whose traffic could not be read), each tier cut into waves of at most
  ``wave_size``.
- The digest: ``<sha256>.<fingerprints>``. The sha256 covers the canonical content of what would change —
  every planned function's account, region, name, runtime, target, ``RevisionId``, ``CodeSha256`` and its
  alias's version, weights and RevisionId, and every exclusion — not the traffic, which moves every minute
  (the waves are re-ordered on the run's fresh numbers). The fingerprints (8 bytes a function: a hash of its
  key and of its content) let a run that finds a different plan say which functions changed, appeared or
  left, without the server keeping any plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from app.lambda_ops.errors import OpsFailure, aws_call, invalid
from app.lambda_ops.facade import LambdaOps
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus, family_of
from app.lambda_ops.traffic import DEFAULT_DAYS, read_traffic
from app.lambda_ops.upgrade.campaign_digest import digest_of
from app.lambda_ops.upgrade.campaign_model import (
    MAX_FUNCTIONS,
    AliasPlan,
    CampaignPlan,
    Excluded,
    Place,
    PlannedFunction,
    Selection,
    TargetCount,
)
from app.lambda_ops.upgrade.campaign_waves import assign_waves
from app.lambda_ops.upgrade.effects import Immediate
from app.lambda_ops.upgrade.plan import MAX_BUDGET_S, Outcome, UpgradeOptions
from app.lambda_ops.upgrade.runner import UpgradeRunner
from app.lambda_ops.versions import weights_of


def _listed(ops: LambdaOps) -> list[dict[str, Any]]:
    functions: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        request: dict[str, Any] = {"MaxItems": 50}
        if marker:
            request["Marker"] = marker
        with aws_call("ListFunctions"):
            page = ops.clients.control.list_functions(**request)
        functions += [dict(entry) for entry in page.get("Functions", [])]
        marker = page.get("NextMarker")
        if not marker or len(functions) > 10 * MAX_FUNCTIONS:
            return functions


def _matches(config: dict[str, Any], selection: Selection, catalog: RuntimeCatalog, today: date) -> bool:
    runtime = config.get("Runtime")
    if not runtime:
        return False  # container images: no runtime to change
    if selection.name_prefix and not str(config["FunctionName"]).startswith(selection.name_prefix):
        return False
    if selection.runtimes and runtime not in selection.runtimes:
        return False
    if selection.family and family_of(runtime, catalog) != selection.family:
        return False
    statuses = selection.wanted_statuses()
    return not statuses or catalog.status(runtime, today).value in statuses


def _target_for(runtime: str, selection: Selection, catalog: RuntimeCatalog, today: date) -> str | None:
    if selection.target_runtime:
        return selection.target_runtime
    return catalog.recommended_target(runtime, today)


def plan_campaign(
    places: Iterable[Place],
    selection: Selection,
    *,
    catalog: RuntimeCatalog,
    today: date,
    now: datetime,
    unreachable: Iterable[tuple[str, str, str]] = (),
) -> CampaignPlan:
    """The plan over ``places`` (already narrowed to the selection's accounts and regions by the caller, or
    narrowed here). Raises ``OpsFailure`` only for a bad selection; an unreadable target is a note, and so is
    each of ``unreachable`` — (account, region, why) of the targets the caller could not reach at all."""
    _validate(selection, catalog)
    planned: list[PlannedFunction] = []
    excluded: list[Excluded] = []
    counts: list[TargetCount] = []
    notes: list[str] = []
    complete = True
    for account, region, why in unreachable:
        complete = False
        notes.append(f"{account}/{region}: not reached ({why})")
        counts.append(TargetCount(account=account, region=region, functions=0, invocations=None, note=why))
    for place in places:
        if selection.accounts and place.account not in selection.accounts:
            continue
        if selection.regions and place.region not in selection.regions:
            continue
        try:
            here, out, note = _plan_place(place, selection, catalog, today, now)
        except OpsFailure as failure:
            complete = False
            notes.append(f"{place.account}/{place.region}: not read ({failure.error.message})")
            counts.append(
                TargetCount(
                    account=place.account,
                    region=place.region,
                    functions=0,
                    invocations=None,
                    note=failure.error.message,
                )
            )
            continue
        planned += here
        excluded += out
        if note:
            notes.append(f"{place.account}/{place.region}: {note}")
        known = [f.invocations for f in here if f.invocations is not None]
        counts.append(
            TargetCount(
                account=place.account,
                region=place.region,
                functions=len(here),
                invocations=sum(known) if len(known) == len(here) else None,
                note=note,
            )
        )
    if len(planned) > MAX_FUNCTIONS:
        raise invalid(f"{len(planned)} functions selected; at most {MAX_FUNCTIONS} a campaign: narrow it.")
    waves = assign_waves(planned, selection.wave_size)
    busy = sorted((f for f in planned if f.invocations), key=lambda f: -(f.invocations or 0))[:3]
    return CampaignPlan(
        digest=digest_of(selection, planned, excluded),
        selection=selection,
        functions=planned,
        excluded=excluded,
        blast_radius=counts,
        waves=waves,
        busiest=[f"{f.key} ({f.invocations} invocations in 30 days)" for f in busy],
        complete=complete,
        notes=notes,
    )


def _validate(selection: Selection, catalog: RuntimeCatalog) -> None:
    if selection.family and selection.family not in catalog.families:
        raise invalid(f"Unknown family '{selection.family}'. Known: {', '.join(sorted(catalog.families))}.")
    for runtime in [*selection.runtimes, *([selection.target_runtime] if selection.target_runtime else [])]:
        if catalog.get(runtime) is None:
            raise invalid(f"Unknown runtime '{runtime}' (see get-runtime-info).")


def _plan_place(
    place: Place, selection: Selection, catalog: RuntimeCatalog, today: date, now: datetime
) -> tuple[list[PlannedFunction], list[Excluded], str | None]:
    ops = place.ops
    chosen = [c for c in _listed(ops) if _matches(c, selection, catalog, today)]
    planned: list[PlannedFunction] = []
    excluded: list[Excluded] = []

    def exclude(config: dict[str, Any], code: str, reason: str) -> None:
        excluded.append(
            Excluded(
                account=place.account,
                region=place.region,
                name=config["FunctionName"],
                runtime=config.get("Runtime"),
                reason=reason,
                code=code,
            )
        )

    for config in sorted(chosen, key=lambda c: str(c["FunctionName"])):
        name, runtime = str(config["FunctionName"]), str(config["Runtime"])
        if selection.tags:
            with aws_call("ListTags", name):
                tags = ops.clients.control.list_tags(Resource=config["FunctionArn"]).get("Tags", {})
            if any(tags.get(k) != v for k, v in selection.tags.items()):
                continue
        if catalog.status(runtime, today) is RuntimeStatus.BLOCKED:
            exclude(
                config,
                "blocked",
                f"AWS blocks updates to functions on {runtime}: the runtime cannot be "
                "changed in place; redeploy the function on a supported runtime",
            )
            continue
        target = _target_for(runtime, selection, catalog, today)
        if target is None:
            exclude(config, "no_target", f"no newer supported runtime of its family than {runtime}")
            continue
        if family_of(target, catalog) != family_of(runtime, catalog):
            exclude(config, "same_family", f"{target} is another family than {runtime}")
            continue
        try:
            entry = _plan_function(place, config, target, selection, catalog, today)
        except OpsFailure as failure:
            exclude(config, "unreadable", f"could not be planned: {failure.error.message}")
            continue
        if isinstance(entry, Excluded):
            excluded.append(entry)
        else:
            planned.append(entry)
    note = None
    try:
        traffic = read_traffic(ops.clients.client("cloudwatch"), [f.name for f in planned], DEFAULT_DAYS, now)
        for function in planned:
            function.invocations = traffic.invocations.get(function.name, 0)
    except OpsFailure as failure:
        note = f"traffic unknown ({failure.error.message}): its functions go in the last waves"
    return planned, excluded, note


def _plan_function(
    place: Place,
    config: dict[str, Any],
    target: str,
    selection: Selection,
    catalog: RuntimeCatalog,
    today: date,
) -> PlannedFunction | Excluded:
    ops, name = place.ops, str(config["FunctionName"])
    alias = _alias_of(ops, name, selection.alias)
    options = UpgradeOptions(
        target_runtime=target,
        dry_run=True,
        smoke_payload=selection.smoke_payload,
        alias=alias["Name"] if alias else None,
        budget_s=MAX_BUDGET_S,
        in_task=True,
    )
    runner = UpgradeRunner(ops.clients, catalog, today, ops.policy)
    result = runner.run(name, options, Immediate(MAX_BUDGET_S))
    if result.outcome is not Outcome.PLANNED:
        failed = [c for c in result.checks if not c.passed]
        code = failed[0].name if failed else result.outcome.value
        reason = "; ".join(c.detail for c in failed) if failed else result.message
        return Excluded(
            account=place.account,
            region=place.region,
            name=name,
            runtime=config.get("Runtime"),
            reason=reason,
            code=code,
        )
    alias_plan = None
    if alias is not None:
        alias_plan = AliasPlan(
            name=alias["Name"], version=str(alias["FunctionVersion"]), weights=weights_of(alias)
        )
    return PlannedFunction(
        account=place.account,
        region=place.region,
        name=name,
        runtime=str(config["Runtime"]),
        target_runtime=target,
        alias=alias_plan,
        invocations=None,
        tier="busiest",
        wave=0,
        rollback_possible=result.rollback_possible,
        checks=result.checks,
        warnings=result.warnings,
        revision_id=config.get("RevisionId"),
        code_sha256=config.get("CodeSha256"),
    )


def _alias_of(ops: LambdaOps, name: str, alias: str | None) -> dict[str, Any] | None:
    if not alias:
        return None
    with aws_call("ListAliases", name):
        aliases = ops.clients.control.list_aliases(FunctionName=name).get("Aliases", [])
    found = next((a for a in aliases if a.get("Name") == alias), None)
    return dict(found) if found is not None else None
