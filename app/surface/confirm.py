"""The user confirms destructive tools: the 2026-07-28 multi-round-trip request (SEP-2322), no session.

``invoke-function`` and ``update-function-runtime`` with ``dry_run=false`` take a ``Resolve(...)`` parameter
filled by a resolver here. For a client that can be asked — protocol 2026-07-28 or later and the
``elicitation`` (form) capability declared — the resolver computes what would happen (a dry run, reads
only) and returns an ``Elicit`` question: the SDK answers ``InputRequiredResult`` with the question, and the
tool body runs only on the retry that carries an accepting answer. The SDK seals ``requestState`` (expiry,
the exact arguments, the principal; app/security/request_state.py supplies the key) and accepts an answer
only for the exact question it asked: if the plan changed in between (another change landed), the user is
asked again. Every other client is not asked (``PROCEED``) and keeps the explicit ``dry_run`` flow.

Resolvers live at module level: the tools module postpones annotations, and the SDK resolves
``Resolve(confirm_update)`` in that module's globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mcp.server.elicitation import AcceptedElicitation, DeclinedElicitation, ElicitationResult
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.resolve import Elicit
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from app.fleet.fleet import Fleet
from app.lambda_ops import InvokeResult, LambdaOps, OpsError, Outcome, UpgradeResult
from app.surface.shapes import compact_json
from app.surface.targeting import ops_for, where

FIRST_REVISION = "2026-07-28"  # the first revision that carries questions in InputRequiredResult
PAYLOAD_SHOWN = 300  # characters of the event shown in the invoke question

Refusal = Literal["declined", "cancelled", "did not confirm"]


class Confirmation(BaseModel):
    """The form the user answers."""

    confirm: bool = Field(title="Run this change", description="Yes runs it now; no changes nothing.")


@dataclass(frozen=True)
class Consent:
    """A resolver's verdict when it asks nothing: go ahead, or answer ``outcome`` instead of running."""

    outcome: UpgradeResult | InvokeResult | OpsError | None = None


PROCEED = Consent()
NOT_ASKED: ElicitationResult[Any] = AcceptedElicitation[Any].model_construct(data=PROCEED)
"""The resolved parameter's default: what a direct call (no SDK resolver run) means — go ahead."""


def can_ask(ctx: Context[Any, Any]) -> bool:
    """Whether the client can be asked without a back channel: 2026-07-28+ and form elicitation declared
    (a bare ``elicitation: {}`` means form; url-only does not, as in the SDK's own check)."""
    version = ctx.protocol_version
    if version is None or not is_version_at_least(version, FIRST_REVISION):
        return False
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def decide(consent: ElicitationResult[Any]) -> Consent | Refusal:
    """What the tool body does: a ``Consent`` (run, or answer its outcome), or the user's refusal."""
    if isinstance(consent, AcceptedElicitation):
        data = consent.data
        if isinstance(data, Consent):
            return data
        return PROCEED if isinstance(data, Confirmation) and data.confirm else "did not confirm"
    return "declined" if isinstance(consent, DeclinedElicitation) else "cancelled"


def _ops(
    ctx: Context[Any, Any], account: str | None, region: str | None, tool: str
) -> tuple[LambdaOps | OpsError, str]:
    """The target's facade (reads only: a question is computed from a dry run) and where it is, in words
    (empty for the home target)."""
    provider = getattr(ctx.mcp_server, "lambda_fleet", None)
    if provider is None:
        raise RuntimeError("the server has no lambda_fleet provider (build it with build_server)")
    fleet: Fleet = provider()
    return ops_for(fleet, account, region, tool), where(fleet, account, region)


