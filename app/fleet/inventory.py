"""The organisation's own inventory: the ``$LATEST`` runtime of every function in an AWS Config aggregator
(``LAMBDA_OPS_CONFIG_AGGREGATOR``), from one ``SelectAggregateResourceConfig`` query, paged.

Config records ``AWS::Lambda::Function`` configuration items — the function as ``$LATEST`` — in every account
and region the aggregator covers, whether or not this server can reach them; it records no published
versions and no aliases, and what it holds is as old as its last recording. So the fleet audit reads the
targets as always and uses Config only for a target whose own read did not complete: its ``$LATEST`` counts
then come from Config, labelled with the recording time (docs/design.md, "The Config aggregator").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.fleet.targets import Target
from app.lambda_ops.errors import aws_call

QUERY = (
    "SELECT accountId, awsRegion, resourceName, configuration.runtime, configurationItemCaptureTime "
    "WHERE resourceType = 'AWS::Lambda::Function'"
)
PAGE = 100  # the most SelectAggregateResourceConfig returns a call


@dataclass(frozen=True)
class RecordedFunction:
    name: str
    runtime: str | None
    captured: datetime | None


@dataclass
class ConfigInventory:
    """Every function Config recorded, by target; ``complete`` False when the paging stopped at the budget."""

    aggregator: str
    functions: dict[Target, list[RecordedFunction]] = field(default_factory=dict)
    complete: bool = True
    pages: int = 0

    def of(self, target: Target) -> list[RecordedFunction] | None:
        """The target's recorded functions; None if Config recorded none there (not covered, or empty)."""
        return self.functions.get(target)


class InventorySource(BaseModel):
    """Where some of the fleet answer's $LATEST counts come from, when not from the targets themselves."""

    source: str = Field(description="'AWS Config aggregator <name>' (SelectAggregateResourceConfig).")
    recorded_from: datetime | None = Field(description="Oldest configuration item capture time used.")
    recorded_to: datetime | None = Field(description="Newest configuration item capture time used.")
    functions: int = Field(description="Functions Config recorded across the aggregator.")
    used_for: list[str] = Field(
        description="Targets (account/region) whose $LATEST counts come from Config because their own read "
        "did not complete; published versions and aliases are never from Config."
    )
    note: str | None = Field(default=None, description="Why the inventory is missing or partial, if so.")


def _captured(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def read_inventory(
    client: Any,
    aggregator: str,
    *,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ConfigInventory:
    """Page the aggregator's Lambda functions (raises ``OpsFailure`` when Config refuses)."""
    inventory = ConfigInventory(aggregator=aggregator)
    token: str | None = None
    while True:
        request: dict[str, Any] = {
            "Expression": QUERY,
            "ConfigurationAggregatorName": aggregator,
            "Limit": PAGE,
        }
        if token:
            request["NextToken"] = token
        with aws_call("SelectAggregateResourceConfig", service="config"):
            response = client.select_aggregate_resource_config(**request)
        inventory.pages += 1
        for raw in response.get("Results", []):
            item = json.loads(raw)
            target = Target(str(item.get("accountId", "")), str(item.get("awsRegion", "")))
            recorded = RecordedFunction(
                name=str(item.get("resourceName", "")),
                runtime=(item.get("configuration") or {}).get("runtime") or None,
                captured=_captured(item.get("configurationItemCaptureTime")),
            )
            inventory.functions.setdefault(target, []).append(recorded)
        token = response.get("NextToken") or None
        if token is None:
            return inventory
        if deadline is not None and clock() >= deadline:
            inventory.complete = False
            return inventory
