"""Traffic-shifting strategies, by CodeDeploy's names for Lambda deployments: ``Canary<P>Percent<M>Minutes``
(P % to the new version for M minutes, then all), ``Linear<P>PercentEvery<M>Minute(s)`` (P % more every M
minutes until all) and ``AllAtOnce``. Pure: a strategy is the list of (weight, bake seconds) steps before the
final move to 100 %; ``minute_s`` shortens a minute for the sandbox and benchmarks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.lambda_ops.errors import invalid

ALL_AT_ONCE = "AllAtOnce"
DEFAULT_STRATEGY = "Canary10Percent5Minutes"
EXAMPLES = (
    "Canary10Percent5Minutes",
    "Canary10Percent10Minutes",
    "Canary10Percent15Minutes",
    "Canary10Percent30Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes",
    "Linear10PercentEvery10Minutes",
    ALL_AT_ONCE,
)
_CANARY = re.compile(r"^Canary(\d{1,2})Percent(\d{1,3})Minutes?$")
_LINEAR = re.compile(r"^Linear(\d{1,2})PercentEvery(\d{1,3})Minutes?$")
MAX_STEPS = 20


@dataclass(frozen=True)
class Step:
    weight: float  # the new version's share while the step lasts (0 < weight < 1)
    bake_s: float  # how long it lasts before the gate


@dataclass(frozen=True)
class Strategy:
    name: str
    steps: tuple[Step, ...]  # before the final move to 100 % (none: all at once)

    @property
    def total_wait_s(self) -> float:
        return sum(step.bake_s for step in self.steps)


def parse_strategy(name: str, minute_s: float = 60.0) -> Strategy:
    """``name`` as CodeDeploy spells it; raises ``OpsFailure`` (invalid) for anything else."""
    name = (name or "").strip()
    if name == ALL_AT_ONCE:
        return Strategy(name, ())
    if match := _CANARY.match(name):
        percent, minutes = int(match[1]), int(match[2])
        _check(name, percent, minutes)
        return Strategy(name, (Step(percent / 100, minutes * minute_s),))
    if match := _LINEAR.match(name):
        percent, minutes = int(match[1]), int(match[2])
        _check(name, percent, minutes)
        count = (100 - 1) // percent  # steps below 100 %
        if count > MAX_STEPS:
            raise invalid(f"{name} has {count} steps; at most {MAX_STEPS} (use a larger percentage).")
        steps = tuple(Step(round(percent * i / 100, 6), minutes * minute_s) for i in range(1, count + 1))
        return Strategy(name, steps)
    raise invalid(
        f"Unknown strategy '{name}'. Use CodeDeploy's names: Canary<P>Percent<M>Minutes, "
        f"Linear<P>PercentEvery<M>Minutes or AllAtOnce (e.g. {', '.join(EXAMPLES[:5])})."
    )


def _check(name: str, percent: int, minutes: int) -> None:
    if not 1 <= percent <= 99 or not 1 <= minutes <= 120:
        raise invalid(f"{name}: the percentage must be 1-99 and the minutes 1-120.")


def for_function(strategy: Strategy, has_alias: bool) -> Strategy:
    """Functions without an alias have no traffic to shift: all at once ($LATEST is what they serve)."""
    return strategy if has_alias else Strategy(ALL_AT_ONCE, ())
