"""The tools on a moto fleet: any target by id or name, unreachable ones answered as errors with the fix,
list-targets, confirmations that name the account, renewal, and the worker running a task on a member."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import boto3
import pytest
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from mcp.client import Client
from mcp_types import CallToolResult, TextContent

from app.config import Settings
from app.fleet.aws import AwsFleet
from app.lambda_ops import LambdaClients, WritePolicy
from app.local.tasks_table import TABLE, create_tasks_table
from app.renewal import Renewal
from app.surface import confirm
from app.surface.server import build_server
from app.surface.targeting import where
from app.tasks.model import Caller, Owner, TaskRecord, TaskStatus, WorkOrder, new_task_id
from app.tasks.store import TaskStore
from app.worker.environment import Environment
from app.worker.handler import make_handler
from app.worker.jobs import JOBS
from app.worker.settings import WorkerSettings
from tests.fleet.conftest import DENIED, HOME, ONE, TWO, Calls, make_fleet

T = TypeVar("T")
FLEET = {"accounts": [ONE, TWO, DENIED], "regions": ["us-east-1", "eu-west-1"]}


def on(server: Any, body: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        async with Client(server) as client:
            return await body(client)

    return asyncio.run(main())


def call(server: Any, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    return on(server, lambda client: client.call_tool(tool, arguments))


def text(result: CallToolResult) -> str:
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


def server_of(fleet: AwsFleet) -> Any:
    return build_server(Settings(auth_mode="none", **FLEET), fleet=fleet)


def test_every_read_tool_reaches_the_target_it_names(fleet_aws: None, calls: Calls) -> None:
    server = server_of(make_fleet(calls))
    page = call(server, "list-functions", {"account": TWO, "region": "eu-west-1"})
    assert not page.is_error, text(page)
    assert page.structured_content is not None
    assert sorted(f["name"] for f in page.structured_content["functions"]) == ["two-eu", "two-eu-b"]
    audit = call(server, "audit-runtimes", {"account": ONE, "region": "eu-west-1"}).structured_content
    assert audit is not None
    assert [g["runtime"] for g in audit["groups"]] == ["nodejs16.x"]
    detail = call(server, "get-function", {"name": "one-api", "account": ONE})
    assert not detail.is_error, text(detail)
    home = call(server, "list-functions", {}).structured_content
    assert home is not None
    assert [f["name"] for f in home["functions"]] == ["home-api"]
    assert all(p["SourceIdentity"] == "anonymous" for p in calls.assumed())
    assert {p["Tags"][1]["Value"] for p in calls.assumed()} == {
        "list-functions",
        "audit-runtimes",
        "get-function",
    }


def test_an_unreachable_or_unknown_target_is_an_error_with_the_fix(fleet_aws: None, calls: Calls) -> None:
    server = server_of(make_fleet(calls))
    denied = call(server, "get-function-health", {"name": "x", "account": DENIED})
    assert denied.is_error
    assert f"role lambda-ops-mcp-reader is missing in {DENIED} or does not trust" in text(denied)
    unknown = call(server, "list-functions", {"account": "444444444444"})
    assert unknown.is_error
    assert "not in this server's fleet" in text(unknown)


def test_audit_runtimes_answers_for_the_whole_fleet_by_default(fleet_aws: None, calls: Calls) -> None:
    """No accounts or regions: every configured target (4 accounts x 2 regions), counts exact for the complete
    ones, the denied account named with its fix; then one account by its id and one region."""
    server = server_of(make_fleet(calls))
    whole = call(server, "audit-runtimes", {})
    audit = whole.structured_content
    assert audit is not None
    assert not whole.is_error
    assert (audit["targets_total"], audit["targets_complete"], audit["complete"]) == (8, 6, False)
    by = {(c["account"], c["region"]): c for c in audit["coverage"]}
    assert {key for key, c in by.items() if c["status"] == "failed"} == {
        (DENIED, "us-east-1"),
        (DENIED, "eu-west-1"),
    }
    assert {c["reason"] for c in by.values() if c["status"] == "failed"} == {"access_denied"}
    assert audit["total_functions"] == 5  # home-api, one-api, one-eu, two-eu, two-eu-b
    located = {(g["runtime"], (p["account"], p["region"], p["function"])) for g in audit["groups"]
               for p in g["located"]}  # fmt: skip
    assert ("nodejs16.x", (ONE, "eu-west-1", "one-eu")) in located
    assert ("java11", (TWO, "eu-west-1", "two-eu")) in located
    assert "counts are exact only for complete targets" in text(whole)
    assert "infra/member-roles.yaml" in text(whole)
    one = call(server, "audit-runtimes", {"accounts": [ONE], "regions": ["eu-west-1"]}).structured_content
    assert one is not None
    assert (one["targets_total"], one["complete"], one["total_functions"]) == (1, True, 1)
    outside = call(server, "audit-runtimes", {"regions": ["ap-south-1"]})
    assert outside.is_error
    assert "not configured" in text(outside)


def test_no_connection_to_a_member_outlives_the_fan_out(
    fleet_aws: None, calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a fleet audit and a reachability check, every member target's clients have closed their
    connections (botocore's close: they reconnect when next used); the home target keeps its own."""
    import botocore.client

    closed: list[int] = []
    real_close = botocore.client.BaseClient.close

    def close(client: Any) -> None:
        closed.append(id(client))
        real_close(client)

    monkeypatch.setattr(botocore.client.BaseClient, "close", close)
    fleet = make_fleet(calls)
    server = server_of(fleet)
    assert not call(server, "audit-runtimes", {}).is_error
    members = [c.ops for key, c in fleet._facades.items() if key[0] != "home"]
    assert len(members) == 4  # ONE and TWO in two regions (DENIED was never reached)
    assert all(id(ops.clients.control) in closed for ops in members)
    assert call(server, "list-functions", {"account": ONE}).structured_content is not None  # reconnects
    closed.clear()
    assert not call(server, "list-targets", {"check": True}).is_error
    assert len(closed) >= 6  # the check's own client of each of the 6 reachable targets, closed after use


