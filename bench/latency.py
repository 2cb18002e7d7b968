"""Cold init and warm tools/call latency of a Lambda handler, each in a fresh process."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter: import the handler module, serve a first initialize (cold), then N tools/call.
_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
module, attr, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
handler = getattr(__import__(module, fromlist=[attr]), attr)
from tests.helpers import LambdaContext, event, initialize, request
handler(event(body=initialize()), LambdaContext())
cold = time.perf_counter() - t0
call = event(body=request("tools/call", {"name": "ping", "arguments": {}}),
             headers={"mcp-protocol-version": "2025-11-25"})
context = LambdaContext()
times = []
for _ in range(calls):
    started = time.perf_counter()
    response = handler(call, context)
    times.append(time.perf_counter() - started)
    assert response["statusCode"] == 200, response
json.dump({"cold": cold, "warm": times}, sys.stderr)
"""


def probe(
    module: str, attr: str, calls: int, code_dir: Path | None, extra_env: dict[str, str] | None = None
) -> dict[str, object]:
    """One fresh process. ``code_dir`` first on sys.path: the built artifact, with its shipped bytecode."""
    paths = [str(code_dir)] if code_dir else []
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_LOG_LEVEL": "INFO",  # as deployed: one request line and one EMF line per invocation
        **(extra_env or {}),
    }
    # stdout carries the handler's logs; the probe reports on stderr's last line
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, module, attr, str(calls)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
        cwd=str(ROOT),
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    module: str,
    attr: str,
    *,
    runs: int,
    calls: int,
    code_dir: Path | None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, float]:
    colds: list[float] = []
    warm: list[float] = []
    for index in range(runs):
        result = probe(module, attr, calls if index == 0 else 0, code_dir, extra_env)
        colds.append(float(result["cold"]))  # type: ignore[arg-type]
        warm.extend(result["warm"])  # type: ignore[arg-type]
    return {
        "cold_s": statistics.median(colds),
        "warm_p50_ms": percentile(warm, 0.50) * 1000,
        "warm_p99_ms": percentile(warm, 0.99) * 1000,
    }
