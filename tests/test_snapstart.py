"""SnapStart: the handler is built during init on Lambda, primed before the snapshot, renewed after each
restore, and serves its first request after a restore without building anything.

The lifecycle runs in a fresh interpreter with the environment Lambda gives a SnapStart init, as Lambda's
runtime would: import the handler module, run the before-snapshot hooks (reverse order of registration),
then the after-restore hooks (in order), then real API Gateway events through ``app.handler.handler``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from app.auth import PRIMING_KEY
from app.config import Settings
from app.web.priming import PrimingFailed, prime, requests
from tests.auth.issuer import READ, running_issuer
from tests.helpers import LEGACY, LambdaContext, body_of, event, request

ROOT = Path(__file__).resolve().parent.parent

_LIFECYCLE = r"""
import json, os, random, socket, sys

# No network during init, priming or restore: every connection attempt fails the test.
attempts = []
real_connect = socket.socket.connect
def refuse_connect(self, address):
    attempts.append(repr(address))
    raise OSError("network during init")
socket.socket.connect = refuse_connect

import app.surface.server as server_module
built_ops = []
real_build_ops = server_module.build_ops
def counting_build_ops(settings):
    built_ops.append(real_build_ops(settings))
    return built_ops[-1]
server_module.build_ops = counting_build_ops

import app.handler as h  # Lambda's init: the handler is built here, the hooks registered
from snapshot_restore_py import get_after_restore, get_before_snapshot

init_handler = h._handler
report = {"built_during_init": init_handler is not None,
          "hooks": [len(get_before_snapshot()), len(get_after_restore())]}
for func, args, kwargs in reversed(get_before_snapshot()):
    func(*args, **kwargs)
report["ops_built_by_priming"] = len(built_ops)
import gc
report["frozen_objects"] = gc.get_freeze_count()
if built_ops:  # the worst case: a client made before the snapshot holds init's credentials
    report["key_before"] = built_ops[0].clients.control._request_signer._credentials.access_key
random_before = random.getstate()

# The restore: another environment, other credentials, a new random state expected.
os.environ["AWS_ACCESS_KEY_ID"] = "AKIDRESTORED"
for func, args, kwargs in get_after_restore():
    func(*args, **kwargs)
report["random_renewed"] = random.getstate() != random_before

def refuse(*args, **kwargs):
    raise AssertionError("built on a request after the restore")
h.assemble = h.build_handler = h.build_server = server_module.build_server = refuse

# Requests may reach the network again: the first signed-in request fetches the issuer's keys (loopback).
socket.socket.connect = real_connect
from tests.helpers import LEGACY, LambdaContext, body_of, event, request
headers = {"mcp-protocol-version": LEGACY, "authorization": "Bearer " + os.environ["LIFECYCLE_TOKEN"]}
calls = [
    request("tools/call", {"name": "ping", "arguments": {}}),
    request("tools/list"),
    request("resources/read", {"uri": "lambda://runtimes"}),
]
report["statuses"], report["replies"] = [], []
for message in calls:
    response = h.handler(event(body=message, headers=headers), LambdaContext())
    report["statuses"].append(response["statusCode"])
    report["replies"].append(body_of(response))
