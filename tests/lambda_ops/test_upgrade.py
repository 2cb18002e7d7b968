"""update-function-runtime: validation, dry run, wait, smoke test and rollback — and never a false success."""

from __future__ import annotations

from typing import Any

import pytest

from app.lambda_ops import ErrorKind, LambdaClients, OpsError, Outcome, UpgradeResult, WritePolicy
from app.lambda_ops.policy import ALLOW_WRITES, PREFIXES, TAG
from app.lambda_ops.runtimes import shipped_catalog
from app.lambda_ops.upgrade.plan import ROLLBACK_RESERVE_S
from app.lambda_ops.upgrade_health import READ_TIMEOUT_S
from tests.lambda_ops.helpers import (
    TODAY,
    FakeClock,
    client_error,
    configuration,
    ops_for,
    record_calls,
    streaming,
    stubbed_client,
)

NAME = "orders-api"


def upgraded(result: UpgradeResult | OpsError) -> UpgradeResult:
    assert isinstance(result, UpgradeResult), result
    return result


def runtime_of(client: Any, name: str) -> str:
    return str(client.get_function_configuration(FunctionName=name)["Runtime"])


# --- moto: the happy paths and the account left untouched -------------------------------------------------


def test_dry_run_plans_and_changes_nothing(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    result = upgraded(ops_for(moto_lambda).update_runtime("user-profile-api", "nodejs24.x", dry_run=True))
    assert result.outcome is Outcome.PLANNED
    assert result.dry_run
    assert not result.verified
    assert (result.previous_runtime, result.target_runtime) == ("nodejs18.x", "nodejs24.x")
    assert all(c.passed for c in result.checks)
    assert result.rollback_possible
    assert "UpdateFunctionConfiguration" not in calls
    assert runtime_of(moto_lambda, "user-profile-api") == "nodejs18.x"


def test_an_upgrade_is_verified_by_reading_it_back(moto_lambda: Any) -> None:
    result = upgraded(ops_for(moto_lambda).update_runtime("user-profile-api", "nodejs24.x"))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.verified
    assert result.final_runtime == "nodejs24.x"
    assert [s.action for s in result.steps] == ["update", "wait"]
    assert runtime_of(moto_lambda, "user-profile-api") == "nodejs24.x"


def test_an_upgrade_with_a_passing_smoke_test(moto_lambda: Any) -> None:
    result = upgraded(
        ops_for(moto_lambda).update_runtime("legacy-checkout-webhook", "nodejs24.x", smoke_payload="{}")
    )
    assert result.outcome is Outcome.SUCCEEDED
    assert result.verified
    assert result.smoke_test is not None
    assert result.smoke_test.function_error is None
    assert [s.action for s in result.steps] == ["update", "wait", "smoke_invoke"]


def test_already_on_the_target_is_unchanged(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    result = upgraded(ops_for(moto_lambda).update_runtime("orders-api-prod", "nodejs22.x"))
    assert result.outcome is Outcome.UNCHANGED
    assert result.verified
    assert "UpdateFunctionConfiguration" not in calls


@pytest.mark.parametrize(
    ("function", "target", "failing_check"),
    [
        ("user-profile-api", "nodejs99.x", "target_known"),
        ("user-profile-api", "nodejs20.x", "target_supported"),  # deprecated on 2026-04-30
        ("user-profile-api", "python3.13", "same_family"),
        ("payments-ledger-writer", "java17", "not_downgrade"),
        ("hr-timesheet-api", "dotnet9", "target_is_zip_runtime"),
        ("video-transcode-worker", "nodejs24.x", "zip_package"),
    ],
)
def test_invalid_targets_are_refused_before_any_write(
    moto_lambda: Any, function: str, target: str, failing_check: str
) -> None:
    calls = record_calls(moto_lambda)
    lambda_ops = ops_for(moto_lambda)
    before = moto_lambda.get_function_configuration(FunctionName=function).get("Runtime")
    refused = lambda_ops.update_runtime(function, target)
    assert isinstance(refused, OpsError)
    assert refused.kind is ErrorKind.INVALID_ARGUMENT
    assert "nothing changed" in refused.message
    plan = upgraded(lambda_ops.update_runtime(function, target, dry_run=True))
    assert plan.outcome is Outcome.REFUSED
    assert failing_check in [c.name for c in plan.checks if not c.passed]
    assert "UpdateFunctionConfiguration" not in calls
    assert moto_lambda.get_function_configuration(FunctionName=function).get("Runtime") == before


def test_explicit_permissions_for_downgrades_and_family_changes(moto_lambda: Any) -> None:
    lambda_ops = ops_for(moto_lambda)
    down = upgraded(lambda_ops.update_runtime("payments-ledger-writer", "java17", allow_downgrade=True))
    assert down.outcome is Outcome.SUCCEEDED
    cross = upgraded(
        lambda_ops.update_runtime("geoip-lookup-service", "provided.al2023", allow_cross_family=True)
    )
    assert cross.outcome is Outcome.SUCCEEDED
    assert any("cross-family" in w for w in cross.warnings)


# --- gating: no write call, account unchanged --------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "setting"),
    [(WritePolicy(), ALLOW_WRITES), (WritePolicy.from_values(True, ["sandbox-"]), PREFIXES)],
)
def test_refused_writes_make_no_aws_call(moto_lambda: Any, policy: WritePolicy, setting: str) -> None:
    calls = record_calls(moto_lambda)
    result = ops_for(moto_lambda, policy=policy).update_runtime(
        "user-profile-api", "nodejs24.x", smoke_payload="{}"
    )
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.REFUSED
    assert result.setting == setting
    assert setting in result.message
    assert calls == []
    assert runtime_of(moto_lambda, "user-profile-api") == "nodejs18.x"


def test_a_dry_run_reports_the_policy_without_writing(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    plan = upgraded(
        ops_for(moto_lambda, policy=WritePolicy()).update_runtime(
            "user-profile-api", "nodejs24.x", dry_run=True
        )
    )
    assert plan.outcome is Outcome.REFUSED
    assert [c.name for c in plan.checks if not c.passed] == ["write_policy"]
    assert calls == ["GetFunctionConfiguration"]


def test_the_tag_rule_reads_tags_and_writes_nothing(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    policy = WritePolicy.from_values(True, tag="env=staging")
    result = ops_for(moto_lambda, policy=policy).update_runtime("user-profile-api", "nodejs24.x")
    assert isinstance(result, OpsError)
    assert result.setting == TAG
    assert calls == ["GetFunctionConfiguration", "ListTags"]
    assert runtime_of(moto_lambda, "user-profile-api") == "nodejs18.x"


# --- Stubber: the paths moto can't show ------------------------------------------------------------------


def start(stubber: Any, runtime: str = "nodejs18.x", target: str = "nodejs22.x", **extra: Any) -> None:
    stubber.add_response(
        "get_function_configuration", configuration(NAME, runtime, **extra), {"FunctionName": NAME}
    )
    stubber.add_response(
        "update_function_configuration",
        configuration(NAME, target, status="InProgress", revision="rev-2"),
        {"FunctionName": NAME, "Runtime": target, "RevisionId": "rev-1"},
    )


def poll(
    stubber: Any, runtime: str, status: str, *, reason: str | None = None, revision: str = "rev-2"
) -> None:
    stubber.add_response(
        "get_function_configuration",
        configuration(NAME, runtime, status=status, reason=reason, revision=revision),
        {"FunctionName": NAME},
    )


def smoke(stubber: Any, function_error: str | None) -> None:
    response: dict[str, Any] = {"StatusCode": 200, "Payload": streaming(b'{"errorMessage": "boom"}')}
    if function_error:
        response["FunctionError"] = function_error
    params = {
        "FunctionName": NAME,
        "InvocationType": "RequestResponse",
        "Payload": b'{"ping": 1}',
        "LogType": "None",
    }
    stubber.add_response("invoke", response, params)


def run(stubber_client: Any, clock: FakeClock | None = None, **options: Any) -> UpgradeResult | OpsError:
    target = options.pop("target", "nodejs22.x")
    return ops_for(stubber_client, clock=clock).update_runtime(NAME, target, **options)


def test_in_progress_then_successful() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    start(stubber)
    poll(stubber, "nodejs22.x", "InProgress")
    poll(stubber, "nodejs22.x", "InProgress")
    poll(stubber, "nodejs22.x", "Successful")
    result = upgraded(run(client, clock))
    stubber.assert_no_pending_responses()
    assert result.outcome is Outcome.SUCCEEDED
    assert result.verified
    assert clock.sleeps == [1.0, 1.5]
    assert result.steps[-1].elapsed_s == 2.5


def test_in_progress_then_failed() -> None:
    client, stubber = stubbed_client()
    start(stubber)
    poll(stubber, "nodejs22.x", "InProgress")
    poll(
        stubber,
        "nodejs18.x",
        "Failed",
        reason="The runtime nodejs22.x could not be applied: EniLimitExceeded",
    )
    result = upgraded(run(client))
    assert result.outcome is Outcome.FAILED
    assert not result.verified
    assert "EniLimitExceeded" in result.message
    assert result.final_runtime == "nodejs18.x"


def test_still_in_progress_when_the_budget_runs_out_is_never_a_success() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    start(stubber)
    for _ in range(5):  # polls at 0, 1, 2.5, 4.75 and 5 s
        poll(stubber, "nodejs22.x", "InProgress")
    result = upgraded(run(client, clock, budget_s=5))
    stubber.assert_no_pending_responses()
    assert result.outcome is Outcome.IN_PROGRESS
    assert not result.verified
    assert clock() - 1000.0 == pytest.approx(5.0)
    assert result.how_to_check is not None
    assert "Successful" in result.how_to_check
    assert "not known to have succeeded" in result.message


def test_a_throttled_poll_does_not_end_the_wait() -> None:
    client, stubber = stubbed_client()
    start(stubber)
    stubber.add_client_error(
        "get_function_configuration", **client_error("TooManyRequestsException", status=429)
    )
    poll(stubber, "nodejs22.x", "Successful")
    assert upgraded(run(client)).outcome is Outcome.SUCCEEDED


def test_smoke_failure_rolls_back_and_waits_for_it() -> None:
    client, stubber = stubbed_client()
    start(stubber)
    poll(stubber, "nodejs22.x", "Successful")
    smoke(stubber, "Unhandled")
    stubber.add_response(
        "update_function_configuration",
        configuration(NAME, "nodejs18.x", status="InProgress", revision="rev-3"),
        {"FunctionName": NAME, "Runtime": "nodejs18.x", "RevisionId": "rev-2"},
    )
    poll(stubber, "nodejs18.x", "InProgress", revision="rev-3")
    poll(stubber, "nodejs18.x", "Successful", revision="rev-3")
    result = upgraded(run(client, smoke_payload='{"ping": 1}'))
    stubber.assert_no_pending_responses()
    assert result.outcome is Outcome.ROLLED_BACK
    assert not result.verified
    assert result.final_runtime == "nodejs18.x"
    assert [s.action for s in result.steps] == ["update", "wait", "smoke_invoke", "rollback", "rollback_wait"]
    assert [s.ok for s in result.steps] == [True, True, False, True, True]
    assert result.smoke_test is not None
    assert result.smoke_test.function_error == "Unhandled"


def test_rollback_refused_when_the_old_runtime_is_blocked() -> None:
    client, stubber = stubbed_client()
    start(stubber, runtime="nodejs12.x")  # updates blocked since 2023-04-30
    poll(stubber, "nodejs22.x", "Successful")
    smoke(stubber, "Unhandled")
    result = upgraded(run(client, smoke_payload='{"ping": 1}'))
    stubber.assert_no_pending_responses()  # no rollback call was attempted
    assert result.outcome is Outcome.ROLLBACK_REFUSED
    assert not result.verified
    assert not result.rollback_possible
    assert any("No way back" in w for w in result.warnings)
    assert "rolling back is impossible" in result.message
    assert result.final_runtime == "nodejs22.x"


def test_rollback_rejected_by_aws() -> None:
    client, stubber = stubbed_client()
    start(stubber, runtime="nodejs14.x")
    poll(stubber, "nodejs22.x", "Successful")
    smoke(stubber, "Handled")
    message = "The runtime parameter of nodejs14.x is no longer supported for updating AWS Lambda functions."
    stubber.add_client_error(
        "update_function_configuration", **client_error("InvalidParameterValueException", message)
    )
    result = upgraded(run(client, smoke_payload='{"ping": 1}'))
    assert result.outcome is Outcome.ROLLBACK_FAILED
    assert "no longer supported" in result.message
    assert result.final_runtime == "nodejs22.x"


def test_rollback_not_finished_within_the_budget() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    start(stubber)
    poll(stubber, "nodejs22.x", "Successful")
    smoke(stubber, "Unhandled")
    stubber.add_response(
        "update_function_configuration", configuration(NAME, "nodejs18.x", status="InProgress")
    )
    for _ in range(5):  # polls at 0, 1, 2.5, 4.75 and 6 s
        poll(stubber, "nodejs18.x", "InProgress")
    result = upgraded(run(client, clock, smoke_payload='{"ping": 1}', budget_s=6))
    stubber.assert_no_pending_responses()
    assert result.outcome is Outcome.ROLLBACK_IN_PROGRESS
    assert result.how_to_check


def test_a_smoke_invoke_that_cannot_run_is_not_a_success() -> None:
    client, stubber = stubbed_client()
    start(stubber)
    poll(stubber, "nodejs22.x", "Successful")
    stubber.add_client_error("invoke", **client_error("AccessDeniedException", status=403))
    result = upgraded(run(client, smoke_payload='{"ping": 1}'))
    stubber.assert_no_pending_responses()
    assert result.outcome is Outcome.SMOKE_TEST_ERROR
    assert not result.verified
    assert "lambda:Invoke" in result.message


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("TooManyRequestsException", 429, ErrorKind.THROTTLED),
        ("AccessDeniedException", 403, ErrorKind.ACCESS_DENIED),
        ("ResourceConflictException", 409, ErrorKind.CONFLICT),
    ],
)
def test_a_rejected_update_changes_nothing(code: str, status: int, kind: ErrorKind) -> None:
    client, stubber = stubbed_client()
    stubber.add_response(
        "get_function_configuration", configuration(NAME, "nodejs18.x"), {"FunctionName": NAME}
    )
    stubber.add_client_error("update_function_configuration", **client_error(code, status=status))
    if kind is ErrorKind.CONFLICT:  # ambiguous: read back, and the function is still on its runtime
        poll(stubber, "nodejs18.x", "Successful")
    result = run(client)
    stubber.assert_no_pending_responses()
    assert isinstance(result, OpsError)
    assert result.kind is kind
    assert result.operation == "UpdateFunctionConfiguration"


def test_an_update_refused_on_retry_but_applied_is_followed_through() -> None:
    """A timed-out first attempt that AWS applied makes the standard-mode retry fail (stale RevisionId):
    the function is read back, found on the target, and the upgrade goes on — never "nothing changed"."""
    client, stubber = stubbed_client()
    stubber.add_response(
        "get_function_configuration", configuration(NAME, "nodejs18.x"), {"FunctionName": NAME}
    )
    stubber.add_client_error(
        "update_function_configuration", **client_error("PreconditionFailedException", status=412)
    )
    poll(stubber, "nodejs22.x", "InProgress")  # the read-back
    poll(stubber, "nodejs22.x", "Successful")  # the wait
    result = upgraded(run(client))
    stubber.assert_no_pending_responses()
    assert (result.outcome, result.verified) == (Outcome.SUCCEEDED, True)
    assert result.steps[0].action == "update"
    assert "now reads Runtime=nodejs22.x" in result.steps[0].detail


class Exploding:
    """An invoke client that fails in a way nobody planned for."""

    def invoke(self, **_: Any) -> Any:
        raise RuntimeError("connection pool exploded")


def test_an_unexpected_error_after_the_update_is_reported_not_raised() -> None:
    client, stubber = stubbed_client()
    start(stubber)
    poll(stubber, "nodejs22.x", "Successful")
    ops = ops_for(client)
    ops.clients = LambdaClients.of(client, Exploding())
    result = upgraded(ops.update_runtime(NAME, "nodejs22.x", smoke_payload='{"ping": 1}'))
    stubber.assert_no_pending_responses()
    assert (result.outcome, result.verified) == (Outcome.UNVERIFIED, False)
    assert "connection pool exploded" in result.message
    assert result.how_to_check is not None
    assert "nodejs18.x" in result.how_to_check  # how to roll back by hand


def test_the_smoke_invoke_is_bounded_by_what_is_left_of_the_budget() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    start(stubber)
    poll(stubber, "nodejs22.x", "InProgress")
    poll(stubber, "nodejs22.x", "Successful")  # after 1 s of waiting
    smoke(stubber, None)
    timeouts: list[tuple[str, float]] = []

    def factory(service: str, config: Any, region: str | None) -> Any:
        timeouts.append((service, config.read_timeout))
        return client

    ops = ops_for(client, clock=clock)
    ops.clients = LambdaClients(factory=factory)
    ops.clients._control = client  # the control client stays the stubbed one
    result = upgraded(ops.update_runtime(NAME, "nodejs22.x", smoke_payload='{"ping": 1}', budget_s=12))
    stubber.assert_no_pending_responses()
    assert result.outcome is Outcome.SUCCEEDED
    assert [t for service, t in timeouts if service == "lambda"] == [12 - 1 - ROLLBACK_RESERVE_S]
    # The health read after it (app/lambda_ops/upgrade_health.py) gets a client of its own, bounded too.
    assert [t for service, t in timeouts if service == "cloudwatch"] == [READ_TIMEOUT_S]
    assert result.health is not None
    assert result.verified


def test_no_smoke_test_without_time_left_and_no_success_claimed() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    start(stubber)
    poll(stubber, "nodejs22.x", "InProgress")
    poll(stubber, "nodejs22.x", "Successful")  # after 1 s: 5 - 1 - 4 = 0 s left for the smoke test
    calls = record_calls(client)
    result = upgraded(run(client, clock, smoke_payload='{"ping": 1}', budget_s=5))
    stubber.assert_no_pending_responses()
    assert "invoke" not in [c.lower() for c in calls]
    assert (result.outcome, result.verified) == (Outcome.SMOKE_TEST_ERROR, False)
    assert "no time was left" in result.message


def test_a_busy_function_is_not_touched() -> None:
    client, stubber = stubbed_client()
    stubber.add_response(
        "get_function_configuration",
        configuration(NAME, "nodejs18.x", status="InProgress"),
        {"FunctionName": NAME},
    )
    result = run(client)
    stubber.assert_no_pending_responses()
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.CONFLICT
    assert result.retryable


def test_reading_the_function_can_be_denied() -> None:
    client, stubber = stubbed_client()
    stubber.add_client_error(
        "get_function_configuration", **client_error("AccessDeniedException", status=403)
    )
    result = run(client)
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.ACCESS_DENIED


@pytest.mark.parametrize(
    "options", [{"budget_s": 0}, {"budget_s": 30}, {"smoke_payload": "{oops"}, {"target": " "}]
)
def test_bad_arguments_make_no_aws_call(options: dict[str, Any]) -> None:
    client, _ = stubbed_client()
    calls = record_calls(client)
    result = run(client, **options)
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.INVALID_ARGUMENT
    assert calls == []


def test_a_long_smoke_test_is_flagged_in_the_plan(moto_lambda: Any) -> None:
    plan = upgraded(
        ops_for(moto_lambda).update_runtime(
            "legacy-report-cron", "nodejs24.x", dry_run=True, smoke_payload="{}"
        )
    )
    assert plan.outcome is Outcome.PLANNED
    assert any("reported unverified" in w for w in plan.warnings)


def test_a_rollback_to_a_create_blocked_runtime_is_flagged_as_uncertain(moto_lambda: Any) -> None:
    previous = shipped_catalog().get("nodejs14.x")
    assert previous is not None
    assert previous.block_function_create is not None
    assert previous.block_function_create <= TODAY  # the premise: creating on nodejs14.x is blocked
    plan = upgraded(ops_for(moto_lambda).update_runtime("legacy-report-cron", "nodejs24.x", dry_run=True))
    assert plan.rollback_possible  # updates are not blocked yet...
    assert any("rollback may be refused" in w for w in plan.warnings)  # ...but AWS may refuse it
