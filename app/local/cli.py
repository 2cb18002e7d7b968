"""``python -m app.local``: serve the Lambda handler on http://127.0.0.1:PORT/mcp, as API Gateway would.

    python -m app.local [--port N] [--host 127.0.0.1] [--backend sandbox|aws] [--handler module:attr]
                        [--auth off|local] [--throttle RPS] [--latency MS]

``--backend sandbox`` (the default) starts the sandbox AWS account and points boto3 at it; ``--backend aws``
uses the standard AWS credential chain (``AWS_PROFILE``, ``AWS_REGION``, ...) against the real account.
The sandbox is a small fleet (app/local/seed_fleet.py): the server is pointed at its organisation
(``LAMBDA_OPS_ACCOUNTS=organization``, ``LAMBDA_OPS_REGIONS=us-east-1,eu-west-1`` unless exported).
``--throttle RPS`` and ``--latency MS`` make the sandbox's Lambda control plane rate-limited and slow, as AWS
is (app/local/control_plane.py).
``--auth local`` (``make serve-auth``) also starts a real authorization server on loopback (app/local/auth.py)
and makes the server its protected resource: every MCP request then needs a bearer token from it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import MutableMapping
from types import FrameType
from typing import TextIO

from app.local.auth import AuthServerError, AuthServerInfo, LocalAuthServer, apply_settings, banner_lines
from app.local.child import Child, ChildError
from app.local.context import REGION
from app.local.control_plane import Limits
from app.local.engine import DEFAULT_WORKER
from app.local.runtime import DEFAULT_HANDLER, LambdaRuntime
from app.local.sandbox import CREDENTIALS, Sandbox, SandboxError, SandboxInfo, add_limit_arguments
from app.local.seed_fleet import SETTINGS as FLEET_SETTINGS
from app.local.server import LocalGateway
from app.local.tasks_table import TABLE as TASKS_TABLE
from app.local.tasks_table import WORKER

DEFAULT_PORT = 3000
SERVICE = "lambda-ops-mcp"
# Only loopback hosts and origins pass locally (the Inspector web UI is a loopback origin on some port).
LOCAL_ALLOWED_HOSTS = "127.0.0.1:*,localhost:*,[::1]:*"
LOCAL_ALLOWED_ORIGINS = "http://127.0.0.1:*,http://localhost:*,http://[::1]:*"
# Against a real account, not every page some dev server puts on localhost: MCP Inspector's web UI only.
INSPECTOR_ORIGINS = "http://127.0.0.1:6274,http://localhost:6274"
# Variables that would send the sandbox's calls elsewhere, or sign them with a real identity.
# AWS_IGNORE_CONFIGURED_ENDPOINT_URLS would make boto3 ignore the sandbox's AWS_ENDPOINT_URL.
_REAL_ACCOUNT_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)

log = logging.getLogger("app.local")


def parse_args(argv: list[str], environ: MutableMapping[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.local", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--port", type=int, default=int(environ.get("PORT", DEFAULT_PORT)), help="0 picks a free port"
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument("--backend", choices=("sandbox", "aws"), default="sandbox")
    parser.add_argument(
        "--handler", default=DEFAULT_HANDLER, help=f"module:attribute (default {DEFAULT_HANDLER})"
    )
    parser.add_argument(
        "--worker",
        default=DEFAULT_WORKER,
        help=f"the task worker, module:attribute (default {DEFAULT_WORKER}); run by the durable SDK's local "
        "runner with the sandbox",
    )
    parser.add_argument(
        "--auth",
        choices=("off", "local"),
        default="off",
        help="local: sign-in on, against an authorization server started on loopback (default off)",
    )
    add_limit_arguments(parser)
    args = parser.parse_args(argv)
    if args.backend != "sandbox" and (args.throttle is not None or args.latency):
        parser.error("--throttle and --latency emulate AWS in the sandbox: not with --backend aws")
    if args.host == "localhost":
        args.host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(args.host)
    except ValueError:
        address = None
    # IPv4 only: with an IPv6 literal in the Host header ([::1]:3000) Mangum fails to build the ASGI scope.
    if not isinstance(address, ipaddress.IPv4Address) or not address.is_loopback:
        parser.error(f"--host {args.host}: the local server binds an IPv4 loopback address only (127.0.0.1)")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: not a port")
    return args


def local_environment(backend: str, environ: MutableMapping[str, str]) -> None:
    """The environment the handler reads: what the SAM template sets on Lambda, adapted to loopback.

    Settings a user exported win, except for the sandbox's AWS variables: its calls must never leave
    loopback, nor be signed with a real identity.
    """
    # Zero setup: nobody signs in on loopback. Said once at start (the banner and the handler's cold start).
    environ.setdefault("LAMBDA_OPS_AUTH_MODE", "none")
    environ.setdefault("LAMBDA_OPS_ALLOWED_HOSTS", LOCAL_ALLOWED_HOSTS)
    origins = LOCAL_ALLOWED_ORIGINS if backend == "sandbox" else INSPECTOR_ORIGINS
    environ.setdefault("LAMBDA_OPS_ALLOWED_ORIGINS", origins)
    environ.setdefault("POWERTOOLS_SERVICE_NAME", SERVICE)
    environ.setdefault("POWERTOOLS_DEV", "true")  # readable, indented log lines
    # POWERTOOLS_DEV alone turns metrics off, and Powertools then never clears them between invocations;
    # on, they are flushed (one EMF line per invocation) and cleared as on Lambda.
    environ.setdefault("POWERTOOLS_METRICS_DISABLED", "false")
    if backend != "sandbox":
        return
    environ.setdefault("LAMBDA_OPS_ALLOW_WRITES", "true")
    for name, value in FLEET_SETTINGS.items():  # the seeded fleet: its organisation, both its regions
        environ.setdefault(name, value)
    for name in [*_REAL_ACCOUNT_VARIABLES, *(k for k in environ if k.startswith("AWS_ENDPOINT_URL_"))]:
        environ.pop(name, None)
    environ["AWS_ACCESS_KEY_ID"] = CREDENTIALS["aws_access_key_id"]
    environ["AWS_SECRET_ACCESS_KEY"] = CREDENTIALS["aws_secret_access_key"]
    environ["AWS_DEFAULT_REGION"] = environ["AWS_REGION"] = REGION
    # Until the sandbox is up, nothing may reach AWS: an endpoint that refuses every connection.
    environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    # Tasks: the sandbox's table and the worker, run by the durable SDK's local runner (app/local/engine.py).
    environ["LAMBDA_OPS_TASKS_TABLE"] = TASKS_TABLE
    environ["LAMBDA_OPS_WORKER_FUNCTION"] = WORKER
    # Campaigns: a strategy's minute lasts a second, so the README's campaign bakes its canaries in seconds.
    environ.setdefault("LAMBDA_OPS_CAMPAIGN_MINUTE_S", "1")


def _confirmation_key(environ: MutableMapping[str, str]) -> str:
    """Where the key sealing the state of confirmations (2026-07-28 clients) comes from."""
    arn = environ.get("LAMBDA_OPS_REQUEST_STATE_SECRET_ARN")
    if arn:
        return f"state sealed with the key in {arn}"
    return "state sealed with a random key of this process (local runs only; deployed: the template's secret)"


def banner(
    url: str,
    backend: str,
    sandbox: SandboxInfo | None,
    environ: MutableMapping[str, str],
    auth: AuthServerInfo | None = None,
    engine: str | None = None,
) -> str:
    writes = environ.get("LAMBDA_OPS_ALLOW_WRITES", "false").lower() in ("1", "true", "yes", "on")
    if sandbox is not None:
        account = (
            f"sandbox AWS account (moto on {sandbox.endpoint_url}, {sandbox.functions} functions, "
            f"seeded in {sandbox.seed_seconds:.2f} s)"
        )
        fleet = _fleet(sandbox, environ)
    else:
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "from your AWS config"
        account = f"your AWS account (standard credential chain; region {region})"
        fleet = []
    servers = json.dumps({"mcpServers": {"lambda-ops": {"type": "http", "url": url}}}, indent=2)
    return "\n".join(
        [
            f"lambda-ops-mcp ready: {url}",
            f"  backend: {account}; writes {'enabled' if writes else 'disabled'}",
            *fleet,
            f"  confirmations: {_confirmation_key(environ)}",
            f"  sign-in: {_sign_in(environ)}",
            f"  tasks: {_tasks(environ, engine)}",
            *(banner_lines(auth) if auth is not None else []),
            "",
            "Connect a client (transport: Streamable HTTP):",
            f"  Claude Code:        claude mcp add --transport http lambda-ops {url}",
            f"  MCP Inspector CLI:  npx @modelcontextprotocol/inspector --cli {url} --transport http "
            "--method tools/list",
            f"  MCP Inspector web:  npx @modelcontextprotocol/inspector  (Streamable HTTP, URL {url})",
            "  Claude Desktop / Cursor / VS Code (mcpServers JSON; in .vscode/mcp.json the key is servers):",
            *(f"    {line}" for line in servers.splitlines()),
            "",
            "Each request below: method path status duration, MCP method. Ctrl+C stops.",
        ]
    )


def _fleet(sandbox: SandboxInfo, environ: MutableMapping[str, str]) -> list[str]:
    targets = ", ".join(f"{name}={environ.get(name, '')}" for name in FLEET_SETTINGS)
    return [
        f"  fleet: {sandbox.fleet or 'none seeded'}",
        f"  fleet targets: {targets}; Lambda control-plane limits: {sandbox.limits}",
    ]


def _tasks(environ: MutableMapping[str, str], engine: str | None) -> str:
    if engine is not None:
        return (
            f"on: the worker runs in the durable SDK's local runner ({engine}), task records in the "
            f"sandbox's DynamoDB table {environ.get('LAMBDA_OPS_TASKS_TABLE')}"
        )
    if environ.get("LAMBDA_OPS_TASKS_TABLE") and environ.get("LAMBDA_OPS_WORKER_FUNCTION"):
        return (
            f"on: the deployed worker {environ['LAMBDA_OPS_WORKER_FUNCTION']} and table "
            f"{environ['LAMBDA_OPS_TASKS_TABLE']} (your AWS account)"
        )
    return (
        "off (tools answer synchronously): set LAMBDA_OPS_TASKS_TABLE and LAMBDA_OPS_WORKER_FUNCTION to a "
        "deployed stack's TasksTableName and WorkerAlias outputs to run tasks against your account"
    )


def _sign_in(environ: MutableMapping[str, str]) -> str:
    if environ.get("LAMBDA_OPS_AUTH_MODE", "oauth").lower() == "none":
        return "off (LAMBDA_OPS_AUTH_MODE=none): no token needed on loopback"
    issuer = environ.get("LAMBDA_OPS_OAUTH_ISSUER") or "NOT SET: every request gets 401"
    return f"OAuth bearer tokens from {issuer}"


def configure_logging() -> None:
    """Like the Lambda Python runtime: a root handler at WARNING. Our request lines: one per request."""
    warnings.filterwarnings("ignore", message="POWERTOOLS_DEV environment variable is enabled")  # we did
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    environ = os.environ
    args = parse_args(sys.argv[1:] if argv is None else argv, environ)
    out = out or sys.stdout
    configure_logging()
    started = time.perf_counter()
    local_environment(args.backend, environ)
    runtime = LambdaRuntime(args.handler)
    try:
        gateway = LocalGateway(args.host, args.port, runtime)
    except OSError as error:
        print(
            f"cannot listen on {args.host}:{args.port}: {error.strerror} (PORT=... picks another port)",
            file=sys.stderr,
        )
        runtime.close()
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    auth_server = LocalAuthServer(gateway.url) if args.auth == "local" else None
    auth: AuthServerInfo | None = None
    limits = Limits(args.throttle, args.latency)
    sandbox = Sandbox.spawn(limits) if args.backend == "sandbox" else None
    engine: Child | None = None
    engine_url: str | None = None
    try:
        if auth_server is not None:  # before the handler reads its settings (on its first invocation)
            auth = auth_server.start()
            apply_settings(auth, environ)
        init = runtime.init()  # imports the handler while the sandbox seeds
        info = sandbox.wait_ready() if sandbox is not None else None
        if info is not None:
            environ["AWS_ENDPOINT_URL"] = info.endpoint_url
            engine = Child("engine", "app.local.engine", ["--worker", args.worker], env=environ)
            engine_url = str(engine.wait_ready()["endpoint_url"])
            environ["LAMBDA_OPS_WORKER_ENDPOINT_URL"] = engine_url
        init_seconds = init.result()
        if stop.is_set():  # interrupted while starting
            return 0
        serving = threading.Thread(
            target=gateway.serve_forever, kwargs={"poll_interval": 0.1}, name="gateway", daemon=True
        )
        serving.start()
        print(banner(gateway.url, args.backend, info, environ, auth, engine_url), file=out, flush=True)
        log.info(
            "started in %.2f s (handler %s imported in %.2f s)",
            time.perf_counter() - started,
            args.handler,
            init_seconds,
        )
        while not stop.wait(0.2):
            pass
        log.info("stopping")
        gateway.shutdown()
        return 0
    except (SandboxError, AuthServerError, ChildError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        gateway.server_close()
        runtime.close()
        if auth_server is not None:
            auth_server.stop()
        if engine is not None:
            engine.stop()
        if sandbox is not None:
            sandbox.stop()
