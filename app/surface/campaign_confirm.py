"""One confirmation for a whole campaign (2026-07-28 elicitation, as ``confirm`` does for one upgrade).

The resolver plans the campaign again (reads only) and, if its digest is the one the caller passed, asks one
question: how many functions, where, the busiest named, the strategy, the breaker. A plan whose digest
differs is refused before anything is asked (the refusal names what changed). Clients that cannot be asked
keep the explicit flow: ``plan-runtime-campaign`` is the dry run, and passing its digest to
``run-runtime-campaign`` is the consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.resolve import Elicit

from app.lambda_ops import OpsError
from app.lambda_ops.upgrade.campaign_digest import refusal
from app.lambda_ops.upgrade.campaign_model import CampaignPlan
from app.surface.confirm import Confirmation, can_ask


@dataclass(frozen=True)
class CampaignConsent:
    """Go ahead with ``plan`` (already checked against the digest), or answer ``refused`` instead."""

    plan: CampaignPlan | None = None
    refused: OpsError | None = None


def question(plan: CampaignPlan, strategy: str, alarms: list[str], max_failures: int) -> str:
    where = ", ".join(f"{t.functions} in {t.account}/{t.region}" for t in plan.blast_radius if t.functions)
    lines = [
        f"Upgrade the runtime of {len(plan.functions)} Lambda function(s) ({where}) in {len(plan.waves)} "
        "wave(s), least traffic first?",
        f"Strategy: {strategy} for functions behind an alias (AllAtOnce for the others); each traffic step "
        "is gated on the new version's errors and throttles"
        + (f" and the alarms {', '.join(alarms)}" if alarms else "")
        + "; a breach rolls that function back.",
        f"Circuit breaker: any failure in the first wave, or {max_failures} in all, stops the campaign.",
    ]
    if plan.busiest:
        lines.append("Busiest: " + "; ".join(plan.busiest))
    if plan.excluded:
        lines.append(f"Excluded: {len(plan.excluded)} function(s) (see the plan).")
    lines.append(f"Plan digest: {plan.sha[:16]}. Nothing changes unless you confirm.")
    return "\n".join(lines)


def check(plan: CampaignPlan | OpsError, digest: str) -> CampaignConsent:
    if isinstance(plan, OpsError):
        return CampaignConsent(refused=plan)
    changed = refusal(digest, plan)
    return CampaignConsent(refused=changed) if changed is not None else CampaignConsent(plan=plan)


async def ask(
    ctx: Context[Any, Any], consent: CampaignConsent, strategy: str, alarms: list[str], max_failures: int
) -> CampaignConsent | Elicit[Confirmation]:
    if consent.plan is None or not can_ask(ctx):
        return consent
    return Elicit(question(consent.plan, strategy, alarms, max_failures), Confirmation)
