"""The Lambda runtime catalog: every runtime identifier, its dates, and its status on a given day.

The catalog ships as data (``data/runtimes.json``, transcribed from the AWS Lambda documentation page
"Lambda runtimes") and is read on first use, never at import time. ``runtime_refresh`` can replace it with
a fresher copy of the same page; nothing here touches the network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

SOON_WINDOW_DAYS = 180


class RuntimeStatus(StrEnum):
    SUPPORTED = "supported"
    DEPRECATING_SOON = "deprecating_soon"  # deprecation date within the next 180 days
    DEPRECATED = "deprecated"  # past its deprecation date; functions can still be updated
    BLOCKED = "blocked"  # past its block-function-update date: functions on it can no longer be updated
    UNKNOWN = "unknown"  # an identifier the catalog does not know
    NOT_APPLICABLE = "not_applicable"  # container image functions have no managed runtime


# Worst first: the order audit groups and status counts are reported in.
STATUS_ORDER = tuple(RuntimeStatus)
_SEVERITY = {
    RuntimeStatus.BLOCKED: 0,
    RuntimeStatus.DEPRECATED: 1,
    RuntimeStatus.DEPRECATING_SOON: 2,
    RuntimeStatus.UNKNOWN: 3,
    RuntimeStatus.SUPPORTED: 4,
    RuntimeStatus.NOT_APPLICABLE: 5,
}


def severity(status: RuntimeStatus) -> int:
    return _SEVERITY[status]


class Runtime(BaseModel):
    """One catalog entry, as published by AWS."""

    model_config = ConfigDict(frozen=True)

    identifier: str = Field(description="The runtime identifier Lambda uses, e.g. nodejs22.x.")
    name: str = Field(description="Human-readable name, e.g. Node.js 22.")
    family: str = Field(description="Language family: nodejs, python, java, dotnet, ruby, go or provided.")
    version: str = Field(description="Language version (for provided: the OS generation).")
    os: str = Field(description="Operating system of the runtime.")
    deprecation_date: date | None = Field(description="Date Lambda deprecates (deprecated) the runtime.")
    block_function_create: date | None = Field(description="From this date new functions can't use it.")
    block_function_update: date | None = Field(
        description="From this date functions on this runtime can't be updated (a rollback to it fails)."
    )
    upgrade_target: str | None = Field(
        default=None, description="AWS's suggested successor, if any (the catalog's recommendation)."
    )
    container_only: bool = Field(
        default=False, description="Only offered as a container base image: not a .zip runtime."
    )
    architectures: tuple[str, ...] | None = Field(
        default=None, description="Instruction set architectures offered (x86_64, arm64); null: unknown."
    )
    snap_start: bool | None = Field(
        default=None, description="Whether Lambda SnapStart supports this runtime; null: unknown."
    )


@dataclass(frozen=True)
class RuntimeCatalog:
    """The runtimes known on ``as_of``; lookups and status computations over them."""

    as_of: date
    source: str
    source_url: str
    runtimes: tuple[Runtime, ...]
    soon_window_days: int = SOON_WINDOW_DAYS
    _by_id: dict[str, Runtime] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.identifier: r for r in self.runtimes})

    def get(self, identifier: str) -> Runtime | None:
        return self._by_id.get(identifier)

    @property
    def families(self) -> frozenset[str]:
        return frozenset(r.family for r in self.runtimes)

    def status(self, identifier: str | None, today: date) -> RuntimeStatus:
        if identifier is None:
            return RuntimeStatus.NOT_APPLICABLE
        runtime = self.get(identifier)
        return RuntimeStatus.UNKNOWN if runtime is None else status_of(runtime, today, self.soon_window_days)

    def recommended_target(self, identifier: str, today: date) -> str | None:
        """The runtime to move to: AWS's successor while it is supported, else the newest supported .zip
        runtime of the family; None when ``identifier`` is itself the newest or nothing better exists."""
        runtime = self.get(identifier)
        if runtime is None:
            return None
        candidate = self.get(runtime.upgrade_target) if runtime.upgrade_target else None
        if candidate is not None and self._usable(candidate, today):
            return candidate.identifier
        newest = self.newest_supported(runtime.family, today)
        if newest is None or version_key(newest) <= version_key(runtime):
            return None
        return newest.identifier

    def newest_supported(self, family: str, today: date) -> Runtime | None:
        usable = [r for r in self.runtimes if r.family == family and self._usable(r, today)]
        return max(usable, key=version_key, default=None)

    def _usable(self, runtime: Runtime, today: date) -> bool:
        status = status_of(runtime, today, self.soon_window_days)
        usable = status in (RuntimeStatus.SUPPORTED, RuntimeStatus.DEPRECATING_SOON)
        return usable and not runtime.container_only


def status_of(runtime: Runtime, today: date, soon_window_days: int = SOON_WINDOW_DAYS) -> RuntimeStatus:
    if runtime.block_function_update is not None and today >= runtime.block_function_update:
        return RuntimeStatus.BLOCKED
    if runtime.deprecation_date is not None:
        if today >= runtime.deprecation_date:
            return RuntimeStatus.DEPRECATED
        if (runtime.deprecation_date - today).days <= soon_window_days:
            return RuntimeStatus.DEPRECATING_SOON
    return RuntimeStatus.SUPPORTED


_OS_RANK = {"Amazon Linux": 1, "Amazon Linux 2": 2, "Amazon Linux 2023": 3}


def version_key(runtime: Runtime) -> tuple[tuple[int, ...], int]:
    """Orders runtimes of one family oldest → newest: language version, then OS generation
    (java8 < java8.al2; provided < provided.al2 < provided.al2023)."""
    numbers = (
        tuple(int(n) for n in re.findall(r"\d+", runtime.version)) if runtime.family != "provided" else ()
    )
    return numbers, _OS_RANK.get(runtime.os, 0)


_FAMILY_ALIASES = {"dotnetcore": "dotnet"}


def family_of(identifier: str, catalog: RuntimeCatalog | None = None) -> str | None:
    """The family of an identifier, known to the catalog or not: ``nodejs26.x`` → ``nodejs``."""
    if catalog is not None and (known := catalog.get(identifier)) is not None:
        return known.family
    match = re.match(r"[a-z]+", identifier)
    return None if match is None else _FAMILY_ALIASES.get(match.group(), match.group())


def parse_catalog(document: dict[str, object]) -> RuntimeCatalog:
    """A catalog from its JSON form (``data/runtimes.json``)."""
    source = document["source"]
    if not isinstance(source, dict) or not isinstance(document["runtimes"], list):
        raise ValueError("malformed runtime catalog")
    return RuntimeCatalog(
        as_of=date.fromisoformat(str(document["as_of"])),
        source=str(source["title"]),
        source_url=str(source["url"]),
        runtimes=tuple(Runtime.model_validate(row) for row in document["runtimes"]),
        soon_window_days=int(str(document.get("soon_window_days", SOON_WINDOW_DAYS))),
    )


@cache
def shipped_catalog() -> RuntimeCatalog:
    """The catalog packaged with this version of the server (read once per process)."""
    text = resources.files("app.lambda_ops").joinpath("data/runtimes.json").read_text(encoding="utf-8")
    return parse_catalog(json.loads(text))
