"""infra/identity.yaml: the Cognito user pool that signs people and machines in to the MCP server.

The stack is parsed (CloudFormation's short tags included) and its intrinsic functions are rendered for a
given set of parameters by a small evaluator of the few functions it uses (Ref, Sub, Join, Split, FindInMap,
If), so the checks see the values CloudFormation would send to Cognito: the callbacks, the scopes, the
outputs. Each check is also run on a broken copy, to show it can fail. cfn-lint checks the schema
(`make validate`); Cognito itself cannot run here — what only a real account can confirm is in the README.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cfn import CfnLoader

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "infra" / "identity.yaml"
MCP_URL = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/mcp"
PARAMETERS = {"McpUrl": MCP_URL, "DomainPrefix": "lambda-ops-test", "ExtraCallbackUrls": ""}
PSEUDO = {"AWS::Region": "eu-west-1", "AWS::StackName": "lambda-ops-mcp-identity", "AWS::AccountId": "1" * 12}
# What CloudFormation returns for !Ref of each resource (physical ids), as the evaluator renders them.
PHYSICAL = {
    "UserPool": "eu-west-1_AbCdEfGhI",
    "PublicClient": "publicclientid0",
    "MachineClient": "machineid0",
    "WritersGroup": "writers",  # a group's Ref is its name
}
CLAUDE = ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"]
CURSOR = ["cursor://anysphere.cursor-mcp/oauth/callback"]
VSCODE = ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"]
INSPECTOR = ["http://localhost:6274/oauth/callback", "http://localhost:6274/oauth/callback/debug"]
# The redirect URIs each client sends when it registers (RFC 7591) — all of them must be registered, or the
# server's registration endpoint (the Cognito facade) refuses the client. VS Code: microsoft/vscode#278512.
REGISTRATIONS = {
    "Claude": CLAUDE[:1],
    "Cursor": CURSOR,
    "VS Code": [
        "https://insiders.vscode.dev/redirect",
        "https://vscode.dev/redirect",
        "http://127.0.0.1/",
        "http://127.0.0.1:33418/",
    ],
    "Claude Code (--callback-port 3118)": ["http://localhost:3118/callback"],
    "MCP Inspector": INSPECTOR,
}
# The outputs other stacks and tools read (the main stack's parameters, CI's smoke test): names kept exactly.
OUTPUTS = {
    "IssuerUrl",
    "JwksUrl",
    "AuthorizationEndpoint",
    "TokenEndpoint",
    "PublicClientId",
    "MachineClientId",
    "ReadScope",
    "WriteScope",
    "ResourceServerIdentifier",
}
# Which parameter of template.yaml (the main stack) each output feeds: the README's deployment steps.
FEEDS = {
    "IssuerUrl": "OAuthIssuer",
    "JwksUrl": "OAuthJwksUrl",
    "ResourceServerIdentifier": "ResourceUrl",
    "ReadScope": "OAuthReadScope",
    "WriteScope": "OAuthWriteScope",
    "ClientIds": "OAuthClientIds",
    "PublicClientId": "OAuthPublicClientId",
    "PublicClientRedirectUris": "OAuthRedirectUris",
    "AuthorizationEndpoint": "OAuthAuthorizationEndpoint",
    "TokenEndpoint": "OAuthTokenEndpoint",
}
_NO_VALUE = object()


def load(path: Path = STACK) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=CfnLoader)  # a SafeLoader
    return loaded


class Renderer:
    """Renders the intrinsic functions of ``template`` for ``parameters`` (the subset this stack uses)."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        self.values: dict[str, Any] = {**PSEUDO, **PHYSICAL}
        for name, spec in template["Parameters"].items():
            raw = parameters.get(name, spec.get("Default"))
            assert raw is not None, f"parameter {name} has no value and no default"
            self.values[name] = raw.split(",") if spec["Type"] == "CommaDelimitedList" else raw

    def condition(self, name: str) -> bool:
        return bool(self.render(self.template["Conditions"][name]))

    def render(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.render(x) for x in node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
            return {key: self.render(value) for key, value in node.items()}
        ((function, argument),) = node.items()
        return self._apply(function, argument)

    def _apply(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            return _NO_VALUE if argument == "AWS::NoValue" else self.values[argument]
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.values[m.group(1)]), argument)
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(self.render(items))
        if function == "Fn::Split":
            separator, text = argument
            return self.render(text).split(separator)
        if function == "Fn::FindInMap":
            mapping, key, attribute = (self.render(x) for x in argument)
            return self.template["Mappings"][mapping][key][attribute]
        if function == "Fn::If":
            name, yes, no = argument
            return self.render(yes if self.condition(name) else no)
        if function == "Fn::Equals":
            left, right = self.render(argument)
            return left == right
        if function == "Fn::Not":
            return not self.render(argument)[0]
        raise AssertionError(f"the evaluator does not know {function}")


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def client(template: dict[str, Any], name: str, **parameters: str) -> dict[str, Any]:
    props: dict[str, Any] = Renderer(template, {**PARAMETERS, **parameters}).render(
        template["Resources"][name]["Properties"]
    )
    return props


