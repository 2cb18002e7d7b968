"""The campaign domain against moto: two accounts, aliases, traffic, a smoke test that fails, a canary that
breaches its gate, the breaker, cancellation, the digest."""

from __future__ import annotations

from typing import Any

import pytest

from app.lambda_ops.runtime_info import CatalogProvider
from app.lambda_ops.upgrade.campaign import plan_campaign
from app.lambda_ops.upgrade.campaign_digest import changes, refusal
from app.lambda_ops.upgrade.campaign_model import CampaignPlan, Selection
from app.lambda_ops.upgrade.campaign_run import CampaignReport, CampaignRunner, RunOptions, in_process
from app.lambda_ops.upgrade.effects import InProcess
from tests.campaign.fleet import HOME, MEMBER, NEW, OLD, REGION, Fleet, alias_of, runtime_of
from tests.lambda_ops.helpers import TODAY, FakeClock

SMOKE = '{"ping":true}'


def catalog() -> Any:
    return CatalogProvider().current(TODAY)[0]


def plan(fleet: Fleet, **changes: Any) -> CampaignPlan:
    selection = Selection(runtimes=[OLD], target_runtime=NEW, alias="live", smoke_payload=SMOKE, **changes)
    from datetime import UTC, datetime

    return plan_campaign(fleet.places(), selection, catalog=catalog(), today=TODAY, now=datetime.now(UTC))


def run(fleet: Fleet, planned: CampaignPlan, *, cancel_when: Any = None, **options: Any) -> CampaignReport:
    clock = FakeClock()
    state = {"cancel": False}

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if cancel_when is not None and cancel_when(seconds, clock):
            state["cancel"] = True

    def effects(_: Any = None) -> InProcess:
        return InProcess(clock=clock, sleep=sleep, cancelled=lambda: state["cancel"])

    runner = CampaignRunner(planned, RunOptions(**options), fleet.ops_for, catalog=catalog(), today=TODAY)
    runner.preflight()
    return runner.run(effects(), in_process(effects))


def by_name(report: CampaignReport) -> dict[str, Any]:
    return {f.name: f for f in report.functions}


def test_the_plan_covers_both_accounts_with_waves_least_risky_first(fleet: Fleet) -> None:
    planned = plan(fleet)
    names = {f.name for f in planned.functions}
    assert names == {
        "idle-home-1",
        "idle-home-2",
        "api-home-a",
        "api-home-b",
        "plain-home",
        "breaks-home",
        "idle-member",
        "api-member",
        "canary-member",
        "plain-member",
    }
    tiers = {f.name: f.tier for f in planned.functions}
    assert tiers["idle-home-1"] == tiers["idle-member"] == "idle"
    assert tiers["api-home-b"] == "busiest"
    assert tiers["plain-member"] == "low"
    assert [w.tier for w in planned.waves] == ["idle", "low", "busiest"]
    waves = {f.name: f.wave for f in planned.functions}
    assert waves["idle-home-1"] < waves["plain-member"] < waves["api-home-b"]
    radius = {(t.account, t.region): t for t in planned.blast_radius}
    assert radius[(HOME, REGION)].functions == 6
    assert radius[(MEMBER, REGION)].functions == 4
    assert radius[(HOME, REGION)].invocations == 500 + 90_000 + 40 + 70
    assert planned.busiest[0].startswith(f"{HOME}/{REGION}/api-home-b")
    assert {f.name: f.alias.name if f.alias else None for f in planned.functions}["api-member"] == "live"
    assert planned.complete
    assert len(planned.digest.split(".")) == 2


def test_exclusions_say_why(fleet: Fleet) -> None:
    from app.lambda_ops import WritePolicy

    fleet.policy = WritePolicy(allow_writes=True, function_prefixes=("api-", "idle-", "canary-"))
    planned = plan(fleet, accounts=[MEMBER])
    excluded = {x.name: x for x in planned.excluded}
    assert set(excluded) == {"plain-member"}
    assert excluded["plain-member"].code == "write_policy"
    assert "prefix" in excluded["plain-member"].reason.lower() or "write" in excluded["plain-member"].reason
    assert all(f.account == MEMBER for f in planned.functions)
    no_smoke = plan_campaign(
        fleet.places(),
        Selection(runtimes=[OLD], target_runtime=NEW, alias="live"),
        catalog=catalog(),
        today=TODAY,
        now=__import__("datetime").datetime.now(),
    )
    assert {x.name: x.code for x in no_smoke.excluded}["api-member"] == "smoke_test_for_alias"


