"""The MCP surface through the SDK's in-memory client, against a seeded moto account.

What the domain does is tested in tests/lambda_ops; here: names, descriptions, annotations, schemas, the
structured and text content, errors as ``isError`` results, sanitising and the write gate — as a client
sees them.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from app.config import Settings
from app.lambda_ops import LambdaClients, LambdaOps, WritePolicy
from app.local.seed_data import FUNCTIONS, SECRET_VALUES
from app.surface.server import build_server
from tests.lambda_ops.helpers import TODAY

T = TypeVar("T")
OPS_TOOLS = {
    "get-runtime-info",
    "audit-runtimes",
    "list-functions",
    "get-function",
    "get-function-health",
    "invoke-function",
    "update-function-runtime",
    "list-targets",
    "plan-runtime-campaign",
    "run-runtime-campaign",
}
# Every tool that reads an account takes the target (issue #14); the catalog and list-targets do not.
# The campaign tools select many targets (accounts, regions) instead.
TARGETED = OPS_TOOLS - {"get-runtime-info", "list-targets", "plan-runtime-campaign", "run-runtime-campaign"}
WRITE_OPERATIONS = {"Invoke", "UpdateFunctionConfiguration"}


class Recorder:
    """Every Lambda API operation the client sends, from botocore's own event hook."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-call.lambda", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


def session(
    lambda_client: Any, policy: WritePolicy | None = None
) -> Callable[[Callable[[Client], Awaitable[T]]], T]:
    """Run ``body(client)`` against a server whose domain uses ``lambda_client``."""
    ops = LambdaOps(
        LambdaClients.of(lambda_client), policy=policy or WritePolicy(allow_writes=True), today=lambda: TODAY
    )
    server = build_server(Settings(), ops=ops)

    def run(body: Callable[[Client], Awaitable[T]]) -> T:
        async def main() -> T:
            async with Client(server) as client:
                return await body(client)

        return asyncio.run(main())

    return run


def call(lambda_client: Any, tool: str, arguments: dict[str, Any], **kw: Any) -> CallToolResult:
    async def body(client: Client) -> CallToolResult:
        return await client.call_tool(tool, arguments)

    return session(lambda_client, **kw)(body)


def text(result: CallToolResult) -> str:
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


def runtime_of(lambda_client: Any, name: str) -> str:
    return str(lambda_client.get_function_configuration(FunctionName=name)["Runtime"])


def test_every_tool_is_described_annotated_and_typed(moto_lambda: Any) -> None:
    tools = {t.name: t for t in session(moto_lambda)(lambda c: c.list_tools()).tools}
    assert set(tools) == OPS_TOOLS | {"ping"}
    for name in OPS_TOOLS:
        tool = tools[name]
        assert len(tool.description or "") > 150, name
        assert (tool.output_schema or {}).get("type") == "object", name
        for prop, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{name}.{prop} has no description"
        assert tool.annotations is not None
    for name in (
        "get-runtime-info",
        "audit-runtimes",
        "list-functions",
        "get-function",
        "get-function-health",
        "list-targets",
    ):
        assert tools[name].annotations.read_only_hint is True, name  # type: ignore[union-attr]
    for name in TARGETED:
        assert {"account", "region"} <= set(tools[name].input_schema["properties"]), name
    for name in ("audit-runtimes", "plan-runtime-campaign", "run-runtime-campaign"):  # across the fleet
        assert {"accounts", "regions"} <= set(tools[name].input_schema["properties"]), name
    invoke, update = tools["invoke-function"].annotations, tools["update-function-runtime"].annotations
    assert invoke is not None
    assert update is not None
    assert (invoke.read_only_hint, invoke.destructive_hint, invoke.open_world_hint) == (False, True, True)
    assert (update.read_only_hint, update.destructive_hint, update.idempotent_hint) == (False, True, True)
    assert tools["list-functions"].input_schema["properties"]["page_size"]["maximum"] == 50


