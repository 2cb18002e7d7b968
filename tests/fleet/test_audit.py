"""The fleet audit against moto: several accounts and regions, a denied role, throttles, the budget."""

from __future__ import annotations

import threading
from typing import Any

from app.fleet.answer import FleetAudit, TargetResult
from app.fleet.audit import audit_fleet, audit_target
from app.fleet.merge import merge
from app.fleet.targets import Target
from app.lambda_ops import CatalogProvider
from tests.fleet.moto_fleet import DENIED, HOME, MEMBER_A, MEMBER_B, MotoFleet, throttle
from tests.lambda_ops.helpers import TODAY

CATALOG = CatalogProvider().shipped


def run(fleet: MotoFleet, targets: list[Target] | None = None, **kw: Any) -> FleetAudit:
    return audit_fleet(targets or fleet.targets(), fleet.ops_for(), catalog=CATALOG, today=TODAY, **kw)


def coverage_of(answer: FleetAudit) -> dict[str, tuple[str, str | None]]:
    return {f"{c.account}/{c.region}": (c.status.value, c.reason and c.reason.value) for c in answer.coverage}


def test_the_fleet_answer_counts_every_reachable_target_and_names_the_denied_one(fleet: MotoFleet) -> None:
    answer = run(fleet)
    assert coverage_of(answer) == {
        f"{HOME}/us-east-1": ("complete", None), f"{HOME}/eu-west-1": ("complete", None),
        f"{MEMBER_A}/us-east-1": ("complete", None), f"{MEMBER_A}/eu-west-1": ("complete", None),
        f"{MEMBER_B}/us-east-1": ("complete", None), f"{MEMBER_B}/eu-west-1": ("complete", None),
        f"{DENIED}/us-east-1": ("failed", "access_denied"),
        f"{DENIED}/eu-west-1": ("failed", "access_denied"),
    }  # fmt: skip
    denied = next(c for c in answer.coverage if c.account == DENIED)
    assert "AssumeRole" in (denied.message or "")
    assert DENIED in (denied.message or "")
    assert "infra/member-roles.yaml" in (denied.message or "")
    assert not answer.complete
    assert answer.targets_complete == 6
    assert answer.targets_total == 8
    assert "exact only for those" in (answer.note or "")
    # Exact for the complete targets: totals per runtime across accounts and regions.
    by_runtime = {g.runtime: g for g in answer.groups}
    assert by_runtime["nodejs16.x"].count == 4
    assert by_runtime["nodejs16.x"].count_by_target == {
        f"{HOME}/us-east-1": 1, f"{MEMBER_A}/eu-west-1": 1,
        f"{MEMBER_A}/us-east-1": 1, f"{MEMBER_B}/us-east-1": 1,
    }  # fmt: skip
    assert [(f.account, f.region, f.function) for f in by_runtime["nodejs16.x"].located] == [
        (HOME, "us-east-1", "home-cron"), (MEMBER_A, "eu-west-1", "orders-eu"),
        (MEMBER_A, "us-east-1", "orders-worker"), (MEMBER_B, "us-east-1", "pay-hook"),
    ]  # fmt: skip
    assert answer.total_functions == 9
    assert by_runtime["nodejs16.x"].published_versions == 1
    assert by_runtime["nodejs16.x"].versions_routed == 1
    route = by_runtime["nodejs16.x"].routes[0]
    assert (route.account, route.region, route.function, route.alias) == (
        MEMBER_A,
        "us-east-1",
        "orders-api",
        "prod",
    )
    assert answer.serving_from_attention == 1
    assert answer.routes_total == 1
    # Every member session names the caller.
    assert {a["SourceIdentity"] for a in fleet.assumed} == {"alice@example.com"}


def test_a_throttle_the_retries_absorb_is_not_surfaced_and_one_they_cannot_is(fleet: MotoFleet) -> None:
    absorbed, refused = Target(MEMBER_A, "us-east-1"), Target(MEMBER_B, "us-east-1")
    fleet.hooks[absorbed] = [("before-send.lambda.ListFunctions", throttle(2))]  # 3 attempts: the 3rd passes
    fleet.hooks[refused] = [("before-send.lambda.ListFunctions", throttle(10_000))]
    answer = run(fleet, [absorbed, refused])
    assert coverage_of(answer) == {absorbed.label: ("complete", None), refused.label: ("failed", "throttled")}
    refusal = next(c for c in answer.coverage if c.account == MEMBER_B)
    assert "LAMBDA_OPS_FLEET_RATE_PER_S" in (refusal.message or "")
    assert answer.total_functions == 3  # member A's, exactly


