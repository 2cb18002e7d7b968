"""A whole task stack in the test process, on loopback: moto in server mode (the sandbox's account, its
task table, slow updates where a test asks), and the local engine — the durable SDK's runner executing the
worker behind Lambda's API (app/local/engine.py) — serving on a thread. Tests drive the production handler
with API Gateway events, as a client that declares the tasks extension would."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.config import Settings
from app.handler import build_handler
from app.lambda_ops import LambdaClients
from app.local import engine as local_engine
from app.local.seed import seed_account
from app.local.tasks_table import TABLE, WORKER, create_tasks_table
from app.tasks.model import EXTENSION
from app.tasks.store import TaskStore
from app.worker.environment import Environment
from app.worker.handler import make_handler
from app.worker.jobs import JOBS
from tests.helpers import LambdaContext, body_of, event, modern
from tests.lambda_ops.helpers import REGION

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class Stack:
    moto_url: str
    engine_url: str
    settings: Settings
    store: TaskStore

    def lambda_client(self) -> Any:
        return boto3.client("lambda", region_name=REGION)

    def handler(self, **changes: Any) -> Handler:
        return build_handler(self.settings.model_copy(update=changes) if changes else self.settings)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    # moto's backends are per process, not per server: start from an empty account.
    _post(f"{moto_url}/moto-api/reset", b"")
    _post(f"{moto_url}/moto-api/config", json.dumps({"lambda": {"use_docker": False}}).encode())
    seed_account(boto3.client("lambda"), boto3.client("iam"))
    create_tasks_table(boto3.client("dynamodb"))
    settings = Settings(
        auth_mode="none",
        allow_writes=True,
        tasks_table=TABLE,
        worker_function=WORKER,
        task_stale_after_s=1.0,
        allowed_hosts=["mcp.example.com"],
    )
    clients = LambdaClients()
    store = TaskStore(TABLE, lambda: clients.client("dynamodb"))
    env = Environment(settings=settings, store=store, clients=clients)
    server, runner = local_engine.start(make_handler(JOBS, lambda: env))
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    engine_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield Stack(
            moto_url, engine_url, settings.model_copy(update={"worker_endpoint_url": engine_url}), store
        )
    finally:
        server.shutdown()
        server.server_close()
        runner.close()
        moto.stop()


def _post(url: str, data: bytes) -> None:
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(request, timeout=10).read()


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
