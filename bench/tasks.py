"""Tasks in `make bench`, each measured in one run:

- **cold init, worker against server**: a fresh interpreter imports the task worker (``app.worker.handler``,
  and builds its environment) against one that imports the server (``app.handler``, and builds the handler,
  as Lambda's init does) — from the built artifact, medians of a few processes. Target: the worker's at most
  half the server's.
- **tasks/get against tools/call ping**: p50 of each through the same production handler, on the local stack
  (the record in moto's DynamoDB over loopback, in this process: a DynamoDB GetItem on AWS takes a few ms).
- **tools/call → the worker's first step**: from sending an upgrade's ``tools/call`` to the worker reporting
  its first step in the record, on the local engine (the durable SDK's runner).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Each until it is ready to make its first AWS call: the worker imports its handler (the durable SDK brings
# boto3), builds its environment and the client of its first call (DynamoDB: the task's progress); the
# server builds its handler (as Lambda's init does) and the client its first tool call builds (Lambda: the
# server imports boto3 only then).
_COLD = r"""
import sys, time
t0 = time.perf_counter()
if sys.argv[1] == "worker":
    from app.worker.environment import environment
    import app.worker.handler
    env = environment()
    env.clients.client("dynamodb")
else:
    from app.handler import build_handler
    from app.lambda_ops import LambdaClients
    build_handler()
    LambdaClients().control
print(time.perf_counter() - t0)
"""


def cold_init(kind: str, code_dir: Path | None, runs: int) -> float:
    """Median seconds of ``runs`` fresh processes starting the worker or the server (``kind``)."""
    paths = [str(code_dir)] if code_dir else []
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "LAMBDA_OPS_AUTH_MODE": "none",
        "LAMBDA_OPS_TASKS_TABLE": "bench-tasks",
    }
    seconds = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _COLD, kind],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        seconds.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(seconds)


def cold_inits(code_dir: Path | None, runs: int) -> tuple[float, float]:
    """Worker and server, alternating process by process (a shared machine drifts): medians of each."""
    pairs = [(cold_init("worker", code_dir, 1), cold_init("server", code_dir, 1)) for _ in range(runs)]
    return statistics.median(w for w, _ in pairs), statistics.median(s for _, s in pairs)


def _call(handler: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
    from tests.helpers import LambdaContext, body_of, event, modern

    message, headers = modern(method, params)
    message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {
        "extensions": {"io.modelcontextprotocol/tasks": {}}
    }
    if "taskId" in params:
        headers["mcp-name"] = params["taskId"]
    response = handler(event(body=message, headers=headers), LambdaContext())
    assert response["statusCode"] == 200, response
    answer: dict[str, Any] = body_of(response)
    return answer


def task_latencies(calls: int, first_steps: int) -> dict[str, float]:
    """p50 of tasks/get and of tools/call ping (ms), and the median time to the worker's first step (ms)."""
    from app.handler import build_handler
    from app.local.stack import task_stack

    with task_stack() as stack:
        handler = build_handler(stack.settings)
        to_first_step = []
        functions = [
            "coupon-validator-v1",
            "legacy-report-cron",
            "legacy-checkout-webhook",
            "user-profile-api",
            "slack-alerts-forwarder",
            "marketing-landing-ssr",
            "image-thumbnail-generator",
        ]
        task_id = ""
        for name in functions[:first_steps]:
            arguments = {"name": name, "target_runtime": "nodejs22.x", "dry_run": False}
            sent = time.perf_counter()
            created = _call(
                handler, "tools/call", {"name": "update-function-runtime", "arguments": arguments}
            )
            task_id = created["result"]["taskId"]
            while True:
                record = stack.store.load(task_id)
                message = (record.status_message or "") if record is not None else ""
                if message.startswith(("planning", "Verified")):
                    to_first_step.append((time.perf_counter() - sent) * 1000)
                    break
                if time.perf_counter() - sent > 30:
                    raise RuntimeError(f"the worker did not start within 30 s: {record}")
                time.sleep(0.002)
        while _call(handler, "tasks/get", {"taskId": task_id})["result"]["status"] == "working":
            time.sleep(0.05)
        timings: dict[str, list[float]] = {"tasks/get": [], "ping": []}
        for _ in range(calls):
            for label, method, params in (
                ("tasks/get", "tasks/get", {"taskId": task_id}),
                ("ping", "tools/call", {"name": "ping", "arguments": {}}),
            ):
                started = time.perf_counter()
                _call(handler, method, params)
                timings[label].append((time.perf_counter() - started) * 1000)
    return {
        "tasks_get_p50_ms": statistics.median(timings["tasks/get"]),
        "ping_p50_ms": statistics.median(timings["ping"]),
        "first_step_ms": statistics.median(to_first_step),
    }


def report(code_dir: Path | None, *, runs: int, calls: int) -> bool:
    worker, server = cold_inits(code_dir, runs)
    ratio = worker / server
    verdict = "meets" if ratio <= 0.5 else "MISSES"
    print(f"tasks: cold init until ready for a first AWS call (median of {runs}): worker {worker:.3f} s, "
          f"server {server:.3f} s, ratio {ratio:.2f} (target <= 0.5: {verdict})")  # fmt: skip
    measured = task_latencies(calls, first_steps=min(runs, 7))
    get, ping = measured["tasks_get_p50_ms"], measured["ping_p50_ms"]
    print(f"tasks: tasks/get p50 {get:.2f} ms against tools/call ping p50 {ping:.2f} ms: ratio "
          f"{get / ping:.1f} (the record read from moto's DynamoDB on loopback, in-process)")  # fmt: skip
    first = measured["first_step_ms"]
    print(f"tasks: tools/call → the worker's first step (local engine): {first:.0f} ms median")
    return ratio <= 0.5
