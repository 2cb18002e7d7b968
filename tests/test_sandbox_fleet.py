"""The sandbox behaves like AWS where the fleet work needs it: Lambda's lists page (app/local/moto_paging.py),
AssumeRole checks trust and Organizations keeps fixed account ids (app/local/moto_fleet.py), the seeded fleet
(app/local/seed_fleet.py), and the control plane's rate limit and latency (app/local/control_plane.py).

A moto server on 127.0.0.1 (in this process, patched for the module's duration), seeded as ``make serve``
seeds it; the throttle's logic with a fake clock (counting, never timing).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from app.local import moto_fleet, moto_paging
from app.local.control_plane import ControlPlane, Limits, TokenBucket, moto_server
from app.local.moto_fleet import trusts
from app.local.sandbox import CREDENTIALS, Sandbox, clients, configure_moto
from app.local.seed import seed_account
from app.local.seed_data import FUNCTIONS
from app.local.seed_fleet import (
    ACCOUNTS,
    HOME,
    PREVIOUS_DEPLOYMENT,
    READER_ROLE,
    REGIONS,
    WRITER_ROLE,
    FleetSeed,
    seed_fleet,
)

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
MEMBERS = [a for a in ACCOUNTS if a.id != HOME and a.reachable]
DENIED = [a for a in ACCOUNTS if not a.reachable]


def _post(url: str) -> None:
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def session(credentials: dict[str, str] | None = None, region: str = "us-east-1") -> Any:
    keys = credentials or {
        "AccessKeyId": CREDENTIALS["aws_access_key_id"],
        "SecretAccessKey": CREDENTIALS["aws_secret_access_key"],
    }
    return boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
        region_name=region,
    )


class Fleet:
    def __init__(self, url: str, seeded: FleetSeed) -> None:
        self.url = url
        self.seeded = seeded

    def client(self, service: str, region: str = "us-east-1", credentials: Any = None, **kw: Any) -> Any:
        return session(credentials, region).client(service, endpoint_url=self.url, **kw)

    def assume(self, account: str, role: str = READER_ROLE) -> dict[str, str]:
        sts = self.client("sts", config=NO_RETRIES)
        found = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{role}",
            RoleSessionName="alice-audit-runtimes",
            SourceIdentity="alice",
            Tags=[
                {"Key": "lambda-ops-caller", "Value": "alice"},
                {"Key": "lambda-ops-tool", "Value": "audit"},
            ],
            DurationSeconds=900,
        )
        return dict(found["Credentials"])


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    with moto_paging.paging(), moto_fleet.fleet_patches():
        server = moto_server(Limits())
        server.start()
        try:
            host, port = server.get_host_and_port()
            url = f"http://{host}:{port}"
            _post(f"{url}/moto-api/reset")
            configure_moto(url)
            seed_account(*clients(url))
            yield Fleet(url, seed_fleet(url))
        finally:
            _post(f"{url}/moto-api/reset")
            server.stop()


# --- paging --------------------------------------------------------------------------------------------


def test_unpatched_moto_ignores_max_items_and_marker() -> None:
    """The hazard, in a fresh interpreter: moto 5.2.5 answers every function whatever MaxItems says (so
    ``list-functions page_size=3`` in ``make serve`` returned all 50). When moto fixes it, this says so."""
    script = textwrap.dedent(
        """
        import boto3
        from moto import mock_aws
        with mock_aws():
            iam = boto3.client("iam", region_name="us-east-1")
            role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            lam = boto3.client("lambda", region_name="us-east-1")
            for n in range(5):
                lam.create_function(FunctionName=f"f{n}", Runtime="python3.12", Role=role, Handler="h",
                                    Code={"ZipFile": b"PK"})
            page = lam.list_functions(MaxItems=3)
            print(len(page["Functions"]), "NextMarker" in page)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"},
    )  # fmt: skip
    assert done.stdout.split() == ["5", "False"], done.stdout + done.stderr


def test_list_functions_page_size_3_pages_through_every_function_once(fleet: Fleet) -> None:
    """Regression (moto 5.2.5 ignores MaxItems and Marker): ``list-functions page_size=3`` in the sandbox
    answers 3 and a next_marker; following it yields every function exactly once — with versions too."""
    from app.lambda_ops import LambdaClients, LambdaOps
    from app.lambda_ops.functions import FunctionPage

    ops = LambdaOps(LambdaClients.of(fleet.client("lambda")))
    for include_versions, expected in (
        (False, sorted(f.name for f in FUNCTIONS)),
        (
            True,
            sorted(f"{f.name}:{v}" for f in FUNCTIONS for v in ("$LATEST", *range(1, len(f.versions) + 1))),
        ),
    ):
        page = ops.list_functions(page_size=3, include_versions=include_versions)
        assert isinstance(page, FunctionPage), page
        assert len(page.functions) == 3
        assert page.next_marker
        seen = [_entry(e, include_versions) for e in page.functions]
        while page.next_marker:
            page = ops.list_functions(page_size=3, marker=page.next_marker, include_versions=include_versions)
            assert isinstance(page, FunctionPage), page
            assert len(page.functions) <= 3
            seen += [_entry(e, include_versions) for e in page.functions]
        assert sorted(seen) == expected  # each exactly once