def test_audit_answers_the_flagship_question_in_one_call(moto_lambda: Any) -> None:
    result = call(moto_lambda, "audit-runtimes", {"family": "nodejs"})
    assert not result.is_error
    audit = result.structured_content
    assert audit is not None
    seeded = Counter(f.runtime for f in FUNCTIONS if f.runtime and f.runtime.startswith("nodejs"))
    assert {g["runtime"]: g["count"] for g in audit["groups"]} == dict(seeded)
    assert audit["complete"] is True
    assert audit["total_functions"] == sum(seeded.values())
    legacy = next(g for g in audit["groups"] if g["runtime"] == "nodejs16.x")
    assert legacy["status"] in ("deprecated", "blocked")
    assert legacy["recommended_target"]
    assert legacy["functions"] == sorted(f.name for f in FUNCTIONS if f.runtime == "nodejs16.x")
    assert "nodejs16.x" in text(result)
    assert legacy["functions"][0] in text(result)


def test_audit_bounds_names_and_says_how_to_get_the_rest(moto_lambda: Any) -> None:
    audit = call(moto_lambda, "audit-runtimes", {"names_per_group": 1}).structured_content
    assert audit is not None
    crowded = max(audit["groups"], key=lambda g: g["count"])
    assert crowded["count"] > 1
    assert len(crowded["functions"]) == 1
    assert crowded["more"] == crowded["count"] - 1
    assert "list-functions" in crowded["list_hint"]


def test_runtime_info_reports_one_runtime_and_rejects_unknown(moto_lambda: Any) -> None:
    info = call(moto_lambda, "get-runtime-info", {"runtime": "python3.8"}).structured_content
    assert info is not None
    assert [r["identifier"] for r in info["runtimes"]] == ["python3.8"]
    assert info["runtimes"][0]["status"] in ("deprecated", "blocked")
    assert info["source_url"].startswith("https://docs.aws.amazon.com/lambda/")
    unknown = call(moto_lambda, "get-runtime-info", {"runtime": "cobol85"})
    assert unknown.is_error
    assert "Unknown runtime 'cobol85'" in text(unknown)
    assert unknown.structured_content is None


def test_list_functions_filters_by_family_and_stays_compact(moto_lambda: Any) -> None:
    result = call(moto_lambda, "list-functions", {"runtime": "python"})
    page = result.structured_content
    assert page is not None
    expected = sorted(f.name for f in FUNCTIONS if f.runtime and f.runtime.startswith("python"))
    assert sorted(f["name"] for f in page["functions"]) == expected
    assert set(page["functions"][0]) == {
        "name",
        "version",
        "runtime",
        "runtime_status",
        "architecture",
        "memory_mb",
        "timeout_s",
        "package_type",
        "last_modified",
        "state",
    }
    assert page["next_marker"] is None
    assert "last page" in text(result)


def test_arguments_outside_their_bounds_are_tool_errors(moto_lambda: Any) -> None:
    recorder = Recorder(moto_lambda)
    for tool, arguments in [
        ("list-functions", {"page_size": 500}),
        ("audit-runtimes", {"names_per_group": -1}),
        ("get-function", {"name": ""}),
        (
            "update-function-runtime",
            {"name": "coupon-validator-v1", "target_runtime": "nodejs22.x", "budget_s": 60},
        ),
        ("invoke-function", {"name": "coupon-validator-v1", "payload": "not an object"}),
    ]:
        result = call(moto_lambda, tool, arguments)
        assert result.is_error, (tool, arguments)
    assert recorder.operations == []


def test_get_function_is_sanitised(moto_lambda: Any) -> None:
    secret_holder = next(f for f in FUNCTIONS if set(f.environment.values()) & SECRET_VALUES)
    result = call(moto_lambda, "get-function", {"name": secret_holder.name})
    detail = result.structured_content
    assert detail is not None
    assert not result.is_error
    assert detail["environment_variable_names"] == sorted(secret_holder.environment)
    assert detail["tags"] == secret_holder.tags
    assert detail["reserved_concurrency"] == secret_holder.reserved_concurrency
    wire = result.model_dump_json()
    assert not [s for s in SECRET_VALUES if s in wire]
    location = moto_lambda.get_function(FunctionName=secret_holder.name)["Code"]["Location"]
    assert location.startswith("https://")
    assert location not in wire  # the presigned code download URL


