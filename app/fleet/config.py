"""The fleet's settings as plain values: read by the server (``app.config.Settings``) and the worker
(``app.worker.settings.WorkerSettings``) alike, validated the same way by the functions here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = re.compile(r"^\d{12}$")
ORGANIZATION = re.compile(r"^organization(:(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}))?$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
ENABLED = "enabled"
ROLE_NAME = r"^[A-Za-z0-9_+=,.@-]{1,64}$"


def check_accounts(value: list[str]) -> list[str]:
    """12-digit ids, or one ``organization`` / ``organization:ou-…`` / ``organization:r-…`` alone."""
    if any(item.startswith("organization") for item in value):
        if len(value) != 1 or not ORGANIZATION.fullmatch(value[0]):
            raise ValueError(
                "accounts: 'organization', 'organization:ou-…' or 'organization:r-…' alone, or 12-digit "
                f"account ids; got {value}"
            )
        return value
    bad = [item for item in value if not ACCOUNT_ID.fullmatch(item)]
    if bad:
        raise ValueError(f"accounts: 12-digit account ids (or 'organization'), not {bad}")
    return list(dict.fromkeys(value))


def check_regions(value: list[str]) -> list[str]:
    """Region names (us-east-1), or ``enabled`` alone."""
    if ENABLED in value:
        if value != [ENABLED]:
            raise ValueError(f"regions: 'enabled' alone, or region names; got {value}")
        return value
    bad = [item for item in value if not REGION.fullmatch(item)]
    if bad:
        raise ValueError(f"regions: region names such as us-east-1 (or 'enabled'), not {bad}")
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class FleetConfig:
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    member_role: str = "lambda-ops-mcp-reader"
    member_write_role: str = "lambda-ops-mcp-writer"
    rate_per_s: float = 10.0
    workers: int = 16

    @classmethod
    def of(cls, settings: Any) -> FleetConfig:
        """From ``Settings`` or ``WorkerSettings`` (the same field names)."""
        return cls(
            accounts=tuple(settings.accounts),
            regions=tuple(settings.regions),
            member_role=settings.member_role,
            member_write_role=settings.member_write_role,
            rate_per_s=float(settings.fleet_rate_per_s),
            workers=int(settings.fleet_workers),
        )

    @property
    def single(self) -> bool:
        """Nothing configured: the home account and region only, exactly as before the fleet."""
        return not self.accounts and not self.regions

    @property
    def organization(self) -> str | None:
        """``None``: an id list; ``""``: the whole organization; else the OU or root of ``organization:…``."""
        if len(self.accounts) == 1 and self.accounts[0].startswith("organization"):
            return self.accounts[0].partition(":")[2]
        return None

    @property
    def enabled_regions(self) -> bool:
        return self.regions == (ENABLED,)