def test_targets_not_read_within_the_budget_are_named_timeout_and_no_thread_outlives_the_call(
    fleet: MotoFleet,
) -> None:
    slow = Target(MEMBER_A, "us-east-1")
    release = threading.Event()

    def stall(**_: Any) -> None:
        release.wait(2.0)  # bounded: the call joins its threads; the test never hangs

    fleet.hooks[slow] = [("before-send.lambda.ListFunctions", stall)]
    before = threading.active_count()
    fast = Target(MEMBER_B, "eu-west-1")
    try:
        answer = run(fleet, [slow, fast], budget_s=1.0, grace_s=0.0, workers=2)
    finally:
        release.set()
    assert threading.active_count() == before
    assert coverage_of(answer) == {slow.label: ("failed", "timeout"), fast.label: ("complete", None)}
    assert "still being read" in (answer.coverage[0].message or "")
    assert answer.total_functions == 1


def test_queued_targets_that_cannot_start_in_the_budget_are_named_not_started(fleet: MotoFleet) -> None:
    ticks = iter([0.0, 100.0, 100.0, 100.0, 100.0])  # the budget is spent before the first target starts
    answer = run(fleet, [Target(MEMBER_A, "eu-west-1")], clock=lambda: next(ticks, 100.0), budget_s=20.0)
    assert coverage_of(answer) == {f"{MEMBER_A}/eu-west-1": ("failed", "timeout")}
    assert "not started" in (answer.coverage[0].message or "")


def test_merge_names_the_first_functions_across_targets_and_counts_the_rest(fleet: MotoFleet) -> None:
    ops_for = fleet.ops_for()
    results = [audit_target(t, ops_for, names_per_group=1) for t in fleet.targets()[:6]]
    assert all(isinstance(r, TargetResult) and r.audit is not None for r in results)
    answer = merge(results, catalog=CATALOG, today=TODAY, names_per_group=1)
    group = next(g for g in answer.groups if g.runtime == "nodejs16.x")
    assert group.functions == ["home-cron"]
    assert group.more == 3
    assert group.list_hint
    assert answer.complete
    assert answer.note is None
    # Round-trips through JSON (the durable map checkpoints each target's result).
    again = [TargetResult.model_validate_json(r.model_dump_json()) for r in results]
    assert merge(again, catalog=CATALOG, today=TODAY, names_per_group=1) == answer


def test_a_family_filter_applies_to_every_target(fleet: MotoFleet) -> None:
    answer = run(fleet, fleet.targets()[:6], family="python")
    assert {g.runtime for g in answer.groups} == {"python3.12", "python3.8"}
    assert answer.total_functions == 3


def test_a_refusal_that_names_its_fix_is_not_given_a_second_one() -> None:
    from app.fleet.coverage import failed
    from app.fleet.targets import Target
    from app.lambda_ops import ErrorKind, OpsError

    target = Target(DENIED, "us-east-1")
    own = OpsError(
        kind=ErrorKind.ACCESS_DENIED,
        message="role lambda-ops-mcp-reader is missing: deploy infra/member-roles.yaml to 333333333333.",
        retryable=False,
    )
    bare = OpsError(kind=ErrorKind.ACCESS_DENIED, message="AccessDenied on ListFunctions.", retryable=False)
    assert failed(target, own, 20.0).message == own.message
    assert (failed(target, bare, 20.0).message or "").count("Fix:") == 1


def test_an_opt_in_region_not_enabled_is_region_disabled_not_access_denied() -> None:
    """Lambda answers valid credentials with UnrecognizedClientException in a region the account has not
    enabled: outside the home region that is region_disabled (with its fix), not "deploy the roles"."""
    import boto3
    from botocore.stub import Stubber

    from app.fleet.audit import audit_target
    from app.fleet.targets import Target
    from app.lambda_ops import LambdaClients, LambdaOps

    client = boto3.client("lambda", region_name="ap-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    for _ in range(2):
        stub.add_client_error(
            "list_functions",
            service_error_code="UnrecognizedClientException",
            service_message="The security token included in the request is invalid.",
            http_status_code=403,
        )
    ops = LambdaOps(LambdaClients.of(client))
    with stub:
        disabled = audit_target(Target(MEMBER_A, "ap-east-1"), lambda _: ops, home_region="us-east-1")
        home = audit_target(Target(MEMBER_A, "us-east-1"), lambda _: ops, home_region="us-east-1")
    assert (disabled.coverage.status, disabled.coverage.reason) == ("failed", "region_disabled")
    assert "not enabled in account" in (disabled.coverage.message or "")
    assert home.coverage.reason == "access_denied"  # in the region the credentials come from: the token
