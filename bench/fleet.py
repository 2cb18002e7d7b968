"""The fleet audit in `make bench`: an emulated fleet (40 targets x 300 functions with published versions
and aliases by default), every Lambda call 50 ms, at most 10 requests/s per account and region.

Each target is a real botocore Lambda client whose ``before-send`` hooks (1) take a token from that
target's bucket — app/fleet/limits.py's per-(account, region) limiter itself, as the fleet attaches it, every
HTTP attempt counted — (2) wait the call's latency and (3) answer with the JSON page AWS would send
(``ListFunctions`` with ``FunctionVersion=ALL``, ``ListAliases``), so botocore serialises, parses and
retries as it does against AWS. Reported:

- wall time against the floor the rate allows: the busiest target's calls / the rate (target <= 1.3x);
- the answer's bytes (structured content and text) against raw ``ListFunctions`` paging across the same
  targets (target <= 1 %);
- peak memory of the audit (tracemalloc, in a second run).

    python -m bench.fleet [--quick]
"""

from __future__ import annotations

import json
import sys
import threading
import time
import tracemalloc
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from app.fleet.answer import FleetAudit
from app.fleet.audit import audit_fleet
from app.fleet.aws import shared_core_session
from app.fleet.limits import Limits
from app.fleet.targets import Target
from app.lambda_ops import CatalogProvider, ClientSettings, LambdaClients, LambdaOps
from bench.fake_account import _page, fake_aliases, fake_configurations, fake_versions

TARGET_WALL_RATIO = 1.3
TARGET_BYTES_RATIO = 0.01


class Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


