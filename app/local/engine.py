"""The local engine: the task worker run by the durable SDK's own local runner, served on loopback as the
slice of the Lambda API the server uses for tasks.

``python -m app.local.engine --worker app.worker.handler:handler`` runs in a child process (like the
sandbox): ``DurableFunctionTestRunner`` (PyPI ``aws-durable-execution-sdk-python-testing``) executes the
worker — checkpoints, real-time waits, callbacks — and the runner's own HTTP server (its ``WebServer``)
answers ``GetDurableExecution``, ``StopDurableExecution``, ``ListDurableExecutionsByFunction`` and the
``SendDurableExecutionCallback*`` operations at Lambda's REST paths. The one operation it lacks is added
here: ``Invoke`` with ``DurableExecutionName``, which starts an execution (once per name, as Lambda does).
The server's production engine client (app/tasks/engine.py) talks to it through
``LAMBDA_OPS_WORKER_ENDPOINT_URL``. The worker's own AWS calls go to the sandbox (``AWS_ENDPOINT_URL``).

The child prints one JSON line when ready (``{"endpoint_url": ...}``) and runs until its stdin closes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import IO, Any

from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner
from aws_durable_execution_sdk_python_testing.web.handlers import EndpointHandler
from aws_durable_execution_sdk_python_testing.web.models import HTTPRequest, HTTPResponse
from aws_durable_execution_sdk_python_testing.web.routes import (
    DEFAULT_ROUTE_TYPES,
    BytesPayloadRoute,
    Route,
    Router,
)
from aws_durable_execution_sdk_python_testing.web.server import WebServer, WebServiceConfig

from app.local.sandbox import LOOPBACK

DEFAULT_WORKER = "app.worker.handler:handler"
EXECUTION_TIMEOUT_S = 2 * 3600  # as the template's DurableConfig.ExecutionTimeout


@dataclass(frozen=True)
class InvokeRoute(BytesPayloadRoute):
    """Route: POST /2015-03-31/functions/{FunctionName}/invocations (Lambda's Invoke)."""

    function_name: str = ""

    @classmethod
    def is_match(cls, route: Route, method: str) -> bool:
        return route.matches_pattern(["2015-03-31", "functions", "*", "invocations"]) and method == "POST"

    @classmethod
    def from_route(cls, route: Route) -> InvokeRoute:
        return cls(raw_path=route.raw_path, segments=route.segments, function_name=route.segments[2])


class InvokeHandler(EndpointHandler):
    """Invoke of the durable worker: starts the execution named by ``X-Amz-Durable-Execution-Name`` (the
    same name again returns the first execution) and answers 202 with its ARN, as Lambda does for an
    asynchronous durable invoke."""

    def __init__(self, runner: DurableFunctionTestRunner) -> None:
        super().__init__(runner._executor)  # the runner's executor, which the web handlers all share
        self.runner = runner
        self._lock = threading.Lock()

    def handle(self, parsed_route: Route, request: HTTPRequest) -> HTTPResponse:
        assert isinstance(parsed_route, InvokeRoute)
        headers = {k.lower(): v for k, v in request.headers.items()}
        name = headers.get("x-amz-durable-execution-name")
        if not name:
            return HTTPResponse.create_json(
                400, {"Type": "User", "message": "this local engine only starts durable executions"}
            )
        function = parsed_route.function_name.split(":")[-2] if ":" in parsed_route.function_name else (
            parsed_route.function_name
        )  # fmt: skip
        payload = request.body if isinstance(request.body, bytes) else json.dumps(request.body).encode()
        with self._lock:
            found = self.executor.list_executions_by_function(function, execution_name=name)
            if found.durable_executions:
                arn = found.durable_executions[0].durable_execution_arn
            else:
                arn = self.runner.run_async(
                    input=payload.decode() or "{}",
                    function_name=function,
                    execution_name=name,
                    execution_timeout=EXECUTION_TIMEOUT_S,
                )
        return HTTPResponse.create_empty(202, {"X-Amz-Durable-Execution-Arn": arn})


class EngineServer(WebServer):
    """The durable SDK's local web server, with Lambda's Invoke added."""

    def __init__(self, config: WebServiceConfig, runner: DurableFunctionTestRunner) -> None:
        self.runner = runner
        super().__init__(config=config, executor=runner._executor)
        self.router = Router([InvokeRoute, *DEFAULT_ROUTE_TYPES])

    def _create_endpoint_handlers(self) -> dict[type[Route], EndpointHandler]:
        handlers = super()._create_endpoint_handlers()
        handlers[InvokeRoute] = InvokeHandler(self.runner)
        return handlers


def load(spec: str) -> Callable[..., Any]:
    module, _, attr = spec.partition(":")
    handler = getattr(importlib.import_module(module), attr)
    if not callable(handler):
        raise TypeError(f"{spec} is not callable")
    return handler  # type: ignore[no-any-return]


def start(
    worker: str | Callable[..., Any] = DEFAULT_WORKER, port: int = 0
) -> tuple[EngineServer, DurableFunctionTestRunner]:
    """The runner and its server on loopback (serving on a thread is the caller's: ``serve_forever``);
    ``worker``: ``module:attribute`` or the handler itself."""
    handler = load(worker) if isinstance(worker, str) else worker
    runner = DurableFunctionTestRunner(
        handler=handler, skip_time=False, execution_timeout=EXECUTION_TIMEOUT_S, invocation_timeout=900
    )
    server = EngineServer(WebServiceConfig(host=LOOPBACK, port=port, log_level=logging.WARNING), runner)
    return server, runner


def run_child(worker: str, stdin: IO[bytes], stdout: IO[str]) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server, runner = start(worker)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    serving.start()
    try:
        port = int(server.server_address[1])
        print(json.dumps({"endpoint_url": f"http://{LOOPBACK}:{port}", "worker": worker}), file=stdout)
        stdout.flush()
        fd = stdin.fileno()
        while not stop.is_set():  # polled: see app/local/sandbox.py
            readable, _, _ = select.select([fd], [], [], 0.5)
            if readable and not os.read(fd, 4096):
                break
    finally:
        server.shutdown()
        server.server_close()
        runner.close()  # type: ignore[no-untyped-call]
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.local.engine", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--worker", default=DEFAULT_WORKER, help=f"module:attribute (default {DEFAULT_WORKER})"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    return run_child(args.worker, sys.stdin.buffer, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
