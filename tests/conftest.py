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
