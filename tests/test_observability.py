"""Logs and EMF metrics, asserted from captured output (Powertools style)."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import LEGACY, LambdaContext, event, initialize, request

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_one_request_line_with_correlation_and_mcp_details(
    handler: Handler, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    ev = event(
        body=request("tools/call", {"name": "ping", "arguments": {}}),
        headers={"mcp-protocol-version": LEGACY},
    )
    context = LambdaContext()
    handler(ev, context)
    lines = _lines(capsys.readouterr().out)
    requests = [line for line in _lines(logs.getvalue()) if line.get("message") == "mcp request"]
    assert len(requests) == 1
    log = requests[0]
    assert log["function_request_id"] == context.aws_request_id
    assert log["correlation_id"] == ev["requestContext"]["requestId"]
    assert (log["mcp_method"], log["mcp_name"], log["protocol_version"], log["status"]) == (
        "tools/call",
        "ping",
        LEGACY,
        200,
    )
    assert log["duration_ms"] > 0
    metrics = [line for line in lines if "_aws" in line and "Requests" in line]
    assert len(metrics) == 1
    assert (metrics[0]["method"], metrics[0]["tool"], metrics[0]["Errors"]) == ("tools/call", "ping", [0.0])
    assert metrics[0]["Latency"][0] > 0


def test_errors_and_unknown_names_are_bounded_dimensions(
    handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    handler(
        event(
            body=request("tools/call", {"name": "made-up-123", "arguments": {}}),
            headers={"mcp-protocol-version": LEGACY},
        ),
        LambdaContext(),
    )
    handler(event(body=request("made/up", {}), headers={"mcp-protocol-version": LEGACY}), LambdaContext())
    metrics = [line for line in _lines(capsys.readouterr().out) if "Requests" in line]
    assert [(m["method"], m.get("tool"), m["Errors"]) for m in metrics] == [
        ("tools/call", "other", [1.0]),
        ("other", None, [1.0]),
    ]


def test_cold_start_metric_once(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools.metrics.provider import cold_start

    from app.handler import build_handler

    cold_start.is_cold_start = True
    handler = build_handler(settings)
    capsys.readouterr()
    for _ in range(3):
        handler(event(body=initialize()), LambdaContext())
    cold = [line for line in _lines(capsys.readouterr().out) if "ColdStart" in line]
    assert len(cold) == 1


def test_each_invocations_work_is_logged_in_that_invocation(handler: Handler, logs: io.StringIO) -> None:
    """Regression: work a notification left after its 202 ran in the next invocation, under its id."""
    sdk = logging.getLogger("mcp")
    sdk.setLevel(logging.DEBUG)  # the SDK logs the notifications it processes
    try:
        per_invocation = _log_per_invocation(handler, logs)
    finally:
        sdk.setLevel(logging.WARNING)
    for sent, lines in per_invocation:
        for other, _ in per_invocation:
            mentioned = [line for line in lines if re.search(rf"(?<![\w/]){other}(?![\w/])", line["message"])]
            assert not mentioned or other == sent, f"{other} processed in the invocation of {sent}"
    assert any(
        "notifications/initialized" in line["message"] for _, lines in per_invocation for line in lines
    )


def _log_per_invocation(handler: Handler, logs: io.StringIO) -> list[tuple[str, list[dict[str, Any]]]]:
    legacy = {"mcp-protocol-version": LEGACY}
    messages = [
        initialize(),
        request("notifications/initialized", notification=True),
        request("tools/list", {}),
        request("notifications/cancelled", {"requestId": 99}, notification=True),
        request("ping", {}),
    ]
    per_invocation = []
    for message in messages:
        context = LambdaContext()
        handler(event(body=message, headers=legacy), context)
        lines = _lines(logs.getvalue())
        logs.seek(0)
        logs.truncate()
        assert {line.get("function_request_id") for line in lines} == {context.aws_request_id}
        per_invocation.append((message["method"], lines))
    return per_invocation


def test_sdk_and_mangum_log_through_the_json_logger_at_warning(handler: Handler) -> None:
    for name in ("mcp", "mangum"):
        logger = logging.getLogger(name)
        assert logger.level == logging.WARNING
        assert any(type(h.formatter).__name__ == "LambdaPowertoolsFormatter" for h in logger.handlers)


def test_xray_is_not_imported_when_tracing_is_off() -> None:
    """Powertools' Tracer imports aws_xray_sdk (~0.45 s of cold start) even when disabled."""
    code = (
        "import sys, app.handler as h; from tests.helpers import LambdaContext, event, initialize;"
        "h.handler(event(body=initialize()), LambdaContext()); print('aws_xray_sdk' in sys.modules)"
    )
    env = {
        "PATH": "",
        "LAMBDA_OPS_TRACING": "false",
        "LAMBDA_OPS_AUTH_MODE": "none",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_xray_traces_when_tracing_is_on() -> None:
    """With tracing on, each invocation is an X-Ray subsegment of the Lambda segment, sent to the daemon
    address (a UDP socket of this test's on loopback), annotated with cold start and service."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(5)
        code = (
            "import app.handler as h; from tests.helpers import LambdaContext, event, initialize;"
            "print(h.handler(event(body=initialize()), LambdaContext())['statusCode'])"
        )
        env = {
            "PATH": "",
            "LAMBDA_OPS_TRACING": "true",
            "LAMBDA_OPS_AUTH_MODE": "none",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "lambda-ops-mcp",  # Powertools traces only on Lambda
            "LAMBDA_TASK_ROOT": "/var/task",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        }
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True
        )
        assert out.stdout.strip().splitlines()[-1] == "200"
        header, document = daemon.recvfrom(65536)[0].decode().split("\n", 1)
    segment = json.loads(document)
    assert json.loads(header) == {"format": "json", "version": 1}
    assert (segment["type"], segment["name"]) == ("subsegment", "## handler")
    assert segment["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert segment["annotations"] == {"ColdStart": True, "Service": "lambda-ops-mcp"}
