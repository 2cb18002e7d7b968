"""A whole task stack in the test process, on loopback: moto in server mode (the sandbox's account, its
task table, slow updates where a test asks), and the local engine — the durable SDK's runner executing the
worker behind Lambda's API (app/local/engine.py) — serving on a thread. Tests drive the production handler
with API Gateway events, as a client that declares the tasks extension would."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from app.handler import build_handler
from app.local.stack import Stack as TaskStack
from app.local.stack import task_stack
from app.tasks.model import EXTENSION
from tests.helpers import LambdaContext, body_of, event, modern
from tests.lambda_ops.helpers import REGION

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Stack(TaskStack):
    def lambda_client(self) -> Any:
        return boto3.client("lambda", region_name=REGION)

    def handler(self, **changes: Any) -> Handler:
        return build_handler(self.settings.model_copy(update=changes) if changes else self.settings)


@pytest.fixture
def stack() -> Iterator[Stack]:
    with task_stack() as started:
        yield Stack(**vars(started))


TASKS_META = {"extensions": {EXTENSION: {}}}


def call(
    handler: Handler,
    method: str,
    params: dict[str, Any],
    *,
    capabilities: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """One 2026-07-28 request; ``capabilities`` default: the tasks extension declared."""
    message, base = modern(method, params)
    message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = (
        TASKS_META if capabilities is None else capabilities
    )
    if "taskId" in params:
        base["mcp-name"] = str(params["taskId"])
    response = handler(event(body=message, headers={**base, **(headers or {})}), LambdaContext())
    return response["statusCode"], body_of(response)


def wait_for(
    handler: Handler, task_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 30.0, **kw: Any
) -> dict[str, Any]:
    """Poll tasks/get (as a client would) until ``until(task)``; the task."""
    deadline = time.monotonic() + timeout
    while True:
        status, answer = call(handler, "tasks/get", {"taskId": task_id}, **kw)
        assert status == 200, answer
        task = answer["result"]
        if until(task) or time.monotonic() > deadline:
            return task
        time.sleep(0.1)


def terminal(task: dict[str, Any]) -> bool:
    return task["status"] in ("completed", "failed", "cancelled")
