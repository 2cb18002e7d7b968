"""Resources (the runtime catalog, one function's sanitised configuration) and the guided prompts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel, Field

from app.fleet.fleet import Fleet
from app.fleet.targets import Caller
from app.lambda_ops import ErrorKind, LambdaOps, OpsError
from app.lambda_ops.errors import OpsFailure
from app.surface import render

JSON = "application/json"


def _json(outcome: BaseModel | OpsError) -> str:
    """The resource's JSON text. Resources have no ``isError``: a missing function or a bad name is the
    SDK's "not found" (-32602, as it answers any unknown resource); an AWS failure is a ResourceError with
    the same message a tool would give (kind, retryable)."""
    if isinstance(outcome, OpsError):
        if outcome.kind in (ErrorKind.NOT_FOUND, ErrorKind.INVALID_ARGUMENT):
            raise ResourceNotFoundError(outcome.message)
        raise ResourceError(render.error(outcome))
    return outcome.model_dump_json()


def _home(fleet: Fleet, outcome: Callable[[Any], BaseModel | OpsError]) -> str:
    """Resources read the home target (a resource URI has no account; the tools take one)."""
    try:
        ops = fleet.ops(fleet.resolve(None, None), Caller(tool="resources/read"))
    except OpsFailure as failure:
        return _json(failure.error)
    return _json(outcome(ops))


def register_resources(server: MCPServer, fleet: Callable[[], Fleet]) -> None:
    @server.resource(
        "lambda://runtimes",
        name="runtimes",
        title="Lambda runtime catalog",
        description="Every Lambda runtime with its dates, status today and recommended upgrade target "
        "(the same data as the get-runtime-info tool).",
        mime_type=JSON,
    )
    async def runtimes() -> str:
        # The catalog needs no account: no target is resolved (in a fleet that would ask STS who we are,
        # and SnapStart's priming reads this resource before the snapshot, where no AWS call may happen).
        catalog = getattr(fleet(), "catalog", None)
        if catalog is None:
            return _home(fleet(), lambda ops: ops.runtime_info())
        return _json(LambdaOps(catalog=catalog).runtime_info())

    @server.resource(
        "lambda://functions/{name}",
        name="function",
        title="Function configuration (sanitised)",
        description="One function's configuration, tags, reserved concurrency and runtime status; "
        "environment variable names only, never values; no code URL (as the get-function tool).",
        mime_type=JSON,
    )
    async def function(name: str) -> str:
        return _home(fleet(), lambda ops: ops.get_function(name))


def register_prompts(server: MCPServer) -> None:
    @server.prompt(
        name="audit-deprecated-runtimes",
        title="Audit deprecated runtimes",
        description="Find the account's functions on deprecated or soon-deprecated runtimes, grouped by "
        "version, with dates and upgrade targets.",
    )
    def audit_deprecated_runtimes(
        family: Annotated[
            str | None, Field(description="Only this family, e.g. nodejs or python. Omit for all.")
        ] = None,
    ) -> str:
        scope = f"{family} functions" if family else "functions"
        call = f"audit-runtimes with family='{family}'" if family else "audit-runtimes"
        return (
            f"Which of my Lambda {scope} use deprecated runtimes? Group them by runtime version.\n\n"
            f"1. Call {call} once. Its counts are exact; it names up to 10 functions per runtime "
            "(raise names_per_group, or page with list-functions filtered by runtime, for the rest).\n"
            "2. Lead with what serves traffic: each alias routing to a published version on an old "
            "runtime (its text's first lines), even when the function's $LATEST is current.\n"
            "3. Report the groups with status blocked, deprecated and deprecating_soon first: runtime, "
            "how many functions, their names, the deprecation and update-block dates, and the recommended "
            "target. Say plainly that functions on a blocked runtime can no longer be updated in place.\n"
            "4. Summarise the supported groups in one line, and count the unreferenced old versions "
            "(deletable, not upgradable).\n"
            "5. Offer an upgrade plan: for each function to upgrade, a dry run of update-function-runtime "
            "with the recommended target (with alias=<the alias> where an alias serves an old version). "
            "Change nothing without my explicit consent."
        )

    @server.prompt(
        name="upgrade-function-runtime",
        title="Upgrade a function's runtime safely",
        description="Walk through a safe runtime upgrade of one function: inspect, dry run, consent, "
        "upgrade with a smoke test and automatic rollback, verify.",
    )
    def upgrade_function_runtime(
        function: Annotated[str, Field(description="The function's name.")],
        target: Annotated[str, Field(description="The runtime to move to, e.g. nodejs22.x.")],
    ) -> str:
        return (
            f"Upgrade the Lambda function '{function}' to the runtime {target}, safely.\n\n"
            f"1. Call get-function with name='{function}': note its current runtime and status, its "
            "aliases (an alias such as prod serving a published version means: upgrade through it, "
            "alias=<name>, which needs a smoke test) and its layers' declared runtimes.\n"
            f"2. Call get-runtime-info with runtime='{target}': it must be supported, in the same family, "
            "and newer than the current runtime.\n"
            f"3. Call update-function-runtime with name='{function}', target_runtime='{target}', "
            "dry_run=true. Show me the plan and every check; stop if a check failed.\n"
            "4. Ask me for consent and for a smoke-test event (a JSON object the function accepts), or "
            "whether to skip the smoke test.\n"
            "5. Call update-function-runtime again with dry_run=false (and smoke_payload if I gave one).\n"
            "6. Report the outcome exactly: it succeeded only if outcome is 'succeeded' and verified is "
            "true. For 'in_progress', tell me how to check later (how_to_check); for a rollback, report "
            "both steps; never describe an unverified change as done."
        )
