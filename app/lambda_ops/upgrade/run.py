"""One upgrade in flight (``Run``), and what the alias path (``ship``) needs of the runner (``Runner``).

Its own module so that ``runner`` imports ``ship`` and both import this, never each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.lambda_ops.clients import LambdaClients
from app.lambda_ops.invoke import InvokeResult
from app.lambda_ops.upgrade.alias import AliasState
from app.lambda_ops.upgrade.effects import Effects
from app.lambda_ops.upgrade.plan import Action, Outcome, UpgradeResult, UpgradeStep
from app.lambda_ops.upgrade.wait import Observed, RuntimeUpdater


@dataclass
class Run:
    function: str
    previous: str | None
    target: str
    started: float
    deadline: float
    base: dict[str, Any]
    steps: list[UpgradeStep] = field(default_factory=list)
    updated: bool = True  # False on the alias path when $LATEST was already on the target
    function_timeout_s: float = 3.0  # the function's own Timeout (a durable smoke test may use all of it)


class Runner(Protocol):
    """The parts of ``UpgradeRunner`` the alias path uses."""

    clients: LambdaClients
    aws: RuntimeUpdater
    effects: Effects

    def step(self, run: Run, action: Action, ok: bool, runtime: str | None, detail: str) -> None: ...

    def result(
        self, run: Run, seen: Observed, outcome: Outcome, message: str, **extra: Any
    ) -> UpgradeResult: ...

    def smoke_failed(self, run: Run, seen: Observed, failed: str, tested: InvokeResult) -> UpgradeResult: ...

    def restore(
        self, run: Run, seen: Observed, why: str, tested: InvokeResult | None, *, done: Outcome
    ) -> UpgradeResult: ...

    def smoke_seconds(self, run: Run) -> float: ...

    def smoke_invoke(
        self,
        run: Run,
        smoke: bytes,
        seconds: float,
        qualifier: str | None = None,
        function: str | None = None,
    ) -> InvokeResult: ...

    def within(self, budget_s: float) -> str: ...


class Shipper(Protocol):
    """The alias path after ``$LATEST`` is verified on the target (``ship.AliasShipper``: move the alias at
    once; a campaign's ``shift.TrafficShifter``: shift its traffic by steps, gated)."""

    def ship(self, seen: Observed, smoke: bytes) -> UpgradeResult: ...


ShipperFactory = Callable[[Runner, Run, AliasState], Shipper]