report["same_handler"] = h._handler is init_handler
report["ops_built_after_restore"] = len(built_ops) - report["ops_built_by_priming"]
report["key_after"] = built_ops[-1].clients.control._request_signer._credentials.access_key
report["network_attempts"] = attempts
print("REPORT " + json.dumps(report))
"""

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "lambda-ops-mcp",
    "AWS_LAMBDA_FUNCTION_VERSION": "7",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "AKIDINIT",
    "AWS_SECRET_ACCESS_KEY": "not-a-secret",
    "LAMBDA_OPS_TRACING": "false",
    # As deployed: the confirmation key lives in Secrets Manager — read on first need, never during init.
    "LAMBDA_OPS_REQUEST_STATE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-rs-AbCdEf",
    "POWERTOOLS_SERVICE_NAME": "lambda-ops-mcp",
    "POWERTOOLS_METRICS_NAMESPACE": "LambdaOpsMcp",
}


def _run(script: str, extra_env: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    env = {"PATH": "", "PYTHONPATH": str(ROOT), **LAMBDA_ENV, **(extra_env or {})}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=90, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))
    return json.loads(line.removeprefix("REPORT ")), done.stdout


@pytest.fixture(scope="module")
def lifecycle() -> Iterator[tuple[dict[str, Any], str]]:
    """As deployed: sign-in on (the default), an issuer on loopback whose keys are fetched on the first
    signed-in request after the restore — not during init or priming (priming is admitted read-only)."""
    with running_issuer() as issuer:
        yield _run(
            _LIFECYCLE,
            {
                "LAMBDA_OPS_OAUTH_ISSUER": issuer.url,
                "LAMBDA_OPS_OAUTH_JWKS_URL": f"{issuer.url}/jwks",
                "LIFECYCLE_TOKEN": issuer.token(scope=READ),
            },
        )


def test_on_lambda_the_handler_is_built_during_init_with_both_hooks(
    lifecycle: tuple[dict[str, Any], str],
) -> None:
    report, _ = lifecycle
    assert report["built_during_init"] is True
    assert report["hooks"] == [1, 1]


def test_the_restored_handler_serves_without_building_anything(lifecycle: tuple[dict[str, Any], str]) -> None:
    report, _ = lifecycle
    assert report["statuses"] == [200, 200, 200]
    ping, tools, runtimes = report["replies"]
    assert ping["result"]["content"][0]["text"] == "Pong!"
    assert "audit-runtimes" in {tool["name"] for tool in tools["result"]["tools"]}
    assert json.loads(runtimes["result"]["contents"][0]["text"])["runtimes"]
    assert report["same_handler"] is True  # and assemble/build_server raised if called (see the script)


def test_priming_and_restore_make_no_network_call(lifecycle: tuple[dict[str, Any], str]) -> None:
    report, _ = lifecycle
    assert report["frozen_objects"] > 10_000  # init's objects, out of the collector's reach (gc.freeze)
    assert report["network_attempts"] == []
    assert report["ops_built_by_priming"] == 1  # the runtime catalog resource was read while priming


def test_after_restore_credentials_and_random_state_are_renewed(
    lifecycle: tuple[dict[str, Any], str],
) -> None:
    report, _ = lifecycle
    assert report["key_before"] == "AKIDINIT"
    assert report["ops_built_after_restore"] == 1
    assert report["key_after"] == "AKIDRESTORED"
    assert report["random_renewed"] is True


def test_priming_is_logged_once_and_not_counted_as_traffic(lifecycle: tuple[dict[str, Any], str]) -> None:
    _, out = lifecycle
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    primed = [x for x in lines if x.get("message") == "primed before snapshot"]
    assert len(primed) == 1
    assert primed[0]["priming"][0] == "initialize 200"
    (renewed,) = [x for x in lines if x.get("message") == "renewed after restore"]
    assert [what.split(" (")[0] for what in renewed["renewed"]] == [
        "request-state keys",
        "LambdaOps",
        "TaskService",
    ]
    requests_logged = [x for x in lines if x.get("message") == "mcp request"]
    assert len(requests_logged) == 3  # the three real requests, none of the priming ones
    counted = [x["Requests"] for x in lines if "_aws" in x and "Requests" in x]
    assert counted == [[1.0]] * 3 or counted == [1.0] * 3


def test_on_demand_init_builds_the_handler_too() -> None:
    script = (
        "import app.handler as h; from tests.helpers import LambdaContext, event, initialize\n"
        "built = h._handler\n"
        "status = h.handler(event(body=initialize()), LambdaContext())['statusCode']\n"
        "print('REPORT ' + __import__('json').dumps([built is not None, h._handler is built, status]))"
    )
    report, _ = _run(script, {"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "LAMBDA_OPS_AUTH_MODE": "none"})
    assert report == [True, True, 200]


def test_off_lambda_nothing_is_built_at_import() -> None:
    script = "import app.handler as h; print('REPORT ' + __import__('json').dumps(h._handler is None))"
    env = {"PATH": "", "PYTHONPATH": str(ROOT), "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "REPORT true"


def test_an_event_cannot_claim_to_be_priming() -> None:
    """Mangum builds the scope from the event's fields: a header or field named like the key sets nothing."""
    from app.handler import build_handler
    from app.web.observability import RequestLog

    seen: list[bool] = []
    original = RequestLog.__call__

    async def spy(self: RequestLog, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen.append(PRIMING_KEY in scope)
        await original(self, scope, receive, send)

    ev = event(body=request("ping"), headers={"mcp-protocol-version": LEGACY, PRIMING_KEY: "true"})
    ev[PRIMING_KEY] = True
    ev["requestContext"][PRIMING_KEY] = True
    handler = build_handler(Settings(auth_mode="none"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RequestLog, "__call__", spy)
        response = handler(ev, LambdaContext())
    assert response["statusCode"] == 200
    assert body_of(response)["result"] == {}
    assert seen == [False]


def test_priming_refuses_a_handler_that_cannot_serve() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("down", status_code=503)(scope, receive, send)

    with pytest.raises(PrimingFailed, match=r"initialize: HTTP 503"):
        prime(broken)


def test_priming_skips_the_catalog_resource_when_it_would_refresh_from_the_web() -> None:
    labels = [label for label, *_ in requests(read_runtimes=False)]
    assert "resources/read lambda://runtimes" not in labels
    assert {"initialize", "tools/list", "ping", "tools/call ping"} <= set(labels)


def test_priming_runs_on_the_loop_every_invocation_uses() -> None:
    """The SDK lifespan started while priming must be the one later invocations use (OncePerEnvironment
    starts it once, on the loop Mangum finds with get_event_loop)."""
    from app.handler import assemble

    assembly = assemble(Settings(auth_mode="none"))
    prime(assembly.asgi)
    host = assembly.asgi._host  # type: ignore[attr-defined]
    assert host is not None
    assert not host.done()
    assert host.get_loop() is asyncio.get_event_loop_policy().get_event_loop()
    response = assembly.handler(
        event(body=request("ping"), headers={"mcp-protocol-version": LEGACY}), LambdaContext()
    )
    assert response["statusCode"] == 200
    assert assembly.asgi._host is host  # type: ignore[attr-defined]


def test_priming_with_tracing_on_as_deployed() -> None:
    """The template turns X-Ray on: priming runs outside any invocation (no trace header, no segment) and must
    neither fail nor log errors; the first traced invocation after the restore serves."""
    script = (
        "import os, json\n"
        "import app.handler as h\n"
        "from snapshot_restore_py import get_after_restore, get_before_snapshot\n"
        "for f, a, k in reversed(get_before_snapshot()): f(*a, **k)\n"
        "for f, a, k in get_after_restore(): f(*a, **k)\n"
        "os.environ['_X_AMZN_TRACE_ID'] = os.environ.pop('TRACE_AFTER_RESTORE')\n"
        "from tests.helpers import LEGACY, LambdaContext, event, request\n"
        "ev = event(body=request('ping'), headers={'mcp-protocol-version': LEGACY})\n"
        "print('REPORT ' + json.dumps(h.handler(ev, LambdaContext())['statusCode']))\n"
    )
    extra = {
        "LAMBDA_OPS_TRACING": "true",
        "LAMBDA_OPS_AUTH_MODE": "none",
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",  # the discard port: nothing listens
        "TRACE_AFTER_RESTORE": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    report, out = _run(script, extra)
    assert report == 200
    assert '"level":"ERROR"' not in out
    assert "primed before snapshot" in out
