"""The fleet's IAM, parsed: infra/member-roles.yaml's trust (only the server's and the worker's execution
roles, by exact ARN, only the three STS actions) and permissions (exactly what the tools call), and
template.yaml's fleet statements (only the two member role names, only inside the organization; the
organization's list, enabled regions and the Config aggregator only when configured). Loosened copies are
caught."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from app.fleet.config import FleetConfig
from tests.cfn import load_cfn
from tests.test_tasks_template import function_statements
from tests.test_template import (
    HEALTH_ACTIONS,
    READ_ACTIONS,
    WRITE_ACTIONS,
    as_list,
    load_template,
)

ROOT = Path(__file__).resolve().parents[2]
MEMBER = ROOT / "infra" / "member-roles.yaml"
STS_ACTIONS = {"sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"}
ROOT_OF_SERVER = {
    "Fn::Sub": [
        "arn:${AWS::Partition}:iam::${Account}:root",
        {"Account": {"Fn::Select": [4, {"Fn::Split": [":", {"Ref": "ServerRoleArn"}]}]}},
    ]
}
MEMBER_FUNCTIONS = "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:"
LAYERS = "arn:${AWS::Partition}:lambda:*:*:layer:*:*"
LOGS = "arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:/aws/lambda/*"


def member() -> dict[str, Any]:
    return load_cfn(MEMBER)


def roles(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in stack["Resources"].items() if r["Type"] == "AWS::IAM::Role"}


def check_member_trust(stack: dict[str, Any]) -> None:
    """Raises AssertionError where a member role could be assumed by anything more than the two roles."""
    found = roles(stack)
    assert set(found) == {"ReaderRole", "WriterRole"}
    for name, role in found.items():
        statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert len(statements) == 1, name
        (statement,) = statements
        assert set(statement) == {"Sid", "Effect", "Principal", "Action", "Condition"}, name
        assert statement["Effect"] == "Allow", name
        assert statement["Principal"] == {"AWS": ROOT_OF_SERVER}, name  # the server's account, then the ARN
        assert set(as_list(statement["Action"])) == STS_ACTIONS, name
        condition = statement["Condition"]
        assert set(condition) == {"ArnEquals", "Null"}, name  # no ArnLike, StringLike, ForAnyValue
        assert condition["ArnEquals"] == {
            "aws:PrincipalArn": [{"Ref": "ServerRoleArn"}, {"Ref": "WorkerRoleArn"}]
        }
        assert condition["Null"] == {"sts:SourceIdentity": "false"}, name
    parameters = stack["Parameters"]
    for name in ("ServerRoleArn", "WorkerRoleArn"):
        assert "Default" not in parameters[name]
        pattern = parameters[name]["AllowedPattern"]
        assert re.fullmatch(pattern, "arn:aws:iam::123456789012:role/stack-McpFunctionRole-AbC")
        for loose in ("arn:aws:iam::123456789012:role/*", "arn:aws:iam::*:role/x", "*"):
            assert not re.fullmatch(pattern, loose), loose  # one exact role


def test_member_roles_trust_exactly_the_server_and_the_worker() -> None:
    check_member_trust(member())


@pytest.mark.parametrize(
    "breakage",
    [
        lambda s: s.__setitem__("Principal", {"AWS": "*"}),
        lambda s: s.__setitem__("Principal", {"Service": "lambda.amazonaws.com"}),
        lambda s: s["Action"].append("sts:AssumeRoleWithWebIdentity"),
        lambda s: s.__setitem__("Action", "sts:*"),
        lambda s: s["Condition"].__setitem__("ArnLike", s["Condition"].pop("ArnEquals")),
        lambda s: s["Condition"]["ArnEquals"].__setitem__(
            "aws:PrincipalArn", [{"Ref": "ServerRoleArn"}, "arn:aws:iam::123456789012:role/*"]
        ),
        lambda s: s["Condition"].pop("Null"),
        lambda s: s.pop("Condition"),
    ],
)
def test_the_trust_check_catches_a_loosened_member_role(breakage: Any) -> None:
    stack = copy.deepcopy(member())
    for role in ("ReaderRole", "WriterRole"):
        broken = copy.deepcopy(stack)
        statement = broken["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        breakage(statement)
        with pytest.raises((AssertionError, KeyError)):
            check_member_trust(broken)


def grants(role: dict[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}  # no NotAction, no Condition
            for action in as_list(statement["Action"]):
                resource = statement["Resource"]
                found.add((action, resource if isinstance(resource, str) else resource["Fn::Sub"]))
    return found


READS = {("lambda:ListFunctions", "*"), ("lambda:GetLayerVersion", LAYERS), ("cloudwatch:GetMetricData", "*")}
READS |= {
    (a, MEMBER_FUNCTIONS + "*") for a in READ_ACTIONS - {"lambda:ListFunctions", "lambda:GetLayerVersion"}
}


def test_the_reader_may_read_what_the_tools_read_and_nothing_else() -> None:
    reader = grants(roles(member())["ReaderRole"])
    expected = READS | {("logs:StartQuery", LOGS), ("logs:FilterLogEvents", LOGS)}
    expected |= {("logs:GetQueryResults", "*"), ("logs:StopQuery", "*"), ("ec2:DescribeRegions", "*")}
    assert reader == expected
    assert {a for a, _ in reader} == READ_ACTIONS | HEALTH_ACTIONS | {"ec2:DescribeRegions"}


def test_the_writer_is_optional_and_writes_only_the_prefix() -> None:
    stack = member()
    writer = roles(stack)["WriterRole"]
    assert writer["Condition"] == "WritesAllowed"
    assert stack["Conditions"]["WritesAllowed"] == {"Fn::Equals": [{"Ref": "AllowWrites"}, "true"]}
    assert stack["Parameters"]["AllowWrites"]["Default"] == "false"
    rule = stack["Rules"]["WritesNeedAFunctionPrefix"]
    assert rule["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WriteFunctionPrefix"}, ""]}]
    }
    granted = grants(writer)
    writes = {(a, r) for a, r in granted if a in WRITE_ACTIONS}
    assert writes == {(a, MEMBER_FUNCTIONS + "${WriteFunctionPrefix}*") for a in WRITE_ACTIONS}
    # the reads, and a campaign's alarm gates (DescribeAlarms must be "*" to see composite alarms)
    assert granted - writes == READS | {("cloudwatch:DescribeAlarms", "*")}


def test_the_member_stack_outputs_its_role_arns_and_the_names_match_the_server() -> None:
    stack = member()
    assert stack["Outputs"]["ReaderRoleArn"]["Value"] == {"Fn::GetAtt": ["ReaderRole", "Arn"]}
    assert stack["Outputs"]["WriterRoleArn"]["Condition"] == "WritesAllowed"
    parameters = stack["Parameters"]
    defaults = FleetConfig()
    assert parameters["ReaderRoleName"]["Default"] == defaults.member_role
    assert parameters["WriterRoleName"]["Default"] == defaults.member_write_role
    template = load_template()["Parameters"]
    assert template["MemberRole"]["Default"] == defaults.member_role
    assert template["MemberWriteRole"]["Default"] == defaults.member_write_role


# --- template.yaml ------------------------------------------------------------------------------------------

ORGANIZATIONS = {
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListChildren",
}
FLEET_EXPECTED = {
    "FleetConfigured": (
        STS_ACTIONS,
        [
            {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRole}"},
            {  # the writer role only when this deployment may write
                "Fn::If": [
                    "WritesAllowed",
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberWriteRole}"},
                    {"Ref": "AWS::NoValue"},
                ]
            },
        ],
        {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrganizationId"}}},
    ),
    "FleetFromOrganization": (ORGANIZATIONS, ["*"], None),
    "FleetRegionsEnabled": ({"ec2:DescribeRegions"}, ["*"], None),
    "ConfigAggregatorGiven": (
        {"config:SelectAggregateResourceConfig"},
        [{"Fn::Sub": "arn:${AWS::Partition}:config:${AWS::Region}:${AWS::AccountId}:config-aggregator/*"}],
        None,
    ),
}
HOME_REGIONS = {
    (frozenset(READ_ACTIONS - {"lambda:ListFunctions", "lambda:GetLayerVersion"}), MEMBER_FUNCTIONS + "*"),
    (frozenset({"lambda:GetLayerVersion"}), LAYERS),
    (frozenset({"logs:StartQuery", "logs:FilterLogEvents"}), LOGS),
}


def fleet_problems(template: dict[str, Any], function: str) -> list[str]:
    problems: list[str] = []
    conditions = template["Conditions"]
    expected_conditions = {
        "FleetConfigured": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Accounts"}, ""]}]},
        "FleetFromOrganization": {
            "Fn::Equals": [{"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "Accounts"}]}]}, "organization"]
        },
        "FleetRegionsEnabled": {"Fn::Equals": [{"Ref": "Regions"}, "enabled"]},
        "FleetRegionsConfigured": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Regions"}, ""]}]},
        "ConfigAggregatorGiven": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ConfigAggregator"}, ""]}]},
    }
    for name, value in expected_conditions.items():
        if conditions.get(name) != value:
            problems.append(f"condition {name} is {conditions.get(name)}")
    seen: set[str] = set()
    for condition, statement in function_statements(template, function):
        if condition not in expected_conditions:
            continue
        if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
            problems.append(f"unexpected statement form: {statement}")
        actions, resources = set(as_list(statement["Action"])), as_list(statement["Resource"])
        if condition == "FleetRegionsConfigured":
            shape = (frozenset(actions), resources[0]["Fn::Sub"] if isinstance(resources[0], dict) else "")
            if shape not in HOME_REGIONS or len(resources) != 1 or "Condition" in statement:
                problems.append(f"home-account reads in every region beyond the read set: {statement}")
            continue
        seen.add(condition)
        want_actions, want_resources, want_condition = FLEET_EXPECTED[condition]
        if (actions, resources, statement.get("Condition")) != (want_actions, want_resources, want_condition):
            problems.append(f"{condition}: {statement}")
    expected = set(FLEET_EXPECTED) - ({"ConfigAggregatorGiven"} if function == "WorkerFunction" else set())
    if function == "WorkerFunction" and "ConfigAggregatorGiven" in seen:
        problems.append("the worker never reads the Config aggregator: it must not be granted it")
    missing = expected - seen
    return problems + [f"missing statement under {m}" for m in sorted(missing)]


@pytest.mark.parametrize("function", ["McpFunction", "WorkerFunction"])
def test_the_functions_may_assume_only_the_member_roles_inside_the_organization(function: str) -> None:
    assert fleet_problems(load_template(), function) == []


def statement_under(template: dict[str, Any], function: str, condition: str) -> dict[str, Any]:
    for item in template["Resources"][function]["Properties"]["Policies"][0]["Statement"]:
        if "Fn::If" in item and item["Fn::If"][0] == condition:
            found: dict[str, Any] = item["Fn::If"][1]
            return found
    raise KeyError(condition)


@pytest.mark.parametrize(
    ("condition", "breakage"),
    [
        (
            "FleetConfigured",
            lambda s: s.__setitem__("Resource", {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/*"}),
        ),
        ("FleetConfigured", lambda s: s.pop("Condition")),
        ("FleetConfigured", lambda s: s["Condition"]["StringEquals"].__setitem__("aws:ResourceOrgID", "*")),
        ("FleetConfigured", lambda s: s.__setitem__("Action", "sts:*")),
        ("FleetFromOrganization", lambda s: s["Action"].append("organizations:DescribeOrganization")),
        ("FleetRegionsEnabled", lambda s: s.__setitem__("Action", "ec2:Describe*")),
        ("FleetRegionsConfigured", lambda s: s.__setitem__("Action", "lambda:*")),
        ("ConfigAggregatorGiven", lambda s: s.__setitem__("Resource", "*")),
    ],
)
def test_the_fleet_check_catches_a_loosened_grant(condition: str, breakage: Any) -> None:
    # the worker never reads the Config aggregator: it holds no statement under that condition
    functions = (
        ("McpFunction",) if condition == "ConfigAggregatorGiven" else ("McpFunction", "WorkerFunction")
    )
    for function in functions:
        broken = copy.deepcopy(load_template())
        breakage(statement_under(broken, function, condition))
        assert fleet_problems(broken, function) != [], (function, condition)


def test_organizations_is_read_only_when_accounts_says_organization() -> None:
    conditions = load_template()["Conditions"]
    assert conditions["FleetFromOrganization"] == {
        "Fn::Equals": [{"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "Accounts"}]}]}, "organization"]
    }
    broken = copy.deepcopy(load_template())
    broken["Conditions"]["FleetFromOrganization"] = {"Fn::Equals": ["a", "a"]}
    assert fleet_problems(broken, "McpFunction") != []


def test_the_template_hands_the_fleet_to_both_functions_and_needs_an_organization() -> None:
    template = load_template()
    resources = template["Resources"]
    for function in ("McpFunction", "WorkerFunction"):
        variables = resources[function]["Properties"]["Environment"]["Variables"]
        assert variables["LAMBDA_OPS_ACCOUNTS"] == {"Ref": "Accounts"}
        assert variables["LAMBDA_OPS_REGIONS"] == {"Ref": "Regions"}
        assert variables["LAMBDA_OPS_MEMBER_ROLE"] == {"Ref": "MemberRole"}
        assert variables["LAMBDA_OPS_MEMBER_WRITE_ROLE"] == {"Ref": "MemberWriteRole"}
        assert variables["LAMBDA_OPS_CONFIG_AGGREGATOR"] == {"Ref": "ConfigAggregator"}
    rule = template["Rules"]["FleetNeedsAnOrganization"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "Accounts"}, ""]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "OrganizationId"}, ""]}]}
    outputs = template["Outputs"]
    assert outputs["ServerRoleArn"]["Value"] == {"Fn::GetAtt": ["McpFunctionRole", "Arn"]}
    assert outputs["WorkerRoleArn"]["Value"] == {"Fn::GetAtt": ["WorkerFunctionRole", "Arn"]}


def test_the_parameter_patterns_agree_with_the_settings() -> None:
    from app.config import Settings

    parameters = load_template()["Parameters"]
    accepted = {
        "Accounts": ["", "organization", "organization:ou-ab12-cdef5678", "111111111111,222222222222"],
        "Regions": ["", "enabled", "us-east-1,eu-west-1"],
    }
    for name, values in accepted.items():
        for value in values:
            assert re.fullmatch(parameters[name]["AllowedPattern"], value), (name, value)
            Settings.model_validate({name.lower(): value})
    for bad in ("organization,111111111111", "11111", "111111111111, 222222222222"):
        assert not re.fullmatch(parameters["Accounts"]["AllowedPattern"], bad), bad
