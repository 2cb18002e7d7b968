"""template.yaml's tasks: the table as the issue asks for it, the worker as a durable function, and least
privilege on both sides — what each role is granted is exactly what the code calls (read from the source),
and loosened copies are caught."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from tests.test_template import (
    FLEET_CONDITIONS,
    READ_ACTIONS,
    WRITE_ACTIONS,
    as_list,
    for_tasks,
    load_template,
    statements,
)

ROOT = Path(__file__).resolve().parent.parent
TABLE = {"Fn::GetAtt": "TasksTable.Arn"}
WORKER_EXECUTIONS = {"Fn::Sub": "${WorkerFunction.Arn}:*"}


@pytest.fixture
def template() -> dict[str, Any]:
    return load_template()


def _getatt(value: Any) -> Any:
    """``!GetAtt A.B`` loads as {"Fn::GetAtt": "A.B"} or ["A", "B"]: one form."""
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
        return {"Fn::GetAtt": ".".join(value["Fn::GetAtt"])}
    return value


def function_statements(template: dict[str, Any], name: str) -> list[tuple[str | None, dict[str, Any]]]:
    found = []
    for policy in template["Resources"][name]["Properties"]["Policies"]:
        for item in policy["Statement"]:
            if "Fn::If" in item:
                condition, when_true, _ = item["Fn::If"]
                found.append((condition, when_true))
            else:
                found.append((None, item))
    return found


def task_grant_problems(template: dict[str, Any]) -> list[str]:
    """The server's task statements: exactly the table's items, the worker's alias, its executions."""
    expected = {
        (("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), repr(TABLE)),
        (("lambda:InvokeFunction",), repr({"Ref": "WorkerFunctionAliaslive"})),
        (
            ("lambda:GetDurableExecution", "lambda:SendDurableExecutionCallbackSuccess",
             "lambda:StopDurableExecution"),
            repr(WORKER_EXECUTIONS),
        ),
        (("lambda:ListDurableExecutionsByFunction",), repr({"Fn::GetAtt": "WorkerFunction.Arn"})),
    }  # fmt: skip
    found = set()
    for condition, statement in statements(template):
        if not for_tasks(statement):
            continue
        if condition is not None or statement.get("Effect") != "Allow":
            return [f"unexpected task statement form: {statement}"]
        found.add((tuple(sorted(as_list(statement["Action"]))), repr(_getatt(statement["Resource"]))))
    return [f"missing: {e}" for e in sorted(expected - found)] + [
        f"extra: {f}" for f in sorted(found - expected)
    ]


def test_the_table_is_on_demand_expiring_recoverable_encrypted_and_retained(template: dict[str, Any]) -> None:
    table = template["Resources"]["TasksTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "task_id", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "TableName" not in props  # generated: a new stack of the same name never meets a retained table


def test_the_worker_is_a_durable_function_on_an_alias(template: dict[str, Any]) -> None:
    worker = template["Resources"]["WorkerFunction"]
    props = worker["Properties"]
    assert worker["Metadata"]["BuildMethod"] == "makefile"
    assert (props["Runtime"], props["Architectures"], props["Handler"]) == (
        "python3.13", ["arm64"], "app.worker.handler.handler"
    )  # fmt: skip
    assert props["AutoPublishAlias"] == "live"
    durable = props["DurableConfig"]
    assert 3600 < durable["ExecutionTimeout"] <= 31_622_400  # above the longest wait (60 min)
    assert 1 <= durable["RetentionPeriodInDays"] <= 90
    assert props["Timeout"] == 900
    assert "Events" not in props  # nothing but the server starts it
    assert "SnapStart" not in props
    assert props["PermissionsBoundary"] == {
        "Fn::If": ["BoundaryGiven", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
    }
    server = template["Resources"]["McpFunction"]["Properties"]["Environment"]["Variables"]
    assert server["LAMBDA_OPS_TASKS_TABLE"] == {"Ref": "TasksTable"}
    assert server["LAMBDA_OPS_WORKER_FUNCTION"] == {"Ref": "WorkerFunctionAliaslive"}
    variables = props["Environment"]["Variables"]
    assert variables["LAMBDA_OPS_TASKS_TABLE"] == {"Ref": "TasksTable"}
    for gate in ("LAMBDA_OPS_ALLOW_WRITES", "LAMBDA_OPS_WRITE_FUNCTION_PREFIXES", "LAMBDA_OPS_WRITE_TAG"):
        assert variables[gate] == server[gate]  # the worker applies the same write policy
    assert "WorkerFunction" not in str(template["Resources"]["WorkerFunction"]["Properties"]["Environment"])
    assert "McpFunction" not in str(props)  # no cycle: the server's name reaches the worker in each order


def test_the_server_may_use_its_tasks_and_nothing_more(template: dict[str, Any]) -> None:
    assert task_grant_problems(template) == []


@pytest.mark.parametrize(
    "loosen",
    [
        lambda s: s.__setitem__("Resource", "*"),
        lambda s: s["Action"].append("dynamodb:Scan"),
        lambda s: s.__setitem__("Action", "dynamodb:*"),
    ],
)
def test_a_loosened_task_grant_is_caught(template: dict[str, Any], loosen: Any) -> None:
    broken = copy.deepcopy(template)
    for policy in broken["Resources"]["McpFunction"]["Properties"]["Policies"]:
        for statement in policy["Statement"]:
            if statement.get("Sid") == "TaskRecords":
                loosen(statement)
    assert task_grant_problems(broken) != []


def called(module: str) -> set[str]:
    """The boto3 methods ``app/<module>`` calls on its client (``self._client().x(``), from the source."""
    return set(re.findall(r"self\._client\(\)\.([a-z_]+)\(", (ROOT / "app" / module).read_text()))


def action(service: str, method: str) -> str:
    name = "".join(word.title() for word in method.split("_"))
    return f"{service}:{'InvokeFunction' if name == 'Invoke' else name}"


def test_what_the_task_code_calls_is_exactly_what_is_granted(template: dict[str, Any]) -> None:
    table_calls = {action("dynamodb", m) for m in called("tasks/store.py")}
    engine_calls = {action("lambda", m) for m in called("tasks/engine.py")}
    server = {a for _, s in statements(template) if for_tasks(s) for a in as_list(s["Action"])}
    assert table_calls == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert server == table_calls | engine_calls
    # the worker writes its tasks' progress and outcome, never creates one
    worker = {
        a
        for c, s in function_statements(template, "WorkerFunction")
        if c not in FLEET_CONDITIONS  # tests/fleet/test_fleet_template.py
        for a in as_list(s["Action"])
    }
    assert worker == READ_ACTIONS | WRITE_ACTIONS | {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "cloudwatch:GetMetricData",
        "cloudwatch:DescribeAlarms",  # a campaign's alarm gates
    }


def test_the_worker_writes_only_with_the_write_gate_and_prefix(template: dict[str, Any]) -> None:
    for condition, statement in function_statements(template, "WorkerFunction"):
        actions = set(as_list(statement["Action"]))
        if condition in FLEET_CONDITIONS:  # tests/fleet/test_fleet_template.py: no write among them
            assert not actions & WRITE_ACTIONS
            continue
        if actions & WRITE_ACTIONS:
            assert condition == "WritesAllowed", statement
            assert statement["Resource"] == {
                "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                "${WriteFunctionPrefix}*"
            }
        elif actions <= {"dynamodb:GetItem", "dynamodb:UpdateItem"}:
            assert _getatt(statement["Resource"]) == TABLE
        elif actions in ({"cloudwatch:GetMetricData"}, {"cloudwatch:DescribeAlarms"}):  # reads on "*"
            assert statement["Resource"] == "*"
        elif actions != {"lambda:ListFunctions"}:
            assert "*" not in str(statement["Resource"]).replace(":function:*", "").replace(
                ":*:layer:*:*", ""
            )


def test_failed_tasks_and_worker_errors_are_alarmed(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    query = resources["TaskFailuresAlarm"]["Properties"]["Metrics"][0]["Expression"]
    from app.tasks.metrics import METRIC, NAMESPACE

    assert query == f"SELECT SUM({METRIC}) FROM {NAMESPACE} WHERE event = 'failed'"
    errors = resources["WorkerErrorsAlarm"]["Properties"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "WorkerFunction"}}]
    outputs = template["Outputs"]
    assert outputs["TasksTableName"]["Value"] == {"Ref": "TasksTable"}
    assert outputs["WorkerAlias"]["Value"] == {"Ref": "WorkerFunctionAliaslive"}


def test_the_campaign_gates_read_alarms_in_the_worker_only(template: dict[str, Any]) -> None:
    """What the campaign's code calls on CloudWatch: GetMetricData (granted for health) and DescribeAlarms,
    the worker's last statement; the server plans without reading alarms."""
    gates = (ROOT / "app" / "lambda_ops" / "upgrade" / "gates.py").read_text()
    assert set(re.findall(r"cloudwatch\.([a-z_]+)\(", gates)) == {"describe_alarms"}  # and get_metric_data(
    worker = function_statements(template, "WorkerFunction")
    condition, last = worker[-1]
    assert condition is None
    assert (last["Sid"], last["Effect"], last["Action"], last["Resource"]) == (
        "ReadCampaignAlarms",
        "Allow",
        "cloudwatch:DescribeAlarms",
        "*",
    )
    server = {a for _, s in statements(template) for a in as_list(s["Action"])}
    assert "cloudwatch:DescribeAlarms" not in server
    for shipped in ("lambda:PublishVersion", "lambda:UpdateAlias"):  # the alias path's, already granted
        assert any(shipped in as_list(s["Action"]) for _, s in worker)