# --- the checks (functions of the template, so each can be shown to fail on a broken copy) ---


def check_resource_server(template: dict[str, Any]) -> None:
    (server,) = resources(template, "AWS::Cognito::UserPoolResourceServer").values()
    props = Renderer(template, PARAMETERS).render(server["Properties"])
    assert props["Identifier"] == MCP_URL  # RFC 8707: the resource is the MCP URL, which aud then names
    assert sorted(scope["ScopeName"] for scope in props["Scopes"]) == ["read", "write"]


def check_public_client(template: dict[str, Any]) -> None:
    props = client(template, "PublicClient")
    assert props.get("GenerateSecret") is False  # a public client: nothing to keep secret in a desktop app
    assert props["AllowedOAuthFlows"] == ["code"]  # no implicit, no client credentials
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert props["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no password sign-in by API
    assert f"{MCP_URL}/read" in props["AllowedOAuthScopes"]
    assert f"{MCP_URL}/write" in props["AllowedOAuthScopes"]
    callbacks = props["CallbackURLs"]
    for url in [*CLAUDE, *CURSOR, *VSCODE, *INSPECTOR]:
        assert url in callbacks, url
    for name, requested in REGISTRATIONS.items():
        assert set(requested) <= set(callbacks), f"{name} would be refused: {set(requested) - set(callbacks)}"
    assert "" not in callbacks
    assert len(callbacks) == len(set(callbacks))
    for url in callbacks:  # Cognito refuses plain http except on loopback; so should we
        if url.startswith("http://"):
            assert re.match(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?/", url + "/"), url


def check_machine_client(template: dict[str, Any]) -> None:
    props = client(template, "MachineClient")
    assert props["GenerateSecret"] is True
    assert props["AllowedOAuthFlows"] == ["client_credentials"]
    assert props["AllowedOAuthScopes"] == [f"{MCP_URL}/read"]  # a stolen CI secret cannot write
    assert "CallbackURLs" not in props


def check_managed_login(template: dict[str, Any]) -> None:
    (domain,) = resources(template, "AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["ManagedLoginVersion"] == 2
    assert domain["Properties"]["Domain"] == {"Ref": "DomainPrefix"}
    (branding,) = resources(template, "AWS::Cognito::ManagedLoginBranding").values()
    assert branding["Properties"]["ClientId"] == {"Ref": "PublicClient"}


def check_outputs(template: dict[str, Any]) -> None:
    assert set(template["Outputs"]) >= OUTPUTS
    out = {
        name: Renderer(template, PARAMETERS).render(spec["Value"])
        for name, spec in template["Outputs"].items()
    }
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI"
    login = "https://lambda-ops-test.auth.eu-west-1.amazoncognito.com"
    assert out["IssuerUrl"] == issuer
    assert out["JwksUrl"] == f"{issuer}/.well-known/jwks.json"
    assert out["AuthorizationEndpoint"] == f"{login}/oauth2/authorize"
    assert out["TokenEndpoint"] == f"{login}/oauth2/token"
    assert (out["PublicClientId"], out["MachineClientId"]) == ("publicclientid0", "machineid0")
    assert out["ClientIds"] == "publicclientid0,machineid0"
    assert (out["ReadScope"], out["WriteScope"]) == (f"{MCP_URL}/read", f"{MCP_URL}/write")
    assert out["ResourceServerIdentifier"] == MCP_URL
    for name, value in out.items():  # secrets stay out of outputs (anyone with DescribeStacks reads them)
        assert "ClientSecret" not in str(template["Outputs"][name]["Value"]), name
        assert value != ""


def check_write_scope_gate(template: dict[str, Any]) -> None:
    """The write scope only for the writers group: the group, the V2_0 trigger wired to the gate, the gate
    told the pool's own write scope, invocable by this pool only, and no tier without token customization."""
    rendered = Renderer(template, PARAMETERS)
    (group,) = resources(template, "AWS::Cognito::UserPoolGroup").values()
    assert group["Properties"] == {**group["Properties"], "UserPoolId": {"Ref": "UserPool"}}
    pool = template["Resources"]["UserPool"]["Properties"]
    assert pool.get("LambdaConfig", {}).get("PreTokenGenerationConfig") == {
        "LambdaArn": {"Fn::GetAtt": ["WriteScopeGate", "Arn"]},
        "LambdaVersion": "V2_0",  # people's tokens; client credentials never invoke a V2_0 trigger
    }
    assert "PreTokenGeneration" not in pool["LambdaConfig"]  # the legacy (V1_0) key: no scope overrides
    gate = rendered.render(template["Resources"]["WriteScopeGate"]["Properties"]["Environment"]["Variables"])
    assert gate == {"WRITE_SCOPE": f"{MCP_URL}/write", "WRITERS_GROUP": group["Properties"]["GroupName"]}
    (permission,) = resources(template, "AWS::Lambda::Permission").values()
    assert permission["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert permission["Properties"]["FunctionName"] == {"Fn::GetAtt": ["WriteScopeGate", "Arn"]}
    assert (
        "LITE" not in template["Parameters"]["UserPoolTier"]["AllowedValues"]
    )  # no access token customization
    description = template["Parameters"]["AllowSelfSignUp"]["Description"]
    assert "writers" in description
    assert "inventory" in description


CHECKS: list[Callable[[dict[str, Any]], None]] = [
    check_resource_server,
    check_public_client,
    check_machine_client,
    check_managed_login,
    check_outputs,
    check_write_scope_gate,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_identity_stack(check: Callable[[dict[str, Any]], None]) -> None:
    check(load())


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(template: dict[str, Any]) -> None:
        node = template
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def _append(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(template: dict[str, Any]) -> None:
        node = template
        for key in path:
            node = node[key]
        node.append(value)

    return edit


BROKEN = [
    pytest.param(
        check_resource_server,
        _set(["Resources", "McpResourceServer", "Properties", "Identifier"], "lambda-ops"),
        id="resource-server-not-the-url",
    ),
    pytest.param(
        check_public_client,
        _set(["Resources", "PublicClient", "Properties", "GenerateSecret"], True),
        id="public-client-with-secret",
    ),
    pytest.param(
        check_public_client,
        _set(["Resources", "PublicClient", "Properties", "AllowedOAuthFlows"], ["code", "implicit"]),
        id="public-client-implicit",
    ),
    pytest.param(
        check_public_client,
        _set(["Mappings", "Clients", "Public", "CallbackUrls"], CLAUDE),
        id="callbacks-missing",
    ),
    pytest.param(
        check_public_client,
        _append(["Mappings", "Clients", "Public", "CallbackUrls"], "http://a.example/cb"),
        id="plain-http-callback",
    ),
    pytest.param(
        check_machine_client,
        _set(
            ["Resources", "MachineClient", "Properties", "AllowedOAuthScopes"],
            [{"Fn::Sub": "${McpUrl}/read"}, {"Fn::Sub": "${McpUrl}/write"}],
        ),
        id="machine-client-can-write",
    ),
    pytest.param(
        check_managed_login,
        _set(["Resources", "Domain", "Properties", "ManagedLoginVersion"], 1),
        id="classic-hosted-ui",
    ),
    pytest.param(
        check_outputs,
        _set(
            ["Outputs", "IssuerUrl", "Value"], {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com"}
        ),
        id="issuer-without-pool",
    ),
    pytest.param(
        check_write_scope_gate,
        _set(["Resources", "UserPool", "Properties", "LambdaConfig"], {}),
        id="write-scope-not-gated",
    ),
    pytest.param(
        check_write_scope_gate,
        _set(
            [
                "Resources",
                "UserPool",
                "Properties",
                "LambdaConfig",
                "PreTokenGenerationConfig",
                "LambdaVersion",
            ],
            "V1_0",
        ),
        id="gate-on-v1-event-cannot-suppress-scopes",
    ),
    pytest.param(
        check_write_scope_gate,
        _set(["Parameters", "UserPoolTier", "AllowedValues"], ["LITE", "ESSENTIALS", "PLUS"]),
        id="lite-tier-would-ignore-the-gate",
    ),
    pytest.param(
        check_write_scope_gate,
        _set(
            ["Resources", "WriteScopeGatePermission", "Properties", "SourceArn"],
            {"Fn::Sub": "arn:aws:cognito-idp:*"},
        ),
        id="any-pool-may-invoke-the-gate",
    ),
]


@pytest.mark.parametrize(("check", "breaks"), BROKEN)
def test_each_check_fails_on_a_broken_stack(
    check: Callable[[dict[str, Any]], None], breaks: Callable[[dict[str, Any]], None]
) -> None:
    broken = copy.deepcopy(load())
    breaks(broken)
    with pytest.raises(AssertionError):
        check(broken)


def test_extra_callbacks_are_appended_and_none_leaves_no_empty_entry() -> None:
    template = load()
    plain = client(template, "PublicClient")["CallbackURLs"]
    extra = client(
        template, "PublicClient", ExtraCallbackUrls="http://localhost:8088/callback,https://a.example/cb"
    )["CallbackURLs"]
    assert extra == [*plain, "http://localhost:8088/callback", "https://a.example/cb"]
    assert "" not in plain
    rendered = Renderer(template, {**PARAMETERS, "ExtraCallbackUrls": "https://a.example/cb"})
    assert rendered.render(template["Outputs"]["PublicClientRedirectUris"]["Value"]).split(",") == [
        *plain,
        "https://a.example/cb",
    ]


def test_outputs_fit_the_main_stack_parameters_they_feed() -> None:
    """Every output the README passes to template.yaml names a parameter there, and its value (rendered for a
    real-looking deployment) passes that parameter's AllowedPattern — or the deploy would fail."""
    identity = load()
    main = load(ROOT / "template.yaml")["Parameters"]
    renderer = Renderer(identity, {**PARAMETERS, "ExtraCallbackUrls": "http://localhost:8088/callback"})
    for output, parameter in FEEDS.items():
        assert parameter in main, f"{output} feeds {parameter}, which template.yaml does not have"
        value = renderer.render(identity["Outputs"][output]["Value"])
        pattern = main[parameter].get("AllowedPattern")
        if pattern is not None:
            assert re.fullmatch(pattern, value), f"{output}={value!r} does not fit {parameter} ({pattern})"
        assert main[parameter]["Type"] == "String"


def test_the_overrides_script_maps_the_same_outputs_to_the_same_parameters() -> None:
    script = (ROOT / "scripts" / "identity_overrides.sh").read_text()
    pairs = dict(re.findall(r"^  (\w+)=(\w+)$", script, re.MULTILINE))
    assert pairs == FEEDS


def test_the_overrides_script_prints_parameter_overrides_from_the_stack_outputs(tmp_path: Path) -> None:
    """With a stand-in `aws` that prints what describe-stacks --output text prints for this stack."""
    identity = load()
    renderer = Renderer(identity, PARAMETERS)
    outputs = {name: renderer.render(spec["Value"]) for name, spec in identity["Outputs"].items()}
    table = "".join(f"{name}\t{value}\n" for name, value in outputs.items())
    (tmp_path / "outputs.txt").write_text(table)
    fake = tmp_path / "aws"
    fake.write_text(f'#!/bin/sh\necho "$*" > {tmp_path}/args\ncat {tmp_path}/outputs.txt\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    script = str(ROOT / "scripts" / "identity_overrides.sh")

    done = subprocess.run(
        ["bash", script, "my-identity"], env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    printed = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert printed == {parameter: outputs[output] for output, parameter in FEEDS.items()}
    assert "--stack-name my-identity" in (tmp_path / "args").read_text()
    (tmp_path / "outputs.txt").write_text(table.replace("IssuerUrl", "Other"))
    missing = subprocess.run(
        ["bash", script, "my-identity"], env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1
    assert "has no output IssuerUrl" in missing.stderr


def test_mcp_url_parameter_accepts_deployments_and_refuses_what_would_break_the_audience() -> None:
    pattern = re.compile(load()["Parameters"]["McpUrl"]["AllowedPattern"])
    for good in (
        MCP_URL,
        "https://api.example.com/ops/mcp",
        "https://abc.execute-api.us-east-1.amazonaws.com/prod/mcp",
    ):
        assert pattern.fullmatch(good), good
    for bad in (f"{MCP_URL}/", "http://api.example.com/mcp", f"{MCP_URL}?x=1", "https://api.example.com/"):
        assert not pattern.fullmatch(bad), bad


# --- the write-scope gate's code, run as Cognito runs it (the inline ZipFile, on V2_0 trigger events) -----

EVENT = json.loads((ROOT / "tests" / "events" / "cognito_pre_token_generation_v2.json").read_text())
WRITE = f"{MCP_URL}/write"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The handler from identity.yaml's ZipFile, with the environment CloudFormation gives it."""
    template = load()
    function = template["Resources"]["WriteScopeGate"]["Properties"]
    assert function["Handler"] == "index.handler"
    for name, value in Renderer(template, PARAMETERS).render(function["Environment"]["Variables"]).items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {"__name__": "index"}
    exec(compile(function["Code"]["ZipFile"], "index.py", "exec"), namespace)  # our own template's code
    handler: Callable[[dict[str, Any], object], dict[str, Any]] = namespace["handler"]
    return lambda event: handler(event, None)


def event(groups: list[str] | None, trigger: str = "TokenGeneration_HostedAuth") -> dict[str, Any]:
    built = copy.deepcopy(EVENT)
    built["triggerSource"] = trigger
    if groups is None:
        del built["request"]["groupConfiguration"]
    else:
        built["request"]["groupConfiguration"]["groupsToOverride"] = groups
    return built


def suppressed(response: dict[str, Any]) -> list[str]:
    details = response["response"]["claimsAndScopeOverrideDetails"] or {}
    scopes: list[str] = (details.get("accessTokenGeneration") or {}).get("scopesToSuppress", [])
    return scopes


@pytest.mark.parametrize(
    "trigger",
    ["TokenGeneration_HostedAuth", "TokenGeneration_RefreshTokens", "TokenGeneration_Authentication"],
)
def test_a_writer_keeps_the_write_scope(
    gate: Callable[[dict[str, Any]], dict[str, Any]], trigger: str
) -> None:
    answer = gate(event(["admins", "writers"], trigger))
    assert WRITE not in suppressed(answer)
    assert answer["response"]["claimsAndScopeOverrideDetails"] is None  # the token is left as Cognito made it


@pytest.mark.parametrize(
    "groups",
    [[], ["readers"], ["Writers"], ["writers-not"], None],  # None: no group information at all → fail closed
)
@pytest.mark.parametrize("trigger", ["TokenGeneration_HostedAuth", "TokenGeneration_RefreshTokens"])
def test_anyone_else_loses_the_write_scope_at_sign_in_and_at_refresh(
    gate: Callable[[dict[str, Any]], dict[str, Any]], groups: list[str] | None, trigger: str
) -> None:
    answer = gate(event(groups, trigger))
    assert suppressed(answer) == [WRITE]
    assert answer["request"]["scopes"] == EVENT["request"]["scopes"]  # read stays: only write is suppressed
    assert answer["version"] == "2"


def test_the_gate_keeps_what_another_customization_already_suppressed(
    gate: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    earlier = event([])
    earlier["response"]["claimsAndScopeOverrideDetails"] = {
        "accessTokenGeneration": {"scopesToSuppress": ["openid"], "claimsToAddOrOverride": {"team": "ops"}}
    }
    access = gate(earlier)["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access == {"scopesToSuppress": ["openid", WRITE], "claimsToAddOrOverride": {"team": "ops"}}


def test_a_machine_token_event_would_not_get_write_either(
    gate: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Cognito invokes a V2_0 trigger for people's tokens only (client credentials need V3_0); were the pool
    moved to V3_0, a client-credentials event (no user, no groups) still leaves without the write scope."""
    machine = copy.deepcopy(EVENT)
    machine.update(triggerSource="TokenGeneration_ClientCredentials", userName=None)
    machine["request"] = {"userAttributes": {}, "scopes": [WRITE], "groupConfiguration": None}
    assert suppressed(gate(machine)) == [WRITE]
