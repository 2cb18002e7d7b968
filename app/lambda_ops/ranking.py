"""The audit's ranking by traffic (``rank_by="invocations"``): the functions on old runtimes, busiest first,
and those with no invocation in 30 days — candidates for deletion rather than upgrade.

Old runtimes: blocked, deprecated or soon deprecated. A function counts when its ``$LATEST`` is on one, or
when an alias routes traffic to a published version on one (``via`` names the alias). Invocations are the
function's (dimension ``FunctionName``: every version and alias), from one batched ``GetMetricData``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, Field

from app.lambda_ops.runtimes import RuntimeStatus, severity
from app.lambda_ops.traffic import DEFAULT_DAYS, Traffic
from app.lambda_ops.versions import AliasRoute

DEFAULT_RANKED = 10
IDLE_NAMED = 10


class RankedFunction(BaseModel):
    function: str = Field(description="The function.")
    runtime: str | None = Field(
        description="The old runtime it runs (its $LATEST's, or the routed version's)."
    )
    status: RuntimeStatus = Field(description="That runtime's status.")
    via: str | None = Field(
        default=None, description="null: $LATEST is on it; else the alias routing traffic to a version on it."
    )
    invocations: int = Field(description="Invocations of the function over the ranking's days.")


class TrafficRanking(BaseModel):
    rank_by: str = Field(description="What the functions are ranked by: invocations.")
    days: int = Field(description="Over how many days, ending now.")
    functions_ranked: int = Field(description="Functions on old runtimes ranked (all of them).")
    busiest: list[RankedFunction] = Field(description="The busiest of them, most invocations first.")
    more: int = Field(description="How many more functions with invocations were ranked than are listed.")
    idle_count: int = Field(description="Functions on old runtimes with no invocation in those days.")
    idle: list[str] = Field(
        description="Some of them, by name: candidates for deletion rather than upgrade (check first that "
        "nothing invokes them less often, e.g. a yearly job)."
    )
    calls: int = Field(description="GetMetricData calls made (500 functions a call).")
    note: str | None = Field(default=None, description="Why the ranking is missing or partial, if it is.")


# (old runtime → its functions, old runtime → its status, alias routes to old versions) → the ranking
Ranker = Callable[
    [Mapping[str | None, Sequence[str]], Mapping[str | None, RuntimeStatus], list[AliasRoute]], TrafficRanking
]


def rank(
    attention: Mapping[str | None, Sequence[str]],
    statuses: Mapping[str | None, RuntimeStatus],
    routes: list[AliasRoute],
    read: Callable[[list[str]], Traffic],
    *,
    limit: int = DEFAULT_RANKED,
) -> TrafficRanking:
    """``attention``: old runtime → the functions whose $LATEST is on it; ``routes``: alias routes to
    versions on old runtimes; ``read``: the batched invocation counts of a list of functions."""
    entries: dict[str, RankedFunction] = {}
    for runtime, names in attention.items():
        for name in names:
            entries[name] = RankedFunction(
                function=name, runtime=runtime, status=statuses[runtime], invocations=0
            )
    for route in routes:  # an alias serving a worse runtime than $LATEST's: that one is the concern
        known = entries.get(route.function)
        if known is None or severity(route.status) < severity(known.status):
            entries[route.function] = RankedFunction(
                function=route.function,
                runtime=route.runtime,
                status=route.status,
                via=route.alias,
                invocations=0,
            )
    traffic = read(sorted(entries))
    for name, entry in entries.items():
        entry.invocations = traffic.invocations.get(name, 0)
    busy = sorted(
        (e for e in entries.values() if e.invocations > 0),
        key=lambda e: (-e.invocations, severity(e.status), e.function),
    )
    idle = sorted(e.function for e in entries.values() if e.invocations == 0)
    return TrafficRanking(
        rank_by="invocations",
        days=traffic.days,
        functions_ranked=len(entries),
        busiest=busy[:limit],
        more=max(0, len(busy) - limit),
        idle_count=len(idle),
        idle=idle[:IDLE_NAMED],
        calls=traffic.calls,
    )


def not_ranked(reason: str, days: int = DEFAULT_DAYS) -> TrafficRanking:
    """The audit without its ranking: the metrics could not be read (the audit itself still stands)."""
    return TrafficRanking(
        rank_by="invocations",
        days=days,
        functions_ranked=0,
        busiest=[],
        more=0,
        idle_count=0,
        idle=[],
        calls=0,
        note=f"Not ranked: {reason}",
    )
