"""A campaign's waves, least risky first: idle, low traffic, the busiest; equal traffic spread over the
targets so a wave's batches run in every account at once."""

from __future__ import annotations

import math
from collections import Counter

from app.lambda_ops.upgrade.campaign_model import (
    PlannedFunction,
    Wave,
)


def tier_of(functions: list[PlannedFunction]) -> None:
    """Idle, low, busiest (the top quarter of those with traffic, and the unknown)."""
    busy = sorted((f for f in functions if f.invocations), key=lambda f: (f.invocations or 0, f.key))
    top = {f.key for f in busy[len(busy) - math.ceil(len(busy) / 4) :]} if busy else set()
    for function in functions:
        if function.invocations is None or function.key in top:
            function.tier = "busiest"
        elif function.invocations == 0:
            function.tier = "idle"
        else:
            function.tier = "low"


def spread(ordered: list[PlannedFunction]) -> list[PlannedFunction]:
    """Functions of equal traffic taken from each target in turn (the first of every account and region,
    then the second, ...), so a wave spans the fleet: its batches run up to ``concurrency_per_account``
    functions in *every* account at once instead of one account's while the others wait."""
    rank: Counter[tuple[float, str, str]] = Counter()
    keyed: list[tuple[float, int, str, PlannedFunction]] = []
    for function in ordered:
        traffic = function.invocations if function.invocations is not None else math.inf
        group = (traffic, function.account, function.region)
        keyed.append((traffic, rank[group], function.key, function))
        rank[group] += 1
    return [function for *_, function in sorted(keyed, key=lambda item: item[:3])]


def assign_waves(functions: list[PlannedFunction], wave_size: int) -> list[Wave]:
    tier_of(functions)
    waves: list[Wave] = []
    for tier in ("idle", "low", "busiest"):
        members = spread(
            sorted(
                (f for f in functions if f.tier == tier),
                key=lambda f: (f.invocations if f.invocations is not None else math.inf, f.key),
            )
        )
        for offset in range(0, len(members), wave_size):
            chunk = members[offset : offset + wave_size]
            number = len(waves) + 1
            for function in chunk:
                function.wave = number
            waves.append(Wave(number=number, tier=tier, functions=[f.key for f in chunk]))
    return waves
