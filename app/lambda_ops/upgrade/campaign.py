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

import base64
import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.lambda_ops.errors import ErrorKind, OpsError, OpsFailure, aws_call, invalid
from app.lambda_ops.facade import LambdaOps
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus, family_of
from app.lambda_ops.traffic import DEFAULT_DAYS, read_traffic
from app.lambda_ops.upgrade.effects import Immediate
from app.lambda_ops.upgrade.plan import MAX_BUDGET_S, Check, Outcome, UpgradeOptions
from app.lambda_ops.upgrade.runner import UpgradeRunner
from app.lambda_ops.versions import weights_of

StatusName = Literal["deprecated", "deprecating_soon", "blocked"]
DEFAULT_STATUSES: tuple[StatusName, ...] = ("deprecated", "deprecating_soon", "blocked")
DEFAULT_WAVE_SIZE = 25
MAX_FUNCTIONS = 1000
Tier = Literal["idle", "low", "busiest"]


class Selection(BaseModel):
    """Which functions a campaign covers, and how they ship (the same for plan and run)."""

    runtimes: list[str] = Field(default_factory=list, description="Current runtimes (e.g. nodejs16.x).")
    family: str | None = Field(default=None, description="A runtime family (nodejs, python, ...).")
    statuses: list[StatusName] = Field(
        default_factory=list, description="Runtime statuses; default (nothing else given): all three."
    )
    name_prefix: str | None = Field(default=None, description="Only functions whose name starts so.")
    tags: dict[str, str] = Field(default_factory=dict, description="Only functions with all these tags.")
    accounts: list[str] = Field(default_factory=list, description="Only these accounts (default: all).")
    regions: list[str] = Field(default_factory=list, description="Only these regions (default: all).")
    target_runtime: str | None = Field(
        default=None, description="The runtime to move to; default: the catalog's recommendation."
    )
    alias: str | None = Field(default=None, description="Ship through this alias where a function has it.")
    smoke_payload: str | None = Field(default=None, description="The smoke test's event (JSON text).")
    wave_size: int = Field(default=DEFAULT_WAVE_SIZE, ge=1, le=200, description="Functions per wave.")

    def wanted_statuses(self) -> set[str]:
        if self.statuses:
            return set(self.statuses)
        return set() if self.runtimes or self.family else set(DEFAULT_STATUSES)


class AliasPlan(BaseModel):
    name: str = Field(description="The alias the upgrade ships through.")
    version: str = Field(description="The version it serves now.")
    weights: dict[str, float] = Field(description="Its routing now (version → share).")


class PlannedFunction(BaseModel):
    account: str
    region: str
    name: str
    runtime: str = Field(description="The current runtime.")
    target_runtime: str
    alias: AliasPlan | None = Field(
        description="Shipped through this alias (traffic shifted); null: $LATEST."
    )
    invocations: int | None = Field(description="Invocations over 30 days; null: unknown.")
    tier: Tier
    wave: int = Field(description="The wave it runs in (1 first).")
    rollback_possible: bool
    checks: list[Check]
    warnings: list[str]
    revision_id: str | None = None
    code_sha256: str | None = None

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"


class Excluded(BaseModel):
    account: str
    region: str
    name: str
    runtime: str | None
    reason: str = Field(description="Why it is not in the campaign.")
    code: str = Field(description="The reason in one word (a check's name, unchanged, blocked, ...).")

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"


class TargetCount(BaseModel):
    account: str
    region: str
    functions: int = Field(description="Functions planned there.")
    invocations: int | None = Field(description="Their invocations over 30 days; null: unknown.")
    note: str | None = Field(default=None, description="What could not be read there.")


class Wave(BaseModel):
    number: int
    tier: Tier
    functions: list[str] = Field(description="account/region/name, least traffic first.")


class CampaignPlan(BaseModel):
    digest: str = Field(description="Pass it to run-runtime-campaign: the run refuses if the plan changed.")
    selection: Selection
    functions: list[PlannedFunction]
    excluded: list[Excluded]
    blast_radius: list[TargetCount]
    waves: list[Wave]
    busiest: list[str] = Field(description="The busiest planned functions (up to 3), busiest first.")
    complete: bool = Field(description="False: a target could not be read (see notes).")
    notes: list[str] = Field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.digest.split(".", 1)[0]


@dataclass(frozen=True)
class Place:
    """A target as the domain sees it: plain strings, and the facade that reaches it."""

    account: str
    region: str
    ops: LambdaOps


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


def tier_of(functions: list[PlannedFunction]) -> None:
    """Idle, low, busiest (the top quarter of those with traffic, and the unknown)."""
    busy = sorted((f for f in functions if f.invocations), key=lambda f: (f.invocations or 0, f.key))
    top = {f.key for f in busy[len(busy) - math.ceil(len(busy) / 4) :]} if busy else set()
    for function in functions:
        if function.invocations is None or function.key in top:
            function.tier = "busiest"
        elif function.invocations == 0:
            function.tier = "idle"
        else:
            function.tier = "low"


