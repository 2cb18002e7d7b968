"""template.yaml: what the deployment promises (runtime, tracing, logs, least privilege, no cycle, settings).

The checks are functions over the parsed template; each is also run on a broken copy to show it can fail.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import Settings
from tests.cfn import CfnLoader

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
READ_ACTIONS = {
    "lambda:ListFunctions",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:ListTags",
    "lambda:GetFunctionConcurrency",
    "lambda:ListAliases",
    "lambda:GetAlias",
    "lambda:GetProvisionedConcurrencyConfig",
    "lambda:GetLayerVersion",
}
WRITE_ACTIONS = {
    "lambda:InvokeFunction",
    "lambda:UpdateFunctionConfiguration",
    "lambda:PublishVersion",
    "lambda:UpdateAlias",
}
LAYER_VERSION_ARN = "arn:${AWS::Partition}:lambda:${AWS::Region}:*:layer:*:*"
SECRET_ACTIONS = {"secretsmanager:GetSecretValue"}
FUNCTION_ARN = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
# Function health (issue 15): metrics (GetMetricData has no resource type), the log search on log groups,
# and a started query's results and cancellation (by query id: no resource type either).
METRIC_ACTIONS = {"cloudwatch:GetMetricData"}
LOG_SEARCH_ACTIONS = {"logs:StartQuery", "logs:FilterLogEvents"}
LOG_QUERY_ACTIONS = {"logs:GetQueryResults", "logs:StopQuery"}
HEALTH_ACTIONS = METRIC_ACTIONS | LOG_SEARCH_ACTIONS | LOG_QUERY_ACTIONS
LOG_GROUP_ARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
API_TYPES = {"AWS::Serverless::HttpApi", "AWS::Serverless::Api"}
# The fleet's statements (issue #14), each under one of these conditions: tests/fleet/test_fleet_template.py
# checks them exactly (a statement under one of them with anything else is caught there).
FLEET_CONDITIONS = {
    "FleetConfigured",
    "FleetFromOrganization",
    "FleetRegionsEnabled",
    "FleetRegionsConfigured",
    "ConfigAggregatorGiven",
}


def load_template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)  # a SafeLoader
    return loaded


@pytest.fixture
def template() -> dict[str, Any]:
    return load_template()


def function(template: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"]["McpFunction"]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource


def props(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = function(template)["Properties"]
    return properties


def env(template: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = props(template)["Environment"]["Variables"]
    return variables


# --- checks, each returning the problems it found ---------------------------------------------------------


def api_references(template: dict[str, Any]) -> list[str]:
    """Where the function's properties mention an API resource (a cycle: the API integrates the function).

    One place is exempt: an event's `ApiId`, which SAM compiles into a route and a permission on the API side
    (the generated AWS::Lambda::Function references nothing of the API). This check is the guard: neither
    `sam validate --lint` nor cfn-lint 1.58 reports such a cycle (tried); only a deployment would.
    """
    apis = {name for name, res in template["Resources"].items() if res["Type"] in API_TYPES}
    apis |= {"ServerlessHttpApi", "ServerlessRestApi"}  # SAM's implicit APIs
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}.{key}"
                if key == "ApiId" and path.startswith(".Events."):
                    continue
                if key in ("Ref", "Fn::GetAtt", "Fn::Sub"):
                    text = value if isinstance(value, str) else str(value[0] if key == "Fn::Sub" else value)
                    if any(api in text for api in apis):
                        found.append(f"{here}: {value}")
                walk(value, here)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(props(template), "")
    return found


def statements(template: dict[str, Any]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(condition or None, statement) for every inline policy statement; `Fn::If` yields both branches."""
    for policy in props(template).get("Policies", []):
        for item in policy["Statement"]:
            if "Fn::If" in item:
                condition, when_true, when_false = item["Fn::If"]
                yield condition, when_true
                if when_false != {"Ref": "AWS::NoValue"}:
                    yield f"not {condition}", when_false
            else:
                yield None, item


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def for_tasks(statement: dict[str, Any]) -> bool:
    """A statement about the task table or the worker (tests/test_tasks_template.py checks those)."""
    return any(name in str(statement["Resource"]) for name in ("TasksTable", "WorkerFunction"))


