"""The deployment pipeline as code: .github/workflows, infra/github-oidc.yaml and samconfig.toml agree, and
hold the security properties the workflows promise. (zizmor and the JSON schemas run in `make checks`.)"""

from __future__ import annotations

import copy
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cfn import CfnLoader

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
OIDC = "token.actions.githubusercontent.com"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40} # v\d+(?:\.\d+){0,2}$")


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def triggers(wf: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    return found


def oidc_stack() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((ROOT / "infra" / "github-oidc.yaml").read_text(), Loader=CfnLoader)
    return loaded


def samconfig() -> dict[str, Any]:
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def deploy_jobs() -> dict[str, dict[str, Any]]:
    return {name: job for name, job in workflow("deploy.yml")["jobs"].items() if "environment" in job}


def environment_of(job: dict[str, Any]) -> str:
    env = job["environment"]
    return str(env["name"] if isinstance(env, dict) else env)


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name") == name)


# --- the workflows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_every_action_is_pinned_by_commit_with_its_version(name: str) -> None:
    lines = [
        line for line in (WORKFLOWS / name).read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)
    ]
    assert lines
    own = [line for line in lines if re.match(r"^\s*uses: \$/", line)]  # this repository's own workflows
    assert [line for line in lines if not PINNED.match(line) and line not in own] == []


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_least_privilege_and_no_expressions_in_scripts(name: str) -> None:
    wf = workflow(name)
    assert wf["permissions"] == {}
    for job_name, job in wf["jobs"].items():
        permissions = job["permissions"]
        assert permissions.get("contents") == "read", job_name
        if permissions.get("id-token") == "write":  # only the jobs that deploy into an environment
            assert name == "deploy.yml"
            assert job_name in deploy_jobs()
            assert any("configure-aws-credentials" in s.get("uses", "") for s in job["steps"]), job_name
        assert set(permissions) <= {"contents", "id-token"}, job_name
        for s in job.get("steps", []):  # a job that calls a reusable workflow has none
            assert "${{" not in s.get("run", ""), (job_name, s.get("name"))
            if "actions/checkout" in s.get("uses", ""):
                assert s["with"]["persist-credentials"] is False, job_name


def test_ci_runs_the_readme_test_command_on_pull_requests_and_main() -> None:
    wf = workflow("ci.yml")
    assert set(triggers(wf)) == {"pull_request", "push", "workflow_call"}
    assert triggers(wf)["push"]["branches"] == ["main"]
    (job,) = wf["jobs"].values()
    assert job["steps"][-1]["run"] == "bash .ci/run"
    assert "time make test" in (ROOT / ".ci" / "run").read_text()
    assert job["timeout-minutes"] <= 30


