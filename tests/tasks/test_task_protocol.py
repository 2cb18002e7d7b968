"""The tasks extension on the wire, through the production handler: advertised, gated on the request's own
capabilities, the methods the extension defines and no others, routing headers, no oracle across
principals, expiry, and a worker that dies leaving a failed task rather than one stuck in working."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.config import Settings
from app.handler import build_handler
from app.local.slow_updates import slow_updates
from app.tasks.engine import DurableEngine, engine_clients
from app.tasks.model import EXTENSION
from tests.auth.issuer import READ, WRITE, Issuer, running_issuer
from tests.helpers import LEGACY, LambdaContext, body_of, event, initialize, modern
from tests.tasks.conftest import Stack, call, terminal, wait_for

UPGRADE = {"name": "legacy-report-cron", "target_runtime": "nodejs22.x", "dry_run": False}


def create(handler: Any, **kw: Any) -> str:
    status, answer = call(
        handler, "tools/call", {"name": "update-function-runtime", "arguments": UPGRADE}, **kw
    )
    assert status == 200, answer
    assert answer["result"]["resultType"] == "task", answer
    task_id: str = answer["result"]["taskId"]
    return task_id


def test_the_extension_is_advertised_in_discover_and_nowhere_it_cannot_work(stack: Stack) -> None:
    handler = stack.handler()
    status, discovered = call(handler, "server/discover", {})
    assert status == 200
    assert discovered["result"]["capabilities"]["extensions"] == {EXTENSION: {}}
    assert "tasks" not in discovered["result"]["capabilities"]  # not the 2025-11-25 slot
    # 2025-11-25's ServerCapabilities has no `extensions` (its tasks were the v1 core ones, not served here):
    # the SDK sieves the field from an initialize answer, and the extension's methods are not served there.
    legacy = {"mcp-protocol-version": LEGACY}
    initialized = body_of(handler(event(body=initialize(LEGACY), headers=legacy), LambdaContext()))
    assert not {"extensions", "tasks"} & set(initialized["result"]["capabilities"])
    message = {"jsonrpc": "2.0", "id": 7, "method": "tasks/get", "params": {"taskId": "x"}}
    answered = body_of(handler(event(body=message, headers=legacy), LambdaContext()))
    assert answered["error"]["code"] == -32601


def test_without_a_table_and_a_worker_there_are_no_tasks(stack: Stack) -> None:
    handler = stack.handler(tasks_table="", worker_function="")
    _, discovered = call(handler, "server/discover", {})
    assert not discovered["result"]["capabilities"].get("extensions")
    _, answer = call(handler, "tools/call", {"name": "update-function-runtime", "arguments": UPGRADE})
    assert answer["result"]["resultType"] == "complete"
    assert answer["result"]["structuredContent"]["outcome"] == "succeeded"


@pytest.mark.parametrize("method", ["tasks/get", "tasks/update", "tasks/cancel"])
def test_task_methods_need_the_extension_declared_on_the_request(stack: Stack, method: str) -> None:
    handler = stack.handler()
    task_id = create(handler)
    params: dict[str, Any] = {"taskId": task_id}
    if method == "tasks/update":
        params["inputResponses"] = {}
    status, answer = call(handler, method, params, capabilities={})
    assert status == 400
    assert answer["error"]["code"] == -32021
    assert answer["error"]["data"]["requiredCapabilities"] == {"extensions": {EXTENSION: {}}}


@pytest.mark.parametrize("method", ["tasks/result", "tasks/list"])
def test_removed_methods_are_not_found(stack: Stack, method: str) -> None:
    _, answer = call(stack.handler(), method, {"taskId": "x"} if method == "tasks/result" else {})
    assert answer["error"]["code"] == -32601


def test_mcp_name_must_be_the_task_id(stack: Stack) -> None:
    handler = stack.handler()
    task_id = create(handler)
    status, answer = call(handler, "tasks/get", {"taskId": task_id}, headers={"mcp-name": "another-task"})
    assert (status, answer["error"]["code"]) == (400, -32020)
    assert answer["id"] is not None  # the edge answers the request's id
    message, headers = modern("tasks/get", {"taskId": task_id})
    message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"extensions": {EXTENSION: {}}}
    missing = handler(event(body=message, headers=headers), LambdaContext())  # no Mcp-Name at all
    assert (missing["statusCode"], body_of(missing)["error"]["code"]) == (400, -32020)


def test_unknown_tasks_get_invalid_params(stack: Stack) -> None:
    handler = stack.handler()
    for method, params in (
        ("tasks/get", {"taskId": "tasks-conformance-nonexistent-12345"}),
        ("tasks/update", {"taskId": "nope", "inputResponses": {}}),
        ("tasks/cancel", {"taskId": "nope"}),
    ):
        status, answer = call(handler, method, params)
        assert (status, answer["error"]["code"]) == (400, -32602), (method, answer)
        assert answer["error"]["message"] == "Failed to retrieve task: Task not found"


def test_the_legacy_task_hint_is_ignored(stack: Stack) -> None:
    params = {"name": "ping", "arguments": {}, "task": {"ttl": 60000, "pollInterval": 100}}
    status, answer = call(stack.handler(), "tools/call", params)
    assert status == 200
    assert answer["result"]["resultType"] == "complete"
    assert answer["result"]["content"][0]["text"] == "Pong!"


def test_an_expired_task_is_gone_before_dynamodb_sweeps_it(stack: Stack) -> None:
    handler = stack.handler()
    task_id = create(handler)
    wait_for(handler, task_id, terminal)
    stack.store._client().update_item(  # the TTL has passed; DynamoDB deletes within days, not at once
        TableName=stack.store.table,
        Key={"task_id": {"S": task_id}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    status, answer = call(handler, "tasks/get", {"taskId": task_id})
    assert (status, answer["error"]["code"]) == (400, -32602)
    assert answer["error"]["message"] == "Failed to retrieve task: Task has expired"
    status, answer = call(handler, "tasks/cancel", {"taskId": task_id})
    assert answer["error"]["code"] == -32602


def test_a_worker_that_dies_leaves_a_failed_task_not_a_working_one(stack: Stack) -> None:
    handler = stack.handler()
    with slow_updates({"legacy-report-cron": 30.0}):
        task_id = create(handler)
        record = stack.store.load(task_id)
        assert record is not None
        assert record.execution_arn is not None
        wait_for(handler, task_id, lambda t: "LastUpdateStatus" in t.get("statusMessage", ""))
        # The execution ends without the worker recording anything (as a crash or a timeout would).
        DurableEngine("", lambda: engine_clients(stack.engine_url).control).stop(
            record.execution_arn, "crash"
        )
        time.sleep(1.5)  # the record stops moving: past task_stale_after_s (1 s here) it is checked
        done = wait_for(handler, task_id, terminal, timeout=10)
    assert done["status"] == "failed", done
    assert done["error"]["code"] == -32603
    assert "STOPPED" in done["statusMessage"]
    assert "result" not in done


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


def test_a_task_is_only_its_creators_and_others_learn_nothing(stack: Stack, issuer: Issuer) -> None:
    settings = stack.settings.model_copy(
        update={
            "auth_mode": "oauth",
            "oauth_issuer": issuer.url,
            "oauth_jwks_url": f"{issuer.url}/jwks",
            "oauth_http_timeout_seconds": 1.0,
        }
    )
    handler = build_handler(Settings.model_validate(settings.model_dump()))
    both = f"{READ} {WRITE}"
    alice = {"authorization": f"Bearer {issuer.token(sub='alice', scope=both)}"}
    bob = {"authorization": f"Bearer {issuer.token(sub='bob', scope=both)}"}
    with slow_updates({"legacy-report-cron": 5.0}):
        task_id = create(handler, headers=alice)
        for method, params in (
            ("tasks/get", {"taskId": task_id}),
            ("tasks/update", {"taskId": task_id, "inputResponses": {"x": {"action": "accept"}}}),
            ("tasks/cancel", {"taskId": task_id}),
        ):
            theirs = call(handler, method, params, headers=bob)
            unknown = call(handler, method, {**params, "taskId": "a" * 43}, headers=bob)
            theirs[1].pop("id")
            unknown[1].pop("id")
            assert theirs == unknown, method  # the same status and body as an id that does not exist
            assert theirs[1]["error"]["code"] == -32602
        done = wait_for(handler, task_id, terminal, timeout=60, headers=alice)
    assert done["status"] == "completed"  # bob's cancel did not reach it
