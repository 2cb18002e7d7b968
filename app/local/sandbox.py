"""The sandbox AWS account: moto in server mode on loopback, seeded with ``seed_data.FUNCTIONS`` and a small
fleet around it (app/local/seed_fleet.py: an organisation, member accounts in two regions, one denied).

It runs in a child process (``python -m app.local.sandbox``), not in the server's: importing moto hooks
botocore in the importing process, and the handler's process must stay as it is on Lambda. The child prints
one JSON line when it is ready (its URL, how many functions, how long seeding took) and runs until its stdin
closes (the parent stopped or died: no orphaned moto) or it receives SIGINT/SIGTERM.

Run it alone for a seeded account to point the AWS CLI at: ``python -m app.local.sandbox [--throttle RPS]
[--latency MS]`` (the control-plane limits of app/local/control_plane.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from types import FrameType
from typing import IO, Any

from app.local.child import Child, ChildError
from app.local.context import CREDENTIALS, REGION
from app.local.control_plane import Limits

LOOPBACK = "127.0.0.1"
__all__ = ["CREDENTIALS", "LOOPBACK", "Sandbox", "SandboxError", "SandboxInfo"]


@dataclass(frozen=True)
class SandboxInfo:
    endpoint_url: str
    functions: int
    seed_seconds: float
    fleet: str = ""  # what app/local/seed_fleet.py seeded, in words ("" when no fleet)
    limits: str = "none"  # the control-plane limits in effect (Limits.describe)


class SandboxError(RuntimeError):
    pass


class Sandbox:
    """The parent's handle on the sandbox child (app/local/child.py): ``Sandbox.spawn()``, ``wait_ready()``,
    ``stop()``."""

    def __init__(self, child: Child) -> None:
        self.child = child
        self.info: SandboxInfo | None = None

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.child.process

    @classmethod
    def spawn(cls, limits: Limits | None = None) -> Sandbox:
        """Start the child; returns at once (seeding goes on while the caller does other work)."""
        return cls(Child("sandbox", "app.local.sandbox", limit_args(limits or Limits())))

    def wait_ready(self, timeout: float = 60.0) -> SandboxInfo:
        try:
            ready = self.child.wait_ready(timeout)
            self.info = SandboxInfo(
                ready["endpoint_url"],
                int(ready["functions"]),
                float(ready["seed_seconds"]),
                str(ready.get("fleet", "")),
                str(ready.get("limits", "none")),
            )
        except ChildError as error:
            raise SandboxError(str(error)) from None
        except (KeyError, TypeError, ValueError):
            code = self.stop()
            raise SandboxError(
                f"the sandbox failed to start (exit code {code}); see its output above"
            ) from None
        return self.info

    def stop(self, timeout: float = 10.0) -> int:
        """Close the child's stdin (its signal to stop) and wait for it; kill it if it does not stop."""
        return self.child.stop(timeout)


def limit_args(limits: Limits) -> list[str]:
    args = [] if limits.throttle_rps is None else ["--throttle", f"{limits.throttle_rps:g}"]
    return args + (["--latency", f"{limits.latency_ms:g}"] if limits.latency_ms > 0 else [])


def parse_limits(argv: list[str]) -> Limits:
    parser = argparse.ArgumentParser(prog="python -m app.local.sandbox")
    add_limit_arguments(parser)
    args = parser.parse_args(argv)
    return Limits(args.throttle, args.latency)


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--throttle RPS`` and ``--latency MS``: shared by ``python -m app.local`` and the sandbox child."""
    parser.add_argument(
        "--throttle",
        type=_positive,
        default=None,
        metavar="RPS",
        help="sandbox: Lambda control-plane requests per second per account and region; more get "
        "TooManyRequestsException (HTTP 429), as on AWS (default: unlimited)",
    )
    parser.add_argument(
        "--latency",
        type=_non_negative,
        default=0.0,
        metavar="MS",
        help="sandbox: milliseconds added to each Lambda API call (default 0)",
    )


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value <= 10000:
        raise argparse.ArgumentTypeError(f"{text}: requests per second must be in (0, 10000]")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 60000:
        raise argparse.ArgumentTypeError(f"{text}: milliseconds must be in [0, 60000]")
    return value


def clients(endpoint_url: str) -> tuple[Any, Any]:
    """boto3 Lambda and IAM clients for the sandbox."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        region_name=REGION,
    )
    return (
        session.client("lambda", endpoint_url=endpoint_url),
        session.client("iam", endpoint_url=endpoint_url),
    )


def _session() -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        region_name=REGION,
    )


def dynamodb(endpoint_url: str) -> Any:
    return _session().client("dynamodb", endpoint_url=endpoint_url)


def seed_health_data(endpoint_url: str) -> None:
    """Metrics and logs for get-function-health and the ranked audit (app/local/seed_health.py)."""
    from app.local.seed_health import seed_health

    session = _session()
    seed_health(
        session.client("cloudwatch", endpoint_url=endpoint_url),
        session.client("logs", endpoint_url=endpoint_url),
    )


def configure_moto(endpoint_url: str) -> None:
    """Invoke without Docker: moto then echoes the payload instead of running the code."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback http URL
        f"{endpoint_url}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own loopback URL
        response.read()


def run_child(stdin: IO[bytes], stdout: IO[str], limits: Limits | None = None) -> int:
    """The child: start moto, seed it, announce it, serve until stdin closes or a signal arrives."""
    from app.local import (
        campaign_faults,
        control_plane,
        moto_fleet,
        moto_paging,
        moto_patches,
        slow_updates,
    )
    from app.local.seed import seed_account
    from app.local.seed_campaign import seed_campaign
    from app.local.seed_fleet import seed_fleet
    from app.local.tasks_table import create_tasks_table

    limits = limits or Limits()
    slow_updates.install()  # updates that take time, as on AWS (moto applies them at once)
    moto_patches.apply()  # CloudWatch percentiles (app/local/moto_patches.py)
    moto_paging.install()  # Lambda's list operations page (app/local/moto_paging.py)
    moto_fleet.install()  # AssumeRole checks trust, fixed account ids (app/local/moto_fleet.py)
    campaign_faults.install()  # the README campaign's smoke failure and canary breach

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per AWS call
    server = control_plane.moto_server(limits, LOOPBACK)  # behind the rate limit and latency, if any
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        configure_moto(url)
        started = time.perf_counter()
        count = seed_account(*clients(url))
        fleet = seed_fleet(url)
        seed_campaign(clients(url)[0])  # alias live on three old Node.js functions
        create_tasks_table(dynamodb(url))
        seed_health_data(url)
        seeded = time.perf_counter() - started
        if server.control_plane is not None:  # the limits apply to the clients, not to seeding
            server.control_plane.armed = True
        ready = {
            "endpoint_url": url,
            "functions": count,
            "seed_seconds": round(seeded, 3),
            "fleet": fleet.describe(),
            "limits": limits.describe(),
        }
        print(json.dumps(ready), file=stdout)
        stdout.flush()
        if stdin.isatty():
            print(f"sandbox AWS account on {url} ({count} functions); Ctrl+C stops it", file=sys.stderr)
        fd = stdin.fileno()
        while not stop.is_set():  # polled: a thread blocked in read() would abort interpreter shutdown
            readable, _, _ = select.select([fd], [], [], 0.5)
            if readable and not os.read(fd, 4096):
                break  # end of file: the parent closed our stdin, or died
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run_child(sys.stdin.buffer, sys.stdout, parse_limits(sys.argv[1:])))