def test_list_targets_lists_and_checks(fleet_aws: None, calls: Calls) -> None:
    server = server_of(make_fleet(calls))
    listed = call(server, "list-targets", {}).structured_content
    assert listed is not None
    assert [a["id"] for a in listed["accounts"]] == [HOME, ONE, TWO, DENIED]
    assert [a["home"] for a in listed["accounts"]] == [True, False, False, False]
    assert listed["checked"] is False
    assert all(t["reachable"] is None for t in listed["targets"])
    checked = call(server, "list-targets", {"check": True})
    found = checked.structured_content
    assert found is not None
    by = {(t["account"], t["region"]): t for t in found["targets"]}
    assert by[(TWO, "eu-west-1")]["reachable"] is True
    assert by[(HOME, "us-east-1")]["home"] is True
    assert by[(DENIED, "us-east-1")]["reachable"] is False
    assert by[(DENIED, "us-east-1")]["kind"] == "access_denied"
    assert "NOT reachable (access_denied)" in text(checked)


def test_a_write_in_a_member_account_uses_its_writer_role_and_policy(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls, policy=WritePolicy(allow_writes=True, function_prefixes=("team-",)))
    server = server_of(fleet)
    refused = call(server, "invoke-function", {"name": "two-eu", "account": TWO, "region": "eu-west-1"})
    assert refused.is_error
    assert "outside this server's write allowlist" in text(refused)  # the same policy, in every account
    assert calls.assumed()[-1]["RoleArn"] == f"arn:aws:iam::{TWO}:role/lambda-ops-mcp-writer"
    arguments = {"name": "two-eu", "target_runtime": "java21", "account": TWO, "region": "eu-west-1"}
    plan = call(server, "update-function-runtime", arguments)
    assert plan.structured_content is not None  # a dry run: the reader role
    assert calls.assumed()[-1]["RoleArn"] == f"arn:aws:iam::{TWO}:role/lambda-ops-mcp-reader"


