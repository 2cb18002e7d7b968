"""get-function-health's domain: a window against its 7-day baseline from one GetMetricData call, against
moto's CloudWatch (rates divided from plain sums: moto does no metric math) and the seeded sandbox account.

The exact request (period, range, no metric math) is checked with botocore's Stubber in test_metrics.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from app.lambda_ops import ErrorKind, OpsError
from app.lambda_ops.function_health import FunctionHealth
from app.lambda_ops.health import (
    ERROR_RATE_MARGIN,
    MIN_ERRORS,
    MIN_SAMPLES,
    anomalies,
    measure,
    window_bounds,
)
from app.local.seed_data import SECRET_VALUES
from tests.conftest import HealthAccount
from tests.lambda_ops.helpers import REGION, record_calls

NAME = "orders-api-prod"  # exists in the seeded account; the tests below put metrics of their own for it


def health(result: FunctionHealth | OpsError) -> FunctionHealth:
    assert isinstance(result, FunctionHealth), result
    return result


def kinds(result: FunctionHealth) -> set[str]:
    return {a.kind for a in result.anomalies}


def metric_calls(client: Any) -> list[dict[str, Any]]:
    """The parameters of every GetMetricData call the client makes."""
    calls: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: calls.append(params)
    )
    return calls


class Metrics:
    """Datapoints put into moto's AWS/Lambda namespace at minutes before ``now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self.data: list[dict[str, Any]] = []

    def put(self, metric: str, minutes_ago: float, dims: dict[str, str], **value: Any) -> Metrics:
        self.data.append(
            {
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Timestamp": self.now - timedelta(minutes=minutes_ago),
                **value,
            }
        )
        return self

    def traffic(
        self, minutes_ago: float, dims: dict[str, str], invocations: int, errors: int = 0, throttles: int = 0
    ) -> Metrics:
        self.put("Invocations", minutes_ago, dims, Value=invocations)
        if errors:
            self.put("Errors", minutes_ago, dims, Value=errors)
        if throttles:
            self.put("Throttles", minutes_ago, dims, Value=throttles)
        return self

    def send(self) -> None:
        for offset in range(0, len(self.data), 500):
            self.cloudwatch.put_metric_data(
                Namespace="AWS/Lambda", MetricData=self.data[offset : offset + 500]
            )


@pytest.fixture
def fresh(moto_lambda: Any) -> HealthAccount:
    """The seeded functions with no metrics or logs yet (each test puts its own)."""
    from app.local import moto_patches

    moto_patches.apply()
    now = datetime.now(UTC).replace(microsecond=0)
    return HealthAccount(
        moto_lambda,
        boto3.client("cloudwatch", region_name=REGION),
        boto3.client("logs", region_name=REGION),
        now,
    )


FUNCTION = {"FunctionName": NAME}


def test_rates_are_divided_from_plain_sums_in_one_call(fresh: HealthAccount) -> None:
    Metrics(fresh.now).traffic(3 * 1440, FUNCTION, 1000, errors=2).traffic(
        20, FUNCTION, 100, errors=5, throttles=3
    ).send()
    calls = metric_calls(fresh.cloudwatch)
    result = health(fresh.ops().function_health(NAME))
    assert len(calls) == 1  # the window and the baseline together
    assert (result.invocations, result.window.errors, result.window.throttles) == (100, 5, 3)
    assert result.error_rate == pytest.approx(0.05)
    assert result.baseline_error_rate == pytest.approx(0.002)
    assert result.throttle_rate == pytest.approx(3 / 103)
    assert result.baseline.invocations == 1000
    assert result.status == "anomalous"
    errors_up = next(a for a in result.anomalies if a.kind == "errors_up")
    assert errors_up.message == "errors 5.0 % (5 of 100) against 0.2 % over the previous 7 days"
    assert "throttles" in kinds(result)
    assert result.dimensions == {"FunctionName": NAME}


def test_a_quiet_function_is_ok_and_says_so(fresh: HealthAccount) -> None:
    Metrics(fresh.now).traffic(2 * 1440, FUNCTION, 10_080, errors=10).traffic(
        30, FUNCTION, 60, errors=0
    ).send()
    result = health(fresh.ops().function_health(NAME))
    assert result.status == "ok"
    assert result.anomalies == []
    assert result.expected_invocations == pytest.approx(60.0)  # 10,080 a week = 60 an hour


def test_idle_and_no_recent_traffic_are_different_answers(fresh: HealthAccount) -> None:
    Metrics(fresh.now).traffic(2 * 1440, FUNCTION, 14).send()  # 14 a week: about 0.08 expected an hour
    assert health(fresh.ops().function_health(NAME)).status == "no_recent_traffic"
    idle = health(fresh.ops().function_health("coupon-validator-v1"))
    assert idle.status == "idle"
    assert (idle.invocations, idle.baseline.invocations, idle.error_rate) == (0, 0, None)
    assert idle.recent_errors.source == "not_searched"  # no invocation: no log query billed


