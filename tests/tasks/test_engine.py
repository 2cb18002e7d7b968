"""The engine client's calls, as botocore's Stubber checks them against Lambda's API model: the idempotent
start on the worker's alias, the execution's status, stop, and the answer to a question."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from app.lambda_ops.errors import OpsFailure
from app.tasks.engine import DurableEngine

WORKER = "arn:aws:lambda:us-east-1:123456789012:function:stack-worker:live"
ANSWER = {"r1.confirm": {"action": "accept"}}
ARN = "arn:aws:lambda:us-east-1:123456789012:function:stack-worker:live/durable-execution/t1/abc"


def stubbed() -> tuple[DurableEngine, Stubber]:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.activate()
    return DurableEngine(WORKER, lambda: client), stubber


def test_a_task_starts_one_asynchronous_durable_execution_named_after_it() -> None:
    engine, stubber = stubbed()
    stubber.add_response(
        "invoke",
        {"StatusCode": 202, "DurableExecutionArn": ARN},
        {"FunctionName": WORKER, "InvocationType": "Event", "DurableExecutionName": "t1", "Payload": ANY},
    )
    assert engine.start("t1", {"task_id": "t1"}) == ARN
    stubber.assert_no_pending_responses()


def test_a_second_start_of_the_same_name_finds_the_first_execution() -> None:
    engine, stubber = stubbed()
    stubber.add_client_error("invoke", "DurableExecutionAlreadyStartedException", "already", 409)
    stubber.add_response(
        "list_durable_executions_by_function",
        {
            "DurableExecutions": [
                {
                    "DurableExecutionArn": ARN,
                    "DurableExecutionName": "t1",
                    "FunctionArn": WORKER,
                    "Status": "RUNNING",
                    "StartTimestamp": "2026-12-02T10:00:00Z",
                }
            ]
        },
        {"FunctionName": WORKER.rsplit(":", 1)[0], "DurableExecutionName": "t1"},
    )
    assert engine.start("t1", {}) == ARN


def test_a_refused_start_is_an_error_value() -> None:
    engine, stubber = stubbed()
    stubber.add_client_error("invoke", "AccessDeniedException", "no", 403)
    with pytest.raises(OpsFailure) as raised:
        engine.start("t1", {})
    assert raised.value.error.kind == "access_denied"


@pytest.mark.parametrize(
    ("status", "running"), [("RUNNING", True), ("FAILED", False), ("TIMED_OUT", False), ("STOPPED", False)]
)
def test_the_execution_says_whether_the_worker_is_still_at_it(status: str, running: bool) -> None:
    engine, stubber = stubbed()
    response: dict[str, Any] = {
        "DurableExecutionArn": ARN, "DurableExecutionName": "t1", "FunctionArn": WORKER, "Status": status,
        "StartTimestamp": "2026-12-02T10:00:00Z",
    }  # fmt: skip
    if not running:
        response["Error"] = {"ErrorType": "Sandbox.Timedout", "ErrorMessage": "Task timed out"}
    stubber.add_response("get_durable_execution", response, {"DurableExecutionArn": ARN})
    execution = engine.describe(ARN)
    assert execution.running is running
    assert (execution.error is None) is running


def test_stop_and_answer_use_the_execution_and_callback_apis() -> None:
    engine, stubber = stubbed()
    stubber.add_response(
        "stop_durable_execution",
        {"StopTimestamp": "2026-12-02T10:00:00Z"},
        {
            "DurableExecutionArn": ARN,
            "Error": {"ErrorType": "TaskCancelled", "ErrorMessage": "cancelled"},
        },
    )
    stubber.add_response(
        "send_durable_execution_callback_success",
        {},
        {
            "CallbackId": "Y2I=",
            "Result": json.dumps({"r1.confirm": {"action": "accept"}}, separators=(",", ":")).encode(),
        },
    )
    engine.stop(ARN, "cancelled")
    engine.answer("Y2I=", ANSWER)
    stubber.assert_no_pending_responses()