def privilege_problems(template: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    policies = props(template).get("Policies", [])
    if any(not isinstance(p, dict) or set(p) != {"Statement"} for p in policies):
        problems.append("only inline statements are allowed (no managed policies or SAM policy templates)")
        return problems
    conditions = template.get("Conditions", {})
    for condition, statement in statements(template):
        if for_tasks(statement) or condition in FLEET_CONDITIONS:
            continue
        actions, resources = set(as_list(statement["Action"])), as_list(statement["Resource"])
        if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
            problems.append(f"unexpected statement form: {statement}")
        if actions & SECRET_ACTIONS or any(a.startswith("secretsmanager:") for a in actions):
            if actions != SECRET_ACTIONS or resources != [{"Ref": "RequestStateSecret"}]:
                problems.append(
                    f"secret access beyond GetSecretValue on the request-state secret: {statement}"
                )
            continue
        if any(a.startswith(("cloudwatch:", "logs:")) for a in actions):
            problems += _health_problems(condition, actions, resources, conditions)
            continue
        if "*" in resources and actions != {"lambda:ListFunctions"}:
            problems.append(f"actions other than lambda:ListFunctions on '*': {sorted(actions)}")
        if unknown := actions - READ_ACTIONS - WRITE_ACTIONS:
            problems.append(f"actions outside the read and write sets: {sorted(unknown)}")
        if actions & WRITE_ACTIONS:
            if condition is None or conditions.get(condition) != {
                "Fn::Equals": [{"Ref": "AllowWrites"}, "true"]
            }:
                problems.append(f"write actions without the AllowWrites condition: {statement}")
            if resources != [{"Fn::Sub": FUNCTION_ARN + "${WriteFunctionPrefix}*"}]:
                problems.append(f"write actions not scoped to the prefix: {resources}")
        elif actions == {"lambda:GetLayerVersion"}:
            if resources != [{"Fn::Sub": LAYER_VERSION_ARN}]:
                problems.append(f"GetLayerVersion on something other than layer versions: {resources}")
        elif actions - {"lambda:ListFunctions"} and resources != [{"Fn::Sub": FUNCTION_ARN + "*"}]:
            problems.append(f"read actions on an unexpected resource: {resources}")
    return problems


def _health_problems(
    condition: str | None, actions: set[str], resources: list[Any], conditions: dict[str, Any]
) -> list[str]:
    """A CloudWatch or Logs statement is exactly one of three: GetMetricData on '*'; the log search on
    /aws/lambda/* (or, under LogGroupPatternGiven, on the LogGroupPattern); the query reads on '*'."""
    if actions in (METRIC_ACTIONS, LOG_QUERY_ACTIONS):
        return [] if resources == ["*"] and condition is None else [f"{sorted(actions)} on {resources}"]
    if actions != LOG_SEARCH_ACTIONS:
        return [f"CloudWatch/Logs actions outside the health sets: {sorted(actions)}"]
    if condition is None:
        expected = [{"Fn::Sub": LOG_GROUP_ARN + "/aws/lambda/*"}]
    elif conditions.get(condition) == {"Fn::Not": [{"Fn::Equals": [{"Ref": "LogGroupPattern"}, ""]}]}:
        expected = [{"Fn::Sub": LOG_GROUP_ARN + "${LogGroupPattern}"}]
    else:
        return [f"the log search under an unexpected condition: {condition}"]
    return [] if resources == expected else [f"the log search on an unexpected resource: {resources}"]


def settings_problems(template: dict[str, Any]) -> list[str]:
    names = [name for name in env(template) if name.startswith("LAMBDA_OPS_")]
    return [name for name in names if name.removeprefix("LAMBDA_OPS_").lower() not in Settings.model_fields]


def sign_in_problems(template: dict[str, Any]) -> list[str]:
    """The deployed default is authenticated (fails closed without an issuer), and no stack can enable
    writes without sign-in."""
    problems: list[str] = []
    if template["Parameters"]["AuthMode"].get("Default") != "oauth":
        problems.append("AuthMode must default to oauth")
    if env(template).get("LAMBDA_OPS_AUTH_MODE") != {"Ref": "AuthMode"}:
        problems.append("LAMBDA_OPS_AUTH_MODE must come from AuthMode")
    writes = {"Fn::Equals": [{"Ref": "AllowWrites"}, "true"]}
    needs_sign_in = {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": "AuthMode"}, "oauth"]},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "OAuthIssuer"}, ""]}]},
        ]
    }
    if not any(
        rule.get("RuleCondition") == writes
        and any(a.get("Assert") == needs_sign_in for a in rule["Assertions"])
        for rule in template.get("Rules", {}).values()
    ):
        problems.append("no rule makes AllowWrites=true require AuthMode=oauth and an OAuthIssuer")
    return problems