def test_a_campaign_upgrades_what_passes_and_rolls_back_what_breaches(fleet: Fleet) -> None:
    planned = plan(fleet)
    report = run(fleet, planned, strategy="Canary10Percent5Minutes", minute_s=0.01, max_failures=5)
    found = by_name(report)
    assert report.status == "completed", report.message
    assert found["api-member"].outcome == "succeeded"
    assert found["api-member"].verified
    assert alias_of(fleet, MEMBER, "api-member")["FunctionVersion"] == found["api-member"].published_version
    assert [s.weight for s in found["api-member"].traffic_steps] == [0.1, 1.0]
    assert found["api-member"].traffic_steps[0].verdict in ("pass", "no_data")
    assert found["plain-home"].strategy == "AllAtOnce"
    assert found["plain-home"].traffic_steps == []
    assert runtime_of(fleet, HOME, "plain-home") == NEW
    assert found["plain-home"].runtime_after == NEW
    # The smoke test of breaks-home's new version fails: the alias never moved, $LATEST restored.
    broke = found["breaks-home"]
    assert broke.outcome == "rolled_back"
    assert not broke.verified
    assert broke.traffic_steps == []
    assert "smoke test" in (broke.rollback_reason or "")
    assert runtime_of(fleet, HOME, "breaks-home") == OLD
    assert alias_of(fleet, HOME, "breaks-home")["FunctionVersion"] == "1"
    # canary-member's canary breaches the error gate: alias back on version 1, $LATEST back on OLD.
    canary = found["canary-member"]
    assert canary.outcome == "rolled_back"
    assert canary.traffic_steps[0].verdict == "breach"
    assert "errors" in (canary.rollback_reason or "")
    assert "20.0%" in (canary.rollback_reason or "")
    back = alias_of(fleet, MEMBER, "canary-member")
    assert back["FunctionVersion"] == "1"
    assert not (back.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert runtime_of(fleet, MEMBER, "canary-member") == OLD
    assert report.counts == {"rolled_back": 2, "succeeded": 8}
    assert report.failures == 2
    assert [f.wave for f in report.functions] == sorted(f.wave for f in report.functions)


def test_the_breaker_stops_after_the_limit(fleet: Fleet) -> None:
    planned = plan(fleet)
    report = run(fleet, planned, minute_s=0.01, max_failures=1, concurrency_per_account=1)
    assert report.status == "stopped"
    assert "circuit breaker" in report.message
    found = by_name(report)
    first_failure = next(f for f in report.functions if f.failed)
    after = [f for f in report.functions if f.wave > first_failure.wave]
    assert after
    assert all(f.outcome == "not_started" for f in after)
    for f in after:
        assert runtime_of(fleet, f.account, f.name) == OLD  # untouched
    # Decided between batches: the batch that tripped it finished (both its functions rolled back).
    assert 1 <= report.failures <= 2
    assert found[first_failure.name].outcome == "rolled_back"


def test_any_failure_in_the_first_wave_stops_it(fleet: Fleet) -> None:
    from app.local import campaign_faults

    campaign_faults.configure({"idle-home-1": NEW}, set())
    report = run(fleet, plan(fleet), minute_s=0.01)
    assert report.status == "stopped"
    assert "first wave" in report.message
    assert report.waves_done == 0
    assert {f.outcome for f in report.functions if f.wave > 1} == {"not_started"}


def test_cancellation_mid_shift_leaves_every_function_consistent(fleet: Fleet) -> None:
    from app.local import campaign_faults

    campaign_faults.configure({}, set())
    planned = plan(fleet, accounts=[MEMBER])
    # Cancel during the first bake of a linear shift (the first function shipped through its alias).
    report = run(
        fleet,
        planned,
        strategy="Linear10PercentEvery1Minute",
        minute_s=1.0,
        cancel_when=lambda seconds, _: seconds == 1.0,
    )
    assert report.status == "cancelled"
    found = by_name(report)
    shifted = [f for f in report.functions if f.traffic_steps]
    assert len(shifted) == 1
    assert shifted[0].outcome == "cancelled"
    assert shifted[0].traffic_steps[-1].weight == 0.0  # put back
    for f in report.functions:
        alias = alias_of(fleet, MEMBER, f.name) if f.alias else None
        if f.outcome in ("cancelled", "not_started"):
            assert runtime_of(fleet, MEMBER, f.name) == OLD
            assert alias is None or (
                alias["FunctionVersion"] == "1"
                and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
            )
        else:
            assert f.outcome == "succeeded"
            assert runtime_of(fleet, MEMBER, f.name) == NEW
    assert "not_started" in {f.outcome for f in found.values()}


def test_a_changed_plan_is_refused_naming_what_changed(fleet: Fleet) -> None:
    seen = plan(fleet)
    assert changes(seen.digest, plan(fleet)) == []
    fleet.lambda_(MEMBER).update_function_code(FunctionName="api-member", ZipFile=b"PK" + bytes(20))
    fleet.lambda_(HOME).delete_function(FunctionName="idle-home-2")
    now = plan(fleet)
    error = refusal(seen.digest, now)
    assert error is not None
    assert error.kind == "conflict"
    # $LATEST's code now differs from the alias's version: api-member moved from planned to excluded.
    assert (
        f"changed since you saw it (revision, runtime, code or alias): {MEMBER}/{REGION}/api-member (now "
        "excluded: alias_code_matches)" in error.message
    )
    assert "1 function(s) of the plan you saw are no longer selected" in error.message
    assert refusal("garbage", now) is not None
    assert "not one a plan" in refusal("garbage", now).message


def test_alarms_must_exist_and_one_in_alarm_breaches(fleet: Fleet) -> None:
    from app.lambda_ops.errors import OpsFailure

    planned = plan(fleet, accounts=[MEMBER], name_prefix="api-")
    runner = CampaignRunner(
        planned, RunOptions(alarms=["nope"]), fleet.ops_for, catalog=catalog(), today=TODAY
    )
    with pytest.raises(OpsFailure, match="nope does not exist in 111111111111/us-east-1"):
        runner.preflight()
    cloudwatch = fleet.accounts[MEMBER].client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="api-errors",
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="api-errors", StateValue="ALARM", StateReason="test")
    report = run(fleet, planned, alarms=["api-errors"], minute_s=0.01)
    only = report.functions[0]
    assert only.outcome == "rolled_back"
    assert "alarm api-errors in state ALARM" in (only.rollback_reason or "")
    assert alias_of(fleet, MEMBER, "api-member")["FunctionVersion"] == "1"
