"""`make bench`: cold start and warm latency of our handler against a hand-written floor, in one run."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.campaign import report as campaign_report
from bench.fake_account import report as output_size_report
from bench.fleet import report as fleet_report
from bench.health import report as health_report
from bench.latency import ROOT, measure
from bench.snapstart import report as snapstart_report
from bench.tasks import report as tasks_report

ARTIFACT = ROOT / ".aws-sam" / "build" / "McpFunction"
HOST_ARTIFACT = ROOT / ".aws-sam" / "bench-host"
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "aarch64": "manylinux2014_aarch64"}


def host_artifact() -> Path:
    """The Lambda artifact (``make bench`` builds it first), or on a CPU other than arm64 the same build
    for this machine's CPU — rebuilt every run, so it never measures stale code (~10 s, pip's cache warm)."""
    if platform.machine() == "aarch64" and ARTIFACT.exists():
        return ARTIFACT
    env = {**os.environ, "LAMBDA_PLATFORM": PLATFORMS[platform.machine()]}
    subprocess.run(["bash", "scripts/build_lambda.sh", str(HOST_ARTIFACT)], cwd=ROOT, env=env, check=True)
    return HOST_ARTIFACT


def measure_signed_in(*, runs: int, calls: int, code_dir: Path) -> dict[str, float]:
    """The same handler with sign-in on: a stand-in issuer on loopback (tests/auth/issuer.py) serves its
    JWKS; every request carries a token it signed."""
    from tests.auth.issuer import running_issuer

    with running_issuer() as issuer:
        env = {
            "LAMBDA_OPS_AUTH_MODE": "oauth",
            "LAMBDA_OPS_OAUTH_ISSUER": issuer.url,
            "LAMBDA_OPS_OAUTH_JWKS_URL": f"{issuer.url}/jwks",
            "BENCH_TOKEN": issuer.token(exp=int(time.time()) + 3600),
        }
        return measure("app.handler", "handler", runs=runs, calls=calls, code_dir=code_dir, extra_env=env)


def main() -> None:
    calls = int(os.environ.get("BENCH_CALLS", "2000"))
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    code_dir = host_artifact()
    print(f"python {sys.version.split()[0]} on {platform.machine()}; artifact {code_dir.relative_to(ROOT)}")
    print(f"cold: median of {runs} fresh processes (import + first initialize); warm: {calls} tools/call")
    ours = measure("app.handler", "handler", runs=runs, calls=calls, code_dir=code_dir)
    floor = measure("bench.floor", "handler", runs=runs, calls=calls, code_dir=None)
    signed_in = measure_signed_in(runs=runs, calls=calls, code_dir=code_dir)
    print(f"{'':24}{'ours':>12}{'floor':>12}{'ratio':>10}{'signed in':>12}{'ratio':>8}")
    rows = [("cold init (s)", "cold_s"), ("warm p50 (ms)", "warm_p50_ms"), ("warm p99 (ms)", "warm_p99_ms")]
    for label, key in rows:
        print(
            f"{label:24}{ours[key]:12.4f}{floor[key]:12.4f}{ours[key] / floor[key]:10.1f}"
            f"{signed_in[key]:12.4f}{signed_in[key] / ours[key]:8.2f}"
        )
    print("signed in: RS256 bearer token verified on every call (keys fetched once from a loopback issuer)")
    targets = {"cold_s": 1.2, "warm_p50_ms": 1.2}
    for key, limit in targets.items():
        verdict = "meets" if ours[key] <= limit else "MISSES"
        print(f"target {key} <= {limit}: {verdict}")
    print()
    traced = measure("app.handler", "handler", runs=runs, calls=10, code_dir=code_dir,
                     extra_env={"LAMBDA_OPS_TRACING": "true"})  # fmt: skip
    snapstart_report(
        code_dir, runs=runs, calls=calls, cold_tracing_off=ours["cold_s"], cold_tracing_on=traced["cold_s"]
    )
    print()
    tasks_ok = tasks_report(code_dir, runs=runs, calls=min(calls, 300))
    tasks_ok = campaign_report() and tasks_ok
    print()
    print("output size: bytes an assistant receives to answer 'which functions use deprecated runtimes?'")
    if not output_size_report(int(os.environ.get("BENCH_FUNCTIONS", "1000"))):
        sys.exit("output size target missed")
    print()
    print(
        "function health: bytes and AWS calls of get-function-health (sandbox data), the ranked audit's bytes"
    )
    if not health_report(int(os.environ.get("BENCH_FUNCTIONS", "1000"))):
        sys.exit("ranked audit output size target missed")
    print()
    if not fleet_report():
        sys.exit("fleet audit target missed")
    if not tasks_ok:
        sys.exit("task worker cold-init target missed")


if __name__ == "__main__":
    main()
