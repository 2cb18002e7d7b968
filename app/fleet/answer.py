"""The fleet answer's shape: today's ``RuntimeAudit`` extended (one output schema for audit-runtimes) —
groups and routes that name their account and region, a ranking across targets, a coverage section — and
one target's result as the fan-out carries it (JSON-serialisable: a durable step's checkpoint)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.fleet.coverage import (
    TargetCoverage,
)
from app.fleet.inventory import InventorySource
from app.fleet.targets import Target
from app.lambda_ops import RuntimeAudit, RuntimeGroup
from app.lambda_ops.ranking import RankedFunction, TrafficRanking
from app.lambda_ops.versions import AliasRoute


class FleetFunction(BaseModel):
    account: str = Field(description="Account id.")
    region: str = Field(description="Region.")
    function: str = Field(description="Function name.")


class FleetRoute(AliasRoute):
    """An alias route, with the account and region of its function."""

    account: str | None = Field(default=None, description="Account id of the function (fleet answers).")
    region: str | None = Field(default=None, description="Region of the function (fleet answers).")


class FleetGroup(RuntimeGroup):
    """A runtime group across targets: counts summed, the named functions with their account and region."""

    located: list[FleetFunction] = Field(
        default_factory=list, description="The named functions with their account and region (same order)."
    )
    count_by_target: dict[str, int] = Field(
        default_factory=dict, description="Functions ($LATEST) on this runtime per target (account/region)."
    )
    routes: list[FleetRoute] = Field(  # type: ignore[assignment]
        default_factory=list,
        description="Aliases routing traffic to versions on this runtime, with account and region (the "
        "audit lists routes_limit in all, worst runtimes first).",
    )


class FleetRanked(RankedFunction):
    account: str | None = Field(default=None, description="Account id (fleet answers).")
    region: str | None = Field(default=None, description="Region (fleet answers).")


class FleetRanking(TrafficRanking):
    busiest: list[FleetRanked] = Field(  # type: ignore[assignment]
        description="The busiest functions on old runtimes across targets, most invocations first."
    )


class FleetAudit(RuntimeAudit):
    """The account audit's shape, for a fleet: one output schema for the tool, whatever the targets."""

    groups: list[FleetGroup] = Field(  # type: ignore[assignment]
        description="One group per runtime across targets: worst status first, newest first."
    )
    ranking: FleetRanking | None = Field(
        default=None,
        description="With rank_by: the functions on old runtimes by invocations over 30 days, busiest first "
        "(each with account and region), and those with none; null otherwise.",
    )
    targets_total: int | None = Field(
        default=None, description="Targets (account x region) asked about; null: the home account only."
    )
    targets_complete: int | None = Field(
        default=None, description="Of those, targets read completely (their counts are exact)."
    )
    coverage: list[TargetCoverage] | None = Field(
        default=None,
        description="Per target: complete, partial or failed, the reason and its fix, functions read.",
    )
    inventory: InventorySource | None = Field(
        default=None, description="The AWS Config aggregator, when some $LATEST counts come from it."
    )


class TargetResult(BaseModel):
    """One target's audit (None when it failed) and its coverage: what a durable map step returns."""

    coverage: TargetCoverage
    audit: RuntimeAudit | None = None

    @property
    def target(self) -> Target:
        return Target(self.coverage.account, self.coverage.region)
