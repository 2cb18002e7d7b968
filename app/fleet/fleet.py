"""``Fleet``: the contract the surface and the worker use to reach any target (issue #14).

``ops(target, caller, write=...)`` is the ``LambdaOps`` of that account and region: the home account with the
function's own role, a member account through its reader role (or its writer role when ``write``), by STS
AssumeRole with ``SourceIdentity`` = the caller.
"""

from __future__ import annotations

from typing import Protocol

from app.fleet.targets import Caller, Target
from app.lambda_ops import LambdaOps


class Fleet(Protocol):
    @property
    def home(self) -> Target:
        """Where the function runs (its own account and region)."""
        ...

    def targets(self) -> list[Target]:
        """Every configured target (accounts x regions), home first; resolves the organisation when the
        settings say ``organization``. Raises ``OpsFailure`` when the list itself cannot be read."""
        ...

    def resolve(self, account: str | None, region: str | None) -> Target:
        """A tool's optional ``account`` (an id or the account's name) and ``region`` → a configured target;
        None → the home account / region. Raises ``OpsFailure`` (invalid) for one outside the fleet."""
        ...

    def ops(self, target: Target, caller: Caller, *, write: bool = False) -> LambdaOps:
        """That target's facade (write policy included); the clients are cached per target and role."""
        ...