def test_deploy_builds_once_then_staging_then_prod() -> None:
    wf = workflow("deploy.yml")
    assert set(triggers(wf)) == {"push", "workflow_dispatch"}
    assert triggers(wf)["push"]["branches"] == ["main"]
    jobs = wf["jobs"]
    build = jobs["build"]
    assert "environment" not in build
    assert (jobs["test"]["uses"], build["needs"]) == ("$/.github/workflows/ci.yml", "test")  # tested first
    assert "workflow_call" in triggers(workflow("ci.yml"))
    assert any(s.get("run", "").startswith("sam build ") for s in build["steps"])
    uploaded = step(build, "Keep the artifact for the deploy jobs")["with"]["name"]
    assert {name: environment_of(job) for name, job in deploy_jobs().items()} == {
        "staging": "staging",
        "prod": "prod",
    }
    assert (jobs["staging"]["needs"], jobs["prod"]["needs"]) == ("build", "staging")
    for job in deploy_jobs().values():
        downloads = [s for s in job["steps"] if "download-artifact" in s.get("uses", "")]
        assert [d["with"]["name"] for d in downloads] == [uploaded]
        assert not any(s.get("run", "").startswith("sam build") for s in job["steps"])  # built once
    assert wf["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("job_name", ["staging", "prod"])
def test_each_deploy_job_deploys_its_own_samconfig_environment_and_smoke_tests_it(job_name: str) -> None:
    job = deploy_jobs()[job_name]
    env = environment_of(job)
    deploy = step(job, "sam deploy")
    assert deploy["env"]["DEPLOY_ENV"] == env
    command = " ".join(deploy["run"].split())
    for flag in ('--config-env "$DEPLOY_ENV"', "--no-confirm-changeset", "--no-fail-on-empty-changeset"):
        assert flag in command
    stack = samconfig()[env]["deploy"]["parameters"]["stack_name"]
    assert step(job, "Stack outputs")["env"]["STACK"] == stack
    smoke = step(job, "Smoke test")
    assert "scripts/smoke.py" in smoke["run"]
    assert smoke["env"]["SMOKE_CLIENT_SECRET"] == "${{ secrets.SMOKE_CLIENT_SECRET }}"
    names = [s.get("name") for s in job["steps"]]
    assert names.index("sam deploy") < names.index("Smoke test")


@pytest.mark.parametrize("job_name", ["staging", "prod"])
def test_nothing_is_installed_from_a_package_index_once_the_deploy_roles_keys_are_in_the_job(
    job_name: str,
) -> None:
    """configure-aws-credentials exports the deploy role's keys to every later step: a package fetched and
    run after it (its install hooks, its import) would run with them. The smoke test's client is installed
    before; the smoke step only runs that venv."""
    steps = deploy_jobs()[job_name]["steps"]
    credentials = next(i for i, s in enumerate(steps) if "configure-aws-credentials" in s.get("uses", ""))
    installs = re.compile(r"\b(pip3?|uv|pipx|npm|npx|pnpm|yarn)\b[^\n]*\b(install|add|ci|exec)\b|\bnpx\b")
    assert [s.get("name") for s in steps[credentials:] if installs.search(s.get("run", ""))] == []
    assert [s.get("name") for s in steps[:credentials] if 'pip" install' in s.get("run", "")] == [
        "Smoke test client (pinned mcp)"
    ]


@pytest.mark.parametrize("job_name", ["staging", "prod"])
def test_the_smoke_test_runs_the_installed_client_without_the_deploy_roles_keys(
    tmp_path: Path, job_name: str
) -> None:
    """The step's script, run as Actions runs it (bash -e) with the keys configure-aws-credentials exported,
    against a stand-in for the venv's python that records its arguments and environment."""
    smoke = step(deploy_jobs()[job_name], "Smoke test")
    python = tmp_path / "smoke" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" > {tmp_path}/args\nenv > {tmp_path}/env\n')
    python.chmod(0o755)
    env = {
        "PATH": "/usr/bin:/bin",
        "RUNNER_TEMP": str(tmp_path),
        "MCP_URL": "https://abc.execute-api.eu-west-1.amazonaws.com/mcp",
        "TOKEN_ENDPOINT": "https://ops.auth.eu-west-1.amazoncognito.com/oauth2/token",
        "SMOKE_SCOPE": "",
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEKEY",
        "AWS_SECRET_ACCESS_KEY": "secret-of-the-deploy-role",
        "AWS_SESSION_TOKEN": "session-of-the-deploy-role",
        "AWS_REGION": "eu-west-1",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", smoke["run"]], env=env, cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "args").read_text().splitlines()
    assert args[:3] == ["scripts/smoke.py", "--url", env["MCP_URL"]]
    seen = (tmp_path / "env").read_text()
    assert "deploy-role" not in seen
    assert "ASIAEXAMPLEKEY" not in seen
    assert f"TOKEN_ENDPOINT={env['TOKEN_ENDPOINT']}" in seen.splitlines()


# --- samconfig.toml and the OIDC stack agree --------------------------------------------------------------


def test_samconfig_environments_match_the_workflow_and_the_deploy_roles() -> None:
    config = samconfig()
    params = oidc_stack()["Parameters"]
    assert {"staging", "prod"} <= set(config)
    assert {environment_of(job) for job in deploy_jobs().values()} == {"staging", "prod"}
    for env, parameter in (("staging", "StagingStackName"), ("prod", "ProdStackName")):
        deploy = config[env]["deploy"]["parameters"]
        assert deploy["stack_name"] == params[parameter]["Default"]
        assert deploy["s3_prefix"] == deploy["stack_name"]  # the deploy role may write only under it
        assert "resolve_s3" not in deploy  # SAM's managed bucket would need rights the roles don't have
        assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert config["default"]["build"]["parameters"]["build_in_source"] is True  # `make build` unchanged


def trust_subjects(role: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The trust statements and every subject the role can be assumed with (both branches of an Fn::If)."""
    statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    subjects: list[str] = []
    for statement in statements:
        sub = statement["Condition"]["StringEquals"][f"{OIDC}:sub"]
        branches = sub["Fn::If"][1:] if isinstance(sub, dict) and "Fn::If" in sub else [sub]
        subjects += [b["Fn::Sub"] if isinstance(b, dict) else b for b in branches]
    return statements, subjects


def check_trust(stack: dict[str, Any]) -> dict[str, str]:
    """{role: environment}; raises AssertionError where a role could be assumed by anything more."""
    found: dict[str, str] = {}
    for name, resource in stack["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role" or name.endswith("ExecutionRole"):
            continue
        statements, subjects = trust_subjects(resource)
        assert len(statements) == 1, name
        (statement,) = statements
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity", name
        assert set(statement["Condition"]) == {"StringEquals"}, name  # no StringLike, no ForAnyValue
        assert statement["Condition"]["StringEquals"][f"{OIDC}:aud"] == "sts.amazonaws.com", name
        environments = set()
        for subject in subjects:
            assert "*" not in subject, (name, subject)
            assert "?" not in subject, (name, subject)
            match = re.fullmatch(
                r"repo:(?:\$\{GitHubOrg\}/\$\{GitHubRepo\}|\$\{ImmutableRepository\}):environment:(\w+)",
                subject,
            )
            assert match, (name, subject)
            environments.add(match.group(1))
        assert len(environments) == 1, name
        found[name] = environments.pop()
    return found


def test_one_deploy_role_per_workflow_environment_trusting_exactly_it() -> None:
    roles = check_trust(oidc_stack())
    assert sorted(roles.values()) == sorted(environment_of(job) for job in deploy_jobs().values())
    assert roles == {"StagingDeployRole": "staging", "ProdDeployRole": "prod"}


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c.__setitem__("StringLike", c.pop("StringEquals")),
        lambda c: c["StringEquals"].__setitem__(f"{OIDC}:sub", "repo:acme/ops:*"),
        lambda c: c["StringEquals"].__setitem__(f"{OIDC}:aud", "sigstore"),
        lambda c: c["StringEquals"].__setitem__(
            f"{OIDC}:sub", {"Fn::Sub": "repo:${GitHubOrg}/${GitHubRepo}:ref:refs/heads/main"}
        ),
    ],
)
def test_the_trust_check_catches_a_loosened_role(breakage: Any) -> None:
    stack = copy.deepcopy(oidc_stack())
    condition = stack["Resources"]["ProdDeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    breakage(condition["Condition"])
    with pytest.raises((AssertionError, KeyError)):
        check_trust(stack)


def test_the_provider_is_github_for_sts_and_optional() -> None:
    stack = oidc_stack()
    provider = stack["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreateOidcProvider"
    assert provider["Properties"] == {"Url": f"https://{OIDC}", "ClientIdList": ["sts.amazonaws.com"]}
    for role in ("StagingDeployRole", "ProdDeployRole"):
        principal = stack["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0][
            "Principal"
        ]
        assert principal["Federated"]["Fn::If"][0] == "CreateOidcProvider"


def policy_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("role", "stack_parameter", "execution_role"),
    [
        ("StagingDeployRole", "StagingStackName", "StagingExecutionRole"),
        ("ProdDeployRole", "ProdStackName", "ProdExecutionRole"),
    ],
)
def test_a_deploy_role_can_change_only_its_stack_and_pass_only_its_execution_role(
    role: str, stack_parameter: str, execution_role: str
) -> None:
    statements = policy_statements(oidc_stack()["Resources"][role])
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in as_list(statement["Action"]))
        assert "*" not in as_list(statement["Resource"])
    changes = [s for s in statements if "cloudformation:ExecuteChangeSet" in as_list(s["Action"])]
    assert [s["Resource"]["Fn::Sub"] for s in changes] == [
        f"arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/${{{stack_parameter}}}/*"
    ]
    (passing,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
    assert passing["Resource"] == {"Fn::GetAtt": [execution_role, "Arn"]}  # never the other environment's
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not {
        a for a in actions if a.split(":")[0] in {"lambda", "apigateway", "logs", "sns", "cloudwatch"}
    }
    assert not {a for a in actions if a.startswith("iam:") and a != "iam:PassRole"}


@pytest.mark.parametrize(
    ("role", "identity_parameter"),
    [("StagingDeployRole", "StagingIdentityStackName"), ("ProdDeployRole", "ProdIdentityStackName")],
)
def test_a_deploy_role_reads_only_its_own_environments_identity_stack(
    role: str, identity_parameter: str
) -> None:
    """Each environment has its own identity stack (its resource server is that environment's MCP URL)."""
    statements = policy_statements(oidc_stack()["Resources"][role])
    (reading,) = [s for s in statements if as_list(s["Action"]) == ["cloudformation:DescribeStacks"]]
    assert reading["Resource"] == {
        "Fn::Sub": f"arn:${{AWS::Partition}}:cloudformation:${{AWS::Region}}:${{AWS::AccountId}}"
        f":stack/${{{identity_parameter}}}/*"
    }


ENVIRONMENTS = [("StagingExecutionRole", "StagingStackName"), ("ProdExecutionRole", "ProdStackName")]
# The IAM actions whose requests carry iam:PermissionsBoundary (IAM service authorization reference): the
# role's boundary, or the one the request sets. DeleteRolePermissionsBoundary is never granted at all.
BOUNDED_IAM_ACTIONS = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
}
# Role actions without that key: allowed only on the environment's role names (and capped by the boundary).
NAME_SCOPED_IAM_ACTIONS = {
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:PassRole",
}


def resource_texts(statement: dict[str, Any]) -> list[str]:
    return [
        r["Fn::Sub"] if isinstance(r, dict) and "Fn::Sub" in r else str(r)
        for r in as_list(statement["Resource"])
    ]


@pytest.mark.parametrize(("role_name", "stack_parameter"), ENVIRONMENTS)
def test_an_execution_role_is_scoped_to_its_own_stack_only(role_name: str, stack_parameter: str) -> None:
    stack = oidc_stack()
    assert not [name for name in stack["Resources"] if name == "CloudFormationExecutionRole"]  # no shared one
    role = stack["Resources"][role_name]
    other = {p for _, p in ENVIRONMENTS} - {stack_parameter}
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "cloudformation.amazonaws.com"}]
    for statement in policy_statements(role):
        assert all("*" not in action for action in as_list(statement["Action"])), statement["Sid"]
        for text in resource_texts(statement):
            # never a name of the other environment's stack
            assert not any(f"${{{p}}}" in text for p in other), (statement["Sid"], text)
            if text == "*":  # only actions that have no resource type in IAM
                assert statement["Sid"] in {"LogDescribeAndDelivery", "GenerateSecretValue"}
                continue
            own = (f"${{{stack_parameter}}}", "ArtifactBucket", "::/apis", "::/tags")
            assert any(k in text for k in own), text
        if statement["Sid"] == "PassFunctionRoleToLambda":
            assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def check_role_changes(stack: dict[str, Any], role_name: str, stack_parameter: str) -> None:
    """Raises AssertionError where the execution role could create or widen a role outside the boundary."""
    statements = policy_statements(stack["Resources"][role_name])
    iam = [s for s in statements if any(a.startswith("iam:") for a in as_list(s["Action"]))]
    granted = {a for s in iam for a in as_list(s["Action"])}
    assert "iam:DeleteRolePermissionsBoundary" not in granted
    assert {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"} <= granted
    assert granted <= BOUNDED_IAM_ACTIONS | NAME_SCOPED_IAM_ACTIONS  # nothing on users, groups, policies
    role_names = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/${{{stack_parameter}}}-*"
    for statement in iam:
        assert resource_texts(statement) == [role_names], statement["Sid"]
        if set(as_list(statement["Action"])) & BOUNDED_IAM_ACTIONS:
            condition = statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"]
            assert condition == {"Ref": "PermissionsBoundary"}, statement["Sid"]


@pytest.mark.parametrize(("role_name", "stack_parameter"), ENVIRONMENTS)
def test_an_execution_role_creates_and_changes_roles_only_inside_the_boundary(
    role_name: str, stack_parameter: str
) -> None:
    check_role_changes(oidc_stack(), role_name, stack_parameter)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda s: s["Condition"].pop("StringEquals"),
        lambda s: s["Action"].append("iam:DeleteRolePermissionsBoundary"),
        lambda s: s["Resource"].append({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}),
    ],
)
def test_the_boundary_check_catches_a_loosened_execution_role(breakage: Any) -> None:
    stack = copy.deepcopy(oidc_stack())
    role = stack["Resources"]["StagingExecutionRole"]
    (statement,) = [s for s in policy_statements(role) if "iam:CreateRole" in as_list(s["Action"])]
    breakage(statement)
    with pytest.raises((AssertionError, KeyError)):
        check_role_changes(stack, "StagingExecutionRole", "StagingStackName")


