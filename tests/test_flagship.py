"""The question this server exists for, through ``app.handler.handler`` with API Gateway events, against a
seeded account: "which of my nodejs functions use deprecated runtimes, by version?" — then a safe upgrade."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from app.config import Settings
from app.handler import build_handler
from app.local.seed_data import FUNCTIONS, SECRET_VALUES
from tests.helpers import LEGACY, LambdaContext, body_of, event, initialize, modern, request

ATTENTION = {"deprecated", "deprecating_soon", "blocked"}


def seeded_nodejs() -> dict[str, list[str]]:
    by_runtime: dict[str, list[str]] = defaultdict(list)
    for function in FUNCTIONS:
        if function.runtime and function.runtime.startswith("nodejs"):
            by_runtime[function.runtime].append(function.name)
    return {runtime: sorted(names) for runtime, names in by_runtime.items()}


def test_nodejs_deprecations_by_version_in_one_tool_call(moto_lambda: Any) -> None:
    handler = build_handler(Settings())
    calls = 0

    def tool(name: str, arguments: dict[str, Any], *, era: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        params = {"name": name, "arguments": arguments}
        if era == "modern":
            message, headers = modern("tools/call", params)
        else:
            message, headers = request("tools/call", params), {"mcp-protocol-version": LEGACY}
        response = handler(event(body=message, headers=headers), LambdaContext())
        assert response["statusCode"] == 200
        result: dict[str, Any] = body_of(response)["result"]
        wire = json.dumps(result)
        assert not [secret for secret in SECRET_VALUES if secret in wire]
        return result

    assert handler(event(body=initialize()), LambdaContext())["statusCode"] == 200
    for era in ("legacy", "modern"):
        calls = 0
        result = tool("audit-runtimes", {"family": "nodejs"}, era=era)
        assert not result.get("isError")
        # One call is the whole answer: every function counted and named, nothing left to page for.
        assert result["structuredContent"]["complete"] is True
        assert all(g["more"] == 0 for g in result["structuredContent"]["groups"])
        assert calls == 1
        groups = {g["runtime"]: g for g in result["structuredContent"]["groups"]}
        expected = seeded_nodejs()
        assert {runtime: g["functions"] for runtime, g in groups.items()} == expected
        flagged = {runtime for runtime, g in groups.items() if g["status"] in ATTENTION}
        assert {"nodejs16.x", "nodejs14.x", "nodejs12.x"} <= flagged
        for runtime in flagged:
            assert runtime in result["content"][0]["text"]


def test_writes_are_refused_by_default_on_the_deployed_handler(moto_lambda: Any) -> None:
    handler = build_handler(Settings())  # what a deployment gets without AllowWrites
    message, headers = modern(
        "tools/call",
        {
            "name": "update-function-runtime",
            "arguments": {"name": "coupon-validator-v1", "target_runtime": "nodejs22.x", "dry_run": False},
        },
    )
    result = body_of(handler(event(body=message, headers=headers), LambdaContext()))["result"]
    assert result["isError"] is True
    assert "LAMBDA_OPS_ALLOW_WRITES" in result["content"][0]["text"]
    runtime = moto_lambda.get_function_configuration(FunctionName="coupon-validator-v1")["Runtime"]
    assert runtime == "nodejs14.x"


def test_production_behind_an_alias_is_found_and_moved_only_after_its_version_passed(
    moto_lambda: Any,
) -> None:
    """The trap $LATEST hides: orders-api-prod's $LATEST is on nodejs22.x, but prod serves version 2 on
    nodejs16.x. The audit leads with it; the upgrade through the alias moves prod, verified."""
    handler = build_handler(Settings(allow_writes=True))

    def tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        message, headers = modern("tools/call", {"name": name, "arguments": arguments})
        response = handler(event(body=message, headers=headers), LambdaContext())
        assert response["statusCode"] == 200
        result: dict[str, Any] = body_of(response)["result"]
        assert not result.get("isError"), result
        return result

    text = tool("audit-runtimes", {"family": "nodejs"})["content"][0]["text"]
    lead = "`orders-api-prod`: `$LATEST` on nodejs22.x, but alias `prod` → version 2 on nodejs16.x"
    assert lead in text
    assert text.index(lead) < text.index("audited on")  # what serves traffic comes first
    arguments = {
        "name": "orders-api-prod",
        "target_runtime": "nodejs24.x",
        "alias": "prod",
        "smoke_payload": {},
    }
    plan = tool("update-function-runtime", arguments)["structuredContent"]
    assert (plan["outcome"], plan["alias"]["version_before"]) == ("planned", "2")
    assert moto_lambda.get_alias(FunctionName="orders-api-prod", Name="prod")["FunctionVersion"] == "2"
    done = tool("update-function-runtime", {**arguments, "dry_run": False})["structuredContent"]
    assert (done["outcome"], done["verified"]) == ("succeeded", True)
    served = moto_lambda.get_alias(FunctionName="orders-api-prod", Name="prod")["FunctionVersion"]
    assert served == done["alias"]["version_after"] == done["alias"]["published_version"]
    version = moto_lambda.get_function_configuration(FunctionName="orders-api-prod", Qualifier=served)
    assert version["Runtime"] == "nodejs24.x"