class EmulatedTarget:
    """One account-region: its functions, versions and aliases, served with latency behind its bucket."""

    def __init__(self, target: Target, functions: int, seed: int, latency_s: float, rate: float) -> None:
        self.target, self.latency_s = target, latency_s
        configs = fake_configurations(functions, seed=seed)
        versions = fake_versions(configs, seed=seed + 1)
        self.aliases = fake_aliases(versions, seed=seed + 2)
        self.all = [entry for c in configs for entry in (c, *versions.get(c["FunctionName"], []))]
        self.limits = Limits(rate)
        self.calls = 0
        self.lock = threading.Lock()

    def raw_paging_bytes(self) -> tuple[int, int]:
        """Bytes and pages of paging raw ListFunctions (FunctionVersion=ALL) through this target."""
        total = pages = start = 0
        while True:
            marker = None if not start else _marker(start)
            page = _page(self.all, "Functions", 50, marker)
            total += len(json.dumps(page, separators=(",", ":")).encode())
            pages += 1
            if "NextMarker" not in page:
                return total, pages
            start += 50

    def send(self, request: Any, **_: Any) -> AWSResponse:
        with self.lock:
            self.calls += 1
        time.sleep(self.latency_s)
        url = urlparse(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        marker = query.get("Marker")
        size = int(query.get("MaxItems", "50"))
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[-1] == "aliases":
            body = _page(self.aliases.get(parts[-2], []), "Aliases", size, marker)
        else:
            body = _page(self.all, "Functions", size, marker)
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": "bench"}
        return AWSResponse(request.url, 200, headers, Raw(json.dumps(body).encode()))

    def ops(self) -> LambdaOps:
        session = boto3.session.Session(  # a session per target, sharing the models' loader as the fleet does
            botocore_session=shared_core_session(),
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name=self.target.region,
        )

        def factory(service: str, config: Config, region: str | None) -> Any:
            client = session.client(service, config=config, region_name=region)  # type: ignore[call-overload]
            client.meta.events.register("before-send.lambda", self.send)
            return self.limits.attach(client, self.target.account, self.target.region)

        settings = ClientSettings(region=self.target.region, retry_mode="adaptive")
        return LambdaOps(LambdaClients(settings, factory=factory), catalog=CatalogProvider())


def _marker(start: int) -> str:
    import base64

    return base64.b64encode(str(start).encode()).decode()


def fleet(targets: int, functions: int, latency_s: float, rate: float) -> dict[Target, EmulatedTarget]:
    accounts = (targets + 1) // 2
    regions = ("us-east-1", "eu-west-1")
    chosen = [Target(f"{100000000000 + a:012d}", r) for a in range(accounts) for r in regions]
    return {
        t: EmulatedTarget(t, functions, 1000 + i, latency_s, rate) for i, t in enumerate(chosen[:targets])
    }


def answer_bytes(answer: FleetAudit) -> int:
    from app.surface import render
    from app.surface.shapes import result

    wire = result(answer, render.audit).model_dump(mode="json", by_alias=True, exclude_none=True)
    return len(json.dumps(wire, separators=(",", ":")).encode())


def run(
    targets: int = 40,
    functions: int = 300,
    latency_s: float = 0.05,
    rate: float = 10.0,
    workers: int = 40,
    *,
    memory: bool = True,
) -> dict[str, Any]:
    emulated = fleet(targets, functions, latency_s, rate)
    ops = {t: e.ops() for t, e in emulated.items()}
    catalog = CatalogProvider().shipped
    from app.lambda_ops.facade import utc_today

    today = utc_today()

    def audit() -> FleetAudit:
        return audit_fleet(
            list(emulated), ops.__getitem__, catalog=catalog, today=today, budget_s=600.0, workers=workers
        )

    started, cpu = time.perf_counter(), time.process_time()
    answer = audit()
    wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    if not answer.complete:
        raise RuntimeError(f"the fleet audit did not complete: {answer.note}")
    busiest = max(e.calls for e in emulated.values())
    calls = sum(e.calls for e in emulated.values())
    raw = [e.raw_paging_bytes() for e in emulated.values()]
    raw_bytes = sum(b for b, _ in raw)
    ours = answer_bytes(answer)
    for e in emulated.values():
        e.calls = 0
    peak = 0
    if memory:
        tracemalloc.start()
        audit()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    floor = busiest / rate
    return {
        "targets": targets,
        "functions_per_target": functions,
        "configurations": answer.total_functions + answer.total_published_versions,
        "calls": calls,
        "busiest_target_calls": busiest,
        "raw_pages": sum(p for _, p in raw),
        "wall_s": wall,
        "floor_s": floor,
        "wall_ratio": wall / floor,
        "cpu_s": cpu_s,  # every thread's: botocore serialising and parsing, the audit (one GIL)
        "raw_bytes": raw_bytes,
        "answer_bytes": ours,
        "bytes_ratio": ours / raw_bytes,
        "peak_mb": peak / 1e6,
        "workers": workers,
        "rate": rate,
        "latency_ms": latency_s * 1000,
    }


def report(quick: bool = False) -> bool:
    measured = run(targets=4, functions=40, latency_s=0.005, rate=50.0, workers=4) if quick else run()
    m = measured
    print(
        f"fleet audit: {m['targets']} targets x {m['functions_per_target']} functions "
        f"({m['configurations']} configurations with versions), {m['workers']} workers, a token bucket per "
        f"account-region ({m['rate']:g} requests/s, before-send hook), {m['latency_ms']:g} ms a call"
    )
    print(
        f"  wall {m['wall_s']:.1f} s against the rate's floor {m['floor_s']:.1f} s (busiest target "
        f"{m['busiest_target_calls']} calls / rate): {m['wall_ratio']:.2f}x (target <= {TARGET_WALL_RATIO}x)"
    )
    print(
        f"  answer {m['answer_bytes']} bytes against raw ListFunctions paging {m['raw_bytes']} bytes "
        f"({m['raw_pages']} pages): {m['bytes_ratio']:.4%} (target <= {TARGET_BYTES_RATIO:.0%})"
    )
    print(
        f"  peak memory (tracemalloc, second run) {m['peak_mb']:.1f} MB; {m['calls']} Lambda calls in all; "
        f"the audit used {m['cpu_s']:.1f} s of CPU (botocore's parsing and ours, one GIL)"
    )
    ok = m["wall_ratio"] <= TARGET_WALL_RATIO and m["bytes_ratio"] <= TARGET_BYTES_RATIO
    print(f"  targets: {'meets' if ok else 'MISSES'}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if report("--quick" in sys.argv) else 1)