# --- the template ------------------------------------------------------------------------------------------


def test_function_targets_python313_arm64_with_the_app_handler(template: dict[str, Any]) -> None:
    p = props(template)
    assert p["Runtime"] == "python3.13"
    assert p["Architectures"] == ["arm64"]
    assert p["Handler"] == "app.handler.handler"
    assert p["CodeUri"] == "."
    assert function(template)["Metadata"]["BuildMethod"] == "makefile"
    assert p["Timeout"] < 30, "HTTP API's integration timeout is 30 s"


def test_tracing_is_active_and_the_app_is_told(template: dict[str, Any]) -> None:
    assert props(template)["Tracing"] == "Active"
    assert env(template)["LAMBDA_OPS_TRACING"] == "true"


def test_powertools_settings(template: dict[str, Any]) -> None:
    variables = env(template)
    assert variables["POWERTOOLS_SERVICE_NAME"] == "lambda-ops-mcp"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "LambdaOpsMcp"
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_the_function_log_group_has_retention(template: dict[str, Any]) -> None:
    groups = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert template["Resources"]["McpLogGroup"]["Properties"] == {
        "LogGroupName": {"Fn::Sub": "/aws/lambda/${McpFunction}"},
        "RetentionInDays": {"Ref": "LogRetentionDays"},
    }
    assert all(group["RetentionInDays"] == {"Ref": "LogRetentionDays"} for group in groups)  # access logs too
    assert isinstance(template["Parameters"]["LogRetentionDays"]["Default"], int)


def test_the_function_does_not_reference_its_api(template: dict[str, Any]) -> None:
    assert api_references(template) == []


def test_routes_send_mcp_and_mcp_slash_to_the_function(template: dict[str, Any]) -> None:
    apis = [name for name, res in template["Resources"].items() if res["Type"] == "AWS::Serverless::HttpApi"]
    assert apis == ["McpApi"]
    assert "CorsConfiguration" not in template["Resources"]["McpApi"]["Properties"], "the app answers CORS"
    assert "HttpApi" not in template.get("Globals", {})
    routes = {
        (e["Properties"]["Path"], e["Properties"]["Method"], e["Properties"]["PayloadFormatVersion"])
        for e in props(template)["Events"].values()
        if e["Type"] == "HttpApi" and e["Properties"]["ApiId"] == {"Ref": "McpApi"}
    }
    assert routes == {
        ("/mcp", "ANY", "2.0"),
        ("/mcp/{proxy+}", "ANY", "2.0"),
        # Sign-in discovery; the function serves each (tests/auth/test_discovery.py, test_facade.py).
        ("/.well-known/oauth-protected-resource", "ANY", "2.0"),
        ("/.well-known/oauth-protected-resource/{proxy+}", "ANY", "2.0"),
        ("/.well-known/oauth-authorization-server", "ANY", "2.0"),
        ("/.well-known/openid-configuration", "ANY", "2.0"),
        ("/oauth/register", "ANY", "2.0"),
    }


def test_every_routed_path_is_one_the_function_serves(template: dict[str, Any]) -> None:
    from app.web.discovery import PATHS

    paths = {e["Properties"]["Path"] for e in props(template)["Events"].values()}
    assert {p.removesuffix("/{proxy+}") for p in paths} - {"/mcp"} == PATHS - {
        "/.well-known/oauth-protected-resource/mcp"
    }


def test_least_privilege(template: dict[str, Any]) -> None:
    assert privilege_problems(template) == []
    granted = set().union(
        *(
            as_list(s["Action"])
            for c, s in statements(template)
            if not for_tasks(s) and c not in FLEET_CONDITIONS
        )
    )
    assert granted == READ_ACTIONS | WRITE_ACTIONS | SECRET_ACTIONS | HEALTH_ACTIONS


