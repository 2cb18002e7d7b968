"""Clients are created lazily, once, with retries and timeouts that fit a tool call."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import NoRegionError

import app.lambda_ops
from app.lambda_ops import ClientSettings, LambdaClients
from app.lambda_ops.errors import ErrorKind, OpsFailure


def test_importing_creates_no_client() -> None:
    # The package is importable without AWS configuration and does nothing at import time.
    assert app.lambda_ops.LambdaOps is not None


def test_clients_are_created_on_first_use_and_reused() -> None:
    made: list[Config] = []

    def factory(service: str, config: Config, region: str | None) -> Any:
        made.append(config)
        return object()

    clients = LambdaClients(ClientSettings(region="eu-west-1"), factory=factory)
    assert made == []
    first = clients.control
    assert clients.control is first
    assert len(made) == 1
    assert clients.invoke is not first
    assert len(made) == 2


def test_concurrent_first_use_creates_one_client() -> None:
    made: list[int] = []
    gate = threading.Barrier(8)

    def factory(service: str, config: Config, region: str | None) -> Any:
        made.append(1)
        return object()

    clients = LambdaClients(factory=factory)

    def use() -> None:
        gate.wait()
        assert clients.control is not None

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1


def test_retry_and_timeout_configuration() -> None:
    settings = ClientSettings(retry_mode="adaptive", max_attempts=4)
    control, invoke = settings.control_config(), settings.invoke_config()
    assert control.retries == {"mode": "adaptive", "total_max_attempts": 4}
    assert invoke.retries == {"mode": "adaptive", "total_max_attempts": 1}  # an invoke is never repeated
    assert control.connect_timeout + control.read_timeout < 25
    assert invoke.connect_timeout + invoke.read_timeout < 29


def test_real_clients_honour_the_settings(aws_env: None) -> None:
    clients = LambdaClients(ClientSettings(region="eu-central-1", read_timeout_s=5))
    assert clients.control.meta.region_name == "eu-central-1"
    assert clients.control.meta.config.read_timeout == 5
    assert clients.invoke.meta.config.retries["total_max_attempts"] == 1


def test_an_endpoint_override_from_the_environment_is_used(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert LambdaClients().control.meta.endpoint_url == "http://127.0.0.1:9"


def test_a_missing_region_is_an_error_value_not_a_crash(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(OpsFailure) as caught:
        _ = LambdaClients().control
    assert caught.value.error.kind is ErrorKind.CONFIGURATION
    assert isinstance(caught.value.__cause__, NoRegionError)
