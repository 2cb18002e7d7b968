"""``plan-runtime-campaign`` (read) and ``run-runtime-campaign`` (write, task-only): a runtime upgrade across
many functions and targets, planned with a digest, confirmed once, run by the task worker.

Targets: the fleet's (``server.lambda_fleet``, issue #14) that the selection's accounts and regions name; a
target that cannot be reached is a note of the plan, not its failure. The domain
(app/lambda_ops/upgrade/campaign*.py) gets them as plain strings with a facade each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from app.fleet.reach import reach, select
from app.lambda_ops import OpsError
from app.lambda_ops.errors import ErrorKind, OpsFailure
from app.lambda_ops.upgrade.campaign import plan_campaign
from app.lambda_ops.upgrade.campaign_model import CampaignPlan, Place, Selection
from app.lambda_ops.upgrade.campaign_run import CampaignReport, RunOptions
from app.lambda_ops.upgrade.strategy import DEFAULT_STRATEGY, parse_strategy
from app.surface import audit_trail, render, render_campaign
from app.surface.campaign_confirm import CampaignConsent, ask, check
from app.surface.confirm import Confirmation
from app.surface.shapes import READ, compact_json, result
from app.surface.targeting import caller
from app.surface.task_offer import offer

PLAN_TOOL = "plan-runtime-campaign"
RUN_TOOL = "run-runtime-campaign"

Runtimes = Annotated[
    list[str], Field(max_length=20, description="Current runtimes to select, e.g. nodejs18.x.")
]
FamilyArg = Annotated[str | None, Field(max_length=32, description="A runtime family: nodejs, python, ...")]
Statuses = Annotated[
    list[Literal["deprecated", "deprecating_soon", "blocked"]],
    Field(description="Runtime statuses to select; default (no runtime or family given): all three."),
]
Prefix = Annotated[str | None, Field(max_length=64, description="Only functions whose name starts so.")]
Tags = Annotated[dict[str, str], Field(description="Only functions carrying all these tags.")]
Accounts = Annotated[
    list[str], Field(max_length=100, description="Only these accounts (default: every one).")
]
Regions = Annotated[list[str], Field(max_length=30, description="Only these regions (default: every one).")]
Target = Annotated[
    str | None,
    Field(max_length=64, description="The runtime to move to; default: the catalog's recommendation."),
]
AliasArg = Annotated[
    str | None,
    Field(
        max_length=128,
        description="Ship through this alias where a function has it (e.g. live): "
        "publish, smoke test, shift traffic by the strategy. Others change $LATEST all at once.",
    ),
]
Smoke = Annotated[
    dict[str, Any] | list[Any] | None,
    Field(description="The smoke test's event: each new version is invoked with it before any traffic."),
]
WaveSize = Annotated[int, Field(ge=1, le=200, description="At most this many functions per wave.")]


def selection_of(arguments: dict[str, Any]) -> Selection:
    """The selection from a tool's arguments (its ``locals()``: the three entry points take the same selection
    parameters, named as ``Selection``'s fields; the rest — digest, strategy, ctx — is left out)."""
    values = {name: arguments[name] for name in Selection.model_fields if name in arguments}
    values["smoke_payload"] = compact_json(values.get("smoke_payload"))
    return Selection(**values)


def places_of(
    server: Any, tool: str, selection: Selection, *, write: bool = False
) -> tuple[list[Place], list[tuple[str, str, str]], Selection]:
    """The fleet's targets the selection names (accounts by id or name), each reached as the caller: the
    reachable ones as places, the others as (account, region, why); and the selection with its accounts as
    ids (the same plan, and digest, whichever way the person named them)."""
    fleet = server.lambda_fleet()
    targets = select(fleet, selection.accounts or None, selection.regions or None)
    reached, failed = reach(fleet, targets, caller(tool), write=write)
    if selection.accounts:
        selection = selection.model_copy(update={"accounts": sorted({t.account for t in targets})})
    places = [Place(t.account, t.region, ops) for t, ops in reached]
    return places, [(t.account, t.region, error.message) for t, error in failed], selection