def test_every_call_the_domain_makes_is_granted(template: dict[str, Any]) -> None:
    """The Lambda operations app/lambda_ops calls (boto3 method names, read from the source) are exactly the
    granted actions: nothing missing, and nothing extra but GetFunctionConcurrency, which GetFunction needs to
    return the Concurrency block (Invoke is lambda:InvokeFunction)."""
    import re
    from pathlib import Path

    source = "\n".join(p.read_text() for p in Path("app/lambda_ops").rglob("*.py"))
    called = set(re.findall(r"\.(?:control|client|invoke_client)\.([a-z_]+)\(", source))
    called |= set(re.findall(r"self\.control\.([a-z_]+)\(", source))
    called |= set(re.findall(r"\bclient\.([a-z_]+)\(", source))
    called -= {"close"}  # botocore's own (closes a client's connections), not an AWS API
    actions = {"lambda:" + "".join(w.title() for w in name.split("_")) for name in called}
    actions = {"lambda:InvokeFunction" if a == "lambda:Invoke" else a for a in actions}
    granted = {
        a
        for _, s in statements(template)
        if not for_tasks(s)
        for a in as_list(s["Action"])
        if a.startswith("lambda:")
    }
    assert actions <= granted
    assert granted - actions == {"lambda:GetFunctionConcurrency"}


def _called(service: str, client_name: str) -> set[str]:
    """``service:Action`` for every ``<client_name>.<method>(`` call in app/lambda_ops (the variable or
    attribute that holds that service's client, by the domain's naming)."""
    import re

    source = "\n".join(p.read_text() for p in Path("app/lambda_ops").rglob("*.py"))
    methods = set(re.findall(rf"\b{client_name}\.([a-z_]+)\(", source))
    return {f"{service}:" + "".join(w.title() for w in name.split("_")) for name in methods}


def test_every_cloudwatch_and_logs_call_the_domain_makes_is_granted_and_nothing_else(
    template: dict[str, Any],
) -> None:
    """As for Lambda: the CloudWatch and Logs operations app/lambda_ops calls, read from the source, are
    exactly the granted ones (StopQuery included: the search stops a query it gives up on)."""
    called = _called("cloudwatch", "cloudwatch") | _called("logs", "logs")
    assert {"cloudwatch:GetMetricData", "logs:StartQuery", "logs:StopQuery"} <= called  # the source was read
    granted = {
        a
        for _, s in statements(template)
        for a in as_list(s["Action"])
        if a.startswith(("cloudwatch:", "logs:"))
    }
    worker_only = {"cloudwatch:DescribeAlarms"}  # a campaign's alarm gates run in the task worker only
    assert called - worker_only == granted
    from tests.test_tasks_template import function_statements

    worker = {a for _, s in function_statements(template, "WorkerFunction") for a in as_list(s["Action"])}
    assert worker_only <= called & worker


def test_custom_log_groups_are_one_pattern_the_operator_chose(template: dict[str, Any]) -> None:
    """LogGroupPattern (for LoggingConfig groups outside /aws/lambda/) stays one log-group name pattern: no
    commas (a second ARN), no bare '*' or '/*' (every log group of the account)."""
    import re

    pattern = template["Parameters"]["LogGroupPattern"]["AllowedPattern"]
    assert template["Parameters"]["LogGroupPattern"]["Default"] == ""
    for ok in ("", "/acme/lambda/*", "/acme/lambda/orders-api"):
        assert re.fullmatch(pattern, ok), ok
    for bad in ("*", "/*", "a*b*", "/acme/*,/other/*", "/acme/lambda/* ", "arn:aws:logs:*"):
        assert not re.fullmatch(pattern, bad), bad


def test_a_write_enabled_deployment_needs_a_prefix(template: dict[str, Any]) -> None:
    assert template["Parameters"]["AllowWrites"]["Default"] == "false"
    rule = template["Rules"]["WritesNeedAFunctionPrefix"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "AllowWrites"}, "true"]}
    assert rule["Assertions"][0]["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WriteFunctionPrefix"}, ""]}]
    }


def test_the_deployed_default_is_signed_in_and_writes_need_it(template: dict[str, Any]) -> None:
    assert sign_in_problems(template) == []


