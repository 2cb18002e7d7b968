"""The worker's settings: the few of ``app.config.Settings`` it uses, read the same way (the same
``LAMBDA_OPS_*`` variables, comma lists, booleans) without pydantic-settings, whose import is a fifth of the
worker's cold start (``make bench``). tests/tasks/test_worker_settings.py keeps the two readings equal."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, Field, field_validator

from app.fleet.config import ROLE_NAME, check_accounts, check_regions

PREFIX = "LAMBDA_OPS_"


class WorkerSettings(BaseModel):
    tasks_table: str = ""
    allow_writes: bool = False
    write_function_prefixes: list[str] = Field(default_factory=list)
    write_tag: str = Field(default="", pattern=r"^$|^\s*[^=\s][^=]*=.*$")
    runtime_catalog_refresh: bool = False
    # The fleet (issue #14): the same targets and roles as the server's (app/config.py says what each is).
    accounts: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    member_role: str = Field(default="lambda-ops-mcp-reader", pattern=ROLE_NAME)
    member_write_role: str = Field(default="lambda-ops-mcp-writer", pattern=ROLE_NAME)
    fleet_rate_per_s: float = Field(default=10.0, gt=0, le=15)
    fleet_workers: int = Field(default=16, ge=1, le=64)
    config_aggregator: str = Field(default="", pattern=r"^$|^[A-Za-z0-9_-]{1,256}$")
    campaign_minute_s: float = Field(default=60.0, gt=0)  # seconds a strategy's minute lasts (sandbox: 1)

    @field_validator("accounts")
    @classmethod
    def _fleet_accounts(cls, value: list[str]) -> list[str]:
        return check_accounts(value)

    @field_validator("regions")
    @classmethod
    def _fleet_regions(cls, value: list[str]) -> list[str]:
        return check_regions(value)

    @field_validator("write_function_prefixes", "accounts", "regions", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        environ = os.environ if environ is None else environ
        values = {
            name: environ[PREFIX + name.upper()]
            for name in cls.model_fields
            if PREFIX + name.upper() in environ
        }
        return cls.model_validate(values)
