"""The sandbox's fleet: an AWS Organizations organisation around the home account, seeded through the AWS API.

- ``123456789012`` (moto's default, the home account where the server runs; the organisation's management
  account): its us-east-1 functions are ``seed_data.FUNCTIONS`` (app/local/seed.py, unchanged); this adds
  two in eu-west-1.
- ``111111111111`` payments-prod and ``222222222222`` data-dev, in OU ``Workloads``: a few functions in each
  of us-east-1 and eu-west-1, different runtimes in each, some shipped through aliases still on a deprecated
  runtime; the member roles ``lambda-ops-mcp-reader`` and ``lambda-ops-mcp-writer`` trust the home account.
- ``333333333333`` legacy-sandbox, in OU ``Sandbox``: functions too, but its reader role trusts only a
  previous deployment's role and it has no writer role: AssumeRole answers ``AccessDenied``
  (app/local/moto_fleet.py makes moto check trust), so a fleet audit reports it as access_denied.

Resources in a member account are created with credentials from AssumeRole into the
``OrganizationAccountAccessRole`` that ``CreateAccount`` makes (moto scopes every call with them to that
account). Needs the patches of app/local/moto_fleet.py on the moto server (fixed account ids, trust checks).
``seed_fleet(endpoint_url)`` works on any such server: the sandbox child, tests, benches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.local.context import CREDENTIALS
from app.local.moto_fleet import ACCOUNT_ID_TAG, MANAGEMENT_ACCOUNT_NAME
from app.local.seed import create_function_request, ship_versions
from app.local.seed_data import ROLE_NAME, SeedFunction

HOME = "123456789012"
HOME_NAME = MANAGEMENT_ACCOUNT_NAME
REGIONS = ("us-east-1", "eu-west-1")
READER_ROLE = "lambda-ops-mcp-reader"
WRITER_ROLE = "lambda-ops-mcp-writer"
ACCESS_ROLE = "OrganizationAccountAccessRole"  # what CreateAccount creates in each new account
# The trust a stale StackSet left in the denied account: a role of a deployment that no longer exists.
PREVIOUS_DEPLOYMENT = f"arn:aws:iam::{HOME}:role/lambda-ops-mcp-v1-FunctionRole"
SETTINGS = {"LAMBDA_OPS_ACCOUNTS": "organization", "LAMBDA_OPS_REGIONS": ",".join(REGIONS)}

_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _trust(principal: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
            }
        ],
    }


@dataclass(frozen=True)
class FleetAccount:
    id: str
    name: str
    ou: str | None  # None: the root (the management account)
    functions: dict[str, tuple[SeedFunction, ...]]  # region → functions seeded there
    member_roles: tuple[str, ...] = (READER_ROLE, WRITER_ROLE)  # roles that trust the home account
    distrusted_roles: tuple[str, ...] = ()  # roles that exist but trust someone else

    @property
    def reachable(self) -> bool:
        return self.id == HOME or READER_ROLE in self.member_roles

    @property
    def email(self) -> str:
        return f"aws+{self.name}@acme.example.com"


F = SeedFunction
# fmt: off
HOME_EU: tuple[SeedFunction, ...] = (
    F("orders-api-eu", "nodejs20.x", "orders", "prod", 1024, 29, "arm64", "Orders REST API (EU)",
      versions=("nodejs16.x",), aliases={"prod": "1"}),
    F("invoice-renderer-eu", "python3.9", "billing", "prod", 512, 60, "x86_64", "Renders EU invoices as PDF"),
)

ACCOUNTS: tuple[FleetAccount, ...] = (
    FleetAccount(HOME, HOME_NAME, None, {"eu-west-1": HOME_EU}, member_roles=()),
    FleetAccount("111111111111", "payments-prod", "Workloads", {
        "us-east-1": (
            F("payments-api", "nodejs20.x", "payments", "prod", 1024, 29, "arm64", "Payments API",
              versions=("nodejs16.x", "nodejs20.x"), aliases={"prod": "1", "next": "2"}),
            F("payments-webhook-relay", "python3.9", "payments", "prod", 256, 15, "x86_64",
              "Relays card-network webhooks to the ledger"),
            F("refunds-worker", "java11", "payments", "prod", 2048, 120, "x86_64", "Processes refunds"),
        ),
        "eu-west-1": (
            F("payments-api-eu", "nodejs22.x", "payments", "prod", 1024, 29, "arm64", "Payments API (EU)",
              versions=("nodejs18.x",), aliases={"live": "1"}),
            F("sepa-batch-exporter", "python3.8", "finance", "prod", 512, 300, "x86_64",
              "Exports SEPA payment batches"),
            F("fraud-score", "python3.12", "security", "prod", 1536, 10, "arm64", "Scores card payments"),
        ),
    }),
    FleetAccount("222222222222", "data-dev", "Workloads", {
        "us-east-1": (
            F("etl-orders-daily", "python3.11", "data", "dev", 3008, 900, "x86_64", "Daily orders ETL"),
            F("clickstream-enricher", "nodejs22.x", "data", "dev", 512, 60, "arm64", "Enriches clickstream",
              versions=("nodejs14.x", "nodejs22.x"), aliases={"dev": "1"}),
            F("warehouse-loader", "java8.al2", "data", "dev", 2048, 900, "x86_64", "Loads the warehouse"),
        ),
        "eu-west-1": (
            F("gdpr-erasure-job", "ruby2.7", "data", "dev", 256, 300, "x86_64", "Erases personal data"),
            F("eu-events-router", "nodejs16.x", "data", "dev", 256, 30, "arm64", "Routes EU events"),
            F("dq-checks", "python3.13", "data", "dev", 1024, 600, "arm64", "Data-quality checks"),
        ),
    }),
    FleetAccount("333333333333", "legacy-sandbox", "Sandbox", {
        "us-east-1": (
            F("old-report-cron", "nodejs12.x", "support", "dev", 128, 60, "x86_64", "A cron nobody owns"),
            F("dotnet-invoice-poc", "dotnet6", "billing", "dev", 512, 30, "x86_64", "An invoicing PoC"),
        ),
        "eu-west-1": (
            F("go-legacy-proxy", "go1.x", "platform", "dev", 128, 10, "x86_64", "A proxy from 2019"),
        ),
    }, member_roles=(), distrusted_roles=(READER_ROLE,)),
)
# fmt: on


@dataclass
class FleetSeed:
    """What ``seed_fleet`` created: accounts (id → name), OU ids by name, functions per (account, region)."""

    accounts: dict[str, str] = field(default_factory=dict)
    ous: dict[str, str] = field(default_factory=dict)
    functions: dict[tuple[str, str], int] = field(default_factory=dict)
    denied: list[str] = field(default_factory=list)  # accounts whose member roles cannot be assumed

    def describe(self) -> str:
        members = ", ".join(f"{id} {name}" for id, name in self.accounts.items() if id != HOME)
        regions = ", ".join(REGIONS)
        return (
            f"organisation of {len(self.accounts)} accounts (home {HOME}; {members}) in {regions}; "
            f"{sum(self.functions.values())} functions outside the home region; "
            f"{', '.join(self.denied)} denies AssumeRole"
        )


def seed_fleet(
    endpoint_url: str,
    credentials: dict[str, str] | None = None,
    accounts: tuple[FleetAccount, ...] = ACCOUNTS,
) -> FleetSeed:
    """Seed the organisation, the member accounts' roles and functions (``accounts``: the sandbox's, or a
    bench's larger fleet). The home account's us-east-1 functions are seed_account's: call it first (the home
    account's other functions use its execution role)."""
    import boto3

    keys = credentials or CREDENTIALS
    home = boto3.session.Session(
        aws_access_key_id=keys["aws_access_key_id"],
        aws_secret_access_key=keys["aws_secret_access_key"],
        region_name=REGIONS[0],
    )
    organizations = home.client("organizations", endpoint_url=endpoint_url)
    seeded = FleetSeed()
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    for account in accounts:
        if not account.reachable:
            seeded.denied.append(account.id)
        if account.ou is not None and account.ou not in seeded.ous:
            ou = organizations.create_organizational_unit(ParentId=root, Name=account.ou)
            seeded.ous[account.ou] = ou["OrganizationalUnit"]["Id"]
        if account.id != HOME:
            organizations.create_account(
                Email=account.email,
                AccountName=account.name,
                Tags=[{"Key": ACCOUNT_ID_TAG, "Value": account.id}],
            )
            organizations.move_account(
                AccountId=account.id, SourceParentId=root, DestinationParentId=seeded.ous[str(account.ou)]
            )
        seeded.accounts[account.id] = account.name
        session = home if account.id == HOME else _assume(home, endpoint_url, account.id, ACCESS_ROLE)
        iam = session.client("iam", endpoint_url=endpoint_url)
        role_arn = _roles(iam, account)
        for region, functions in account.functions.items():
            lam = session.client("lambda", endpoint_url=endpoint_url, region_name=region)
            for function in functions:
                request = create_function_request(function, role_arn)
                if function.versions:
                    request["Runtime"] = function.versions[0]
                lam.create_function(**request)
                ship_versions(lam, function)
            seeded.functions[(account.id, region)] = len(functions)
    return seeded


def _roles(iam: Any, account: FleetAccount) -> str:
    """The account's execution role (created unless home, where seed_account made it) and member roles."""
    if account.id == HOME:
        return str(iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
    created = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST))
    role_arn = created["Role"]["Arn"]
    for name, principal in [
        *((n, f"arn:aws:iam::{HOME}:root") for n in account.member_roles),
        *((n, PREVIOUS_DEPLOYMENT) for n in account.distrusted_roles),
    ]:
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(_trust(principal)),
            Description="lambda-ops-mcp member role (infra/member-roles.yaml)",
            MaxSessionDuration=3600,
        )
    return str(role_arn)


def _assume(home: Any, endpoint_url: str, account: str, role: str) -> Any:
    import boto3

    sts = home.client("sts", endpoint_url=endpoint_url)
    found = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="sandbox-seed")
    credentials = found["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGIONS[0],
    )
