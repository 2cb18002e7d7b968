"""AwsFleet against moto with several accounts and regions: targets, names, resolve, reach, write roles."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from app.fleet.audit import audit_fleet, catalog_of
from app.fleet.aws import AwsFleet, role_of
from app.fleet.config import FleetConfig
from app.fleet.failures import classify
from app.fleet.reach import unlisted
from app.fleet.sessions import Given
from app.fleet.targets import Caller, Target
from app.lambda_ops import ErrorKind, OpsError, WritePolicy
from app.lambda_ops.errors import OpsFailure
from tests.fleet.conftest import DENIED, HOME, ONE, TWO, Calls, make_fleet, recording_sessions
from tests.fleet.moto_fleet import fail_with
from tests.lambda_ops.helpers import FakeClock

ALICE = Caller(identity="alice", tool="list-functions")


def names(fleet: AwsFleet, target: Target) -> list[str]:
    page = fleet.ops(target, ALICE).list_functions()
    assert not isinstance(page, OpsError), page
    return sorted(f.name for f in page.functions)


def test_unset_is_one_target_and_no_sts_call(fleet_aws: None, calls: Calls) -> None:
    fleet = AwsFleet(FleetConfig(), session_factory=recording_sessions(calls, set()))
    target = fleet.resolve(None, None)
    assert names(fleet, target) == ["home-api"]
    assert calls.sts == []  # no GetCallerIdentity, no AssumeRole
    assert fleet.targets() == [Target(HOME, "us-east-1")]  # asked for: the id, once
    assert calls.named("GetCallerIdentity") == 1
    with pytest.raises(OpsFailure) as raised:
        fleet.resolve(ONE, None)
    assert raised.value.error.kind is ErrorKind.INVALID_ARGUMENT
    assert "LAMBDA_OPS_ACCOUNTS is unset" in raised.value.error.message
    with pytest.raises(OpsFailure):
        fleet.resolve(None, "eu-west-1")
    assert calls.assumed() == []


def test_targets_are_home_first_then_accounts_by_regions(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls)
    targets = fleet.targets()
    assert targets[0] == fleet.home == Target(HOME, "us-east-1")
    assert targets[1:] == [Target(HOME, "eu-west-1")] + [
        Target(a, r) for a in (ONE, TWO, DENIED) for r in ("us-east-1", "eu-west-1")
    ]


def test_each_target_sees_its_own_account_and_region(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls)
    assert names(fleet, fleet.resolve(None, None)) == ["home-api"]
    assert names(fleet, fleet.resolve(ONE, None)) == ["one-api"]
    assert names(fleet, fleet.resolve(ONE, "eu-west-1")) == ["one-eu"]
    assert names(fleet, fleet.resolve(TWO, "eu-west-1")) == ["two-eu", "two-eu-b"]
    assert names(fleet, fleet.resolve(TWO, "us-east-1")) == []
    assumed = calls.assumed()
    assert {p["RoleArn"] for p in assumed} == {
        f"arn:aws:iam::{ONE}:role/lambda-ops-mcp-reader",
        f"arn:aws:iam::{TWO}:role/lambda-ops-mcp-reader",
    }
    assert len(assumed) == 2  # one session per account and role, for every region
    assert all(p["SourceIdentity"] == "alice" and p["DurationSeconds"] == 900 for p in assumed)
    assert assumed[0]["Tags"] == [
        {"Key": "lambda-ops-caller", "Value": "alice"},
        {"Key": "lambda-ops-tool", "Value": "list-functions"},
    ]


def test_the_same_caller_reuses_its_facade_and_renewal_drops_it(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls)
    target = fleet.resolve(TWO, "eu-west-1")
    first = fleet.ops(target, ALICE)
    assert fleet.ops(target, ALICE) is first
    assert fleet.ops(target, Caller(identity="bob", tool="x")) is not first  # bob's own session
    assert len(calls.assumed()) == 2
    fleet.renew()
    assert fleet.ops(target, ALICE) is not first
    assert len(calls.assumed()) == 3


def test_subjects_that_sanitise_alike_get_facades_of_their_own(fleet_aws: None, calls: Calls) -> None:
    """Hazard: ``a|b`` and ``a-b`` share a sanitised ``source_identity``; facades keyed on it would let one
    person's calls run in the other's member session (CloudTrail naming the wrong person)."""
    fleet = make_fleet(calls)
    target = fleet.resolve(TWO, "eu-west-1")
    pipe = fleet.ops(target, Caller(identity="a|b", tool="t"))
    dash = fleet.ops(target, Caller(identity="a-b", tool="t"))
    assert pipe is not dash
    assert len(calls.assumed()) == 2


def test_a_denied_role_is_access_denied_naming_role_account_and_fix(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls)
    with pytest.raises(OpsFailure) as raised:
        fleet.ops(fleet.resolve(DENIED, None), ALICE)
    error = raised.value.error
    assert error.kind is ErrorKind.ACCESS_DENIED
    assert error.message.startswith(f"role lambda-ops-mcp-reader is missing in {DENIED} or does not trust ")
    assert "infra/member-roles.yaml" in error.message


def test_an_account_outside_the_fleet_is_invalid(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls, accounts=(ONE,))
    for account, region in [
        ("444444444444", None),
        ("no-such-name", None),
        (ONE, "ap-south-1"),
        (ONE, "moon"),
    ]:
        with pytest.raises(OpsFailure) as raised:
            fleet.resolve(account, region)
        assert raised.value.error.kind is ErrorKind.INVALID_ARGUMENT, (account, region)
    assert calls.assumed() == []


def test_an_account_by_its_organization_name(fleet_aws: None, calls: Calls) -> None:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    unit = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    inner = org.create_organizational_unit(ParentId=unit, Name="team-a")["OrganizationalUnit"]["Id"]
    made = {}
    for name in ("payments-prod", "payments-dev", "sandbox"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        made[name] = status["AccountId"]
    org.move_account(AccountId=made["payments-prod"], SourceParentId=root, DestinationParentId=inner)
    org.move_account(AccountId=made["payments-dev"], SourceParentId=root, DestinationParentId=unit)

    fleet = make_fleet(calls, accounts=("organization",), regions=())
    assert fleet.resolve("Payments-Prod", None) == Target(made["payments-prod"], "us-east-1")
    listed = {a.id: a.name for a in fleet.accounts()}
    assert set(made.values()) <= set(listed)
    assert fleet.accounts()[0].id == HOME

    subtree = make_fleet(calls, accounts=(f"organization:{unit}",), regions=())
    ids = {a.id for a in subtree.accounts()}
    assert ids == {HOME, made["payments-prod"], made["payments-dev"]}  # the OU's subtree, and home
    with pytest.raises(OpsFailure) as raised:
        subtree.resolve("sandbox", None)
    assert raised.value.error.kind is ErrorKind.INVALID_ARGUMENT


def test_enabled_regions_come_from_each_account(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls, accounts=(ONE,), regions=("enabled",))
    regions = {t.region for t in fleet.targets() if t.account == ONE}
    assert {"us-east-1", "eu-west-1"} <= regions
    assert fleet.resolve(ONE, "ap-southeast-2").region == "ap-southeast-2"


def test_writes_go_through_the_writer_role_only_when_writes_are_allowed(
    fleet_aws: None, calls: Calls
) -> None:
    allowed = make_fleet(calls, policy=WritePolicy(allow_writes=True, function_prefixes=("two-",)))
    allowed.ops(allowed.resolve(TWO, "eu-west-1"), ALICE, write=True)
    assert calls.assumed()[-1]["RoleArn"] == f"arn:aws:iam::{TWO}:role/lambda-ops-mcp-writer"
    off = make_fleet(calls)
    refused = off.ops(off.resolve(TWO, "eu-west-1"), ALICE, write=True).invoke("two-eu")
    assert calls.assumed()[-1]["RoleArn"] == f"arn:aws:iam::{TWO}:role/lambda-ops-mcp-reader"
    assert isinstance(refused, OpsError)
    assert refused.kind is ErrorKind.REFUSED


def test_the_server_never_writes_its_own_function_in_any_account(fleet_aws: None, calls: Calls) -> None:
    policy = WritePolicy(allow_writes=True, own_function="two-eu")
    fleet = make_fleet(calls, policy=policy)
    ops = fleet.ops(fleet.resolve(TWO, "eu-west-1"), ALICE, write=True)
    refused = ops.invoke("two-eu")
    assert isinstance(refused, OpsError)
    assert refused.kind is ErrorKind.REFUSED
    assert "this server itself" in refused.message


def test_check_says_which_targets_are_reachable(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls)
    targets = fleet.targets()
    found = fleet.check(targets, ALICE)
    assert [t for t, problem in found.items() if problem is None] == [
        t for t in targets if t.account != DENIED
    ]
    denied = [problem for t, problem in found.items() if t.account == DENIED]
    assert len(denied) == 2
    assert all(p is not None and p.kind is ErrorKind.ACCESS_DENIED for p in denied)


def test_an_invalid_token_outside_the_home_region_is_a_disabled_region() -> None:
    error = OpsError(kind=ErrorKind.ACCESS_DENIED, message="x", retryable=False,
                     operation="ListFunctions", aws_code="UnrecognizedClientException")  # fmt: skip
    found = classify(error, Target(TWO, "me-central-1"), "us-east-1")
    assert found.kind is ErrorKind.REGION_DISABLED
    assert "me-central-1 is not enabled in account 222222222222" in found.message
    assert classify(error, Target(TWO, "us-east-1"), "us-east-1") == error


def test_the_server_role_behind_its_session() -> None:
    arn = "arn:aws:sts::123456789012:assumed-role/stack-McpFunctionRole-AbC/stack-McpFunction-x"
    assert role_of(arn) == "arn:aws:iam::123456789012:role/stack-McpFunctionRole-AbC"
    assert role_of("arn:aws:iam::123456789012:user/alice") is None


def test_the_rate_limit_counts_every_lambda_attempt_of_a_target(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls)
    target = fleet.resolve(ONE, "eu-west-1")
    names(fleet, target)
    assert fleet.limits.bucket(ONE, "eu-west-1").taken >= 1
    assert fleet.limits.bucket(TWO, "eu-west-1").taken == 0


def test_unreadable_enabled_regions_make_the_answer_incomplete(fleet_aws: None, calls: Calls) -> None:
    """Hazard: with LAMBDA_OPS_REGIONS=enabled, a throttled or denied DescribeRegions silently left the
    account's home region alone, so its other regions vanished from targets and coverage and the fleet
    answer could say complete: true. Now the failure is a coverage entry, remembered for a minute."""
    clock = FakeClock()
    recording = recording_sessions(calls, set())
    described = {"n": 0}

    def sessions(**kwargs: Any) -> Any:
        session = recording(**kwargs)
        if is_member(kwargs.get("botocore_session")):  # a member's session: its DescribeRegions is throttled
            session.events.register("before-call.ec2.DescribeRegions", count_then(described))
        return session

    fleet = AwsFleet(
        FleetConfig(accounts=(ONE,), regions=("enabled",)), session_factory=sessions, clock=clock
    )
    targets = [t for t in fleet.targets() if t.account == ONE]
    assert targets == [Target(ONE, "us-east-1")]  # the home region, still read
    gaps = unlisted(fleet, targets)
    assert [(account, error.kind) for account, error in gaps] == [(ONE, ErrorKind.THROTTLED)]
    catalog, today = catalog_of(fleet.ops(fleet.home, ALICE))
    answer = audit_fleet(targets, lambda t: fleet.ops(t, ALICE), catalog=catalog, today=today, unlisted=gaps)
    assert not answer.complete
    gap = next(c for c in answer.coverage or [] if c.region == "*")
    assert (gap.account, gap.status.value, gap.reason and gap.reason.value) == (ONE, "failed", "throttled")
    assert (gap.message or "").startswith(f"enabled regions of {ONE} could not be read: ")
    assert described["n"] == 1
    fleet.targets()  # within a minute: not asked again
    assert described["n"] == 1
    clock.advance(61)
    fleet.targets()
    assert described["n"] == 2


def is_member(core: Any) -> bool:
    """A session signing with a member's assumed credentials (every fleet session shares the model loader;
    only a member's has the fleet's own credential provider)."""
    if core is None:
        return False
    providers = core.get_component("credential_provider").providers
    return any(isinstance(provider, Given) for provider in providers)


def count_then(seen: dict[str, int]) -> Any:
    fail = fail_with("RequestLimitExceeded", 503)

    def hook(**kwargs: Any) -> Any:
        seen["n"] += 1
        return fail(**kwargs)

    return hook


def test_the_enabled_region_listing_is_attributed_to_the_server(fleet_aws: None, calls: Calls) -> None:
    """The documented choice (docs/design.md): DescribeRegions is the server's shared, cached lookup, never
    a person's action; every function read runs in a session naming the caller."""
    fleet = AwsFleet(
        FleetConfig(accounts=(ONE,), regions=("enabled",)), session_factory=recording_sessions(calls, set())
    )
    assert Target(ONE, "eu-west-1") in fleet.targets()
    listing = calls.assumed()
    assert [p["SourceIdentity"] for p in listing] == ["lambda-ops-mcp"]
    assert {"Key": "lambda-ops-tool", "Value": "targets"} in listing[0]["Tags"]
    names(fleet, Target(ONE, "eu-west-1"))
    assert calls.assumed()[-1]["SourceIdentity"] == "alice"


def test_every_target_session_shares_one_model_loader(fleet_aws: None, calls: Calls) -> None:
    """Hazard: a botocore session per target (its own credentials) parses the service models again — 40
    targets' first clients cost 4.5 s of one core in parallel (bench/fleet.py), 0.4 s with one loader."""
    fleet = make_fleet(calls)
    one = fleet.ops(Target(ONE, "us-east-1"), ALICE).clients.control
    two = fleet.ops(Target(TWO, "eu-west-1"), ALICE).clients.control
    assert one is not two
    assert one.meta.events is not two.meta.events  # separate sessions (separate credentials)
    assert one._loader is two._loader  # one parse of the Lambda model
