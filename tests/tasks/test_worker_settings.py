"""The worker reads its settings without pydantic-settings (a fifth of its cold start): the same variables
must mean the same thing as in the server's ``Settings``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.worker.settings import WorkerSettings

CASES = [
    {},
    {"LAMBDA_OPS_ALLOW_WRITES": "true", "LAMBDA_OPS_WRITE_FUNCTION_PREFIXES": " team-a- , team-b-,,"},
    {"LAMBDA_OPS_ALLOW_WRITES": "0", "LAMBDA_OPS_WRITE_TAG": "owner = platform"},
    {"LAMBDA_OPS_TASKS_TABLE": "stack-TasksTable-X", "LAMBDA_OPS_RUNTIME_CATALOG_REFRESH": "yes"},
]


@pytest.mark.parametrize("environ", CASES)
def test_the_worker_reads_what_the_server_reads(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    server = Settings().model_dump(include=set(WorkerSettings.model_fields))
    assert WorkerSettings.from_environment(environ).model_dump() == server


def test_every_worker_setting_is_a_server_setting() -> None:
    assert set(WorkerSettings.model_fields) <= set(Settings.model_fields)


def test_a_malformed_tag_is_refused_by_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_OPS_WRITE_TAG", "=value")
    with pytest.raises(ValidationError):
        Settings()
    with pytest.raises(ValidationError):
        WorkerSettings.from_environment({"LAMBDA_OPS_WRITE_TAG": "=value"})
