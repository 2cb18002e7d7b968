"""SnapStart: what the snapshot costs once (init: import, build, priming) and what a restored environment's
first request costs against a warm one — each in a fresh process importing the built artifact as Lambda does
(``AWS_LAMBDA_FUNCTION_NAME`` set: the handler is built during init and the runtime hooks registered).

A restore is simulated in-process: the before-snapshot hooks run (as Lambda runs them before taking the
snapshot), then the after-restore hooks, then the first request. What this cannot show is the restore itself
(Lambda resumes the memory image; its page faults make the first requests slower on Lambda than here).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.latency import ROOT, percentile

_PROBE = r"""
import json, sys, time
calls, prime = int(sys.argv[1]), sys.argv[2] == "prime"
t0 = time.perf_counter()
import app.handler as h  # Lambda's init: the handler is built here
built = time.perf_counter()
from snapshot_restore_py import get_after_restore, get_before_snapshot
if prime:
    for func, args, kwargs in reversed(get_before_snapshot()):
        func(*args, **kwargs)
primed = time.perf_counter()
for func, args, kwargs in get_after_restore():
    func(*args, **kwargs)
restored = time.perf_counter()
from tests.helpers import LambdaContext, event, request
call = event(body=request("tools/call", {"name": "ping", "arguments": {}}),
             headers={"mcp-protocol-version": "2025-11-25"})
context = LambdaContext()
times = []
for _ in range(1 + calls):
    started = time.perf_counter()
    response = h.handler(call, context)
    times.append(time.perf_counter() - started)
    assert response["statusCode"] == 200, response
json.dump({"init": built - t0, "priming": primed - built, "restore": restored - primed,
           "first": times[0], "warm": times[1:]}, sys.stderr)
"""


def probe(code_dir: Path, calls: int, prime: bool) -> dict[str, object]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(code_dir), str(ROOT)]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "lambda-ops-mcp",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
        "POWERTOOLS_SERVICE_NAME": "lambda-ops-mcp",
        "POWERTOOLS_METRICS_NAMESPACE": "LambdaOpsMcp",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # Tracing off here: without Lambda's trace header every X-Ray call would log a missing segment.
        # Its import cost is in the snapshot either way (measured in the cold rows).
        "LAMBDA_OPS_TRACING": "false",
        # Sign-in off: this measures what the snapshot saves (verification: latency's signed-in column).
        "LAMBDA_OPS_AUTH_MODE": "none",
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(calls), "prime" if prime else "no-prime"],
        capture_output=True, text=True, env=env, timeout=600, check=True, cwd=str(ROOT),
    )  # fmt: skip
    return json.loads(done.stderr.strip().splitlines()[-1])


PER_PROCESS_CALLS = 100  # warm calls after the first in every process: each first request has its own p50


def measure(code_dir: Path, *, runs: int, calls: int) -> dict[str, float]:
    """Medians over ``runs`` fresh processes. The first request is compared with the warm p50 of the same
    process (a ratio per process, then their median): on a shared machine load moves both together."""
    primed = [
        probe(code_dir, max(calls if i == 0 else 0, PER_PROCESS_CALLS), prime=True) for i in range(runs)
    ]
    unprimed = [probe(code_dir, PER_PROCESS_CALLS, prime=False) for _ in range(runs)]

    def median(results: list[dict[str, object]], key: str) -> float:
        return statistics.median(float(r[key]) for r in results)  # type: ignore[arg-type]

    def ratio(results: list[dict[str, object]]) -> float:
        return statistics.median(
            float(r["first"]) / percentile(r["warm"], 0.50)  # type: ignore[arg-type]
            for r in results
        )

    warm: list[float] = primed[0]["warm"]  # type: ignore[assignment]
    return {
        "init_s": median(primed, "init"),
        "priming_s": median(primed, "priming"),
        "restore_hook_ms": median(primed, "restore") * 1000,
        "first_primed_ms": median(primed, "first") * 1000,
        "first_unprimed_ms": median(unprimed, "first") * 1000,
        "primed_ratio": ratio(primed),
        "unprimed_ratio": ratio(unprimed),
        "warm_p50_ms": percentile(warm, 0.50) * 1000,
    }


def report(code_dir: Path, *, runs: int, calls: int, cold_tracing_off: float, cold_tracing_on: float) -> None:
    m = measure(code_dir, runs=runs, calls=calls)
    print(
        f"snapstart: median of {runs} fresh processes each; warm p50 of {calls} tools/call after the restore"
    )
    print(f"  init, once per version (import, build): {m['init_s']:.3f} s + priming {m['priming_s']:.3f} s")
    print(f"  after-restore hook:                      {m['restore_hook_ms']:.3f} ms")
    ratio, unprimed = m["primed_ratio"], m["unprimed_ratio"]
    print(f"  first request after restore, primed:     {m['first_primed_ms']:.3f} ms = {ratio:.1f}x warm p50")
    first = m["first_unprimed_ms"]
    print(f"  first request after restore, unprimed:   {first:.3f} ms = {unprimed:.1f}x warm p50")
    print(f"  warm p50 ({calls} calls):                  {m['warm_p50_ms']:.3f} ms")
    print("  (each ratio: first request / warm p50 of the same process, median over the processes)")
    verdict = "meets" if ratio <= 2.0 else "MISSES"
    print(f"target first request after restore <= 2x warm p50: {verdict}")
    traced = cold_tracing_on / cold_tracing_off
    print(f"cold init without SnapStart (import + first initialize): tracing off {cold_tracing_off:.3f} s, "
          f"tracing on {cold_tracing_on:.3f} s ({traced:.1f}x)")  # fmt: skip