def spread(ordered: list[PlannedFunction]) -> list[PlannedFunction]:
    """Functions of equal traffic taken from each target in turn (the first of every account and region,
    then the second, ...), so a wave spans the fleet: its batches run up to ``concurrency_per_account``
    functions in *every* account at once instead of one account's while the others wait."""
    rank: Counter[tuple[float, str, str]] = Counter()
    keyed: list[tuple[float, int, str, PlannedFunction]] = []
    for function in ordered:
        traffic = function.invocations if function.invocations is not None else math.inf
        group = (traffic, function.account, function.region)
        keyed.append((traffic, rank[group], function.key, function))
        rank[group] += 1
    return [function for *_, function in sorted(keyed, key=lambda item: item[:3])]


def assign_waves(functions: list[PlannedFunction], wave_size: int) -> list[Wave]:
    tier_of(functions)
    waves: list[Wave] = []
    for tier in ("idle", "low", "busiest"):
        members = spread(
            sorted(
                (f for f in functions if f.tier == tier),
                key=lambda f: (f.invocations if f.invocations is not None else math.inf, f.key),
            )
        )
        for offset in range(0, len(members), wave_size):
            chunk = members[offset : offset + wave_size]
            number = len(waves) + 1
            for function in chunk:
                function.wave = number
            waves.append(Wave(number=number, tier=tier, functions=[f.key for f in chunk]))
    return waves


# -- the digest ---------------------------------------------------------------------------------------------


def _content(function: PlannedFunction) -> dict[str, Any]:
    return {
        "key": function.key,
        "runtime": function.runtime,
        "target": function.target_runtime,
        "revision": function.revision_id,
        "code": function.code_sha256,
        "alias": function.alias.model_dump() if function.alias else None,
    }


def _hash(value: Any) -> bytes:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).digest()


def digest_of(selection: Selection, planned: list[PlannedFunction], excluded: list[Excluded]) -> str:
    entries = sorted(
        [("p", _content(f)) for f in planned]
        + [("x", {"key": x.key, "runtime": x.runtime, "code": x.code}) for x in excluded],
        key=lambda e: str(e[1]["key"]),
    )
    sha = hashlib.sha256(
        json.dumps(
            {"selection": selection.model_dump(), "entries": entries}, sort_keys=True, separators=(",", ":")
        ).encode()
    ).hexdigest()
    prints = b"".join(_hash(e["key"])[:4] + _hash([kind, e])[:4] for kind, e in entries)
    return f"{sha}.{base64.urlsafe_b64encode(prints).decode().rstrip('=')}"


def changes(seen: str, plan: CampaignPlan) -> list[str]:
    """What differs between the plan whose digest is ``seen`` and ``plan``, in words ([] if the same)."""
    if seen == plan.digest:
        return []
    sha, _, blob = seen.partition(".")
    if sha == plan.sha:
        return []
    try:
        raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    except ValueError:
        raw = b""
    if not blob or len(raw) % 8:
        return ["the digest is not one a plan-runtime-campaign answered: plan again and pass its digest"]
    old = {raw[i : i + 4]: raw[i + 4 : i + 8] for i in range(0, len(raw), 8)}
    now: dict[bytes, tuple[str, bytes]] = {}
    for function in plan.functions:
        content = _content(function)
        now[_hash(function.key)[:4]] = (f"{function.key} (planned)", _hash(["p", content])[:4])
    for exclusion in plan.excluded:
        content = {"key": exclusion.key, "runtime": exclusion.runtime, "code": exclusion.code}
        label = f"{exclusion.key} (now excluded: {exclusion.code})"
        now[_hash(exclusion.key)[:4]] = (label, _hash(["x", content])[:4])
    said: list[str] = []
    for key, (label, content_hash) in sorted(now.items(), key=lambda item: item[1][0]):
        if key not in old:
            said.append(f"new in the plan: {label}")
        elif old[key] != content_hash:
            said.append(f"changed since you saw it (revision, runtime, code or alias): {label}")
    gone = len([key for key in old if key not in now])
    if gone:
        said.append(
            f"{gone} function(s) of the plan you saw are no longer selected (deleted, or changed so "
            "that the selection no longer matches)"
        )
    if not said:
        said.append("the selection or the shipping options differ from the plan you saw")
    return said


def refusal(seen: str, plan: CampaignPlan) -> OpsError | None:
    """The run's refusal when the plan changed since the person saw it."""
    found = changes(seen, plan)
    if not found:
        return None
    shown = found[:20] + ([f"… and {len(found) - 20} more"] if len(found) > 20 else [])
    return OpsError(
        kind=ErrorKind.CONFLICT,
        message="The plan changed since its digest was made; nothing was started. "
        + "; ".join(shown)
        + ". Plan again (plan-runtime-campaign), review it and pass the new digest.",
        retryable=False,
    )


Selector = Callable[[Selection], CampaignPlan]