def test_no_output_anywhere_carries_a_secret_or_code_url(moto_lambda: Any) -> None:
    names = [f.name for f in FUNCTIONS if f.environment]
    locations = [moto_lambda.get_function(FunctionName=n)["Code"]["Location"] for n in names]

    async def body(client: Client) -> list[str]:
        outputs = [await client.call_tool("audit-runtimes", {"names_per_group": 100})]
        outputs.append(await client.call_tool("list-functions", {}))
        for name in names:
            outputs.append(await client.call_tool("get-function", {"name": name}))
            outputs.append(await client.call_tool("invoke-function", {"name": name, "log_tail": True}))
            outputs.append(
                await client.call_tool("update-function-runtime", {"name": name, "target_runtime": "nope"})
            )
        outputs.append(await client.call_tool("get-function", {"name": "no-such-function"}))
        reads = [await client.read_resource(f"lambda://functions/{name}") for name in names]
        reads.append(await client.read_resource("lambda://runtimes"))
        return [o.model_dump_json() for o in [*outputs, *reads]]

    wires = session(moto_lambda)(body)
    assert len(wires) == 4 * len(names) + 4
    leaks = [(s, w[:80]) for w in wires for s in [*SECRET_VALUES, *locations] if s in w]
    assert leaks == []


def test_resources_serve_the_catalog_and_a_function(moto_lambda: Any) -> None:
    async def body(client: Client) -> tuple[Any, ...]:
        templates = await client.list_resource_templates()
        resources = await client.list_resources()
        function = await client.read_resource("lambda://functions/legacy-report-cron")
        catalog = await client.read_resource("lambda://runtimes")
        return templates, resources, function, catalog

    templates, resources, function, catalog = session(moto_lambda)(body)
    assert [t.uri_template for t in templates.resource_templates] == ["lambda://functions/{name}"]
    assert [str(r.uri) for r in resources.resources] == ["lambda://runtimes"]
    detail = json.loads(function.contents[0].text)
    assert detail["name"] == "legacy-report-cron"
    assert detail["runtime"]["runtime"] == "nodejs14.x"
    assert function.contents[0].mime_type == "application/json"
    assert len(json.loads(catalog.contents[0].text)["runtimes"]) > 30


def read_error(lambda_client: Any, uri: str) -> MCPError | None:
    async def body(client: Client) -> MCPError | None:
        try:
            await client.read_resource(uri)
        except MCPError as error:
            return error
        return None

    return session(lambda_client)(body)


def test_missing_function_resource_is_a_not_found_error(moto_lambda: Any) -> None:
    error = read_error(moto_lambda, "lambda://functions/no-such-function")
    assert error is not None
    assert error.error.code == -32602
    assert "no function 'no-such-function'" in error.error.message


def test_an_empty_function_name_resource_is_not_found_not_internal(moto_lambda: Any) -> None:
    error = read_error(moto_lambda, "lambda://functions/%20")
    assert error is not None
    assert error.error.code == -32602


def test_runtime_and_family_that_disagree_are_refused(moto_lambda: Any) -> None:
    result = call(moto_lambda, "get-runtime-info", {"runtime": "python3.8", "family": "nodejs"})
    assert result.is_error
    assert "python3.8 is a python runtime" in text(result)


def test_audit_without_names_still_says_how_to_get_them(moto_lambda: Any) -> None:
    result = call(moto_lambda, "audit-runtimes", {"family": "nodejs", "names_per_group": 0})
    lines = [line for line in text(result).splitlines() if line.startswith("- nodejs16.x")]
    assert len(lines) == 1
    assert "3 (list-functions with runtime='nodejs16.x'" in lines[0]


def test_prompts_walk_through_the_safe_sequence(moto_lambda: Any) -> None:
    async def body(client: Client) -> tuple[Any, ...]:
        listed = await client.list_prompts()
        audit = await client.get_prompt("audit-deprecated-runtimes", {"family": "nodejs"})
        upgrade = await client.get_prompt(
            "upgrade-function-runtime", {"function": "legacy-report-cron", "target": "nodejs22.x"}
        )
        return listed, audit, upgrade

    listed, audit, upgrade = session(moto_lambda)(body)
    prompts = {p.name: p for p in listed.prompts}
    assert set(prompts) == {"audit-deprecated-runtimes", "upgrade-function-runtime"}
    arguments = {a.name: a for a in prompts["upgrade-function-runtime"].arguments or []}
    assert arguments["function"].required
    assert arguments["function"].description
    assert "audit-runtimes with family='nodejs'" in audit.messages[0].content.text
    steps = upgrade.messages[0].content.text
    assert steps.index("dry_run=true") < steps.index("consent") < steps.index("dry_run=false")
    assert "verified" in steps


