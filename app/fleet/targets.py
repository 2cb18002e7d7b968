"""What a target is: one account and one region, and who asks (the caller every cross-account call names)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
# STS SourceIdentity: 2-64 characters of [\w+=,.@-]
_SOURCE_IDENTITY_DROP = re.compile(r"[^\w+=,.@-]")


@dataclass(frozen=True, order=True)
class Target:
    """One account and region of the fleet."""

    account: str  # 12 digits
    region: str  # us-east-1

    @property
    def label(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True)
class Caller:
    """Who asks, as every cross-account session names them: ``identity`` is the signed-in caller's ``sub``
    (a machine token's client id; ``anonymous`` when sign-in is off), ``tool`` the tool that asks."""

    identity: str = "anonymous"
    tool: str = "unknown"

    @property
    def source_identity(self) -> str:
        """The identity as STS accepts it for ``SourceIdentity`` (2-64 of ``[\\w+=,.@-]``)."""
        cleaned = _SOURCE_IDENTITY_DROP.sub("-", self.identity)[:64]
        return cleaned if len(cleaned) >= 2 else f"{cleaned}--"[:2]