def test_traffic_that_stopped_is_an_anomaly(fresh: HealthAccount) -> None:
    Metrics(fresh.now).traffic(2 * 1440, FUNCTION, 100_800).traffic(30, FUNCTION, 50).send()  # 600/h expected
    result = health(fresh.ops().function_health(NAME))
    assert "traffic_drop" in kinds(result)
    assert "(did a trigger stop?)" in next(a.message for a in result.anomalies if a.kind == "traffic_drop")


def test_few_errors_are_noise_whatever_the_rate(fresh: HealthAccount) -> None:
    Metrics(fresh.now).traffic(2 * 1440, FUNCTION, 1000).traffic(
        10, FUNCTION, 4, errors=MIN_ERRORS - 1
    ).send()
    result = health(fresh.ops().function_health(NAME))
    assert result.error_rate == pytest.approx(0.5)
    assert "errors_up" not in kinds(result)


def test_a_small_rise_over_a_noisy_baseline_is_not_an_anomaly(fresh: HealthAccount) -> None:
    # 2 % against 1.5 %: under the doubling rule and the 1-point margin
    Metrics(fresh.now).traffic(2 * 1440, FUNCTION, 10_000, errors=150).traffic(
        10, FUNCTION, 500, errors=10
    ).send()
    assert "errors_up" not in kinds(health(fresh.ops().function_health(NAME)))
    assert ERROR_RATE_MARGIN == 0.01


def test_latency_needs_enough_samples_on_both_sides(fresh: HealthAccount) -> None:
    slow = Metrics(fresh.now)
    slow.traffic(2 * 1440, FUNCTION, 200).put("Duration", 2 * 1440, FUNCTION, Values=[100.0] * 50)
    slow.traffic(10, FUNCTION, MIN_SAMPLES).put("Duration", 10, FUNCTION, Values=[900.0] * 20)
    slow.send()
    result = health(fresh.ops().function_health(NAME))
    assert (result.duration_p99_ms, result.baseline.duration_p99_ms) == (900.0, 100.0)
    assert "latency_up" in kinds(result)
    assert "duration p99 900 ms against 100 ms" in next(a.message for a in result.anomalies)


def test_invocations_near_the_timeout_are_named(fresh: HealthAccount) -> None:
    timeout = fresh.lambda_client.get_function_configuration(FunctionName=NAME)["Timeout"]
    Metrics(fresh.now).traffic(10, FUNCTION, 30).put(
        "Duration", 10, FUNCTION, Values=[timeout * 1000.0]
    ).send()
    result = health(fresh.ops().function_health(NAME))
    assert result.timeout_s == timeout
    assert "near_timeout" in kinds(result)


def test_async_and_stream_metrics_appear_only_when_the_function_has_them(fresh: HealthAccount) -> None:
    m = Metrics(fresh.now).traffic(10, FUNCTION, 30)
    m.put("AsyncEventsReceived", 10, FUNCTION, Value=30).put(
        "AsyncEventsDropped", 10, FUNCTION, Value=4
    ).send()
    result = health(fresh.ops().function_health(NAME))
    assert result.window.other == {"AsyncEventsReceived": 30.0, "AsyncEventsDropped": 4.0}
    assert "async_dropped" in kinds(result)
    plain = health(fresh.ops().function_health("cart-service-prod"))
    assert plain.window.other == {}
    assert plain.baseline.other == {}


def test_an_alias_is_measured_through_resource_and_split_by_executed_version(fresh: HealthAccount) -> None:
    """checkout-session-handler's prod alias routes 90 % to version 2 and 10 % to version 1 (seed_data)."""
    name = "checkout-session-handler"
    alias = {"FunctionName": name, "Resource": f"{name}:prod"}
    m = Metrics(fresh.now).traffic(2 * 1440, alias, 20_000, errors=20).traffic(15, alias, 110, errors=9)
    m.traffic(15, {**alias, "ExecutedVersion": "2"}, 100, errors=9)
    m.traffic(15, {**alias, "ExecutedVersion": "1"}, 10, errors=0)
    m.traffic(15, {"FunctionName": name}, 5000)  # the whole function: not what an alias query reads
    m.send()
    calls = metric_calls(fresh.cloudwatch)
    result = health(fresh.ops().function_health(name, qualifier="prod"))
    assert result.dimensions == {"FunctionName": name, "Resource": f"{name}:prod"}
    assert result.invocations == 110
    assert {(v.version, v.invocations, v.errors) for v in result.versions} == {("2", 100, 9), ("1", 10, 0)}
    assert {"errors_up", "version_errors"} <= kinds(result)
    assert "version 2 errors 9.0 % (9 of 100) against 0.0 %" in " ".join(a.message for a in result.anomalies)
    assert len(calls) == 1