def test_upgrade_dry_run_then_verified_upgrade(moto_lambda: Any) -> None:
    name = "legacy-report-cron"
    before = runtime_of(moto_lambda, name)
    plan = call(moto_lambda, "update-function-runtime", {"name": name, "target_runtime": "nodejs22.x"})
    assert plan.structured_content is not None
    assert (plan.structured_content["outcome"], plan.structured_content["verified"]) == ("planned", False)
    assert runtime_of(moto_lambda, name) == before, "a dry run (the default) changed the function"

    done = call(
        moto_lambda,
        "update-function-runtime",
        {"name": name, "target_runtime": "nodejs22.x", "dry_run": False, "smoke_payload": {"ping": 1}},
    )
    result = done.structured_content
    assert result is not None
    assert not done.is_error
    assert (result["outcome"], result["verified"], result["previous_runtime"]) == ("succeeded", True, before)
    assert [s["action"] for s in result["steps"]] == ["update", "wait", "smoke_invoke"]
    assert runtime_of(moto_lambda, name) == "nodejs22.x"
    assert "verified: true" in text(done)


def test_invoke_returns_the_response_as_data(moto_lambda: Any) -> None:
    result = call(moto_lambda, "invoke-function", {"name": "coupon-validator-v1", "payload": {"code": "X1"}})
    invoked = result.structured_content
    assert invoked is not None
    assert not result.is_error
    assert json.loads(invoked["payload"]) == {"code": "X1"}  # moto without Docker echoes the event
    assert invoked["function_error"] is None
    assert "untrusted" in text(result)


@pytest.mark.parametrize(
    ("policy", "setting"),
    [
        (WritePolicy(), "LAMBDA_OPS_ALLOW_WRITES"),
        (WritePolicy.from_values(True, ["orders-"]), "LAMBDA_OPS_WRITE_FUNCTION_PREFIXES"),
    ],
)
def test_refused_writes_make_no_aws_write_call(moto_lambda: Any, policy: WritePolicy, setting: str) -> None:
    recorder = Recorder(moto_lambda)
    name = "legacy-report-cron"
    update = call(
        moto_lambda,
        "update-function-runtime",
        {"name": name, "target_runtime": "nodejs22.x", "dry_run": False},
        policy=policy,
    )
    invoke = call(moto_lambda, "invoke-function", {"name": name}, policy=policy)
    for result in (update, invoke):
        assert result.is_error, text(result)
        assert setting in text(result)
    assert recorder.operations == []  # refused before any AWS call, not just before the write
    assert runtime_of(moto_lambda, name) == "nodejs14.x"


def test_the_tag_rule_reads_tags_but_never_writes(moto_lambda: Any) -> None:
    recorder = Recorder(moto_lambda)
    policy = WritePolicy.from_values(True, [], "team=nobody")
    name = "legacy-report-cron"
    arguments = {"name": name, "target_runtime": "nodejs22.x", "dry_run": False}
    update = call(moto_lambda, "update-function-runtime", arguments, policy=policy)
    invoke = call(moto_lambda, "invoke-function", {"name": name}, policy=policy)
    for result in (update, invoke):
        assert result.is_error, text(result)
        assert "LAMBDA_OPS_WRITE_TAG" in text(result)
    assert set(recorder.operations) <= {"GetFunctionConfiguration", "ListTags"}
    assert not WRITE_OPERATIONS & set(recorder.operations)


def test_aws_errors_are_tool_errors_a_model_can_act_on(moto_lambda: Any) -> None:
    result = call(moto_lambda, "get-function", {"name": "no-such-function"})
    assert result.is_error
    assert result.structured_content is None
    assert "Error (not_found)" in text(result)
    assert "ResourceNotFoundException" in text(result)
