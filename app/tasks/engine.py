"""The engine the work runs in: Lambda durable executions of the worker function, through the Lambda API.

- ``start``: ``Invoke`` of the worker's alias with ``InvocationType=Event`` and ``DurableExecutionName`` =
  the task id — an idempotent start: a second start of the same name finds the first execution.
- ``describe``: ``GetDurableExecution`` (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED, ...).
- ``stop``: ``StopDurableExecution``; ``answer``: ``SendDurableExecutionCallbackSuccess``.

The same client code talks to AWS and, locally, to the durable SDK's own runner (app/local/engine.py), which
serves these operations on loopback: only the endpoint differs (``LAMBDA_OPS_WORKER_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from app.lambda_ops.clients import LambdaClients, boto3_factory
from app.lambda_ops.errors import OpsFailure, aws_call

RUNNING = frozenset({"RUNNING", "PAUSING", "PAUSED"})


@dataclass(frozen=True)
class Execution:
    status: str  # the engine's ExecutionStatus
    error: str | None = None  # what the engine says went wrong, when it failed

    @property
    def running(self) -> bool:
        return self.status in RUNNING


class DurableEngine:
    def __init__(self, worker: str, client: Callable[[], Any]) -> None:
        """``worker``: the worker's qualified ARN (its alias); ``client``: returns a Lambda client."""
        self.worker, self._client = worker, client

    def start(self, name: str, order: dict[str, Any]) -> str | None:
        """Start (once) the execution named ``name``; its ARN when the engine says it. Raises
        ``OpsFailure`` if the engine refuses."""
        payload = json.dumps(order, separators=(",", ":")).encode()
        try:
            with aws_call("Invoke", self.worker):
                response = self._client().invoke(
                    FunctionName=self.worker,
                    InvocationType="Event",
                    DurableExecutionName=name,
                    Payload=payload,
                )
        except OpsFailure as failure:
            if failure.error.aws_code != "DurableExecutionAlreadyStartedException":
                raise
            return self._find(name)  # started before (a retried start): the same execution
        arn = response.get("DurableExecutionArn")
        return str(arn) if arn else None

    def _find(self, name: str) -> str | None:
        with aws_call("ListDurableExecutionsByFunction", self.worker):
            listed = self._client().list_durable_executions_by_function(
                FunctionName=self.worker.rsplit(":", 1)[0], DurableExecutionName=name
            )
        for execution in listed.get("DurableExecutions", []):
            return str(execution["DurableExecutionArn"])
        return None

    def describe(self, execution_arn: str) -> Execution:
        with aws_call("GetDurableExecution", execution_arn):
            response = self._client().get_durable_execution(DurableExecutionArn=execution_arn)
        error = response.get("Error") or {}
        message = " ".join(str(error.get(k)) for k in ("ErrorType", "ErrorMessage") if error.get(k)) or None
        return Execution(str(response.get("Status") or "UNKNOWN"), message)

    def stop(self, execution_arn: str, reason: str) -> None:
        with aws_call("StopDurableExecution", execution_arn):
            self._client().stop_durable_execution(
                DurableExecutionArn=execution_arn,
                Error={"ErrorType": "TaskCancelled", "ErrorMessage": reason[:256]},
            )

    def answer(self, callback_id: str, answers: dict[str, Any]) -> None:
        with aws_call("SendDurableExecutionCallbackSuccess"):
            self._client().send_durable_execution_callback_success(
                CallbackId=callback_id, Result=json.dumps(answers, separators=(",", ":")).encode()
            )


def engine_clients(endpoint_url: str = "") -> LambdaClients:
    """Clients for the engine's API: Lambda's own, or (``endpoint_url``, local runs) the local runner's."""
    if not endpoint_url:
        return LambdaClients()

    def factory(service: str, config: Config, region: str | None) -> Any:
        if service != "lambda":
            return boto3_factory(service, config, region)
        import boto3

        return boto3.session.Session().client(
            "lambda", config=config, region_name=region, endpoint_url=endpoint_url
        )

    return LambdaClients(factory=factory)
