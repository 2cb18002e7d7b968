"""A runtime campaign's plan as data: the selection, each planned function, the exclusions, the blast
radius, the waves, and a target as the domain sees it (plain strings and its facade)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from app.lambda_ops.facade import LambdaOps
from app.lambda_ops.upgrade.plan import Check

StatusName = Literal["deprecated", "deprecating_soon", "blocked"]
DEFAULT_STATUSES: tuple[StatusName, ...] = ("deprecated", "deprecating_soon", "blocked")
DEFAULT_WAVE_SIZE = 25
MAX_FUNCTIONS = 1000
Tier = Literal["idle", "low", "busiest"]


class Selection(BaseModel):
    """Which functions a campaign covers, and how they ship (the same for plan and run)."""

    runtimes: list[str] = Field(default_factory=list, description="Current runtimes (e.g. nodejs16.x).")
    family: str | None = Field(default=None, description="A runtime family (nodejs, python, ...).")
    statuses: list[StatusName] = Field(
        default_factory=list, description="Runtime statuses; default (nothing else given): all three."
    )
    name_prefix: str | None = Field(default=None, description="Only functions whose name starts so.")
    tags: dict[str, str] = Field(default_factory=dict, description="Only functions with all these tags.")
    accounts: list[str] = Field(default_factory=list, description="Only these accounts (default: all).")
    regions: list[str] = Field(default_factory=list, description="Only these regions (default: all).")
    target_runtime: str | None = Field(
        default=None, description="The runtime to move to; default: the catalog's recommendation."
    )
    alias: str | None = Field(default=None, description="Ship through this alias where a function has it.")
    smoke_payload: str | None = Field(default=None, description="The smoke test's event (JSON text).")
    wave_size: int = Field(default=DEFAULT_WAVE_SIZE, ge=1, le=200, description="Functions per wave.")

    def wanted_statuses(self) -> set[str]:
        if self.statuses:
            return set(self.statuses)
        return set() if self.runtimes or self.family else set(DEFAULT_STATUSES)


class AliasPlan(BaseModel):
    name: str = Field(description="The alias the upgrade ships through.")
    version: str = Field(description="The version it serves now.")
    weights: dict[str, float] = Field(description="Its routing now (version → share).")


class PlannedFunction(BaseModel):
    account: str
    region: str
    name: str
    runtime: str = Field(description="The current runtime.")
    target_runtime: str
    alias: AliasPlan | None = Field(
        description="Shipped through this alias (traffic shifted); null: $LATEST."
    )
    invocations: int | None = Field(description="Invocations over 30 days; null: unknown.")
    tier: Tier
    wave: int = Field(description="The wave it runs in (1 first).")
    rollback_possible: bool
    checks: list[Check]
    warnings: list[str]
    revision_id: str | None = None
    code_sha256: str | None = None

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"


class Excluded(BaseModel):
    account: str
    region: str
    name: str
    runtime: str | None
    reason: str = Field(description="Why it is not in the campaign.")
    code: str = Field(description="The reason in one word (a check's name, unchanged, blocked, ...).")

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"


class TargetCount(BaseModel):
    account: str
    region: str
    functions: int = Field(description="Functions planned there.")
    invocations: int | None = Field(description="Their invocations over 30 days; null: unknown.")
    note: str | None = Field(default=None, description="What could not be read there.")


class Wave(BaseModel):
    number: int
    tier: Tier
    functions: list[str] = Field(description="account/region/name, least traffic first.")


class CampaignPlan(BaseModel):
    digest: str = Field(description="Pass it to run-runtime-campaign: the run refuses if the plan changed.")
    selection: Selection
    functions: list[PlannedFunction]
    excluded: list[Excluded]
    blast_radius: list[TargetCount]
    waves: list[Wave]
    busiest: list[str] = Field(description="The busiest planned functions (up to 3), busiest first.")
    complete: bool = Field(description="False: a target could not be read (see notes).")
    notes: list[str] = Field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.digest.split(".", 1)[0]


@dataclass(frozen=True)
class Place:
    """A target as the domain sees it: plain strings, and the facade that reaches it."""

    account: str
    region: str
    ops: LambdaOps


Selector = Callable[[Selection], CampaignPlan]
