"""The fleet's settings: validated alike by the server and the worker; unset means the home target only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.fleet.config import FleetConfig
from app.worker.settings import WorkerSettings

FLEET = ["accounts", "regions", "member_role", "member_write_role", "fleet_rate_per_s", "fleet_workers",
         "config_aggregator"]  # fmt: skip
GOOD = [
    {},
    {"LAMBDA_OPS_ACCOUNTS": "111111111111, 222222222222,111111111111",
     "LAMBDA_OPS_REGIONS": "us-east-1,eu-west-1"},
    {"LAMBDA_OPS_ACCOUNTS": "organization", "LAMBDA_OPS_REGIONS": "enabled"},
    {"LAMBDA_OPS_ACCOUNTS": "organization:ou-ab12-cdef5678"},
    {"LAMBDA_OPS_ACCOUNTS": "organization:r-ab12"},
    {"LAMBDA_OPS_MEMBER_ROLE": "ops-reader", "LAMBDA_OPS_MEMBER_WRITE_ROLE": "ops-writer",
     "LAMBDA_OPS_FLEET_RATE_PER_S": "5", "LAMBDA_OPS_FLEET_WORKERS": "4",
     "LAMBDA_OPS_CONFIG_AGGREGATOR": "aws-controltower-GuardrailsComplianceAggregator"},
]  # fmt: skip
BAD = [
    {"LAMBDA_OPS_ACCOUNTS": "12345"},
    {"LAMBDA_OPS_ACCOUNTS": "organization,111111111111"},
    {"LAMBDA_OPS_ACCOUNTS": "organization:ou-"},
    {"LAMBDA_OPS_ACCOUNTS": "organisation"},
    {"LAMBDA_OPS_REGIONS": "us-east"},
    {"LAMBDA_OPS_REGIONS": "enabled,us-east-1"},
    {"LAMBDA_OPS_FLEET_RATE_PER_S": "0"},
    {"LAMBDA_OPS_FLEET_RATE_PER_S": "20"},
    {"LAMBDA_OPS_MEMBER_ROLE": "role/with/slash"},
    {"LAMBDA_OPS_CONFIG_AGGREGATOR": "has space"},
]


@pytest.mark.parametrize("environ", GOOD)
def test_the_worker_reads_the_fleet_as_the_server_does(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    server = Settings()
    worker = WorkerSettings.from_environment(environ)
    assert worker.model_dump(include=set(FLEET)) == server.model_dump(include=set(FLEET))
    assert FleetConfig.of(worker) == FleetConfig.of(server)


@pytest.mark.parametrize("environ", BAD)
def test_a_bad_fleet_setting_is_refused_by_both(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
    with pytest.raises(ValidationError):
        WorkerSettings.from_environment(environ)


def test_unset_is_the_home_target_alone() -> None:
    config = FleetConfig.of(Settings())
    assert config.single
    assert (config.member_role, config.member_write_role) == (
        "lambda-ops-mcp-reader",
        "lambda-ops-mcp-writer",
    )
    assert (config.rate_per_s, config.workers) == (10.0, 16)
    assert Settings().config_aggregator == ""


def test_the_organization_forms() -> None:
    assert FleetConfig(accounts=("organization",)).organization == ""
    assert FleetConfig(accounts=("organization:ou-ab12-cdef5678",)).organization == "ou-ab12-cdef5678"
    assert FleetConfig(accounts=("111111111111",)).organization is None
    assert FleetConfig(regions=("enabled",)).enabled_regions
