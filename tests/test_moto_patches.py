"""app/local/moto_patches.py: moto 5.2.5 fails GetMetricData for any percentile statistic (it computes None,
then float(None): a 500 for the whole call); the sandbox patches it to answer as CloudWatch does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from app.local import moto_patches
from tests.lambda_ops.helpers import REGION

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def query(stat: str) -> dict[str, Any]:
    return {
        "Id": stat.replace(".", "_").lower(),
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": "Duration",
                "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
            },
            "Period": 3600,
            "Stat": stat,
        },
    }


def test_unpatched_moto_fails_the_whole_call_on_a_percentile() -> None:
    """The hazard itself, in a fresh interpreter (the patch is process-wide once applied). When a moto
    release fixes it, this test says so and the patch can go."""
    script = textwrap.dedent(
        """
        import datetime, boto3
        from moto import mock_aws
        now = datetime.datetime.now(datetime.UTC)
        with mock_aws():
            cw = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="t",
                              aws_secret_access_key="t")
            dims = [{"Name": "FunctionName", "Value": "f"}]
            cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
                {"MetricName": "Duration", "Dimensions": dims, "Timestamp": now, "Value": 5.0}])
            try:
                cw.get_metric_data(StartTime=now - datetime.timedelta(hours=1),
                    EndTime=now + datetime.timedelta(hours=1), MetricDataQueries=[{"Id": "p", "MetricStat": {
                    "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Duration", "Dimensions": dims},
                    "Period": 3600, "Stat": "p99"}}])
            except Exception as error:
                print("FAILED", type(error).__name__)
            else:
                print("ANSWERED")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": REGION},
    )  # fmt: skip
    assert done.stdout.strip().startswith("FAILED"), done.stdout + done.stderr


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert moto_patches.percentile(values, 50) == 50.0
    assert moto_patches.percentile(values, 99) == 99.0
    assert moto_patches.percentile(values, 100) == 100.0
    assert moto_patches.percentile([7.0], 99) == 7.0
    assert moto_patches.percentile([], 99) is None


def test_patched_moto_answers_percentiles_and_the_other_statistics_as_before(aws_env: None) -> None:
    moto_patches.apply()
    moto_patches.apply()  # idempotent
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        dims = [{"Name": "FunctionName", "Value": "f"}]
        cloudwatch.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {"MetricName": "Duration", "Dimensions": dims, "Timestamp": NOW - timedelta(minutes=10),
                 "Values": [10.0, 20.0, 900.0], "Counts": [50.0, 48.0, 2.0]},
            ],
        )  # fmt: skip
        response = cloudwatch.get_metric_data(
            StartTime=NOW - timedelta(hours=1),
            EndTime=NOW + timedelta(hours=1),
            MetricDataQueries=[
                query("p50"),
                query("p99"),
                query("p99.9"),
                query("Maximum"),
                query("SampleCount"),
            ],
        )
    found = {r["Id"]: r["Values"] for r in response["MetricDataResults"]}
    assert found["p50"] == [10.0]
    assert found["p99"] == [900.0]
    assert found["p99_9"] == [900.0]
    assert found["maximum"] == [900.0]
    assert found["samplecount"] == [100.0]
