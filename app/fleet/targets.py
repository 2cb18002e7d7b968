"""What a target is: one account and one region, and who asks (the caller every cross-account call names)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
# STS SourceIdentity: 2 to 64 characters of [\w+=,.@-]
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
        """The identity as STS accepts it for ``SourceIdentity`` (2-64 of ``[\\w+=,.@-]``), one-to-one: an
        identity STS would not take as it is (another character, longer than 64) keeps a readable prefix and
        gets a hash of the whole, so ``a|b`` and ``a-b`` never name the same person in CloudTrail."""
        cleaned = _SOURCE_IDENTITY_DROP.sub("-", self.identity)
        if cleaned == self.identity and 2 <= len(cleaned) <= 64:
            return cleaned
        digest = hashlib.sha256(self.identity.encode()).hexdigest()[:12]
        return f"{cleaned[:51]}.{digest}"  # '.' is allowed: at most 51 + 1 + 12 = 64
