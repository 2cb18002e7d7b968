"""The campaign tools' text: the plan and the report in a few lines (the structured content has it all)."""

from __future__ import annotations

from app.lambda_ops.upgrade.campaign_model import CampaignPlan
from app.lambda_ops.upgrade.campaign_run import CampaignReport

SHOWN = 40


def plan(found: CampaignPlan) -> str:
    where = ", ".join(f"{t.account}/{t.region}: {t.functions}" for t in found.blast_radius)
    lines = [
        f"Campaign plan: {len(found.functions)} function(s) to upgrade ({where}); "
        f"{len(found.excluded)} excluded; {len(found.waves)} wave(s), least traffic first.",
        f"Digest: {found.digest}",
    ]
    if found.busiest:
        lines.append("Busiest: " + "; ".join(found.busiest))
    for wave in found.waves:
        lines.append(f"Wave {wave.number} ({wave.tier}): {len(wave.functions)} function(s)")
    for function in found.functions[:SHOWN]:
        via = f" via alias {function.alias.name} (version {function.alias.version})" if function.alias else ""
        lines.append(
            f"- {function.key}: {function.runtime} → {function.target_runtime}{via}, "
            f"wave {function.wave}, {function.invocations if function.invocations is not None else '?'} "
            "invocations in 30 days"
        )
    lines += [f"- excluded {x.key} ({x.runtime}): {x.reason}" for x in found.excluded[:SHOWN]]
    lines += [f"Note: {note}" for note in found.notes]
    if not found.complete:
        lines.append("Not every target could be read: the plan covers the ones that could.")
    lines.append("To run it: run-runtime-campaign with the same selection and this digest (as a task).")
    return "\n".join(lines)


def report(found: CampaignReport) -> str:
    lines = [f"Campaign {found.status}: {found.message}"]
    for function in found.functions[:SHOWN]:
        steps = ", ".join(f"{s.weight:.0%} {s.verdict or 'moved'}" for s in function.traffic_steps)
        line = (
            f"- {function.account}/{function.region}/{function.name}: {function.outcome} "
            f"(verified: {str(function.verified).lower()}) {function.runtime_before} → "
            f"{function.runtime_after or '?'}"
        )
        if steps:
            line += f"; traffic: {steps}"
        if function.rollback_reason:
            line += f"; rolled back: {function.rollback_reason[:200]}"
        lines.append(line)
    if len(found.functions) > SHOWN:
        lines.append(f"… and {len(found.functions) - SHOWN} more in the structured content")
    return "\n".join(lines)
