"""``Directory``: what a fleet can say about itself beyond ``Fleet`` — account names and whether each target
can be reached (``list-targets``). ``AwsFleet`` is one; a fleet without it lists its targets only."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from app.fleet.organizations import Account
from app.fleet.targets import Caller, Target
from app.lambda_ops import OpsError


@runtime_checkable
class Directory(Protocol):
    def accounts(self) -> list[Account]:
        """The configured accounts, home first, named when the organization knows them."""
        ...

    def regions(self) -> list[str]:
        """The configured regions (``enabled``: each account's enabled regions)."""
        ...

    def check(self, targets: list[Target], caller: Caller) -> dict[Target, OpsError | None]:
        """Each target reached once (its role assumed, one cheap Lambda call), in parallel, within the
        gateway's budget: None where it answered, else why not."""
        ...