# What SAM attaches to the function's role (template.yaml: the basic execution role; Tracing: Active), as
# those AWS managed policies grant today.
MANAGED_POLICY_ACTIONS = {
    "AWSLambdaBasicExecutionRole": {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
    # The task worker (DurableConfig): logs, and checkpointing its own executions.
    "AWSLambdaBasicDurableExecutionRolePolicy": {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "lambda:CheckpointDurableExecution",
        "lambda:GetDurableExecutionState",
    },
    "AWSXrayWriteOnlyAccess": {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    },
}


def function_policy_actions() -> set[str]:
    """Every action template.yaml's functions' Policies grant (both branches of each Fn::If): the server's
    and the task worker's roles have the same boundary."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    actions: set[str] = set()
    policies = [
        policy
        for name in ("McpFunction", "WorkerFunction")
        for policy in template["Resources"][name]["Properties"]["Policies"]
    ]
    for policy in policies:
        for statement in policy["Statement"]:
            branches = statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
            for branch in branches:
                if isinstance(branch, dict) and "Action" in branch:
                    actions |= set(as_list(branch["Action"]))
    return actions


def test_the_boundary_covers_everything_the_function_role_is_granted_and_no_more() -> None:
    stack = oidc_stack()
    boundary = stack["Resources"]["PermissionsBoundary"]
    assert boundary["Type"] == "AWS::IAM::ManagedPolicy"
    assert boundary["Properties"]["ManagedPolicyName"] == {"Ref": "PermissionsBoundaryName"}
    assert stack["Parameters"]["PermissionsBoundaryName"]["Default"] == "lambda-ops-mcp-boundary"
    statements = boundary["Properties"]["PolicyDocument"]["Statement"]
    assert {s["Effect"] for s in statements} == {"Allow"}
    allowed = {a for s in statements for a in as_list(s["Action"])}
    needed = function_policy_actions() | set().union(*MANAGED_POLICY_ACTIONS.values())
    assert "secretsmanager:GetSecretValue" in needed  # the policies were read,
    assert "lambda:UpdateAlias" in needed  # both branches of each Fn::If
    assert needed - allowed == set()
    assert allowed - needed == set()  # nothing the function does not use (no iam:*, no wildcards)
    no_resource_type = {"lambda:ListFunctions", "cloudwatch:GetMetricData", "logs:GetQueryResults"}
    no_resource_type |= {"organizations:ListAccounts", "organizations:ListAccountsForParent"}
    no_resource_type |= {"organizations:ListChildren", "ec2:DescribeRegions"}
    no_resource_type |= {"logs:StopQuery"} | set(MANAGED_POLICY_ACTIONS["AWSXrayWriteOnlyAccess"])
    no_resource_type |= {"cloudwatch:DescribeAlarms"}  # "*" or composite alarms are not returned (AWS)
    for statement in statements:
        for text in resource_texts(statement):
            if text == "*":  # the actions with no resource type
                assert set(as_list(statement["Action"])) <= no_resource_type
    search = next(s for s in statements if "logs:StartQuery" in as_list(s["Action"]))
    assert resource_texts(search)[0].endswith(":log-group:/aws/lambda/*")  # the functions' log groups only
    assert stack["Outputs"]["PermissionsBoundaryArn"]["Value"] == {"Ref": "PermissionsBoundary"}
    # The fleet's member roles: inside the caller's own organization only.
    members = next(s for s in statements if "sts:AssumeRole" in as_list(s["Action"]))
    assert members["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}


def test_the_template_puts_the_boundary_on_the_function_role_when_given() -> None:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    parameter = template["Parameters"]["PermissionsBoundaryArn"]
    assert parameter["Default"] == ""  # a workstation `sam deploy` without the bootstrap stack
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("arn:aws:iam::123456789012:policy/lambda-ops-mcp-boundary")
    assert pattern.fullmatch("")
    assert not pattern.fullmatch("arn:aws:iam::aws:policy/AdministratorAccess")
    assert template["Conditions"]["BoundaryGiven"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "PermissionsBoundaryArn"}, ""]}]
    }
    assert template["Resources"]["McpFunction"]["Properties"]["PermissionsBoundary"] == {
        "Fn::If": ["BoundaryGiven", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
    }


def test_the_artifact_bucket_is_private_versioned_encrypted_and_tls_only() -> None:
    resources = oidc_stack()["Resources"]
    bucket = resources["ArtifactBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    (deny,) = resources["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Action"]) == ("Deny", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("path", ["template.yaml", "infra/github-oidc.yaml"])
def test_every_checkov_skip_carries_its_reason(path: str) -> None:
    stack = yaml.load((ROOT / path).read_text(), Loader=CfnLoader)
    skips = [
        (name, skip)
        for name, resource in stack["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
        assert len(skip.get("comment", "")) >= 40, (name, skip["id"])  # a reason, not a label


@pytest.mark.parametrize("known", [True, False])
def test_the_stack_outputs_step_hands_the_urls_to_the_smoke_test(tmp_path: Path, known: bool) -> None:
    """The step's script, run as Actions runs it (bash -e), against a stand-in `aws` on PATH."""
    script = step(deploy_jobs()["staging"], "Stack outputs")["run"]
    fake = tmp_path / "aws"
    url = "https://abc.execute-api.eu-west-1.amazonaws.com/mcp" if known else "None"
    fake.write_text(
        "#!/bin/bash\n"
        'case "$*" in\n'
        f"  *lambda-ops-mcp-staging*McpUrl*) echo {url} ;;\n"
        "  *lambda-ops-mcp-identity*TokenEndpoint*) echo https://login.example.com/oauth2/token ;;\n"
        "  *) exit 254 ;;\n"
        "esac\n"
    )
    fake.chmod(0o755)
    output = tmp_path / "github_output"
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "GITHUB_OUTPUT": str(output),
           "STACK": "lambda-ops-mcp-staging", "IDENTITY_STACK": "lambda-ops-mcp-identity"}  # fmt: skip
    done = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    if known:
        assert done.returncode == 0, done.stderr
        assert output.read_text().splitlines() == [
            "mcp_url=https://abc.execute-api.eu-west-1.amazonaws.com/mcp",
            "token_endpoint=https://login.example.com/oauth2/token",
        ]
    else:  # the stack has no McpUrl (the CLI prints None): the job stops before the smoke test
        assert done.returncode != 0
        assert "missing McpUrl or TokenEndpoint" in done.stderr


