"""After a real upgrade: the function's health since the change against its baseline, as a separate bounded
step after the runner (app/lambda_ops/upgrade_health.py) that never turns an upgrade's outcome into an
error, and says plainly when the data cannot tell yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from app.lambda_ops import LambdaClients, Outcome, UpgradeResult
from app.lambda_ops.health import MIN_TO_TELL, health_since
from app.lambda_ops.upgrade.plan import AliasChange, UpgradeStep
from app.lambda_ops.upgrade_health import CALL_LIMIT_S, attach_health
from tests.conftest import HealthAccount
from tests.lambda_ops.helpers import REGION

NOW = datetime.now(UTC).replace(microsecond=0)
NAME = "legacy-report-cron"


def put(cloudwatch: Any, dims: dict[str, str], minutes_ago: float, invocations: int, errors: int = 0) -> None:
    stamp = NOW - timedelta(minutes=minutes_ago)
    dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "Invocations", "Dimensions": dimensions, "Timestamp": stamp, "Value": invocations},
            {"MetricName": "Errors", "Dimensions": dimensions, "Timestamp": stamp, "Value": errors},
            {
                "MetricName": "Duration",
                "Dimensions": dimensions,
                "Timestamp": stamp,
                "Values": [120.0, 180.0],
            },
        ],
    )


@pytest.fixture
def cloudwatch(aws_env: None) -> Any:
    from moto import mock_aws

    from app.local import moto_patches

    moto_patches.apply()
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def upgraded(
    outcome: Outcome = Outcome.SUCCEEDED, *, dry_run: bool = False, alias: AliasChange | None = None
) -> UpgradeResult:
    steps = (
        []
        if dry_run
        else [UpgradeStep(action="update", ok=True, runtime="nodejs22.x", detail="sent", elapsed_s=0.1)]
    )
    return UpgradeResult(
        function_name=NAME, dry_run=dry_run, outcome=outcome, verified=outcome is Outcome.SUCCEEDED,
        message="done", previous_runtime="nodejs14.x", target_runtime="nodejs22.x",
        final_runtime="nodejs22.x", checks=[], warnings=[], rollback_possible=True, steps=steps, alias=alias,
    )  # fmt: skip


def test_right_after_the_change_the_data_cannot_tell_yet(cloudwatch: Any) -> None:
    put(cloudwatch, {"FunctionName": NAME}, 3 * 1440, 700, errors=1)
    found = health_since(cloudwatch, NAME, None, NOW - timedelta(seconds=20), NOW)
    assert found.available is True
    assert found.conclusive is False
    assert found.message.startswith("The data cannot tell yet: CloudWatch has no invocations of ")
    assert "20 s ago" in found.message
    assert found.baseline is not None
    assert found.baseline.invocations == 700


def test_a_few_invocations_are_not_enough_to_say_all_is_well(cloudwatch: Any) -> None:
    put(cloudwatch, {"FunctionName": NAME}, 3 * 1440, 700)
    put(cloudwatch, {"FunctionName": NAME}, 2, MIN_TO_TELL - 1)
    found = health_since(cloudwatch, NAME, None, NOW - timedelta(minutes=10), NOW)
    assert found.conclusive is False
    assert f"only {MIN_TO_TELL - 1} invocations" in found.message


def test_enough_quiet_traffic_says_no_anomaly_with_the_numbers(cloudwatch: Any) -> None:
    put(cloudwatch, {"FunctionName": NAME}, 3 * 1440, 7000, errors=7)
    put(cloudwatch, {"FunctionName": NAME}, 5, 80)
    found = health_since(cloudwatch, NAME, None, NOW - timedelta(minutes=30), NOW)
    assert found.conclusive is True
    assert found.anomalies == []
    assert found.message.startswith("No anomaly since the change (30 min ago): 80 invocations, errors 0.0 %")
    assert "the 7 days before: errors 0.1 %, p99 180 ms." in found.message


def test_errors_since_the_change_are_named_against_the_week_before(cloudwatch: Any) -> None:
    put(cloudwatch, {"FunctionName": NAME}, 3 * 1440, 7000, errors=7)
    put(cloudwatch, {"FunctionName": NAME}, 5, 50, errors=10)
    found = health_since(cloudwatch, NAME, None, NOW - timedelta(minutes=30), NOW)
    assert found.conclusive is True
    assert [a.kind for a in found.anomalies] == ["errors_up"]
    assert "errors 20.0 % (10 of 50) against 0.1 % over the previous 7 days" in found.message


def test_no_health_for_a_dry_run_or_a_change_that_did_not_stay(cloudwatch: Any) -> None:
    clients = LambdaClients.of(None, cloudwatch=cloudwatch)
    for result in (
        upgraded(Outcome.PLANNED, dry_run=True),
        upgraded(Outcome.FAILED),
        upgraded(Outcome.ROLLED_BACK),
    ):
        assert attach_health(result, clients, NOW, NOW, 1.0).health is None


def test_a_failing_read_never_turns_a_verified_upgrade_into_an_error() -> None:
    class Broken:
        def get_metric_data(self, **_: Any) -> Any:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")

    result = attach_health(upgraded(), LambdaClients.of(None, cloudwatch=Broken()), NOW, NOW, 3.0)
    assert result.verified is True
    assert result.outcome is Outcome.SUCCEEDED
    assert result.health is not None
    assert result.health.available is False
    assert result.health.message.startswith("health unavailable: AWS denied cloudwatch:GetMetricData")

    class Surprising:
        def get_metric_data(self, **_: Any) -> Any:
            raise RuntimeError("boom")

    odd = attach_health(upgraded(), LambdaClients.of(None, cloudwatch=Surprising()), NOW, NOW, 3.0)
    assert odd.verified is True
    assert odd.health is not None
    assert odd.health.message == "health unavailable: RuntimeError: boom"


def test_no_read_when_the_upgrade_used_the_time(cloudwatch: Any) -> None:
    calls: list[str] = []
    cloudwatch.meta.events.register("before-call.cloudwatch", lambda model, **_: calls.append(model.name))
    result = attach_health(
        upgraded(), LambdaClients.of(None, cloudwatch=cloudwatch), NOW, NOW, CALL_LIMIT_S - 1
    )
    assert calls == []
    assert result.health is not None
    assert result.health.message.startswith("health unavailable: the upgrade used the time this call has")


def test_an_upgrade_shipped_through_an_alias_is_measured_through_the_alias(cloudwatch: Any) -> None:
    put(cloudwatch, {"FunctionName": NAME, "Resource": f"{NAME}:prod"}, 5, 40, errors=0)
    put(cloudwatch, {"FunctionName": NAME}, 5, 4000)  # other traffic of the function: not the change's
    alias = AliasChange(
        name="prod", version_before="2", runtime_before="nodejs14.x", weights_before={"2": 1.0},
        published_version="3", version_after="3", runtime_after="nodejs22.x",
    )  # fmt: skip
    result = attach_health(
        upgraded(alias=alias),
        LambdaClients.of(None, cloudwatch=cloudwatch),
        NOW - timedelta(minutes=30),
        NOW,
        5.0,
    )
    assert result.health is not None
    assert result.health.qualifier == "prod"
    assert result.health.window is not None
    assert result.health.window.invocations == 40


def test_a_real_upgrade_in_the_sandbox_carries_its_health(moto_health: HealthAccount) -> None:
    result = moto_health.ops().update_runtime(NAME, "nodejs22.x", dry_run=False, smoke_payload="{}")
    assert isinstance(result, UpgradeResult), result
    assert result.verified is True
    assert result.health is not None
    assert result.health.available is True
    assert result.health.conclusive is False  # no datapoint since a change made a moment ago
    assert "cannot tell yet" in result.health.message
    dry = moto_health.ops().update_runtime(NAME, "nodejs24.x", dry_run=True)
    assert isinstance(dry, UpgradeResult)
    assert dry.health is None