async def confirm_update(
    ctx: Context[Any, Any],
    name: str,
    target_runtime: str,
    dry_run: bool,
    smoke_payload: dict[str, Any] | list[Any] | None,
    allow_cross_family: bool,
    allow_downgrade: bool,
    budget_s: float,
    alias: str | None,
    allow_layer_mismatch: bool,
    ship_latest_code: bool,
    account: str | None = None,
    region: str | None = None,
) -> Consent | Elicit[Confirmation]:
    if dry_run or not can_ask(ctx):
        return PROCEED
    ops, place = _ops(ctx, account, region, "update-function-runtime")
    if isinstance(ops, OpsError):
        return Consent(ops)  # the target cannot be reached: nothing to confirm
    plan = ops.update_runtime(
        name,
        target_runtime,
        dry_run=True,
        allow_cross_family=allow_cross_family,
        allow_downgrade=allow_downgrade,
        smoke_payload=compact_json(smoke_payload),
        budget_s=budget_s,
        alias=alias,
        allow_layer_mismatch=allow_layer_mismatch,
        ship_latest_code=ship_latest_code,
    )
    if isinstance(plan, OpsError) or plan.outcome is not Outcome.PLANNED:
        return Consent(plan)  # refused or already done: nothing to confirm, the plan says why
    return Elicit(update_question(plan, compact_json(smoke_payload), budget_s, place), Confirmation)


async def confirm_invoke(
    ctx: Context[Any, Any],
    name: str,
    payload: dict[str, Any] | list[Any] | None,
    account: str | None = None,
    region: str | None = None,
) -> Consent | Elicit[Confirmation]:
    if not can_ask(ctx):
        return PROCEED
    ops, place = _ops(ctx, account, region, "invoke-function")
    checked = ops if isinstance(ops, OpsError) else ops.check_invoke(name, compact_json(payload))
    if isinstance(checked, OpsError):
        return Consent(checked)  # refused (policy, payload) or unreachable: nothing to confirm
    return Elicit(invoke_question(checked, compact_json(payload), place), Confirmation)


def update_question(plan: UpgradeResult, smoke_payload: str | None, budget_s: float, place: str = "") -> str:
    """The plan in words (``place``: ' in account A, region R' when not the home target). Deterministic for
    one plan: the SDK re-asks if the words change."""
    previous = plan.previous_runtime or "its current runtime"
    lines = [f"Change the runtime of Lambda function {plan.function_name}{place} from {previous} to "
             f"{plan.target_runtime}?"]  # fmt: skip
    if smoke_payload is None:
        lines.append("Smoke test: none — done when AWS reports the update Successful.")
    else:
        lines.append(
            f"Smoke test: after the update, invoke it with the given event ({len(smoke_payload.encode())} "
            f"bytes); a function error rolls the runtime back to {previous}."
        )
    if plan.rollback_possible:
        lines.append(f"Rollback: automatic, to {previous}, if the smoke test fails.")
    else:
        lines.append(f"Rollback: not possible — {previous} no longer accepts updates.")
    if plan.alias is not None:
        alias = plan.alias
        lines.append(
            f"Alias: publish a new version, smoke test that version, then move alias {alias.name} from "
            f"version {alias.version_before} ({alias.runtime_before or 'runtime unknown'}) to it; if the "
            f"smoke test fails, {alias.name} stays on version {alias.version_before}."
        )
    lines += [f"Warning: {warning}" for warning in plan.warnings]
    lines.append(f"Time budget: {budget_s:g} s. Nothing changes unless you confirm.")
    return "\n".join(lines)


def invoke_question(function: str, payload: str | None, place: str = "") -> str:
    event = payload or "{}"
    shown = event if len(event) <= PAYLOAD_SHOWN else event[:PAYLOAD_SHOWN] + "…"
    return (
        f"Invoke Lambda function {function}{place} now? This runs its code, which may change data.\n"
        f"Event ({len(event.encode())} bytes): {shown}\n"
        "Nothing runs unless you confirm."
    )


def declined_upgrade(plan: UpgradeResult | OpsError, refusal: Refusal) -> UpgradeResult | OpsError:
    """The plan (a dry run, re-read), marked declined: what was not done, said plainly."""
    if isinstance(plan, OpsError):
        return plan
    message = f"Not changed: the user {refusal} the confirmation. Nothing was changed; call again to re-ask."
    return plan.model_copy(update={"outcome": Outcome.DECLINED, "message": message, "verified": False})


def declined_invoke(name: str, refusal: Refusal) -> tuple[InvokeResult, str]:
    result = InvokeResult(
        function_name=name.strip(),
        status_code=0,
        function_error=None,
        executed_version=None,
        payload="",
        payload_bytes=0,
        payload_truncated=False,
        payload_is_json=False,
        log_tail=None,
        invoked=False,
    )
    return result, f"Not invoked: the user {refusal} the confirmation. Nothing ran and nothing changed."