def test_the_confirmation_names_the_account_and_region(fleet_aws: None, calls: Calls) -> None:
    fleet = make_fleet(calls)
    place = where(fleet, TWO, "eu-west-1")
    assert place == f" in account {TWO}, region eu-west-1"
    assert where(fleet, None, None) == ""
    question = confirm.invoke_question("two-eu", None, place)
    assert question.startswith(f"Invoke Lambda function two-eu in account {TWO}, region eu-west-1 now?")


def test_renewal_drops_the_fleets_credentials(fleet_aws: None) -> None:
    renewal = Renewal()
    server = build_server(Settings(auth_mode="none", **FLEET), renewal=renewal)
    before = server.lambda_fleet()
    assert not call(server, "list-functions", {"account": ONE}).is_error
    assert before.sessions.assumed == 1
    assert (
        "LambdaOps (every target: boto3 clients, member-account credentials, runtime catalog)"
        in renewal.renew()
    )
    after = server.lambda_fleet()
    assert after is not before
    assert after.sessions.assumed == 0
    assert not call(server, "list-functions", {"account": ONE}).is_error
    assert after.sessions.assumed == 1


def test_unset_answers_as_before_without_sts(fleet_aws: None) -> None:
    server = build_server(Settings(auth_mode="none"))
    assert [
        f["name"] for f in (call(server, "list-functions", {}).structured_content or {})["functions"]
    ] == ["home-api"]
    fleet = server.lambda_fleet()
    assert fleet.sessions.assumed == 0
    assert fleet._account is None  # no GetCallerIdentity either


def test_the_worker_runs_a_task_on_a_member_account(fleet_aws: None) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    create_tasks_table(dynamodb)
    store = TaskStore(TABLE, lambda: dynamodb)
    now = time.time()
    task_id = new_task_id()
    store.create(
        TaskRecord(
            task_id=task_id, owner=Owner(sub="alice").key, tool="audit-runtimes", arguments_digest="-",
            status=TaskStatus.WORKING, created_ms=int(now * 1000), updated_ms=int(now * 1000),
            expires_at=int(now) + 3600, ttl_ms=3_600_000, poll_interval_ms=200,
        )
    )  # fmt: skip
    settings = WorkerSettings(tasks_table=TABLE, accounts=[TWO], regions=["eu-west-1"])
    env = Environment(settings, store, LambdaClients())
    order = WorkOrder(task_id=task_id, tool="audit-runtimes", arguments={}, caller=Caller(sub="alice"),
                      requested_at=now, account=TWO, region="eu-west-1")  # fmt: skip
    assert env.caller(order).source_identity == "alice"
    with DurableFunctionTestRunner(handler=make_handler(JOBS, lambda: env), skip_time=True) as runner:
        arn = runner.run_async(input=order.model_dump_json(), function_name="worker", execution_name=task_id)
        runner.wait_for_result(arn, timeout=30)
    record = store.load(task_id)
    assert record is not None
    assert record.status is TaskStatus.COMPLETED, record
    assert record.result is not None
    assert record.result["shape"] == "RuntimeAudit"
    assert sorted(g["runtime"] for g in record.result["value"]["groups"]) == ["java11", "python3.12"]


def test_the_runtime_catalog_resource_asks_no_account(fleet_aws: None, calls: Calls) -> None:
    """SnapStart's priming reads lambda://runtimes before the snapshot, where no AWS call may happen: in a
    fleet it must not resolve the home target (STS GetCallerIdentity)."""
    server = server_of(make_fleet(calls))

    async def read(client: Client) -> Any:
        return await client.read_resource("lambda://runtimes")

    found = on(server, read)
    assert '"runtimes"' in found.contents[0].text
    assert calls.sts == []
