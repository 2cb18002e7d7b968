"""A small fleet in moto for campaign tests: the home account and a member account reached with
``sts.assume_role`` (moto scopes resources per account), each with Node.js functions — some behind an alias
``live`` on a published version, some idle, one whose code breaks on the new runtime and one whose canary
fails under traffic (app/local/campaign_faults.py)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from app.lambda_ops import CatalogProvider, LambdaClients, LambdaOps, WritePolicy
from app.lambda_ops.upgrade.campaign_model import Place
from tests.lambda_ops.helpers import TODAY

HOME = "123456789012"
MEMBER = "111111111111"
REGION = "us-east-1"
OLD, NEW = "nodejs18.x", "nodejs22.x"


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => ({ statusCode: 200 });\n")
    return buffer.getvalue()


@dataclass
class Account:
    account: str
    session: boto3.session.Session

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION)

    def ops(self, policy: WritePolicy | None = None) -> LambdaOps:
        session = self.session

        def factory(service: str, config: Any, region: str | None) -> Any:
            return session.client(service, config=config, region_name=region or REGION)  # type: ignore[call-overload]

        return LambdaOps(
            LambdaClients(factory=factory),
            policy=policy or WritePolicy(allow_writes=True),
            catalog=CatalogProvider(),
            today=lambda: TODAY,
        )


@dataclass
class Fleet:
    accounts: dict[str, Account] = field(default_factory=dict)
    policy: WritePolicy | None = None

    def ops_for(self, account: str, region: str) -> LambdaOps:
        assert region == REGION
        return self.accounts[account].ops(self.policy)

    def places(self) -> list[Place]:
        return [Place(a, REGION, self.ops_for(a, REGION)) for a in self.accounts]

    def lambda_(self, account: str) -> Any:
        return self.accounts[account].client("lambda")


def member_session() -> boto3.session.Session:
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/lambda-ops-mcp-writer", RoleSessionName="campaign-test"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def create(account: Account, name: str, *, alias: bool = False, invocations: int = 0) -> None:
    iam = account.client("iam")
    try:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = account.client("lambda")
    client.create_function(
        FunctionName=name,
        Runtime=OLD,
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code()},
        Timeout=10,
    )
    if alias:
        version = client.publish_version(FunctionName=name)["Version"]
        client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    if invocations:
        account.client("cloudwatch").put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    "Timestamp": datetime.now(UTC) - timedelta(days=1),
                    "Value": invocations,
                }
            ],
        )


def alias_of(fleet: Fleet, account: str, name: str) -> dict[str, Any]:
    return dict(fleet.lambda_(account).get_alias(FunctionName=name, Name="live"))


def runtime_of(fleet: Fleet, account: str, name: str) -> str:
    return str(fleet.lambda_(account).get_function_configuration(FunctionName=name)["Runtime"])
