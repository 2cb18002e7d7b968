from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from app.config import Settings
from app.handler import build_handler
from app.local.seed import seed_account
from tests.helpers import LambdaContext, service_log
from tests.lambda_ops.helpers import REGION, TODAY

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime statuses move with the calendar (nodejs22.x is deprecated on 2027-04-30, and tests upgrade to
    it): every server a test builds in-process sees the day the domain tests use. The real-client tests run
    the server in another process and choose their targets from the catalog instead."""
    monkeypatch.setattr("app.lambda_ops.facade.utc_today", lambda: TODAY)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        auth_mode="none",  # the handler tests are about the edge and the surface; sign-in: tests/auth/
        allowed_hosts=["mcp.example.com"],
        allowed_origins=["https://inspector.example.com", "http://localhost:*"],
        max_body_bytes=64 * 1024,
    )


@pytest.fixture
def handler(settings: Settings) -> Handler:
    """One handler object: one Lambda execution environment."""
    return build_handler(settings)


@pytest.fixture
def invoke(handler: Handler) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def call(ev: dict[str, Any]) -> dict[str, Any]:
        return handler(ev, LambdaContext())

    return call


@pytest.fixture
def logs(handler: Handler) -> Iterator[io.StringIO]:
    """What the service's JSON logger writes (the handler is built first: it sets the logger up)."""
    with service_log() as stream:
        yield stream


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials in one region; no endpoint override (moto stops intercepting when one is set)."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def moto_lambda(aws_env: None) -> Iterator[Any]:
    """An in-process moto account seeded with the sandbox's functions; yields a Lambda client on it."""
    with mock_aws(config={"lambda": {"use_docker": False}}):
        client = boto3.client("lambda", region_name=REGION)
        seed_account(client, boto3.client("iam", region_name=REGION))
        yield client


class HealthAccount:
    """The sandbox account with its metrics and logs (app/local/seed_health.py), seeded at ``now``."""

    def __init__(self, lambda_client: Any, cloudwatch: Any, logs: Any, now: Any) -> None:
        self.lambda_client, self.cloudwatch, self.logs, self.now = lambda_client, cloudwatch, logs, now

    def clients(self) -> Any:
        from app.lambda_ops import LambdaClients

        return LambdaClients.of(self.lambda_client, cloudwatch=self.cloudwatch, logs=self.logs)

    def ops(self, **kw: Any) -> Any:
        from app.lambda_ops import CatalogProvider, LambdaOps, WritePolicy

        kw.setdefault("policy", WritePolicy(allow_writes=True))
        return LambdaOps(
            self.clients(), catalog=CatalogProvider(), today=lambda: TODAY, now=lambda: self.now, **kw
        )


@pytest.fixture
def moto_health(moto_lambda: Any) -> HealthAccount:
    """``moto_lambda`` plus CloudWatch metrics and log events (moto's percentiles patched, as the sandbox
    does). Seeded at the real current time: moto's Logs refuses events older than 14 days."""
    from datetime import UTC, datetime

    from app.local import moto_patches
    from app.local.seed_health import seed_health

    moto_patches.apply()
    now = datetime.now(UTC).replace(microsecond=0)
    cloudwatch, logs = (
        boto3.client("cloudwatch", region_name=REGION),
        boto3.client("logs", region_name=REGION),
    )
    seed_health(cloudwatch, logs, now)
    return HealthAccount(moto_lambda, cloudwatch, logs, now)
