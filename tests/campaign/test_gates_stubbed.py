"""The gate's requests exactly as CloudWatch gets them (botocore's Stubber): the alias's two versions split
by ``ExecutedVersion`` over the step, the function's 7 days before the campaign, the named alarms (metric and
composite) — and the verdicts those answers give. The moto tests exercise the flow; these pin the shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import Stubber

from app.lambda_ops.upgrade.gates import judge, read_gate

SINCE = datetime(2026, 12, 2, 10, 0, 30, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 10, 5, 10, tzinfo=UTC)
CAMPAIGN = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
METRICS = ("Invocations", "Errors", "Throttles")


def query(id_: str, metric: str, dimensions: list[tuple[str, str]], period: int) -> dict[str, Any]:
    return {
        "Id": id_,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
            },
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def answer(values: dict[str, float]) -> dict[str, Any]:
    return {
        "MetricDataResults": [
            {"Id": key, "Label": key, "Timestamps": [SINCE], "Values": [value], "StatusCode": "Complete"}
            for key, value in values.items()
        ]
    }


def stubbed(step: dict[str, float], baseline: dict[str, float], alarms: list[dict[str, Any]]) -> Any:
    cloudwatch = boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stub = Stubber(cloudwatch)
    alias = [("FunctionName", "orders"), ("Resource", "orders:live")]
    step_queries = [
        query(f"{tag}{i}", metric, [*alias, ("ExecutedVersion", version)], 420)
        for tag, version in (("n", "8"), ("o", "7"))
        for i, metric in enumerate(METRICS)
    ]
    stub.add_response(
        "get_metric_data",
        answer(step),
        {
            "MetricDataQueries": step_queries,
            "StartTime": datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
            "EndTime": datetime(2026, 12, 2, 10, 7, tzinfo=UTC),
            "ScanBy": "TimestampAscending",
        },
    )
    week = 7 * 24 * 3600
    stub.add_response(
        "get_metric_data",
        answer(baseline),
        {
            "MetricDataQueries": [
                query(f"b{i}", metric, [("FunctionName", "orders")], week) for i, metric in enumerate(METRICS)
            ],
            "StartTime": CAMPAIGN - timedelta(days=7),
            "EndTime": CAMPAIGN,
            "ScanBy": "TimestampAscending",
        },
    )
    stub.add_response(
        "describe_alarms",
        {"MetricAlarms": alarms, "CompositeAlarms": []},
        {"AlarmNames": ["orders-5xx"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
    )
    return cloudwatch, stub


def gate(step: dict[str, float], baseline: dict[str, float], state: str = "OK") -> tuple[str, str]:
    cloudwatch, stub = stubbed(step, baseline, [{"AlarmName": "orders-5xx", "StateValue": state}])
    with stub:
        reading = read_gate(cloudwatch, "orders", "live", "8", "7", SINCE, NOW, CAMPAIGN, ["orders-5xx"])
    stub.assert_no_pending_responses()
    return judge(reading, "8", "7")


QUIET_WEEK = {"b0": 100_000.0, "b1": 200.0, "b2": 0.0}  # 0.2 % errors over the 7 days


def test_a_new_version_failing_more_than_the_old_one_and_the_week_is_a_breach() -> None:
    verdict, why = gate({"n0": 100.0, "n1": 9.0, "o0": 900.0, "o1": 2.0}, QUIET_WEEK)
    assert verdict == "breach"
    assert why.startswith("errors: version 8 failed 9.0% of its invocations")


def test_failing_as_the_function_always_does_is_not_a_breach() -> None:
    usual = {"b0": 100_000.0, "b1": 5_000.0, "b2": 0.0}  # 5 % errors every week
    assert gate({"n0": 100.0, "n1": 6.0, "o0": 900.0, "o1": 45.0}, usual)[0] == "pass"


def test_a_named_alarm_in_alarm_is_a_breach_whatever_the_metrics() -> None:
    verdict, why = gate({"n0": 100.0, "o0": 900.0}, QUIET_WEEK, state="ALARM")
    assert (verdict, why) == ("breach", "alarm orders-5xx in state ALARM")


def test_no_traffic_on_the_new_version_is_no_data_not_a_pass() -> None:
    assert gate({"o0": 900.0}, QUIET_WEEK)[0] == "no_data"


def test_throttles_of_the_new_version_alone_are_a_breach() -> None:
    verdict, why = gate({"n0": 80.0, "n2": 20.0, "o0": 900.0}, QUIET_WEEK)
    assert verdict == "breach"
    assert why.startswith("throttles: version 8 throttled 20.0%")
