"""Function health in `make bench`: what ``get-function-health`` costs (bytes an assistant receives, AWS calls
the server makes) and what ranking the audit by traffic adds to its answer.

- ``get-function-health`` against the sandbox account in process (moto, seeded as ``make serve`` seeds it:
  metrics and log lines, moto's percentiles patched), one call per case — a spiking function (the case that
  also reads logs), a weighted alias, an idle one — through the production handler; the AWS calls counted
  from botocore's own events and checked against what the answer reports.
- ``audit-runtimes(rank_by="invocations")`` against the 1,000-function fake account of the output-size
  benchmark, with a fake CloudWatch that answers ``GetMetricData`` as AWS does (500 queries a call): its
  bytes against the raw ``ListFunctions`` pages, under the same ≤ 1 % budget as the plain audit.

    python -m bench.health
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bench.fake_account import TARGET_RATIO, _raw_bytes, fake_account, raw_pages, tool_call_bytes

_START = datetime(2026, 11, 1, tzinfo=UTC)  # the fake datapoints' timestamp (its value is all that counts)
HEALTH_CASES = (
    ("checkout-session-handler", None),
    ("checkout-session-handler", "prod"),
    ("coupon-validator-v1", None),
)


@contextlib.contextmanager
def sandbox_clients() -> Iterator[dict[str, Any]]:
    """Lambda, CloudWatch and Logs clients on an in-process moto account seeded like the sandbox."""
    import boto3
    from moto import mock_aws

    from app.local import moto_patches
    from app.local.seed import seed_account
    from app.local.seed_health import seed_health

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AWS_ENDPOINT_URL")}
    fake = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    before = {k: os.environ.get(k) for k in fake}
    os.environ.update(fake)
    moto_patches.apply()
    try:
        with mock_aws(config={"lambda": {"use_docker": False}}):
            clients = {
                s: boto3.client(s, region_name="us-east-1") for s in ("lambda", "cloudwatch", "logs", "iam")
            }
            seed_account(clients["lambda"], clients["iam"])
            seed_health(clients["cloudwatch"], clients["logs"])
            yield clients
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(saved)


def health_probe() -> list[dict[str, Any]]:
    """One get-function-health call per case: bytes of the HTTP response body and AWS calls by service."""
    measured = []
    with sandbox_clients() as clients:
        calls: list[str] = []
        for service in ("lambda", "cloudwatch", "logs"):
            clients[service].meta.events.register(
                f"before-call.{service}", lambda model, s=service, **_: calls.append(f"{s}:{model.name}")
            )
        for name, qualifier in HEALTH_CASES:
            calls.clear()
            arguments = {"name": name, **({"qualifier": qualifier} if qualifier else {})}
            size, result = tool_call_bytes(
                clients["lambda"], "get-function-health", arguments,
                cloudwatch=clients["cloudwatch"], logs=clients["logs"],
            )  # fmt: skip
            health = result["structuredContent"]
            text = result["content"][0]["text"]
            if health["aws_calls"] != len(calls):
                raise RuntimeError(
                    f"{name}: the answer reports {health['aws_calls']} AWS calls, made {calls}"
                )
            measured.append(
                {
                    "case": f"{name}:{qualifier}" if qualifier else name,
                    "status": health["status"],
                    "bytes": size,
                    "text_bytes": len(text.encode()),
                    "aws_calls": len(calls),
                    "metric_calls": calls.count("cloudwatch:GetMetricData"),
                    "calls": list(calls),
                }
            )
    return measured


class FakeCloudWatch:
    """``GetMetricData`` as AWS answers it for the ranking's queries (one Sum of Invocations per function,
    one period): at most 500 queries a call (more is AWS's ValidationError), deterministic counts, about a
    fifth of the functions idle (no datapoint at all: Lambda publishes nothing for zero)."""

    def __init__(self) -> None:
        self.calls = 0

    def get_metric_data(self, MetricDataQueries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        if len(MetricDataQueries) > 500:
            raise ValueError("ValidationError: more than 500 metric data queries")
        self.calls += 1
        results = []
        for query in MetricDataQueries:
            name = query["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
            digest = zlib.crc32(name.encode())
            count = 0 if digest % 5 == 0 else (digest % 100_000) * (1 + digest % 7)
            stamps, values = ([_START], [float(count)]) if count else ([], [])
            results.append(
                {"Id": query["Id"], "Timestamps": stamps, "Values": values, "StatusCode": "Complete"}
            )
        return {"MetricDataResults": results}


def ranked_audit(count: int = 1000) -> dict[str, Any]:
    """Bytes of the plain and the ranked audit (one tools/call each) against the raw ListFunctions pages."""
    fake = fake_account(count)
    raw_bytes, raw_calls = _raw_bytes(raw_pages(fake, FunctionVersion="ALL"))
    plain, _ = tool_call_bytes(fake, "audit-runtimes", {})
    cloudwatch = FakeCloudWatch()
    ranked, result = tool_call_bytes(
        fake, "audit-runtimes", {"rank_by": "invocations"}, cloudwatch=cloudwatch
    )
    ranking = result["structuredContent"]["ranking"]
    if ranking is None or ranking.get("note"):
        raise RuntimeError(f"the audit was not ranked: {ranking}")
    return {
        "functions": count,
        "raw_bytes": raw_bytes,
        "raw_calls": raw_calls,
        "plain_bytes": plain,
        "ranked_bytes": ranked,
        "ranked": ranking["functions_ranked"],
        "idle": ranking["idle_count"],
        "metric_calls": cloudwatch.calls,
        "ratio": ranked / raw_bytes,
    }


def report(count: int = 1000) -> bool:
    """The lines `make bench` prints; False if the ranked audit misses the output budget."""
    for case in health_probe():
        made = ", ".join(c.split(":")[1] for c in case["calls"])
        print(
            f"  get-function-health {case['case']} [{case['status']}]: {case['bytes']:,} B "
            f"(text {case['text_bytes']:,} B, target <= 2,048) in {case['aws_calls']} AWS calls, "
            f"{case['metric_calls']} GetMetricData ({made})"
        )
    r = ranked_audit(count)
    ok = r["ratio"] <= TARGET_RATIO
    added = r["ranked_bytes"] - r["plain_bytes"]
    print(
        f"  audit-runtimes(rank_by=invocations), {r['functions']} functions: {r['ranked_bytes']:,} B in 1 "
        f"call = {r['ratio']:.2%} of raw (plain audit {r['plain_bytes']:,} B, +{added:,} B for "
        f"{r['ranked']} functions ranked, {r['idle']} idle) with {r['metric_calls']} GetMetricData "
        f"(500 functions a call) (target <= 1 %: {'meets' if ok else 'MISSES'})"
    )
    return ok


def main(argv: list[str]) -> int:
    with contextlib.redirect_stderr(io.StringIO()):
        return 0 if report(int(argv[0]) if argv else 1000) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
