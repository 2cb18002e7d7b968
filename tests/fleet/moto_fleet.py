"""Fixtures of the fleet-audit tests.

A small fleet in moto: the home account and two member accounts in two regions (moto scopes resources
per account once a client holds an AssumeRole session's credentials), and a member whose reader role cannot
be assumed (a ``before-call.sts.AssumeRole`` hook answers AccessDenied, as STS does without a trust)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from app.fleet.targets import Caller, Target
from app.lambda_ops import CatalogProvider, ClientSettings, LambdaClients, LambdaOps
from app.lambda_ops.errors import aws_call
from app.local.seed import TRUST_POLICY, code_zip

HOME = "123456789012"
MEMBER_A, MEMBER_B, DENIED = "111111111111", "222222222222", "333333333333"
REGIONS = ("us-east-1", "eu-west-1")
READER = "lambda-ops-mcp-reader"
# Per (account, region): ($LATEST runtime, runtime of published version 1 or None, alias prod → 1?)
FUNCTIONS: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {
    (HOME, "us-east-1"): [("home-api", "python3.12", None), ("home-cron", "nodejs16.x", None)],
    (MEMBER_A, "us-east-1"): [
        ("orders-api", "nodejs22.x", "nodejs16.x"),
        ("orders-worker", "nodejs16.x", None),
        ("orders-etl", "python3.8", None),
    ],
    (MEMBER_A, "eu-west-1"): [("orders-eu", "nodejs16.x", None)],
    (MEMBER_B, "us-east-1"): [("pay-api", "python3.12", None), ("pay-hook", "nodejs16.x", None)],
    (MEMBER_B, "eu-west-1"): [("pay-eu", "java8", None)],
}


def _family(runtime: str) -> str:
    return next(f for f in ("nodejs", "python", "java") if runtime.startswith(f))


def fail_with(code: str, status: int, operation: str = "AssumeRole") -> Callable[..., Any]:
    def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {
            "Error": {"Code": code, "Message": f"{code} (test)"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://sts.amazonaws.com/", status, {}, None), error

    return hook


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def throttle(times: int) -> Callable[..., Any]:
    """A ``before-send`` hook: the first ``times`` HTTP attempts answer 429 TooManyRequestsException."""
    seen = {"n": 0}

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        seen["n"] += 1
        if seen["n"] > times:
            return None
        body = json.dumps({"Type": "User", "message": "Rate exceeded"}).encode()
        headers = {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"}
        return AWSResponse(request.url, 429, headers, Raw(body))

    return hook


@dataclass
class MotoFleet:
    """``Fleet`` over moto: member targets through sts.assume_role (SourceIdentity = the caller)."""

    configured: list[Target]
    denied: set[str] = field(default_factory=lambda: {DENIED})
    hooks: dict[Target, list[tuple[str, Callable[..., Any]]]] = field(default_factory=dict)
    assumed: list[dict[str, Any]] = field(default_factory=list)
    max_attempts: int = 3

    @property
    def home(self) -> Target:
        return Target(HOME, "us-east-1")

    def targets(self) -> list[Target]:
        return list(self.configured)

    def resolve(self, account: str | None, region: str | None) -> Target:
        return Target(account or HOME, region or "us-east-1")

    def session(self, target: Target, caller: Caller) -> boto3.session.Session:
        if target.account == HOME:
            return boto3.session.Session(region_name=target.region)
        sts = boto3.client("sts", region_name=target.region)
        if target.account in self.denied:
            sts.meta.events.register("before-call.sts.AssumeRole", fail_with("AccessDenied", 403))
        request = {
            "RoleArn": f"arn:aws:iam::{target.account}:role/{READER}",
            "RoleSessionName": "lambda-ops",
            "SourceIdentity": caller.source_identity,
            "DurationSeconds": 900,
        }
        self.assumed.append(request)
        with aws_call("AssumeRole", service="sts"):
            credentials = sts.assume_role(**request)["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=target.region,
        )

    def ops(self, target: Target, caller: Caller, *, write: bool = False) -> LambdaOps:
        session = self.session(target, caller)

        def factory(service: str, config: Any, region: str | None) -> Any:
            client = session.client(service, config=config, region_name=region)  # type: ignore[call-overload]
            for event, hook in self.hooks.get(target, []):
                client.meta.events.register_first(event, hook)
            return client

        settings = ClientSettings(region=target.region, max_attempts=self.max_attempts)
        return LambdaOps(LambdaClients(settings, factory=factory), catalog=CatalogProvider())

    def ops_for(self, caller: Caller | None = None) -> Callable[[Target], LambdaOps]:
        asking = caller or Caller("alice@example.com", "audit-runtimes")
        return lambda target: self.ops(target, asking)


def seed(account: str, region: str, functions: list[tuple[str, str, str | None]]) -> None:
    fleet = MotoFleet([])
    session = fleet.session(Target(account, region), Caller("seed"))
    iam = session.client("iam")
    role = iam.create_role(RoleName=f"fn-role-{region}", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))[
        "Role"
    ]["Arn"]
    client = session.client("lambda", region_name=region)
    for name, runtime, old in functions:
        first = old or runtime
        client.create_function(
            FunctionName=name, Runtime=first, Role=role, Handler="index.handler",
            Code={"ZipFile": code_zip(_family(first))},
        )  # fmt: skip
        if old:
            client.publish_version(FunctionName=name)
            client.update_function_configuration(FunctionName=name, Runtime=runtime)
            client.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")


ALL_TARGETS = [Target(a, r) for a in (HOME, MEMBER_A, MEMBER_B, DENIED) for r in REGIONS]


@pytest.fixture
def fleet(aws_env: None) -> Iterator[MotoFleet]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        for (account, region), functions in FUNCTIONS.items():
            seed(account, region, functions)
        yield MotoFleet(list(ALL_TARGETS))
