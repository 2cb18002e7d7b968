"""A whole task stack in one process, on loopback, for tests and benchmarks: moto in server mode (the
sandbox's account and its task table), and the local engine — the durable SDK's runner executing the worker
behind Lambda's API (app/local/engine.py) — serving on a thread. The caller builds handlers with
``Stack.settings`` (sign-in off, writes allowed, tasks on) and drives them as API Gateway would.

``AWS_ENDPOINT_URL`` and fake credentials are set in the process environment for the duration (moto's
in-process backends are per process: the account is reset on entry).
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.lambda_ops import LambdaClients
from app.local import engine as local_engine
from app.local.context import REGION
from app.local.sandbox import CREDENTIALS
from app.local.seed import seed_account
from app.local.tasks_table import TABLE, WORKER, create_tasks_table
from app.tasks.store import TaskStore
from app.worker.environment import Environment
from app.worker.handler import make_handler
from app.worker.jobs import JOBS, Job
from app.worker.settings import WorkerSettings

_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


@dataclass
class Stack:
    moto_url: str
    engine_url: str
    settings: Settings
    store: TaskStore


def _post(url: str, data: bytes) -> None:
    request = urllib.request.Request(  # noqa: S310 - our own loopback URL
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        response.read()


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (*values, *_REMOVED)}
    for name in _REMOVED:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def task_stack(jobs: Mapping[str, Job] = JOBS, **settings: Any) -> Iterator[Stack]:
    """Start moto and the engine; ``settings`` change the server's (and the worker's) ``Settings``."""
    import boto3
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        with _environment({**_ENVIRONMENT, "AWS_ENDPOINT_URL": moto_url}):
            _post(f"{moto_url}/moto-api/reset", b"")
            _post(f"{moto_url}/moto-api/config", json.dumps({"lambda": {"use_docker": False}}).encode())
            seed_account(boto3.client("lambda"), boto3.client("iam"))
            create_tasks_table(boto3.client("dynamodb"))
            configured = Settings(
                auth_mode="none",
                allow_writes=True,
                tasks_table=TABLE,
                worker_function=WORKER,
                task_stale_after_s=1.0,
                allowed_hosts=["mcp.example.com"],
            ).model_copy(update=settings)
            clients = LambdaClients()
            store = TaskStore(TABLE, lambda: clients.client("dynamodb"))
            worker = WorkerSettings.model_validate(
                configured.model_dump(include=set(WorkerSettings.model_fields))
            )
            env = Environment(settings=worker, store=store, clients=clients)
            server, runner = local_engine.start(make_handler(jobs, lambda: env))
            serving = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            serving.start()
            engine_url = f"http://127.0.0.1:{server.server_address[1]}"
            try:
                served = configured.model_copy(update={"worker_endpoint_url": engine_url})
                yield Stack(moto_url, engine_url, served, store)
            finally:
                server.shutdown()
                server.server_close()
                runner.close()  # type: ignore[no-untyped-call]
    finally:
        moto.stop()
