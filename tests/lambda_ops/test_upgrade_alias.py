"""update-function-runtime through an alias: production moves only after the new version passed its smoke
test, and only ``verified`` means the alias was read back serving the new runtime."""

from __future__ import annotations

from typing import Any

import pytest

from app.lambda_ops import ErrorKind, OpsError, Outcome, UpgradeResult, WritePolicy
from tests.lambda_ops.helpers import (
    FakeClock,
    arn,
    client_error,
    configuration,
    ops_for,
    record_calls,
    streaming,
    stubbed_client,
)

NAME = "orders-api"
WRITES = {"UpdateFunctionConfiguration", "PublishVersion", "UpdateAlias", "Invoke"}


def upgraded(result: UpgradeResult | OpsError) -> UpgradeResult:
    assert isinstance(result, UpgradeResult), result
    return result


def alias_of(client: Any, function: str, alias: str = "prod") -> dict[str, Any]:
    return dict(client.get_alias(FunctionName=function, Name=alias))


# --- moto: the seeded account's aliases ------------------------------------------------------------------


def test_a_dry_run_plans_the_whole_alias_path_and_writes_nothing(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    result = upgraded(
        ops_for(moto_lambda).update_runtime(
            "fraud-score-model", "python3.13", alias="prod", smoke_payload="{}", dry_run=True
        )
    )
    assert result.outcome is Outcome.PLANNED
    assert not result.verified
    assert "publish" in result.message
    assert "smoke test that version" in result.message
    assert result.alias is not None
    assert (result.alias.version_before, result.alias.runtime_before) == ("1", "python3.9")
    assert result.alias.version_after is None
    assert {"GetAlias", "GetFunctionConfiguration"} <= set(calls)
    assert not WRITES & set(calls)
    assert alias_of(moto_lambda, "fraud-score-model")["FunctionVersion"] == "1"


def test_the_alias_moves_only_after_the_new_version_passed(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    result = upgraded(
        ops_for(moto_lambda).update_runtime(
            "fraud-score-model", "python3.13", alias="prod", smoke_payload="{}"
        )
    )
    assert result.outcome is Outcome.SUCCEEDED
    assert result.verified
    assert result.alias is not None
    new = result.alias.published_version
    assert new is not None
    assert (result.alias.version_after, result.alias.runtime_after) == (new, "python3.13")
    # the order that keeps production safe: publish, test that version, then move the alias
    writes = [c for c in calls if c in WRITES | {"GetAlias"}]
    assert writes[-5:] == [
        "UpdateFunctionConfiguration",
        "PublishVersion",
        "Invoke",
        "UpdateAlias",
        "GetAlias",
    ]
    assert alias_of(moto_lambda, "fraud-score-model")["FunctionVersion"] == new
    version = moto_lambda.get_function_configuration(FunctionName="fraud-score-model", Qualifier=new)
    assert version["Runtime"] == "python3.13"


def test_latest_already_current_publishes_it_and_moves_the_alias(moto_lambda: Any) -> None:
    """The trap the audit shows: $LATEST on nodejs22.x, prod on version 2 (nodejs16.x)."""
    result = upgraded(
        ops_for(moto_lambda).update_runtime("orders-api-prod", "nodejs22.x", alias="prod", smoke_payload="{}")
    )
    assert result.outcome is Outcome.SUCCEEDED
    assert result.alias is not None
    assert (result.alias.version_before, result.alias.runtime_before) == ("2", "nodejs16.x")
    assert result.steps[0].action == "publish"  # no runtime update was needed
    assert alias_of(moto_lambda, "orders-api-prod")["FunctionVersion"] == result.alias.version_after


@pytest.mark.parametrize(
    ("function", "options", "failing"),
    [
        ("checkout-session-handler", {"alias": "prod", "smoke_payload": "{}"}, "alias_not_weighted"),
        ("fraud-score-model", {"alias": "prod"}, "smoke_test_for_alias"),
        ("legacy-pricing-engine", {}, "layers_compatible"),
    ],
)
def test_refusals_are_checks_that_write_nothing(
    moto_lambda: Any, function: str, options: dict[str, Any], failing: str
) -> None:
    target = "python3.13" if function != "checkout-session-handler" else "nodejs22.x"
    calls = record_calls(moto_lambda)
    plan = upgraded(ops_for(moto_lambda).update_runtime(function, target, dry_run=True, **options))
    assert plan.outcome is Outcome.REFUSED
    assert [c.name for c in plan.checks if not c.passed] == [failing]
    refused = ops_for(moto_lambda).update_runtime(function, target, **options)
    assert isinstance(refused, OpsError)
    assert refused.kind is ErrorKind.INVALID_ARGUMENT
    assert not WRITES & set(calls)


def test_a_declared_layer_mismatch_can_be_overridden_explicitly(moto_lambda: Any) -> None:
    plan = upgraded(
        ops_for(moto_lambda).update_runtime(
            "legacy-pricing-engine", "python3.13", dry_run=True, allow_layer_mismatch=True
        )
    )
    assert plan.outcome is Outcome.PLANNED
    layers = next(c for c in plan.checks if c.name == "layers_compatible")
    assert "python3.8" in layers.detail
    assert "allowed" in layers.detail
    assert any("layer version built for python3.13" in w for w in plan.warnings)


def test_an_undeclared_layer_is_a_warning(moto_lambda: Any) -> None:
    plan = upgraded(ops_for(moto_lambda).update_runtime("cost-anomaly-notifier", "python3.13", dry_run=True))
    assert plan.outcome is Outcome.PLANNED
    assert any("acme-common-utils" in w for w in plan.warnings if "declares no compatible runtimes" in w)


def test_code_newer_than_the_alias_is_not_shipped_silently(moto_lambda: Any) -> None:
    moto_lambda.update_function_code(FunctionName="fraud-score-model", ZipFile=b"PK\x05\x06" + b"\0" * 18)
    lambda_ops = ops_for(moto_lambda)
    plan = upgraded(
        lambda_ops.update_runtime(
            "fraud-score-model", "python3.13", alias="prod", smoke_payload="{}", dry_run=True
        )
    )
    assert [c.name for c in plan.checks if not c.passed] == ["alias_code_matches"]
    allowed = upgraded(
        lambda_ops.update_runtime(
            "fraud-score-model",
            "python3.13",
            alias="prod",
            smoke_payload="{}",
            dry_run=True,
            ship_latest_code=True,
        )
    )
    assert allowed.outcome is Outcome.PLANNED


def test_unknown_and_invalid_aliases(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    lambda_ops = ops_for(moto_lambda)
    missing = lambda_ops.update_runtime("fraud-score-model", "python3.13", alias="canary", smoke_payload="{}")
    assert isinstance(missing, OpsError)
    assert missing.kind is ErrorKind.NOT_FOUND
    count = len(calls)
    for bad in ("12", "pr od", "$LATEST", "x" * 129):
        invalid = lambda_ops.update_runtime("fraud-score-model", "python3.13", alias=bad, smoke_payload="{}")
        assert isinstance(invalid, OpsError)
        assert invalid.kind is ErrorKind.INVALID_ARGUMENT
    assert len(calls) == count  # validated before any AWS call
    assert not WRITES & set(calls)


def test_the_write_policy_covers_the_alias_path(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    policy = WritePolicy(allow_writes=True, function_prefixes=("orders-",))
    refused = ops_for(moto_lambda, policy=policy).update_runtime(
        "fraud-score-model", "python3.13", alias="prod", smoke_payload="{}"
    )
    assert isinstance(refused, OpsError)
    assert refused.kind is ErrorKind.REFUSED
    assert calls == []


# --- Stubber: failures on the way ---------------------------------------------------------------------------


def plan_reads(
    stubber: Any, *, latest: str = "nodejs18.x", aliased: str = "nodejs16.x", **alias: Any
) -> None:
    stubber.add_response("get_function_configuration", configuration(NAME, latest), {"FunctionName": NAME})
    stubber.add_response(
        "get_alias",
        {
            "Name": "prod",
            "FunctionVersion": "7",
            "RevisionId": "alias-1",
            "AliasArn": f"{arn(NAME)}:prod",
            **alias,
        },
        {"FunctionName": NAME, "Name": "prod"},
    )
    stubber.add_response(
        "get_function_configuration",
        configuration(NAME, aliased, Version="7"),
        {"FunctionName": NAME, "Qualifier": "7"},
    )
    stubber.add_client_error(
        "get_provisioned_concurrency_config",
        **client_error("ProvisionedConcurrencyConfigNotFoundException", status=404),
    )


def update_and_publish(stubber: Any) -> None:
    stubber.add_response(
        "update_function_configuration",
        configuration(NAME, "nodejs22.x", status="InProgress", revision="rev-2"),
        {"FunctionName": NAME, "Runtime": "nodejs22.x", "RevisionId": "rev-1"},
    )
    stubber.add_response(
        "get_function_configuration",
        configuration(NAME, "nodejs22.x", revision="rev-2"),
        {"FunctionName": NAME},
    )
    stubber.add_response(
        "publish_version",
        configuration(NAME, "nodejs22.x", Version="8", State="Pending"),
        {"FunctionName": NAME, "Description": "runtime nodejs22.x", "RevisionId": "rev-2"},
    )


def version_state(stubber: Any, state: str) -> None:
    stubber.add_response(
        "get_function_configuration",
        configuration(NAME, "nodejs22.x", Version="8", State=state),
        {"FunctionName": NAME, "Qualifier": "8"},
    )


def smoke(stubber: Any, function_error: str | None) -> None:
    response: dict[str, Any] = {"StatusCode": 200, "Payload": streaming(b"{}"), "ExecutedVersion": "8"}
    if function_error:
        response["FunctionError"] = function_error
    params = {
        "FunctionName": NAME,
        "InvocationType": "RequestResponse",
        "Payload": b"{}",
        "LogType": "None",
        "Qualifier": "8",
    }
    stubber.add_response("invoke", response, params)


def run(client: Any, clock: FakeClock | None = None) -> UpgradeResult:
    return upgraded(
        ops_for(client, clock=clock).update_runtime(NAME, "nodejs22.x", alias="prod", smoke_payload="{}")
    )


def test_a_failing_version_leaves_the_alias_and_restores_latest() -> None:
    client, stubber = stubbed_client()
    plan_reads(stubber)
    update_and_publish(stubber)
    version_state(stubber, "Active")
    smoke(stubber, "Unhandled")
    stubber.add_response(
        "update_function_configuration",
        configuration(NAME, "nodejs18.x", status="InProgress", revision="rev-3"),
        {"FunctionName": NAME, "Runtime": "nodejs18.x", "RevisionId": "rev-2"},
    )
    stubber.add_response(
        "get_function_configuration",
        configuration(NAME, "nodejs18.x", revision="rev-3"),
        {"FunctionName": NAME},
    )
    result = run(client)
    stubber.assert_no_pending_responses()  # and no UpdateAlias: the stubber would have refused it
    assert result.outcome is Outcome.ROLLED_BACK
    assert not result.verified
    assert "alias prod was not moved" in result.message
    assert result.alias is not None
    assert (result.alias.published_version, result.alias.version_after) == ("8", None)
    assert [s.action for s in result.steps] == [
        "update", "wait", "publish", "version_wait", "smoke_invoke", "rollback", "rollback_wait",
    ]  # fmt: skip


def test_an_alias_moved_by_someone_else_meanwhile_is_not_overwritten() -> None:
    client, stubber = stubbed_client()
    plan_reads(stubber)
    update_and_publish(stubber)
    version_state(stubber, "Active")
    smoke(stubber, None)
    stubber.add_client_error(
        "update_alias",
        **client_error("PreconditionFailedException", "The RevisionId provided does not match", 412),
        expected_params={
            "FunctionName": NAME,
            "Name": "prod",
            "FunctionVersion": "8",
            "RevisionId": "alias-1",
        },
    )
    result = run(client)
    stubber.assert_no_pending_responses()
    assert result.outcome is Outcome.ALIAS_NOT_MOVED
    assert not result.verified
    assert "RevisionId" in result.message
    assert result.how_to_check is not None


def test_a_version_not_active_within_the_budget_does_not_move_the_alias() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    plan_reads(stubber)
    update_and_publish(stubber)
    for _ in range(12):
        version_state(stubber, "Pending")  # SnapStart: the snapshot takes a while
    result = run(client, clock)
    assert result.outcome is Outcome.ALIAS_NOT_MOVED
    assert "not Active" in result.message
    assert clock.now - 1000.0 <= 20.0 + 1e-9  # inside budget_s


def test_an_alias_read_back_elsewhere_is_not_a_success() -> None:
    client, stubber = stubbed_client()
    plan_reads(stubber)
    update_and_publish(stubber)
    version_state(stubber, "Active")
    smoke(stubber, None)
    stubber.add_response("update_alias", {"Name": "prod", "FunctionVersion": "8"})
    stubber.add_response(
        "get_alias",
        {"Name": "prod", "FunctionVersion": "8", "RoutingConfig": {"AdditionalVersionWeights": {"7": 0.2}}},
    )
    result = run(client)
    assert result.outcome is Outcome.ALIAS_NOT_MOVED
    assert not result.verified


def test_provisioned_concurrency_is_explained() -> None:
    client, stubber = stubbed_client()
    stubber.add_response(
        "get_function_configuration", configuration(NAME, "nodejs18.x"), {"FunctionName": NAME}
    )
    stubber.add_response("get_alias", {"Name": "prod", "FunctionVersion": "7", "RevisionId": "alias-1"})
    stubber.add_response("get_function_configuration", configuration(NAME, "nodejs16.x", Version="7"))
    stubber.add_response(
        "get_provisioned_concurrency_config",
        {"RequestedProvisionedConcurrentExecutions": 25, "Status": "READY"},
        {"FunctionName": NAME, "Qualifier": "prod"},
    )
    plan = upgraded(
        ops_for(client).update_runtime(NAME, "nodejs22.x", alias="prod", smoke_payload="{}", dry_run=True)
    )
    assert plan.outcome is Outcome.PLANNED
    assert plan.alias is not None
    assert plan.alias.provisioned_concurrency == 25
    assert any("25 provisioned concurrency" in w for w in plan.warnings)