def compute_plan(server: Any, selection: Selection, tool: str) -> CampaignPlan | OpsError:
    try:
        places, unreachable, selection = places_of(server, tool, selection)
        home = server.lambda_ops()
        catalog = home.catalogs.current(home.today())[0]
        return plan_campaign(
            places,
            selection,
            catalog=catalog,
            today=home.today(),
            now=datetime.now(UTC),
            unreachable=unreachable,
        )
    except OpsFailure as failure:
        return failure.error


async def confirm_campaign(
    ctx: Context[Any, Any],
    runtimes: list[str],
    family: str | None,
    statuses: list[Any],
    name_prefix: str | None,
    tags: dict[str, str],
    accounts: list[str],
    regions: list[str],
    target_runtime: str | None,
    alias: str | None,
    smoke_payload: Any,
    wave_size: int,
    digest: str,
    strategy: str,
    alarms: list[str],
    max_failures: int,
    first_wave_failures: int,
    concurrency_per_account: int,
) -> CampaignConsent | Elicit[Confirmation]:
    selection = selection_of(locals())
    consent = check(compute_plan(ctx.mcp_server, selection, RUN_TOOL), digest)
    return await ask(ctx, consent, strategy, alarms, max_failures)


NOT_ASKED: ElicitationResult[Any] = AcceptedElicitation[Any].model_construct(data=CampaignConsent())


