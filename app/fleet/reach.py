"""Many targets at once, for the tools that span the fleet (the fleet audit, campaigns): which configured
targets a request's ``accounts`` and ``regions`` select, and reaching each — an unreachable target is a value
(its ``OpsError``), never the whole request's failure."""

from __future__ import annotations

from app.fleet.fleet import Fleet
from app.fleet.targets import Caller, Target
from app.lambda_ops import LambdaOps, OpsError
from app.lambda_ops.errors import OpsFailure, invalid


def select(fleet: Fleet, accounts: list[str] | None, regions: list[str] | None) -> list[Target]:
    """The configured targets the arguments name: accounts by id or Organizations name, regions among the
    configured ones; none given: every configured target. Raises ``OpsFailure`` (invalid) for an account or
    region outside the fleet."""
    configured = fleet.targets()
    ids = {fleet.resolve(account.strip(), None).account for account in accounts} if accounts else None
    wanted = {region.strip() for region in regions} if regions else None
    known = {target.region for target in configured}
    if wanted and not wanted <= known:
        unknown = ", ".join(sorted(wanted - known))
        raise invalid(f"Region(s) {unknown} are not configured; configured: {', '.join(sorted(known))}.")
    chosen = [
        t for t in configured if (ids is None or t.account in ids) and (wanted is None or t.region in wanted)
    ]
    if not chosen:
        raise invalid("No configured target matches those accounts and regions.")
    return chosen


def unlisted(fleet: Fleet, targets: list[Target]) -> list[tuple[str, OpsError]]:
    """The accounts among ``targets`` whose enabled regions could not be read (a fleet that says so:
    ``AwsFleet.unlisted``), and why — an answer over ``targets`` misses their other regions."""
    found = getattr(fleet, "unlisted", None)
    if found is None:
        return []
    accounts = {target.account for target in targets}
    return sorted((a, e) for a, e in found().items() if a in accounts)


def reach(
    fleet: Fleet, targets: list[Target], caller: Caller, *, write: bool = False
) -> tuple[list[tuple[Target, LambdaOps]], list[tuple[Target, OpsError]]]:
    """Each target's facade, or why it cannot be reached (its role denied, its region disabled, ...)."""
    reached: list[tuple[Target, LambdaOps]] = []
    failed: list[tuple[Target, OpsError]] = []
    for target in targets:
        try:
            reached.append((target, fleet.ops(target, caller, write=write)))
        except OpsFailure as failure:
            failed.append((target, failure.error))
    return reached, failed
