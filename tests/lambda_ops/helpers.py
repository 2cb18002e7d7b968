"""Test doubles for the lambda_ops domain: a botocore Stubber-backed client, a fake clock, AWS-shaped
responses. No network: a stubbed client answers from its queue, never over HTTP."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from typing import Any

import botocore.session
from botocore.response import StreamingBody
from botocore.stub import Stubber

from app.lambda_ops import LambdaClients, LambdaOps, WritePolicy
from app.lambda_ops.runtime_info import CatalogProvider

TODAY = date(2026, 11, 24)
REGION = "us-east-1"
ACCOUNT = "123456789012"
ALLOW_ALL = WritePolicy(allow_writes=True)


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it (or ``advance`` is called)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def stubbed_client() -> tuple[Any, Stubber]:
    session = botocore.session.get_session()
    client = session.create_client(
        "lambda", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def record_calls(client: Any) -> list[str]:
    """Every API operation the client is asked to make, in order (recorded before any stub or mock)."""
    calls: list[str] = []

    def on_call(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    client.meta.events.register("before-parameter-build.lambda", on_call)
    return calls


def ops_for(client: Any, *, policy: WritePolicy = ALLOW_ALL, clock: FakeClock | None = None) -> LambdaOps:
    clock = clock or FakeClock()
    return LambdaOps(
        LambdaClients.of(client),
        policy=policy,
        catalog=CatalogProvider(),
        today=lambda: TODAY,
        clock=clock,
        sleep=clock.sleep,
    )


def configuration(
    name: str = "orders-api",
    runtime: str | None = "nodejs18.x",
    *,
    status: str = "Successful",
    reason: str | None = None,
    revision: str = "rev-1",
    **extra: Any,
) -> dict[str, Any]:
    """A GetFunctionConfiguration response."""
    config: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": arn(name),
        "PackageType": "Zip" if runtime else "Image",
        "State": "Active",
        "LastUpdateStatus": status,
        "RevisionId": revision,
        "MemorySize": 256,
        "Timeout": 10,
        "Architectures": ["arm64"],
        "LastModified": "2026-01-01T00:00:00.000+0000",
        **extra,
    }
    if runtime:
        config["Runtime"] = runtime
    if reason:
        config["LastUpdateStatusReason"] = reason
    return config


def streaming(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def client_error(code: str, message: str = "", status: int = 400) -> dict[str, Any]:
    """Keyword arguments for ``Stubber.add_client_error``."""
    return {"service_error_code": code, "service_message": message or code, "http_status_code": status}


Fetcher = Callable[[], str]