@pytest.mark.parametrize("job_name", ["staging", "prod"])
def test_the_deploy_step_turns_sign_in_on_from_the_identity_stack(tmp_path: Path, job_name: str) -> None:
    """The step's script, run as Actions runs it (bash -e), with stand-ins for `aws` (the identity stack's
    outputs) and `sam` (records its arguments): samconfig's overrides for the environment, then the sign-in
    parameters — the deployed stack is authenticated, not the fail-closed default with no issuer."""
    job = deploy_jobs()[job_name]
    deploy = step(job, "sam deploy")
    outputs = {
        "IssuerUrl": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
        "JwksUrl": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json",
        "ResourceServerIdentifier": "https://abc.execute-api.eu-west-1.amazonaws.com/mcp",
        "ReadScope": "https://abc.execute-api.eu-west-1.amazonaws.com/mcp/read",
        "WriteScope": "https://abc.execute-api.eu-west-1.amazonaws.com/mcp/write",
        "ClientIds": "public123,machine456",
        "PublicClientId": "public123",
        "PublicClientRedirectUris": "https://claude.ai/api/mcp/auth_callback",
        "AuthorizationEndpoint": "https://ops.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
        "TokenEndpoint": "https://ops.auth.eu-west-1.amazoncognito.com/oauth2/token",
    }
    (tmp_path / "outputs.txt").write_text("".join(f"{k}\t{v}\n" for k, v in outputs.items()))
    (tmp_path / "aws").write_text(
        "#!/bin/bash\n"
        'case "$1 $2" in\n'
        f"  'cloudformation describe-stacks') cat {tmp_path}/outputs.txt ;;\n"
        "  'sts get-caller-identity') echo arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions ;;\n"
        "  *) exit 254 ;;\n"
        "esac\n"
    )
    (tmp_path / "sam").write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" > {tmp_path}/sam-args\n')
    for tool in ("aws", "sam"):
        (tmp_path / tool).chmod(0o755)
    env = {
        **{k: v for k, v in deploy["env"].items() if not v.startswith("${{")},
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "IDENTITY_STACK": "lambda-ops-mcp-identity",
        "ARTIFACT_BUCKET": "bucket",
        "CFN_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/exec",
        "GITHUB_WORKSPACE": str(ROOT),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", deploy["run"]], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "sam-args").read_text().splitlines()
    start = args.index("--parameter-overrides") + 1
    end = next(i for i in range(start, len(args)) if args[i].startswith("--"))
    overrides = args[start:end]
    samconfig_part = samconfig()[job_name]["deploy"]["parameters"]["parameter_overrides"].split()
    assert overrides[: len(samconfig_part)] == samconfig_part
    signed_in = dict(item.split("=", 1) for item in overrides[len(samconfig_part) :])
    assert signed_in["OAuthIssuer"] == outputs["IssuerUrl"]
    assert signed_in["ResourceUrl"] == outputs["ResourceServerIdentifier"]
    assert "AuthMode" not in signed_in  # the template's default: oauth
    # the account's boundary (infra/github-oidc.yaml): the execution role creates no role without it
    assert signed_in["PermissionsBoundaryArn"] == "arn:aws:iam::123456789012:policy/lambda-ops-mcp-boundary"


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("arn:aws-us-gov:sts::123456789012:assumed-role/d/s", "arn:aws-us-gov:iam::123456789012:policy/"),
        ("arn:aws-cn:iam::210987654321:user/ops", "arn:aws-cn:iam::210987654321:policy/"),
        ("None", None),  # the CLI printed no identity: stop, never deploy without the boundary
        ("", None),
    ],
)
def test_deploy_overrides_derive_the_boundary_from_the_callers_account_and_partition(
    tmp_path: Path, caller: str, expected: str | None
) -> None:
    """scripts/deploy_overrides.sh with a stand-in `aws` (identity stack outputs, sts get-caller-identity)."""
    script = (ROOT / "scripts" / "identity_overrides.sh").read_text()
    outputs = [pair.split("=")[0] for pair in re.findall(r"^\s+(\w+=\w+)$", script, re.M)]
    assert outputs
    (tmp_path / "outputs.txt").write_text("".join(f"{o}\thttps://x.example/{o}\n" for o in outputs))
    (tmp_path / "aws").write_text(
        "#!/bin/bash\n"
        'case "$1 $2" in\n'
        f"  'cloudformation describe-stacks') cat {tmp_path}/outputs.txt ;;\n"
        f"  'sts get-caller-identity') echo '{caller}' ;;\n"
        "  *) exit 254 ;;\n"
        "esac\n"
    )
    (tmp_path / "aws").chmod(0o755)
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "deploy_overrides.sh"), "prod", "lambda-ops-mcp-identity-prod"],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if expected is None:
        assert done.returncode != 0
        assert "unexpected caller ARN" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"PermissionsBoundaryArn={expected}lambda-ops-mcp-boundary"
    assert sum(line.startswith("PermissionsBoundaryArn=") for line in lines) == 1


def test_no_identity_stack_is_named_inside_an_application_stacks_prefix() -> None:
    """The execution roles act on resources named `<application stack>-*`: an identity stack named that way
    would put its user pool's trigger role within the reach of an automatic staging deploy."""
    parameters = oidc_stack()["Parameters"]
    applications = [parameters[p]["Default"] for p in ("StagingStackName", "ProdStackName")]
    for identity in ("StagingIdentityStackName", "ProdIdentityStackName"):
        name = parameters[identity]["Default"]
        assert not any(name.startswith(application) for application in applications), name