def _entry(entry: Any, with_version: bool) -> str:
    return f"{entry.name}:{entry.version}" if with_version else str(entry.name)


@pytest.mark.parametrize("every_version", [False, True])
def test_list_functions_pages_like_aws(fleet: Fleet, every_version: bool) -> None:
    lam = fleet.client("lambda", config=NO_RETRIES)
    extra = {"FunctionVersion": "ALL"} if every_version else {}
    default = lam.list_functions(**extra)
    assert len(default["Functions"]) == 50  # AWS's default page
    assert ("NextMarker" in default) == every_version  # 50 functions; more entries with their versions
    assert len(lam.list_functions(MaxItems=10000, **extra)["Functions"]) == 50  # never more than 50 a page
    arns: list[str] = []
    marker = None
    while True:
        page = lam.list_functions(MaxItems=7, **extra, **({"Marker": marker} if marker else {}))
        assert 0 < len(page["Functions"]) <= 7
        arns += [f["FunctionArn"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if marker is None:
            break
    assert len(arns) == len(set(arns))
    latest = {f.name for f in FUNCTIONS}
    versions = sum(len(f.versions) for f in FUNCTIONS)
    assert len(arns) == len(latest) + (versions if every_version else 0)
    names = [a.split(":")[6] for a in arns]
    assert names == sorted(names)  # by name, as AWS lists them


def test_a_garbage_or_foreign_marker_is_refused_as_aws_refuses_it(fleet: Fleet) -> None:
    lam = fleet.client("lambda", config=NO_RETRIES)
    latest_marker = lam.list_functions(MaxItems=2)["NextMarker"]
    all_marker = lam.list_functions(MaxItems=2, FunctionVersion="ALL")["NextMarker"]
    eu_marker = fleet.client("lambda", "eu-west-1", config=NO_RETRIES).list_functions(MaxItems=1)[
        "NextMarker"
    ]
    member = fleet.client("lambda", credentials=fleet.assume("111111111111"), config=NO_RETRIES)
    member_marker = member.list_functions(MaxItems=1)["NextMarker"]
    tampered = latest_marker[:-2] + ("AA" if not latest_marker.endswith("AA") else "BB")
    for marker, extra in (
        ("garbage", {}),
        ("not.base64!", {}),
        (tampered, {}),
        (all_marker, {}),  # a FunctionVersion=ALL marker without it
        (latest_marker, {"FunctionVersion": "ALL"}),
        (eu_marker, {}),  # another region's
        (member_marker, {}),  # another account's
    ):
        with pytest.raises(ClientError) as refused:
            lam.list_functions(Marker=marker, **extra)
        error = refused.value.response
        assert error["Error"]["Code"] == "InvalidParameterValueException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["Type"] == "User"
    with pytest.raises(ClientError) as refused:
        lam.list_functions(MaxItems=10001)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_versions_and_aliases_page_too(fleet: Fleet) -> None:
    lam = fleet.client("lambda", config=NO_RETRIES)
    seeded = next(f for f in FUNCTIONS if f.name == "orders-api-prod")
    versions: list[str] = []
    marker = None
    while True:
        page = lam.list_versions_by_function(
            FunctionName=seeded.name, MaxItems=1, **({"Marker": marker} if marker else {})
        )
        assert len(page["Versions"]) == 1
        versions += [v["Version"] for v in page["Versions"]]
        marker = page.get("NextMarker")
        if marker is None:
            break
    assert versions == ["$LATEST", *(str(n) for n in range(1, len(seeded.versions) + 1))]
    first = lam.list_aliases(FunctionName=seeded.name, MaxItems=1)
    second = lam.list_aliases(FunctionName=seeded.name, MaxItems=1, Marker=first["NextMarker"])
    assert [a["Name"] for a in first["Aliases"] + second["Aliases"]] == sorted(seeded.aliases)
    assert "NextMarker" not in second
    only = lam.list_aliases(FunctionName=seeded.name, FunctionVersion="3")["Aliases"]
    assert [a["Name"] for a in only] == ["staging"]  # the filter moto ignored
    with pytest.raises(ClientError) as refused:
        lam.list_aliases(FunctionName="cart-service-prod", Marker=first["NextMarker"])  # another function's
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"


# --- the fleet -------------------------------------------------------------------------------------------


def test_organizations_lists_the_fleet_with_names(fleet: Fleet) -> None:
    organizations = fleet.client("organizations")
    accounts = [
        a for page in organizations.get_paginator("list_accounts").paginate() for a in page["Accounts"]
    ]
    assert {a["Id"]: a["Name"] for a in accounts} == {a.id: a.name for a in ACCOUNTS}
    assert {a["Status"] for a in accounts} == {"ACTIVE"}
    assert organizations.describe_organization()["Organization"]["MasterAccountId"] == HOME
    for ou, members in (("Workloads", {"111111111111", "222222222222"}), ("Sandbox", {"333333333333"})):
        listed = organizations.list_accounts_for_parent(ParentId=fleet.seeded.ous[ou])["Accounts"]
        assert {a["Id"] for a in listed} == members
    assert not [t for a in accounts for t in organizations.list_tags_for_resource(ResourceId=a["Id"])["Tags"]]


def test_each_members_functions_are_seen_only_with_its_credentials(fleet: Fleet) -> None:
    home_names = {
        region: {f["FunctionName"] for f in fleet.client("lambda", region).list_functions()["Functions"]}
        for region in REGIONS
    }
    assert home_names["us-east-1"] == {f.name for f in FUNCTIONS}  # the home account as it always was
    runtimes: dict[tuple[str, str], set[str]] = {}
    for account in MEMBERS:
        credentials = fleet.assume(account.id)
        identity = fleet.client("sts", credentials=credentials).get_caller_identity()
        assert identity["Account"] == account.id
        assert identity["Arn"].endswith(f":assumed-role/{READER_ROLE}/alice-audit-runtimes")
        for region in REGIONS:
            listed = fleet.client("lambda", region, credentials).list_functions(FunctionVersion="ALL")[
                "Functions"
            ]
            names = {f["FunctionName"] for f in listed}
            assert names == {f.name for f in account.functions[region]}
            assert not names & (home_names["us-east-1"] | home_names["eu-west-1"])
            assert all(f["FunctionArn"].split(":")[3:5] == [region, account.id] for f in listed)
            runtimes[(account.id, region)] = {f["Runtime"] for f in listed if f["Version"] == "$LATEST"}
        iam = fleet.client("iam", credentials=credentials)
        assert {iam.get_role(RoleName=name)["Role"]["RoleName"] for name in (READER_ROLE, WRITER_ROLE)} == {
            READER_ROLE,
            WRITER_ROLE,
        }
        fleet.assume(account.id, WRITER_ROLE)  # the writer role is there too
    assert len({frozenset(r) for r in runtimes.values()}) == len(runtimes)  # different runtimes in each
    # some members ship through aliases still on a deprecated runtime ($LATEST has moved on)
    payments = fleet.client("lambda", credentials=fleet.assume("111111111111"))
    prod = payments.get_alias(FunctionName="payments-api", Name="prod")
    assert (
        payments.get_function_configuration(FunctionName="payments-api", Qualifier=prod["FunctionVersion"])[
            "Runtime"
        ]
        == "nodejs16.x"
    )


def test_the_denied_accounts_roles_cannot_be_assumed(fleet: Fleet) -> None:
    assert [a.id for a in DENIED] == ["333333333333"] == fleet.seeded.denied
    for role in (READER_ROLE, WRITER_ROLE):
        with pytest.raises(ClientError) as denied:
            fleet.assume("333333333333", role)
        error = denied.value.response
        assert error["Error"]["Code"] == "AccessDenied"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert error["Error"]["Message"] == (
            f"User: arn:aws:sts::{HOME}:user/moto is not authorized to perform: sts:AssumeRole on resource: "
            f"arn:aws:iam::333333333333:role/{role}"
        )
    with pytest.raises(ClientError):  # a role that exists nowhere is refused as well (moto let it pass)
        fleet.assume("111111111111", "no-such-role")


def test_trust_policy_principals() -> None:
    def policy(principal: Any, effect: str = "Allow", action: Any = "sts:AssumeRole") -> dict[str, Any]:
        return {"Statement": [{"Effect": effect, "Principal": principal, "Action": action}]}

    caller, account = "arn:aws:sts::123456789012:assumed-role/server-role/i-1", "123456789012"
    assert trusts(policy({"AWS": "arn:aws:iam::123456789012:root"}), caller, account)
    assert trusts(policy({"AWS": ["123456789012"]}), caller, account)
    assert trusts(policy({"AWS": "arn:aws:iam::123456789012:role/server-role"}), caller, account)
    assert trusts(policy("*"), caller, account)
    assert not trusts(policy({"AWS": PREVIOUS_DEPLOYMENT}), caller, account)
    assert not trusts(policy({"AWS": "arn:aws:iam::999999999999:root"}), caller, account)
    assert not trusts(policy({"Service": "lambda.amazonaws.com"}), caller, account)
    assert not trusts(policy({"AWS": "*"}, effect="Deny"), caller, account)
    assert not trusts(policy({"AWS": "*"}, action="s3:GetObject"), caller, account)
    assert not trusts({}, caller, account)


# --- throttle and latency --------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_token_bucket_grants_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, capacity=10, clock=clock)
    assert [bucket.take() for _ in range(10)] == [0.0] * 10  # one second of tokens saved up
    assert bucket.take() == pytest.approx(0.1)  # then one every 1/rate seconds
    clock.now += 0.25
    assert [bucket.take() == 0 for _ in range(3)] == [True, True, False]
    clock.now += 60
    assert sum(bucket.take() == 0 for _ in range(20)) == 10  # never more than the capacity


def _request(
    path: str, access_key: str = "AKIDHOME", region: str = "us-east-1", service: str = "lambda"
) -> Any:
    return {
        "PATH_INFO": path,
        "HTTP_AUTHORIZATION": (
            f"AWS4-HMAC-SHA256 Credential={access_key}/20261202/{region}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        ),
    }


def test_control_plane_throttles_per_account_and_region_and_adds_latency() -> None:
    clock = FakeClock()
    answered: list[str] = []

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        answered.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b"{}"]

    accounts = {"AKIDHOME": "123456789012", "ASIAMEMBER": "111111111111"}
    plane = ControlPlane(
        moto,
        Limits(throttle_rps=2, latency_ms=50),
        clock=clock,
        sleep=clock.sleep,
        account_of=accounts.__getitem__,
    )
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.append(status)
        if status.startswith("429"):
            assert dict(headers)["x-amzn-ErrorType"] == "TooManyRequestsException"
            assert dict(headers)["Retry-After"] == "1"

    def call(environ: dict[str, Any]) -> bytes:
        return b"".join(plane(environ, start_response))

    bodies = [call(_request("/2015-03-31/functions")) for _ in range(3)]
    assert statuses == ["200 OK", "200 OK", "429 Too Many Requests"]
    assert json.loads(bodies[2]) == {
        "Type": "User",
        "message": "Rate exceeded",
        "Reason": "CallerRateLimitExceeded",
    }
    call(_request("/2015-03-31/functions", region="eu-west-1"))  # another region: its own bucket
    call(_request("/2015-03-31/functions", access_key="ASIAMEMBER"))  # another account: its own bucket
    call(_request("/2015-03-31/functions/f/invocations"))  # Invoke is not the control plane
    call(_request("/", service="sts"))  # nor is any other service
    assert statuses[3:] == ["200 OK"] * 4
    assert plane.throttled == {("123456789012", "us-east-1"): 1}
    assert clock.slept == [0.05] * 5  # each Lambda control-plane call, throttled or not
    clock.now += 0.5
    call(_request("/2015-03-31/functions"))
    assert statuses[-1] == "200 OK"
    plane.armed = False  # while the sandbox seeds: no limits
    assert all(call(_request("/2015-03-31/functions")) == b"{}" for _ in range(5))


def test_the_sandbox_child_throttles_like_lambda() -> None:
    """``python -m app.local --throttle`` end to end: the sandbox child behind the rate limit, a botocore
    client without retries sees TooManyRequestsException as AWS sends it (429, Reason, Retry-After)."""
    box = Sandbox.spawn(Limits(throttle_rps=0.001))  # one call, then one every 1000 s
    try:
        info = box.wait_ready(timeout=60)
        assert info.limits == "0.001 Lambda requests/s per account and region"
        assert "333333333333 denies AssumeRole" in info.fleet
        lam = session().client("lambda", endpoint_url=info.endpoint_url, config=NO_RETRIES)
        assert len(lam.list_functions(MaxItems=3)["Functions"]) == 3  # seeding used no tokens
        with pytest.raises(ClientError) as throttled:
            lam.list_functions(MaxItems=3)
        error = throttled.value.response
        assert error["Error"]["Code"] == "TooManyRequestsException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Reason"] == "CallerRateLimitExceeded"
        assert int(error["retryAfterSeconds"]) >= 1
        eu = session(region="eu-west-1").client("lambda", endpoint_url=info.endpoint_url, config=NO_RETRIES)
        assert eu.list_functions()["Functions"]  # eu-west-1 has its own budget
    finally:
        box.stop()
