"""The GetMetricData requests themselves, against botocore's Stubber: one call with a period of exactly the
baseline (two buckets per query), plain metric queries only (no metric math), 500 queries a call at most,
every NextToken page read; and AWS failures as values naming CloudWatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
from botocore.stub import ANY, Stubber

from app.lambda_ops import ErrorKind, LambdaClients, LambdaOps, OpsError
from app.lambda_ops.function_health import FunctionHealth
from app.lambda_ops.health import PERIOD_S
from app.lambda_ops.metrics import MAX_QUERIES
from app.lambda_ops.traffic import Traffic
from tests.lambda_ops.helpers import REGION, TODAY, configuration, stubbed_client

NOW = datetime(2026, 11, 24, 12, 0, 20, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 24, 12, 1, tzinfo=UTC)  # the next whole minute
WINDOW_START = WINDOW_END - timedelta(minutes=60)


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def ops(control: Any, cloudwatch: Any, logs: Any | None = None) -> LambdaOps:
    clients = LambdaClients.of(control, cloudwatch=cloudwatch, logs=logs or stubbed("logs")[0])
    return LambdaOps(clients, today=lambda: TODAY, now=lambda: NOW)


class Capture:
    """Records the GetMetricData requests as botocore builds them (after the Stubber matched them)."""

    def __init__(self, client: Any) -> None:
        self.requests: list[dict[str, Any]] = []
        client.meta.events.register("provide-client-params.cloudwatch.GetMetricData", self._keep)

    def _keep(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(params)


def results(ids: list[str], values: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """Two datapoints (baseline bucket, window bucket) for the ids in ``values``; the rest empty."""
    found = []
    for query_id in ids:
        pair = values.get(query_id)
        stamps = [WINDOW_START - timedelta(days=7), WINDOW_START] if pair else []
        found.append(
            {
                "Id": query_id,
                "Label": query_id,
                "Timestamps": stamps,
                "Values": list(pair or ()),
                "StatusCode": "Complete",
            }
        )
    return {"MetricDataResults": found}


def test_one_call_two_buckets_plain_metrics_only() -> None:
    control, lambda_stub = stubbed_client()
    lambda_stub.add_response(
        "get_function_configuration", configuration("orders-api"), {"FunctionName": "orders-api"}
    )
    cloudwatch, stub = stubbed("cloudwatch")
    capture = Capture(cloudwatch)
    # The ids are the domain's; the Stubber checks everything else of the call.
    stub.add_response(
        "get_metric_data",
        results(
            [
                f"s0_{k}"
                for k in (
                    "invocations",
                    "errors",
                    "throttles",
                    "duration_p50",
                    "duration_p99",
                    "duration_max",
                )
            ],
            {
                "s0_invocations": (10_080.0, 100.0),
                "s0_errors": (10.0, 6.0),
                "s0_duration_p99": (200.0, 260.0),
            },
        ),
        {
            "MetricDataQueries": ANY,
            "StartTime": WINDOW_START - timedelta(days=7),
            "EndTime": WINDOW_END,
            "ScanBy": "TimestampAscending",
        },
    )
    logs, logs_stub = stubbed("logs")
    logs_stub.add_response("start_query", {"queryId": "q-1"})
    logs_stub.add_response("get_query_results", {"status": "Complete", "results": []})
    result = ops(control, cloudwatch, logs).function_health("orders-api")
    assert isinstance(result, FunctionHealth), result
    stub.assert_no_pending_responses()
    (request,) = capture.requests
    queries = request["MetricDataQueries"]
    assert all("Expression" not in q for q in queries)  # no metric math (moto would return nothing for it)
    assert {q["MetricStat"]["Period"] for q in queries} == {PERIOD_S} == {7 * 86400}
    stats = {(q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"]) for q in queries}
    assert {("Invocations", "Sum"), ("Errors", "Sum"), ("Throttles", "Sum"), ("Duration", "p50")} <= stats
    assert {("Duration", "p99"), ("Duration", "Maximum"), ("ConcurrentExecutions", "Maximum")} <= stats
    assert {("AsyncEventsDropped", "Sum"), ("IteratorAge", "Maximum"), ("DeadLetterErrors", "Sum")} <= stats
    assert {q["MetricStat"]["Metric"]["Namespace"] for q in queries} == {"AWS/Lambda"}
    assert all(
        q["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "FunctionName", "Value": "orders-api"}]
        for q in queries
    )
    assert (result.invocations, result.baseline.invocations) == (100, 10_080)
    assert result.error_rate == 0.06
    assert (result.duration_p99_ms, result.baseline.duration_p99_ms) == (260.0, 200.0)
    assert result.aws_calls == 1 + 1 + 2  # configuration, metrics, and the log search's Start + GetResults


def test_every_page_is_read() -> None:
    control, lambda_stub = stubbed_client()
    lambda_stub.add_response(
        "get_function_configuration", configuration("orders-api"), {"FunctionName": "orders-api"}
    )
    cloudwatch, stub = stubbed("cloudwatch")
    first = results(["s0_invocations"], {"s0_invocations": (700.0, 10.0)})
    first["NextToken"] = "page-2"
    second = results(["s0_errors"], {"s0_errors": (7.0, 1.0)})
    stub.add_response("get_metric_data", first)
    stub.add_response(
        "get_metric_data",
        second,
        {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": ANY, "NextToken": "page-2"},
    )
    logs, logs_stub = stubbed("logs")
    logs_stub.add_client_error("start_query", "ResourceNotFoundException", "no log group")
    result = ops(control, cloudwatch, logs).function_health("orders-api")
    assert isinstance(result, FunctionHealth), result
    stub.assert_no_pending_responses()
    assert (result.invocations, result.window.errors, result.baseline.errors) == (10, 1, 7)


def test_access_denied_is_a_value_that_names_cloudwatch() -> None:
    control, lambda_stub = stubbed_client()
    lambda_stub.add_response(
        "get_function_configuration", configuration("orders-api"), {"FunctionName": "orders-api"}
    )
    cloudwatch, stub = stubbed("cloudwatch")
    stub.add_client_error("get_metric_data", "AccessDenied", "not authorized", http_status_code=403)
    result = ops(control, cloudwatch).function_health("orders-api")
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.ACCESS_DENIED
    assert "cloudwatch:GetMetricData" in result.message


def test_traffic_batches_500_functions_a_call() -> None:
    cloudwatch, stub = stubbed("cloudwatch")
    capture = Capture(cloudwatch)
    names = [f"fn-{i:04d}" for i in range(1001)]
    for offset in range(0, len(names), MAX_QUERIES):
        ids = [f"f{i}" for i in range(offset, min(offset + MAX_QUERIES, len(names)))]
        stub.add_response("get_metric_data", results(ids, {f"f{offset}": (0.0, 42.0)}))
    result = ops(stubbed_client()[0], cloudwatch).traffic(names)
    assert isinstance(result, Traffic), result
    stub.assert_no_pending_responses()
    assert result.calls == 3
    assert [len(r["MetricDataQueries"]) for r in capture.requests] == [500, 500, 1]
    assert {q["MetricStat"]["Period"] for r in capture.requests for q in r["MetricDataQueries"]} == {
        30 * 86400
    }
    assert all(r["EndTime"] - r["StartTime"] == timedelta(days=30) for r in capture.requests)
    assert result.invocations["fn-0000"] == 42
    assert result.invocations["fn-0500"] == 42
    assert result.invocations["fn-1000"] == 42
    assert result.invocations["fn-0001"] == 0


def test_traffic_of_nothing_makes_no_call_and_bad_days_are_refused() -> None:
    cloudwatch, _stub = stubbed("cloudwatch")
    empty = ops(stubbed_client()[0], cloudwatch).traffic([])
    assert isinstance(empty, Traffic)
    assert (empty.calls, empty.invocations) == (0, {})
    bad = ops(stubbed_client()[0], cloudwatch).traffic(["a"], days=0)
    assert isinstance(bad, OpsError)
    assert bad.kind is ErrorKind.INVALID_ARGUMENT
