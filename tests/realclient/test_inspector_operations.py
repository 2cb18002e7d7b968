"""Issue #3's "done when", with MCP Inspector's CLI against the server ``make serve`` runs: audit the sandbox
account, find the deprecated nodejs functions, dry-run an upgrade of one, perform it and see it verified.

This module gets its own server (the fixture is per module): the upgrade changes the sandbox account.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from app.local.launcher import LocalServer
from app.local.seed_data import FUNCTIONS, SECRET_VALUES
from tests.realclient.test_inspector_cli import inspector

if TYPE_CHECKING:
    from tests.realclient.conftest import NodeTools

pytestmark = pytest.mark.realclient


def call(node_tools: NodeTools, server: LocalServer, era: str, tool: str, **arguments: str) -> dict[str, Any]:
    args = ["--method", "tools/call", "--tool-name", tool]
    for key, value in arguments.items():
        args += ["--tool-arg", f"{key}={value}"]
    result: dict[str, Any] = inspector(node_tools, server.url, era, *args)["result"]
    wire = json.dumps(result)
    assert not [secret for secret in SECRET_VALUES if secret in wire]
    return result


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_audit_then_dry_run_then_verified_upgrade(
    era: str, node_tools: NodeTools, lambda_ops_server: LocalServer
) -> None:
    audit = call(node_tools, lambda_ops_server, era, "audit-runtimes", family="nodejs")
    assert audit["isError"] is False
    groups = audit["structuredContent"]["groups"]
    deprecated = {g["runtime"] for g in groups if g["status"] in ("deprecated", "blocked")}
    assert deprecated == {f.runtime for f in FUNCTIONS if f.runtime in deprecated}
    assert {"nodejs16.x", "nodejs14.x"} <= deprecated
    # An upgradable group (deprecated or soon, not yet blocked for updates), a different one per era so
    # the two runs don't depend on each other; which runtimes qualify moves with the calendar.
    upgradable = [g for g in groups if g["status"] in ("deprecated", "deprecating_soon") and g["functions"]]
    group = upgradable[0 if era == "legacy" else -1]
    name, target = group["functions"][0], group["recommended_target"]

    plan = call(
        node_tools, lambda_ops_server, era, "update-function-runtime", name=name, target_runtime=target
    )
    assert plan["structuredContent"]["outcome"] == "planned"
    assert plan["structuredContent"]["verified"] is False
    before = call(node_tools, lambda_ops_server, era, "get-function", name=name)
    assert (
        before["structuredContent"]["runtime"]["runtime"] == group["runtime"]
    )  # the dry run changed nothing

    done = call(
        node_tools,
        lambda_ops_server,
        era,
        "update-function-runtime",
        name=name,
        target_runtime=target,
        dry_run="false",
        smoke_payload="{}",
    )
    upgrade = done["structuredContent"]
    assert done["isError"] is False, done
    assert (upgrade["outcome"], upgrade["verified"], upgrade["final_runtime"]) == ("succeeded", True, target)
    assert (
        upgrade["health"]["available"] is True
    )  # issue #15: how it behaves since the change, or "cannot tell"
    after = call(node_tools, lambda_ops_server, era, "get-function", name=name)
    assert after["structuredContent"]["runtime"]["runtime"] == target


def test_function_health_tells_a_spike_from_a_quiet_and_an_idle_function(
    node_tools: NodeTools, lambda_ops_server: LocalServer
) -> None:
    """Issue #15's "done when" in the sandbox ``make serve`` runs, through MCP Inspector's CLI."""
    statuses = {}
    for name, qualifier in [
        ("checkout-session-handler", None),
        ("cart-service-prod", None),
        ("coupon-validator-v1", None),
        ("orders-api-prod", "prod"),
        ("orders-api-prod", "staging"),
        ("orders-api-prod", "3"),  # the CLI sends it as a number: a version
    ]:
        arguments = {"name": name, **({"qualifier": qualifier} if qualifier else {})}
        result = call(node_tools, lambda_ops_server, "modern", "get-function-health", **arguments)
        assert result["isError"] is False, result
        statuses[(name, qualifier)] = result["structuredContent"]["status"]
        assert len(result["content"][0]["text"].encode()) <= 2048
    assert statuses == {
        ("checkout-session-handler", None): "anomalous",
        ("cart-service-prod", None): "ok",
        ("coupon-validator-v1", None): "idle",
        ("orders-api-prod", "prod"): "ok",
        ("orders-api-prod", "staging"): "anomalous",
        ("orders-api-prod", "3"): "anomalous",
    }
    ranked = call(
        node_tools, lambda_ops_server, "legacy", "audit-runtimes", rank_by="invocations",
        accounts='["123456789012"]', regions='["us-east-1"]',
    )  # fmt: skip
    ranking = ranked["structuredContent"]["ranking"]
    assert ranking["busiest"][0]["function"] == "marketing-landing-ssr"
    # make serve's fleet: the home target alone (accounts/regions), idle functions named with account/region
    assert "123456789012/us-east-1/coupon-validator-v1" in ranking["idle"]


def test_resources_and_prompts_through_inspector(
    node_tools: NodeTools, lambda_ops_server: LocalServer
) -> None:
    url = lambda_ops_server.url
    templates = inspector(node_tools, url, "modern", "--method", "resources/templates/list")["result"]
    assert [t["uriTemplate"] for t in templates["resourceTemplates"]] == ["lambda://functions/{name}"]
    read = inspector(
        node_tools,
        url,
        "modern",
        "--method",
        "resources/read",
        "--uri",
        "lambda://functions/coupon-validator-v1",
    )["result"]
    assert json.loads(read["contents"][0]["text"])["name"] == "coupon-validator-v1"
    prompt = inspector(
        node_tools, url, "legacy", "--method", "prompts/get", "--prompt-name", "audit-deprecated-runtimes"
    )["result"]
    assert "audit-runtimes" in prompt["messages"][0]["content"]["text"]
