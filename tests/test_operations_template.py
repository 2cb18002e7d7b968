"""template.yaml, part 2: SnapStart (checked in the template SAM's translator produces, offline), access logs,
alarms on the metrics the app really emits, and the dashboard."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.records import outcomes as upgrade_metric
from app.web import observability
from app.web.observability import NAMESPACE
from tests.test_template import load_template

ROOT = Path(__file__).resolve().parent.parent
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"

# aws-sam-translator pins its own pydantic (not the Lambda lock's): it runs in .venv-tools, as SAM does.
_TRANSLATE = r"""
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():  # as sam package leaves them
    if resource["Type"] == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://artifacts/function.zip"
class NoManagedPolicies:
    def load(self): return {}
print(json.dumps(transform(template, {}, NoManagedPolicies()), default=str))
"""


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    if not TOOLS_PYTHON.exists():
        pytest.fail(f"{TOOLS_PYTHON} is missing: run `make tools` first (make test does)")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [str(TOOLS_PYTHON), "-c", _TRANSLATE, str(ROOT / "template.yaml")],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    resources: dict[str, Any] = json.loads(done.stdout)["Resources"]
    return resources


def of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


@pytest.fixture
def template() -> dict[str, Any]:
    return load_template()


def test_snapstart_on_published_versions_old_versions_deleted(translated: dict[str, Any]) -> None:
    function = translated["McpFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    versions = {n: v for n, v in of_type(translated, "AWS::Lambda::Version").items() if n.startswith("Mcp")}
    ((version_id, version),) = versions.items()
    assert version["DeletionPolicy"] == "Delete"
    alias = translated["McpFunctionAliaslive"]
    assert alias["Properties"]["Name"] == "live"
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def test_the_api_invokes_the_alias_not_the_unpublished_function(
    template: dict[str, Any], translated: dict[str, Any]
) -> None:
    (api,) = of_type(translated, "AWS::ApiGatewayV2::Api").values()
    paths = api["Properties"]["Body"]["paths"]
    events = template["Resources"]["McpFunction"]["Properties"]["Events"].values()
    assert set(paths) == {event["Properties"]["Path"] for event in events} >= {"/mcp", "/mcp/{proxy+}"}
    for path in paths.values():
        uri = path["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        assert "${McpFunctionAliaslive}" in uri
    permissions = of_type(translated, "AWS::Lambda::Permission")
    assert len(permissions) == len(paths)
    assert all(
        p["Properties"]["FunctionName"] == {"Ref": "McpFunctionAliaslive"} for p in permissions.values()
    )


def test_snapstart_constraints_hold(template: dict[str, Any]) -> None:
    """SnapStart: python3.12+, no provisioned concurrency, no EFS, ephemeral storage ≤ 512 MB."""
    props = template["Resources"]["McpFunction"]["Properties"]
    assert props["AutoPublishAliasAllProperties"] is True
    assert props["Runtime"] in {"python3.12", "python3.13", "python3.14"}
    assert not {"ProvisionedConcurrencyConfig", "FileSystemConfigs"} & set(props)
    assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512


def test_api_access_logs_go_to_a_group_with_retention(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    settings = resources["McpApi"]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(settings["Format"])
    assert fields["requestId"] == "$context.requestId"  # joins the function's correlation_id
    assert {"status", "integrationError", "latency"} <= set(fields)
    assert resources["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in of_type(template["Resources"], "AWS::CloudWatch::Alarm").items()}


def test_every_alarm_notifies_the_topic_and_names_its_runbook_section(template: dict[str, Any]) -> None:
    found = alarms(template)
    assert len(found) == 9
    anchors = _anchors((ROOT / "docs" / "runbook.md").read_text())
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        anchor = alarm["AlarmDescription"].split("docs/runbook.md#", 1)[1].split()[0]
        assert anchor in anchors, (name, anchor)
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "AlarmEmailGiven"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("## ")]
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_the_aws_metric_alarms(template: dict[str, Any]) -> None:
    found = alarms(template)
    watched = {(a.get("Namespace"), a.get("MetricName")) for a in found.values()}
    assert {("AWS/ApiGateway", "5xx"), ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles")} <= watched
    assert found["LatencyP99Alarm"]["ExtendedStatistic"] == "p99"


def test_the_tool_error_rate_counts_the_emf_records_the_app_prints(
    template: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The metric filters' patterns, evaluated on the EMF lines a real tools/call prints."""
    from app.config import Settings
    from app.handler import build_handler
    from tests.helpers import LEGACY, LambdaContext, event, request

    handler = build_handler(Settings(auth_mode="none"))  # sign-in has its own metric (AuthFailures)
    capsys.readouterr()
    for name in ("ping", "no-such-tool"):
        message = request("tools/call", {"name": name, "arguments": {}})
        handler(event(body=message, headers={"mcp-protocol-version": LEGACY}), LambdaContext())
    emf = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x and "Requests" in x]
    resources = template["Resources"]
    calls = resources["ToolCallsMetricFilter"]["Properties"]["FilterPattern"]
    errors = resources["ToolCallErrorsMetricFilter"]["Properties"]["FilterPattern"]
    assert [_matches(calls, line) for line in emf] == [True, True]
    assert [_matches(errors, line) for line in emf] == [False, True]
    for name in ("ToolCallsMetricFilter", "ToolCallErrorsMetricFilter"):
        assert resources[name]["Properties"]["MetricTransformations"][0]["MetricNamespace"] == NAMESPACE


def _matches(pattern: str, record: dict[str, Any]) -> bool:
    """The two clause forms these filters use: `$.key = "text"` and `$.key[0] = number`, joined by &&."""
    for clause in pattern.strip("{} ").split("&&"):
        path, value = (part.strip() for part in clause.split("="))
        key, _, index = path.removeprefix("$.").partition("[")
        actual = record.get(key)
        if index:
            actual = actual[int(index.rstrip("]"))] if isinstance(actual, list) else None
            if actual != float(value):
                return False
        elif actual != json.loads(value):
            return False
    return True


def test_the_upgrade_alarm_watches_the_outcomes_the_app_counts(template: dict[str, Any]) -> None:
    queries = alarms(template)["UpgradeNotVerifiedAlarm"]["Metrics"]
    watched = set()
    for query in queries:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            assert (metric["Namespace"], metric["MetricName"]) == (NAMESPACE, upgrade_metric.METRIC)
            dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert dims["service"] == upgrade_metric.SERVICE
            watched.add(dims["outcome"])
            assert query["Id"] in next(q["Expression"] for q in queries if "Expression" in q)
    assert watched == {outcome.value for outcome in upgrade_metric.ALARMING}


def test_the_sign_in_alarm_sums_the_metric_the_edge_emits(template: dict[str, Any]) -> None:
    (query,) = alarms(template)["SignInFailuresAlarm"]["Metrics"]
    assert query["Expression"] == f"SELECT SUM({observability.AUTH_FAILURES}) FROM {observability.NAMESPACE}"


def test_the_dashboard_is_json_and_shows_every_alarm(template: dict[str, Any]) -> None:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(body)
    titles = [w["properties"]["title"] for w in dashboard["widgets"]]
    assert "Latency by tool, p99 (ms)" in titles
    (status,) = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    assert {a.split(".")[0].removeprefix("${") for a in status["properties"]["alarms"]} == set(
        alarms(template)
    )
    assert "{LambdaOpsMcp,method,service,tool}" in body