def register_campaign_tools(server: MCPServer) -> None:
    @server.tool(
        name=PLAN_TOOL,
        title="Plan a runtime upgrade campaign",
        description="Plans upgrading many functions' runtimes at once, across the configured accounts and "
        "regions, changing nothing: selects by current runtime, family or status (default: every function "
        "on a deprecated, soon-deprecated or blocked runtime), name prefix, tags, accounts and regions; the "
        "target is the catalog's recommendation per family unless target_runtime is given. Returns every "
        "function with today's checks (layers, architecture, weighted aliases, provisioned concurrency, "
        "SnapStart, write policy), what is excluded and why, the blast radius (functions per account and "
        "region, invocations over 30 days), waves least risky first (idle, low traffic, busiest) and a "
        "digest. Show it to the user; run-runtime-campaign with the same selection and the digest runs it.",
        annotations=READ,
    )
    async def plan_runtime_campaign(
        runtimes: Runtimes = [],  # noqa: B006 - pydantic copies defaults
        family: FamilyArg = None,
        statuses: Statuses = [],  # noqa: B006
        name_prefix: Prefix = None,
        tags: Tags = {},  # noqa: B006
        accounts: Accounts = [],  # noqa: B006
        regions: Regions = [],  # noqa: B006
        target_runtime: Target = None,
        alias: AliasArg = None,
        smoke_payload: Smoke = None,
        wave_size: WaveSize = 25,
    ) -> Annotated[CallToolResult, CampaignPlan]:
        try:
            selection = selection_of(locals())
        except ValueError as error:
            return result(
                OpsError(kind=ErrorKind.INVALID_ARGUMENT, message=str(error)[:500], retryable=False),
                render.error,
            )
        return result(compute_plan(server, selection, PLAN_TOOL), render_campaign.plan)

    @server.tool(
        name=RUN_TOOL,
        title="Run a runtime upgrade campaign",
        description="Runs a campaign planned with plan-runtime-campaign, as a task (clients must declare "
        "the tasks extension). Pass the same selection and the plan's digest: if the plan changed since, it "
        "refuses and says what changed. Per function: the verified upgrade of update-function-runtime; with "
        "an alias: publish, smoke test the new version, then shift the alias's traffic by strategy "
        "(CodeDeploy's names: Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce, ...), each "
        "step gated on the new version's errors and throttles against the old version's and the function's "
        "7-day baseline, and on the CloudWatch alarms named; a breach rolls that function back (alias where "
        "it was, $LATEST's runtime restored). Waves run least traffic first; a circuit breaker stops the "
        "campaign after failures (default: any in the first wave, 3 in all); tasks/cancel stops it once the "
        "functions in flight are consistent. The result reports every function. The user confirms once "
        "(elicitation) where the client supports it; otherwise passing the digest is the consent: show the "
        "plan and get the user's agreement first.",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
        ),
    )
    async def run_runtime_campaign(
        digest: Annotated[str, Field(min_length=64, max_length=20_000, description="The plan's digest.")],
        runtimes: Runtimes = [],  # noqa: B006
        family: FamilyArg = None,
        statuses: Statuses = [],  # noqa: B006
        name_prefix: Prefix = None,
        tags: Tags = {},  # noqa: B006
        accounts: Accounts = [],  # noqa: B006
        regions: Regions = [],  # noqa: B006
        target_runtime: Target = None,
        alias: AliasArg = None,
        smoke_payload: Smoke = None,
        wave_size: WaveSize = 25,
        strategy: Annotated[
            str, Field(max_length=64, description="Canary10Percent5Minutes (default), Linear…, AllAtOnce.")
        ] = DEFAULT_STRATEGY,
        alarms: Annotated[
            list[str], Field(max_length=10, description="CloudWatch alarms: one in ALARM is a breach.")
        ] = [],  # noqa: B006
        max_failures: Annotated[int, Field(ge=1, le=1000, description="Stop after this many failures.")] = 3,
        first_wave_failures: Annotated[
            int, Field(ge=1, le=1000, description="Stop after this many failures in the first wave.")
        ] = 1,
        concurrency_per_account: Annotated[
            int, Field(ge=1, le=20, description="Functions upgraded at once per account.")
        ] = 4,
        consent: Annotated[ElicitationResult[Any], Resolve(confirm_campaign)] = NOT_ASKED,
    ) -> Annotated[CallToolResult, CampaignReport]:
        def refused(error: OpsError) -> CallToolResult:
            return result(error, render.error)

        if not isinstance(consent, AcceptedElicitation):
            what = "declined" if type(consent).__name__.startswith("Declined") else "cancelled"
            return refused(
                OpsError(
                    kind=ErrorKind.REFUSED,
                    retryable=False,
                    message=f"Not started: the user {what} the confirmation. Nothing changed.",
                )
            )
        data = consent.data
        if isinstance(data, Confirmation) and not data.confirm:
            return refused(
                OpsError(
                    kind=ErrorKind.REFUSED,
                    retryable=False,
                    message="Not started: the user did not confirm. Nothing changed.",
                )
            )
        try:
            parse_strategy(strategy)
            options = RunOptions(
                strategy=strategy,
                alarms=alarms,
                max_failures=max_failures,
                first_wave_failures=first_wave_failures,
                concurrency_per_account=concurrency_per_account,
            )
            selection = selection_of(locals())
        except OpsFailure as failure:
            return refused(failure.error)
        except ValueError as error:
            return refused(
                OpsError(kind=ErrorKind.INVALID_ARGUMENT, message=str(error)[:500], retryable=False)
            )
        checked = data if isinstance(data, CampaignConsent) and data.plan is not None else None
        if isinstance(data, CampaignConsent) and data.refused is not None:
            return refused(data.refused)
        if checked is None:  # not resolved by the SDK (a direct call): check the digest here
            checked = check(compute_plan(server, selection, RUN_TOOL), digest)
            if checked.refused is not None:
                return refused(checked.refused)
        plan = checked.plan
        assert plan is not None
        if not plan.functions:
            return refused(
                OpsError(
                    kind=ErrorKind.INVALID_ARGUMENT,
                    retryable=False,
                    message="Nothing to upgrade: the plan selects no function.",
                )
            )
        task = offer()
        if task is None:
            return refused(
                OpsError(
                    kind=ErrorKind.UNSUPPORTED,
                    retryable=False,
                    message="A campaign runs as a task, and this server has no task worker "
                    "configured (LAMBDA_OPS_TASKS_TABLE, LAMBDA_OPS_WORKER_FUNCTION).",
                )
            )
        change = {"functions": len(plan.functions), "strategy": strategy, "digest": plan.sha[:16]}
        arguments = {
            "selection": selection.model_dump(mode="json"),
            "digest": digest,
            "options": options.model_dump(mode="json", exclude={"minute_s"}),
        }
        not_started = task.start(
            RUN_TOOL,
            arguments,
            message=f"Campaign of {len(plan.functions)} function(s) in {len(plan.waves)} wave(s): starting",
            stop_on_cancel=False,  # the campaign stops itself once the functions in flight are consistent
            started=lambda record: audit_trail.started(
                RUN_TOOL, f"{len(plan.functions)} functions", change, record.task_id
            ),
        )
        return refused(not_started)
