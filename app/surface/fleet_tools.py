"""``list-targets``: the accounts and regions this server reaches, and on request whether each can be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from app.fleet.directory import Directory
from app.fleet.fleet import Fleet
from app.lambda_ops import OpsError
from app.lambda_ops.errors import OpsFailure
from app.surface.shapes import result
from app.surface.targeting import caller


class FleetAccount(BaseModel):
    id: str = Field(description="The 12-digit account id.")
    name: str | None = Field(default=None, description="Its name in AWS Organizations, when known.")
    home: bool = Field(description="The server's own account (reached with its own role).")


class TargetState(BaseModel):
    account: str
    region: str
    home: bool
    reachable: bool | None = Field(
        default=None, description="With check=true: whether the target answered; null when not checked."
    )
    kind: str | None = Field(default=None, description="Why not: access_denied, region_disabled, timeout, …")
    reason: str | None = Field(default=None, description="What to do about it.")


class FleetTargets(BaseModel):
    accounts: list[FleetAccount]
    regions: list[str] = Field(description="The configured regions ('enabled': each account's enabled ones).")
    targets: list[TargetState] = Field(description="Every account and region the tools may be pointed at.")
    checked: bool = Field(description="Whether each target was tried (check=true).")


def list_targets(fleet: Fleet, check: bool) -> FleetTargets | OpsError:
    try:
        home = fleet.home
        targets = fleet.targets()
        if isinstance(fleet, Directory):
            accounts = [
                FleetAccount(id=a.id, name=a.name, home=a.id == home.account) for a in fleet.accounts()
            ]
            regions = fleet.regions()
        else:
            ids = list(dict.fromkeys(t.account for t in targets))
            accounts = [FleetAccount(id=i, home=i == home.account) for i in ids]
            regions = list(dict.fromkeys(t.region for t in targets))
    except OpsFailure as failure:
        return failure.error
    states = [TargetState(account=t.account, region=t.region, home=t == home) for t in targets]
    if check and isinstance(fleet, Directory):
        reached = fleet.check(targets, caller("list-targets"))
        for state, target in zip(states, targets, strict=True):
            problem = reached.get(target)
            state.reachable = problem is None
            if problem is not None:
                state.kind, state.reason = problem.kind.value, problem.message
    return FleetTargets(accounts=accounts, regions=regions, targets=states, checked=check)


def render(found: FleetTargets) -> str:
    named = {a.id: a.name for a in found.accounts}
    lines = [f"{len(found.accounts)} account(s), regions: {', '.join(found.regions)}."]
    for state in found.targets:
        label = f"{state.account}" + (f" ({named[state.account]})" if named.get(state.account) else "")
        line = f"- {label} {state.region}" + (" [home]" if state.home else "")
        if state.reachable is True:
            line += ": reachable"
        elif state.reachable is False:
            line += f": NOT reachable ({state.kind}): {state.reason}"
        lines.append(line)
    if not found.checked:
        lines.append("Pass check=true to try each target.")
    return "\n".join(lines)


def register_fleet_tools(server: MCPServer, fleet: Callable[[], Fleet]) -> None:
    @server.tool(
        name="list-targets",
        title="Accounts and regions this server reaches",
        description="The AWS accounts (id, and name when AWS Organizations knows it; the server's own "
        "account flagged home) and regions the other tools can be pointed at with their account and region "
        "arguments. With check=true it tries each target in parallel (assumes its member role, one cheap "
        "Lambda call) and says whether it is reachable and, if not, why and how to fix it (access_denied: "
        "the member role is missing or does not trust this server; region_disabled; throttled; timeout).",
        annotations=ToolAnnotations(
            read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )
    async def list_targets_tool(
        check: Annotated[
            bool, Field(description="Also try to reach each target and say why one cannot be reached.")
        ] = False,
    ) -> Annotated[CallToolResult, FleetTargets]:
        return result(list_targets(fleet(), check), render)