def test_a_version_counts_what_reaches_it_through_aliases(fresh: HealthAccount) -> None:
    """Lambda counts an invocation through an alias under the alias's Resource (ExecutedVersion splits it),
    not under the version's own Resource: version 3 of orders-api-prod, reached only through staging, is
    not idle."""
    staging = {"FunctionName": NAME, "Resource": f"{NAME}:staging", "ExecutedVersion": "3"}
    Metrics(fresh.now).traffic(15, staging, 40, errors=8).traffic(
        15, {"FunctionName": NAME, "Resource": f"{NAME}:3"}, 2
    ).send()
    result = health(fresh.ops().function_health(NAME, qualifier="3"))
    assert result.invocations == 42
    assert result.window.errors == 8
    assert [(r.via, r.invocations, r.errors) for r in result.routes] == [
        ("version", 2, 0),
        ("staging", 40, 8),
    ]
    assert result.status == "anomalous"
    other = health(fresh.ops().function_health(NAME, qualifier="1"))  # no alias routes to version 1
    assert other.status == "idle"
    assert other.routes == []


def test_the_sandbox_tells_a_spike_from_a_quiet_function_and_an_idle_one(moto_health: HealthAccount) -> None:
    ops = moto_health.ops()
    spiking = health(ops.function_health("checkout-session-handler"))
    quiet = health(ops.function_health("cart-service-prod"))
    idle = health(ops.function_health("coupon-validator-v1"))
    assert spiking.status == "anomalous"
    assert "errors_up" in kinds(spiking)
    assert spiking.error_rate is not None
    assert spiking.baseline_error_rate is not None
    assert spiking.error_rate > 10 * spiking.baseline_error_rate
    assert quiet.status == "ok"
    assert quiet.anomalies == []
    assert idle.status == "idle"
    prod = health(ops.function_health("checkout-session-handler", qualifier="prod"))
    assert "version_errors" in kinds(prod)  # version 2 fails, version 1 does not
    assert health(ops.function_health(NAME, qualifier="prod")).status == "ok"
    assert health(ops.function_health(NAME, qualifier="staging")).status == "anomalous"
    # the error lines came back redacted: the function's own Stripe key is in one of them
    text = spiking.model_dump_json()
    assert "StripeAuthenticationError" in text
    assert not [secret for secret in SECRET_VALUES if secret in text]


@pytest.mark.parametrize(
    ("qualifier", "window", "says"),
    [
        (None, 0, "window must be between 1 and 10080"),
        (None, 10_081, "window must be between 1 and 10080"),
        ("$LATEST", 60, "Omit qualifier"),
        ("prod/../x", 60, "qualifier must be an alias name or a version number"),
    ],
)
def test_bad_arguments_are_refused_before_any_aws_call(
    fresh: HealthAccount, qualifier: str | None, window: int, says: str
) -> None:
    calls = metric_calls(fresh.cloudwatch)
    lambda_calls = record_calls(fresh.lambda_client)
    result = fresh.ops().function_health(NAME, qualifier=qualifier, window_minutes=window)
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.INVALID_ARGUMENT
    assert says in result.message
    assert calls == []
    assert lambda_calls == []


def test_an_unknown_function_or_alias_is_not_found(fresh: HealthAccount) -> None:
    missing = fresh.ops().function_health("no-such-function")
    assert isinstance(missing, OpsError)
    assert missing.kind is ErrorKind.NOT_FOUND
    alias = fresh.ops().function_health(NAME, qualifier="nope")
    assert isinstance(alias, OpsError)
    assert alias.kind is ErrorKind.NOT_FOUND


def test_a_week_long_window_still_has_its_own_week_of_baseline(fresh: HealthAccount) -> None:
    Metrics(fresh.now).traffic(13 * 1440, FUNCTION, 700).traffic(3 * 1440, FUNCTION, 70, errors=7).send()
    result = health(fresh.ops().function_health(NAME, window_minutes=7 * 1440))
    assert (result.invocations, result.baseline.invocations) == (70, 700)
    assert result.window.end - result.window.start == timedelta(days=7)
    assert result.baseline.end == result.window.start


def test_anomalies_are_pure_functions_of_the_two_sides() -> None:
    """``measure`` + ``anomalies`` without a facade: the window bounds end on a whole minute."""
    now = datetime(2026, 11, 24, 12, 0, 30, tzinfo=UTC)
    start, end = window_bounds(now, 60)
    assert (start, end) == (
        datetime(2026, 11, 24, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 24, 12, 1, tzinfo=UTC),
    )

    class Empty:
        def get_metric_data(self, **_: Any) -> dict[str, Any]:
            return {"MetricDataResults": []}

    measured = measure(Empty(), NAME, None, start, end)
    assert anomalies(measured) == []
    assert measured.calls == 1
