"""A small fleet in moto, in process: the home account 123456789012 (moto's default) and members
111111111111 and 222222222222 in us-east-1 and eu-west-1, each with functions of its own; 333333333333's
reader role cannot be assumed (AccessDenied from a before-parameter-build hook: moto never enforces trust)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from app.fleet.aws import AwsFleet
from app.fleet.config import FleetConfig
from app.lambda_ops import WritePolicy

HOME, ONE, TWO, DENIED = "123456789012", "111111111111", "222222222222", "333333333333"
REGIONS = ("us-east-1", "eu-west-1")
TRUST = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'  # noqa: E501


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => ({})")
    return buffer.getvalue()


def member_session(account: str, region: str) -> Any:
    """A boto3 session holding credentials of ``account`` (moto scopes what they touch to it)."""
    sts = boto3.client("sts", region_name="us-east-1")
    found = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed")[
        "Credentials"
    ]
    return boto3.session.Session(
        aws_access_key_id=found["AccessKeyId"],
        aws_secret_access_key=found["SecretAccessKey"],
        aws_session_token=found["SessionToken"],
        region_name=region,
    )


def seed(account: str, region: str, names: dict[str, str]) -> None:
    session = (
        member_session(account, region) if account != HOME else boto3.session.Session(region_name=region)
    )
    iam = session.client("iam")
    try:
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    except ClientError:
        role = iam.get_role(RoleName="fn")["Role"]["Arn"]
    client = session.client("lambda", region_name=region)
    for name, runtime in names.items():
        client.create_function(
            FunctionName=name, Runtime=runtime, Role=role, Handler="index.handler", Code={"ZipFile": code()}
        )


@dataclass
class Calls:
    """Every STS operation the fleet made, with its parameters."""

    sts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def assumed(self) -> list[dict[str, Any]]:
        return [params for name, params in self.sts if name == "AssumeRole"]

    def named(self, operation: str) -> int:
        return sum(1 for name, _ in self.sts if name == operation)


def recording_sessions(calls: Calls, denied: set[str]) -> Any:
    """A session factory whose sessions record STS calls and refuse AssumeRole into a denied account."""

    def make(**kwargs: Any) -> Any:
        session = boto3.session.Session(**kwargs)

        def before(model: Any, params: dict[str, Any], **_: Any) -> None:
            calls.sts.append((model.name, dict(params)))
            if model.name == "AssumeRole" and params["RoleArn"].split(":")[4] in denied:
                raise ClientError(
                    {
                        "Error": {
                            "Code": "AccessDenied",
                            "Message": "not authorized to perform sts:AssumeRole",
                        }
                    },
                    "AssumeRole",
                )

        session.events.register("before-parameter-build.sts", before)
        return session

    return make


@pytest.fixture
def fleet_aws(aws_env: None) -> Iterator[None]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        seed(HOME, "us-east-1", {"home-api": "nodejs18.x"})
        seed(ONE, "us-east-1", {"one-api": "python3.9"})
        seed(ONE, "eu-west-1", {"one-eu": "nodejs16.x"})
        seed(TWO, "eu-west-1", {"two-eu": "java11", "two-eu-b": "python3.12"})
        yield


@pytest.fixture
def calls() -> Calls:
    return Calls()


def make_fleet(
    calls: Calls,
    *,
    accounts: tuple[str, ...] = (ONE, TWO, DENIED),
    regions: tuple[str, ...] = REGIONS,
    policy: WritePolicy | None = None,
    **kw: Any,
) -> AwsFleet:
    return AwsFleet(
        FleetConfig(accounts=accounts, regions=regions, **kw),
        policy=policy,
        session_factory=recording_sessions(calls, {DENIED}),
    )


from tests.fleet.moto_fleet import fleet  # noqa: E402, F401 — the fleet-audit tests' moto fleet fixture
