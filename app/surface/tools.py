"""The read tools: thin wrappers that validate arguments, call ``LambdaOps`` and shape results.

Each tool returns a ``CallToolResult`` with the result model as structured content (its JSON schema is the
tool's output schema) and a readable text block; an ``OpsError`` becomes ``isError: true`` with a message a
model can act on. Tools are async and call boto3 directly: a Lambda execution environment serves one request
at a time, so there is nothing to gain from a worker thread and a thread hop to lose on every call.
The tools that change the account are in ``write_tools``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult
from pydantic import Field

from app.fleet.answer import FleetAudit
from app.fleet.audit import FleetOptions
from app.fleet.fleet import Fleet
from app.lambda_ops import FunctionDetail, FunctionPage, OpsError, RuntimeAudit, RuntimeCatalogResult
from app.lambda_ops.audit import (
    AUDIT_SECONDS,
    DEFAULT_NAMES_PER_GROUP,
    DEFAULT_ROUTES,
    MAX_NAMES_PER_GROUP,
    MAX_ROUTES,
)
from app.lambda_ops.functions import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.surface import fleet_audit, render
from app.surface.shapes import READ, Account, Family, FunctionName, Region, result
from app.surface.targeting import ops_for, task_target
from app.surface.task_offer import offer

# For a client that takes tasks, the synchronous attempt is shorter: what it cannot finish, a task does.
TASK_PROBE_S = 8.0


def register_tools(
    server: MCPServer, fleet: Callable[[], Fleet], fleet_options: FleetOptions | None = None
) -> None:
    """Register the read tools; ``fleet`` returns the (lazily built, shared) ``Fleet``: each tool reads the
    target its ``account`` and ``region`` name (the home one by default); ``audit-runtimes`` the targets
    its ``accounts`` and ``regions`` name (every configured one by default)."""
    options = fleet_options or FleetOptions()

    @server.tool(
        name="get-runtime-info",
        title="Lambda runtime catalog",
        description="The AWS Lambda runtime catalog: every runtime identifier (current and deprecated) with "
        "its family, version, OS, deprecation date, block-function-create and block-function-update dates, "
        "recommended upgrade target, and status today (supported, deprecating_soon = deprecation within 180 "
        "days, deprecated, blocked = functions on it can no longer be updated). Use it to choose an upgrade "
        "target or to explain a runtime's dates; to see which functions use which runtime, use "
        "audit-runtimes instead. Makes no call to the account.",
        annotations=READ,
    )
    async def get_runtime_info(
        runtime: Annotated[
            str | None, Field(description="One runtime identifier, e.g. nodejs16.x. Omit for all.")
        ] = None,
        family: Family = None,
    ) -> Annotated[CallToolResult, RuntimeCatalogResult]:
        home = ops_for(fleet(), None, None, "get-runtime-info")  # the catalog: no call to any account
        if isinstance(home, OpsError):
            return result(home, render.catalog)
        return result(home.runtime_info(runtime=runtime, family=family), render.catalog)

    @server.tool(
        name="audit-runtimes",
        title="Audit functions by runtime",
        description="Answers 'which of my functions use deprecated runtimes?' in one call: reads every "
        "function and every published version in the account (server-side, all pages), groups them by "
        "runtime, worst status first, with each runtime's deprecation and update-block dates and the "
        "recommended upgrade target. Per runtime it counts functions whose $LATEST is there and published "
        "versions still there; for versions on blocked, deprecated or soon deprecated runtimes it reads the "
        "function's aliases and names each alias routing traffic to them (with its weight, when routing is "
        "weighted) — what production actually serves, listed first — and counts the versions no alias "
        "points to (deletable, not upgradable). Counts are exact when complete is true; each group names up "
        "to names_per_group functions, and up to routes_limit alias routes are listed in all; the rest are "
        "counted. With rank_by='invocations' it leads with the functions on old runtimes by invocations "
        "over 30 days (CloudWatch), busiest first, and names those with none as candidates for deletion "
        "rather than upgrade. With accounts and/or regions (default: every configured target), it answers "
        "for the fleet: totals per runtime across targets, each function and alias route with its account "
        "and region, and a coverage section per target (complete, partial or failed, with the reason and its "
        "fix: counts are exact only for complete targets). Start here for any question about the "
        "account's or the organisation's runtimes.",
        annotations=READ,
    )
    async def audit_runtimes(
        accounts: Annotated[
            list[str] | None,
            Field(
                description="Account ids (or names) to audit; omit for every configured account.",
                max_length=1000,
            ),
        ] = None,
        regions: Annotated[
            list[str] | None,
            Field(description="Regions to audit; omit for every configured region.", max_length=50),
        ] = None,
        family: Family = None,
        names_per_group: Annotated[
            int,
            Field(ge=0, le=MAX_NAMES_PER_GROUP, description="Function names listed per runtime group."),
        ] = DEFAULT_NAMES_PER_GROUP,
        routes_limit: Annotated[
            int,
            Field(
                ge=0,
                le=MAX_ROUTES,
                description="Alias routes to old runtimes listed in all, worst first (all are counted).",
            ),
        ] = DEFAULT_ROUTES,
        rank_by: Annotated[
            Literal["invocations"] | None,
            Field(
                description="'invocations': also rank the functions on old runtimes by invocations over 30 "
                "days, busiest first, and name the idle ones (deletion candidates). Omit for no ranking."
            ),
        ] = None,
        account: Account = None,
        region: Region = None,
    ) -> Annotated[CallToolResult, FleetAudit]:
        task = offer()
        fleet_now = fleet()
        if account:  # one account: the fleet answer for it (a list of one)
            accounts = [*(accounts or []), account]
        if region:
            regions = [*(regions or []), region]
        if accounts is not None or regions is not None or not fleet_audit.home_only(fleet_now):
            arguments: dict[str, Any] = {
                "family": family, "names_per_group": names_per_group, "routes_limit": routes_limit,
                "rank_by": rank_by,
            }  # fmt: skip
            answer = fleet_audit.answer(
                fleet_now, accounts, regions, arguments, options,
                budget_s=AUDIT_SECONDS if task is None else TASK_PROBE_S, task=task,
            )  # fmt: skip
            return result(answer, render.audit)
        ops = ops_for(fleet_now, None, None, "audit-runtimes")
        if isinstance(ops, OpsError):
            return result(ops, render.audit)
        outcome = ops.audit_runtimes(
            family=family,
            names_per_group=names_per_group,
            routes_limit=routes_limit,
            rank_by=rank_by,
            budget_s=AUDIT_SECONDS if task is None else TASK_PROBE_S,
        )
        if task is not None and isinstance(outcome, RuntimeAudit) and not outcome.complete:
            # Too big for a tool call: a client that takes tasks gets the whole account, read by the worker.
            not_started = task.start(
                "audit-runtimes",
                {
                    "family": family,
                    "names_per_group": names_per_group,
                    "routes_limit": routes_limit,
                    "rank_by": rank_by,
                },
                message=f"The account is larger than a tool call can read ({outcome.total_functions} "
                "functions read so far): reading all of it",
                stop_on_cancel=True,  # reads only: a cancelled audit simply stops
                target=task_target(fleet(), account, region),
            )
            outcome = outcome.model_copy(update={"note": f"{outcome.note} (A task could not be started: "
                                                 f"{not_started.message})"})  # fmt: skip
        return result(outcome, render.audit)

    @server.tool(
        name="list-functions",
        title="List functions",
        description="One page of functions, compact: name, runtime and its status, architecture, memory, "
        "timeout, package type, last modified (state is usually null: AWS's listing omits it; get-function "
        "has it). Pagination: omit marker (or pass an empty one) for the first page; if the result has "
        "next_marker, call again with the same filters and that marker; no next_marker means the last page. "
        "Filters narrow the listing (a page may then hold fewer than page_size functions "
        "while next_marker is still set). For counts by runtime use audit-runtimes; "
        "for one function's full configuration use get-function.",
        annotations=READ,
    )
    async def list_functions(
        marker: Annotated[
            str | None, Field(description="next_marker from the previous page; omit for the first page.")
        ] = None,
        page_size: Annotated[
            int, Field(ge=1, le=MAX_PAGE_SIZE, description="Functions per page (at most 50).")
        ] = DEFAULT_PAGE_SIZE,
        runtime: Annotated[
            str | None,
            Field(description="A runtime identifier (nodejs16.x) or a family (nodejs) to filter by."),
        ] = None,
        name_prefix: Annotated[
            str | None, Field(description="Only functions whose name starts with this.")
        ] = None,
        include_versions: Annotated[
            bool,
            Field(
                description="Also list every published version as its own entry (filters apply to each): "
                "finds versions still on an old runtime after $LATEST moved on. Keep it with the marker."
            ),
        ] = False,
        account: Account = None,
        region: Region = None,
    ) -> Annotated[CallToolResult, FunctionPage]:
        ops = ops_for(fleet(), account, region, "list-functions")
        if isinstance(ops, OpsError):
            return result(ops, render.page)
        outcome = ops.list_functions(
            marker=marker or None,
            page_size=page_size,
            runtime=runtime,
            name_prefix=name_prefix,
            include_versions=include_versions,
        )
        return result(outcome, render.page)

    @server.tool(
        name="get-function",
        title="Get a function",
        description="One function's configuration, tags, reserved concurrency and its runtime's status "
        "(with dates and the recommended upgrade target), its aliases (the version each points to, weighted "
        "routing, and the runtime each version serves) and its layers (ARN, and the runtimes and "
        "architectures each layer version declares it was built for). Sanitised: environment variables "
        "are listed by name only, never their values, and the code download URL is never returned. Use "
        "before invoking or upgrading a function.",
        annotations=READ,
    )
    async def get_function(
        name: FunctionName, account: Account = None, region: Region = None
    ) -> Annotated[CallToolResult, FunctionDetail]:
        ops = ops_for(fleet(), account, region, "get-function")
        if isinstance(ops, OpsError):
            return result(ops, render.detail)
        return result(ops.get_function(name), render.detail)
