"""invoke-function: validated payloads, bounded answers, and write gating before any AWS call."""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ReadTimeoutError

from app.lambda_ops import ClientSettings, ErrorKind, InvokeResult, OpsError, WritePolicy
from app.lambda_ops.invoke import LOG_TAIL_BYTES, MAX_PAYLOAD_BYTES, MAX_RESPONSE_BYTES
from app.lambda_ops.policy import ALLOW_WRITES, PREFIXES, TAG
from tests.lambda_ops.helpers import (
    client_error,
    ops_for,
    record_calls,
    streaming,
    stubbed_client,
)


def invoked(result: InvokeResult | OpsError) -> InvokeResult:
    assert isinstance(result, InvokeResult), result
    return result


def expect_invoke(
    stubber: Any, name: str, response: dict[str, Any], payload: bytes = b"{}", log: str = "None"
) -> None:
    params = {"FunctionName": name, "InvocationType": "RequestResponse", "Payload": payload, "LogType": log}
    stubber.add_response("invoke", response, params)


def test_a_synchronous_invoke(moto_lambda: Any) -> None:
    result = invoked(ops_for(moto_lambda).invoke("orders-api-staging", '{"path": "/health"}'))
    assert result.status_code == 200
    assert result.function_error is None
    assert json.loads(result.payload) == {"path": "/health"}  # moto without Docker echoes the event
    assert result.payload_is_json
    assert not result.payload_truncated
    assert result.log_tail is None


@pytest.mark.parametrize("payload", ["{not json", "{'single': 'quotes'}", "undefined"])
def test_payload_must_be_json(moto_lambda: Any, payload: str) -> None:
    calls = record_calls(moto_lambda)
    result = ops_for(moto_lambda).invoke("orders-api-staging", payload)
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.INVALID_ARGUMENT
    assert "JSON" in result.message
    assert calls == []


def test_payload_size_is_limited() -> None:
    client, _ = stubbed_client()
    calls = record_calls(client)
    too_big = json.dumps({"blob": "x" * MAX_PAYLOAD_BYTES})
    result = ops_for(client).invoke("f", too_big)
    assert isinstance(result, OpsError)
    assert str(MAX_PAYLOAD_BYTES) in result.message
    assert calls == []


def test_large_responses_are_truncated_and_logs_tailed() -> None:
    client, stubber = stubbed_client()
    body = json.dumps({"items": ["é" * 10] * 3000}).encode()
    log = ("START\n" + "line\n" * 2000 + "END final-line\n").encode()
    response = {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "ExecutedVersion": "$LATEST",
        "LogResult": base64.b64encode(log).decode(),
        "Payload": streaming(body),
    }
    expect_invoke(stubber, "f", response, log="Tail")
    result = invoked(ops_for(client).invoke("f", None, log_tail=True))
    assert result.function_error == "Unhandled"
    assert result.executed_version == "$LATEST"
    assert result.payload_truncated
    assert result.payload_bytes == len(body)
    assert result.payload_is_json
    assert len(result.payload.encode()) <= MAX_RESPONSE_BYTES
    assert result.log_tail is not None
    assert result.log_tail.endswith("END final-line\n")
    assert len(result.log_tail) <= LOG_TAIL_BYTES


def test_credentials_in_the_log_tail_are_redacted() -> None:
    """The log tail is text the function wrote: the same credential patterns as get-function-health's lines
    are redacted (app/lambda_ops/redact.py)."""
    client, stubber = stubbed_client()
    log = b"START\nERROR auth failed: Authorization: Bearer abcdefghijklmnopqrstuvwxyz"
    log += b" key AKIAIOSFODNN7EXAMPLE\n"
    response = {"StatusCode": 200, "LogResult": base64.b64encode(log).decode(), "Payload": streaming(b"{}")}
    expect_invoke(stubber, "f", response, log="Tail")
    result = invoked(ops_for(client).invoke("f", None, log_tail=True))
    assert result.log_tail is not None
    assert "abcdefghijklmnopqrstuvwxyz" not in result.log_tail
    assert "AKIAIOSFODNN7EXAMPLE" not in result.log_tail
    assert (
        result.log_tail
        == "START\nERROR auth failed: Authorization: [REDACTED] [REDACTED] key [REDACTED aws key id]\n"
    )


def test_writes_disabled_means_no_aws_call_at_all(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    result = ops_for(moto_lambda, policy=WritePolicy()).invoke("orders-api-staging", "{}")
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.REFUSED
    assert result.setting == ALLOW_WRITES
    assert calls == []


def test_outside_the_prefix_allowlist_means_no_aws_call(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    policy = WritePolicy.from_values(True, ["sandbox-"])
    result = ops_for(moto_lambda, policy=policy).invoke("orders-api-staging", "{}")
    assert isinstance(result, OpsError)
    assert result.setting == PREFIXES
    assert "orders-api-staging" in result.message
    assert calls == []


def test_the_tag_rule_reads_tags_but_never_invokes(moto_lambda: Any) -> None:
    calls = record_calls(moto_lambda)
    lambda_ops = ops_for(moto_lambda, policy=WritePolicy.from_values(True, tag="env=staging"))
    refused = lambda_ops.invoke("orders-api-prod", "{}")
    assert isinstance(refused, OpsError)
    assert refused.setting == TAG
    assert "'prod'" in refused.message
    assert calls == ["GetFunctionConfiguration", "ListTags"]
    assert invoked(lambda_ops.invoke("orders-api-staging", "{}")).status_code == 200
    assert calls[-1] == "Invoke"


def test_throttled_invoke() -> None:
    client, stubber = stubbed_client()
    stubber.add_client_error("invoke", **client_error("TooManyRequestsException", status=429))
    result = ops_for(client).invoke("f")
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.THROTTLED
    assert result.retryable


def test_a_read_timeout_says_the_function_may_have_run() -> None:
    """The request is sent and AWS never answers: raised where the HTTP send would happen, no retry."""
    client = botocore.session.get_session().create_client(
        "lambda", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t",
        config=ClientSettings().invoke_config(),
    )  # fmt: skip
    sent: list[str] = []

    def time_out(request: Any, **_: Any) -> None:
        sent.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register_first("before-send.lambda", time_out)
    result = ops_for(client).invoke("f")
    assert len(sent) == 1  # never retried
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.TIMEOUT
    assert "may still be running" in result.message


def test_not_found() -> None:
    client, stubber = stubbed_client()
    stubber.add_client_error("invoke", **client_error("ResourceNotFoundException", status=404))
    result = ops_for(client).invoke("ghost")
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.NOT_FOUND


def test_responses_that_are_not_plain_json_are_data_not_errors() -> None:
    """Regression: a deeply nested body made json.loads raise RecursionError (a bare tool error), and invalid
    UTF-8 silently vanished from the payload."""
    client, stubber = stubbed_client()
    nested = b"[" * 100_000 + b"]" * 100_000
    expect_invoke(stubber, "f", {"StatusCode": 200, "Payload": streaming(nested)})
    expect_invoke(stubber, "f", {"StatusCode": 200, "Payload": streaming(b"ok \xed\xa0\x80 end")})
    deep = invoked(ops_for(client).invoke("f"))
    assert (deep.payload_is_json, deep.payload_truncated, deep.payload_bytes) == (False, True, len(nested))
    odd = invoked(ops_for(client).invoke("f"))
    assert odd.payload.startswith("ok \ufffd")
    assert odd.payload.endswith(" end")
    assert not odd.payload_is_json
