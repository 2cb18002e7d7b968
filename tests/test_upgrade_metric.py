"""The UpgradeOutcome EMF metric the upgrade alarm watches (template.yaml UpgradeNotVerifiedAlarm)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.lambda_ops.upgrade.plan import Outcome
from app.records import outcomes as upgrade_metric
from app.web.observability import NAMESPACE, SERVICE
from tests.lambda_ops.test_upgrade import client_error, poll, run, smoke, start, stubbed_client, upgraded
from tests.test_tools import call


def _emf(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    return [x for x in lines if upgrade_metric.METRIC in x]


def test_namespace_and_service_are_the_request_metrics() -> None:
    assert (upgrade_metric.NAMESPACE, upgrade_metric.SERVICE) == (NAMESPACE, SERVICE)


def test_a_rollback_that_failed_is_counted_with_its_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    client, stubber = stubbed_client()
    start(stubber, runtime="nodejs14.x")
    poll(stubber, "nodejs22.x", "Successful")
    smoke(stubber, "Handled")
    stubber.add_client_error(
        "update_function_configuration",
        **client_error("InvalidParameterValueException", "no longer supported"),
    )
    result = upgraded(run(client, smoke_payload='{"ping": 1}'))
    assert result.outcome is Outcome.ROLLBACK_FAILED
    capsys.readouterr()
    upgrade_metric.record(result)
    (line,) = _emf(capsys.readouterr().out)
    definition = line["_aws"]["CloudWatchMetrics"][0]
    assert definition["Namespace"] == "LambdaOpsMcp"
    assert definition["Dimensions"] == [["service", "outcome"]]
    assert (line["outcome"], line["UpgradeOutcome"]) == ("rollback_failed", [1.0])
    assert Outcome.ROLLBACK_FAILED in upgrade_metric.ALARMING


def test_the_tool_counts_real_upgrades_and_not_dry_runs(
    moto_lambda: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "legacy-report-cron"
    capsys.readouterr()
    call(moto_lambda, "update-function-runtime", {"name": name, "target_runtime": "nodejs22.x"})
    assert _emf(capsys.readouterr().out) == []  # a dry run changes nothing: not counted
    call(
        moto_lambda,
        "update-function-runtime",
        {"name": name, "target_runtime": "nodejs22.x", "dry_run": False},
    )
    (line,) = _emf(capsys.readouterr().out)
    assert line["outcome"] == "succeeded"


def test_the_alarmed_outcomes_are_the_unverified_ones() -> None:
    assert {o.value for o in upgrade_metric.ALARMING} == {"rollback_failed", "rollback_refused", "unverified"}