def test_anonymous_traffic_is_bounded(template: dict[str, Any]) -> None:
    """Tokens are checked in the function, so refused requests still invoke it: the API is throttled and
    the function's concurrency can be capped, so a flood cannot run up cost or use the account's
    concurrency that the managed functions need."""
    route_settings = template["Resources"]["McpApi"]["Properties"]["DefaultRouteSettings"]
    assert route_settings == {
        "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
    }
    parameters = template["Parameters"]
    assert 0 < parameters["ThrottlingRateLimit"]["Default"] <= parameters["ThrottlingBurstLimit"]["Default"]
    assert props(template)["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ConcurrencyReserved", {"Ref": "MaxConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


def test_every_lambda_ops_variable_is_a_setting(template: dict[str, Any]) -> None:
    assert settings_problems(template) == []


def test_settings_accept_the_template_defaults(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    parameters = template["Parameters"]
    for name, value in env(template).items():
        if name.startswith("LAMBDA_OPS_"):
            if isinstance(value, dict) and value["Ref"] not in parameters:  # a resource: what Ref gives
                resolved = {
                    "RequestStateSecret": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf",
                    "TasksTable": "stack-TasksTable-ABC123",  # a table's Ref: its name
                    "WorkerFunctionAliaslive": "arn:aws:lambda:us-east-1:123456789012:function:s-Worker:live",
                }[value["Ref"]]
            else:
                resolved = parameters[value["Ref"]]["Default"] if isinstance(value, dict) else value
            monkeypatch.setenv(name, str(resolved))
    settings = Settings()
    assert settings.allow_writes is False
    assert settings.tracing is True
    assert settings.request_state_secret_arn.startswith("arn:aws:secretsmanager:")
    assert settings.auth_mode == "oauth"
    assert settings.oauth_issuer == ""  # fails closed until the issuer is set
    assert settings.tasks_table
    assert settings.worker_function.endswith(":live")


def test_the_request_state_key_is_a_generated_secret_only_the_function_reads(
    template: dict[str, Any],
) -> None:
    secret = template["Resources"]["RequestStateSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32  # the SDK's AES-GCM codec refuses shorter keys
    assert "SecretString" not in secret["Properties"]  # never a value written into the template
    assert env(template)["LAMBDA_OPS_REQUEST_STATE_SECRET_ARN"] == {"Ref": "RequestStateSecret"}
    granted = [s for _, s in statements(template) if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    assert granted == [
        {
            "Sid": "ReadRequestStateKey",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": {"Ref": "RequestStateSecret"},
        }
    ]


def test_the_parameter_patterns_agree_with_the_settings(template: dict[str, Any]) -> None:
    """A value the template accepts must not make the function fail at its cold start."""
    import re

    parameters = template["Parameters"]
    samples = {
        "OAuthIssuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
        "ResourceUrl": "https://api.example.com/ops/mcp",
        "OAuthReadScope": "https://api.example.com/read",
        "OAuthClientIds": "3n4b5urk1ft4fl3mg5e62d9ado,7f0mre9qj0p2ml3n9kvqm4h0e1",
        "OAuthPublicClientId": "3n4b5urk1ft4fl3mg5e62d9ado",
    }
    fields = {ref["Ref"]: var.removeprefix("LAMBDA_OPS_").lower() for var, ref in env(template).items()
              if isinstance(ref, dict)}  # fmt: skip
    for name, value in samples.items():
        assert re.fullmatch(parameters[name]["AllowedPattern"], value), name
        Settings.model_validate({fields[name]: value})
    assert not re.fullmatch(parameters["ResourceUrl"]["AllowedPattern"], "https://api.example.com/mcp/")
    assert not re.fullmatch(parameters["OAuthReadScope"]["AllowedPattern"], 'read"')


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    url = outputs["McpUrl"]["Value"]["Fn::Sub"]
    assert url == "https://${McpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/mcp"
    assert {"FunctionName", "FunctionArn", "LogGroupName"} <= set(outputs)


# --- the checks can fail -----------------------------------------------------------------------------------


def _set(template: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    node: Any = template
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last) : int(last) + 1] = [value]  # replaces an item, or appends one just past the end
    else:
        node[last] = value


FN = "Resources/McpFunction/Properties"
WRITE = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::Sub": FUNCTION_ARN + "*"}}


@pytest.mark.parametrize(
    ("check", "path", "value"),
    [
        (api_references, f"{FN}/Environment/Variables/URL", {"Fn::Sub": "https://${McpApi}.example"}),
        (api_references, f"{FN}/Environment/Variables/API", {"Ref": "McpApi"}),
        (api_references, f"{FN}/Environment/Variables/API", {"Fn::GetAtt": ["McpApi", "ApiEndpoint"]}),
        (
            privilege_problems,
            f"{FN}/Policies/0/Statement/0/Action",
            ["lambda:ListFunctions", "lambda:GetFunction"],
        ),
        (privilege_problems, f"{FN}/Policies/0/Statement/1/Resource", "*"),
        (privilege_problems, f"{FN}/Policies/0/Statement/1/Action", "lambda:*"),
        (privilege_problems, f"{FN}/Policies/0/Statement/1", WRITE),
        (
            privilege_problems,
            f"{FN}/Policies/0/Statement/2/Fn::If/1/Resource",
            {"Fn::Sub": FUNCTION_ARN + "*"},
        ),
        (privilege_problems, "Conditions/WritesAllowed", {"Fn::Equals": ["true", "true"]}),
        (privilege_problems, f"{FN}/Policies/0/Statement/2/Fn::If/2", WRITE),
        (privilege_problems, f"{FN}/Policies/1", "AWSLambdaRole"),
        (privilege_problems, f"{FN}/Policies/0/Statement/3/Resource", {"Fn::Sub": FUNCTION_ARN + "*"}),
        (
            privilege_problems,
            f"{FN}/Policies/0/Statement/3/Action",
            ["lambda:GetLayerVersion", "lambda:GetAlias"],
        ),
        (
            privilege_problems,
            f"{FN}/Policies/0/Statement/4/Fn::If/1/Resource",
            {"Fn::Sub": FUNCTION_ARN + "*"},
        ),
        (privilege_problems, f"{FN}/Policies/0/Statement/4/Fn::If/2", WRITE),
        (settings_problems, f"{FN}/Environment/Variables/LAMBDA_OPS_ALLOW_WRITE", "true"),
        (privilege_problems, f"{FN}/Policies/0/Statement/5/Resource", "*"),
        (privilege_problems, f"{FN}/Policies/0/Statement/5/Action", "secretsmanager:*"),
        (privilege_problems, f"{FN}/Policies/0/Statement/1/Action", "secretsmanager:GetSecretValue"),
        (privilege_problems, f"{FN}/Policies/0/Statement/6/Action", "cloudwatch:*"),
        (
            privilege_problems,
            f"{FN}/Policies/0/Statement/6/Action",
            ["cloudwatch:GetMetricData", "logs:StartQuery"],
        ),
        (privilege_problems, f"{FN}/Policies/0/Statement/6/Action", "cloudwatch:PutMetricData"),
        (privilege_problems, f"{FN}/Policies/0/Statement/7/Resource", {"Fn::Sub": LOG_GROUP_ARN + "*"}),
        (privilege_problems, f"{FN}/Policies/0/Statement/7/Resource", "*"),
        (
            privilege_problems,
            f"{FN}/Policies/0/Statement/7/Action",
            ["logs:StartQuery", "logs:FilterLogEvents", "logs:GetLogEvents"],
        ),
        (privilege_problems, f"{FN}/Policies/0/Statement/8/Fn::If/0", "WritesAllowed"),
        (privilege_problems, f"{FN}/Policies/0/Statement/8/Fn::If/1/Resource", "*"),
        (privilege_problems, "Conditions/LogGroupPatternGiven", {"Fn::Equals": ["true", "true"]}),
        (
            privilege_problems,
            f"{FN}/Policies/0/Statement/9/Action",
            ["logs:GetQueryResults", "logs:StartQuery"],
        ),
        (sign_in_problems, "Parameters/AuthMode/Default", "none"),
        (sign_in_problems, f"{FN}/Environment/Variables/LAMBDA_OPS_AUTH_MODE", "none"),
        (sign_in_problems, "Rules/WritesNeedSignIn/Assertions/0/Assert", {"Fn::Equals": ["oauth", "oauth"]}),
    ],
)
def test_the_checks_catch_a_broken_template(check: Any, path: str, value: Any) -> None:
    broken = copy.deepcopy(load_template())
    _set(broken, path, value)
    assert check(load_template()) == []
    assert check(broken) != []
