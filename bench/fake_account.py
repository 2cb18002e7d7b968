"""A large fake Lambda account (1,000 functions by default) for the output-size benchmark.

``FakeLambda`` serves ``ListFunctions`` exactly as AWS pages it (``MaxItems`` ≤ 50, opaque ``Marker``) —
which moto doesn't — from deterministic, realistic configurations (environment variables, layers, VPC,
logging: what a raw ``ListFunctions`` page really carries). ``compare()`` measures the bytes needed to
answer the flagship question ("which functions use deprecated runtimes, by version?") by paging raw
``ListFunctions`` versus one ``audit-runtimes`` answer. ``seed_moto`` creates the same account through the
API (for benchmarks through the real handler against moto).

    python -m bench.fake_account [COUNT]
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import random
import sys
from collections.abc import Iterator
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-lambda-basic-execution"
# (runtime, weight): a plausible estate — mostly current, a long tail of deprecated runtimes, some images.
RUNTIME_MIX: tuple[tuple[str | None, int], ...] = (
    ("nodejs22.x", 120), ("nodejs20.x", 110), ("nodejs18.x", 90), ("nodejs16.x", 50), ("nodejs14.x", 25),
    ("nodejs12.x", 10), ("nodejs24.x", 40), ("python3.13", 90), ("python3.12", 80), ("python3.11", 60),
    ("python3.10", 30), ("python3.9", 40), ("python3.8", 25), ("python3.7", 10), ("java21", 40),
    ("java17", 30), ("java11", 20), ("java8.al2", 15), ("java8", 5), ("dotnet8", 25), ("dotnet6", 10),
    ("ruby3.3", 10), ("ruby3.2", 8), ("ruby2.7", 4), ("go1.x", 12), ("provided.al2023", 25),
    ("provided.al2", 10), (None, 45),
)  # fmt: skip
TEAMS = (
    "orders",
    "payments",
    "billing",
    "identity",
    "search",
    "media",
    "data",
    "platform",
    "growth",
    "support",
)
PURPOSES = (
    "api",
    "worker",
    "consumer",
    "cron",
    "webhook",
    "etl",
    "authorizer",
    "resizer",
    "exporter",
    "sync",
)
STAGES = ("prod", "staging", "dev")
HANDLERS = {
    "nodejs": "index.handler",
    "python": "app.handler",
    "java": "com.acme.Handler::handleRequest",
    "dotnet": "Acme::Acme.Function::Handler",
    "ruby": "function.handler",
    "go": "main",
    "provided": "bootstrap",
}


def _family(runtime: str) -> str:
    if not runtime:  # a container image: no runtime, no family
        return ""
    for family in HANDLERS:
        if runtime.startswith(family):
            return family
    return "provided"


def fake_configurations(count: int = 1000, seed: int = 20261124) -> list[dict[str, Any]]:
    """``count`` FunctionConfiguration dicts shaped like ``ListFunctions`` returns them, sorted by name."""
    rng = random.Random(seed)
    runtimes = [r for r, _ in RUNTIME_MIX]
    weights = [w for _, w in RUNTIME_MIX]
    configs = []
    for i in range(count):
        runtime = rng.choices(runtimes, weights)[0]
        team, purpose, stage = rng.choice(TEAMS), rng.choice(PURPOSES), rng.choice(STAGES)
        name = f"{team}-{purpose}-{stage}-{i:04d}"
        digest = base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()
        config: dict[str, Any] = {
            "FunctionName": name,
            "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "Role": ROLE,
            "CodeSize": rng.randint(2_000, 40_000_000),
            "Description": f"{team.title()} {purpose} ({stage})",
            "Timeout": rng.choice((3, 10, 30, 60, 300, 900)),
            "MemorySize": rng.choice((128, 256, 512, 1024, 2048, 3008)),
            "LastModified": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00.000+0000",
            "CodeSha256": digest,
            "Version": "$LATEST",
            "Environment": {
                "Variables": {
                    "LOG_LEVEL": rng.choice(("info", "debug", "warn")),
                    "TABLE_NAME": f"{team}-{stage}",
                    "POWERTOOLS_SERVICE_NAME": f"{team}-{purpose}",
                    "API_TOKEN": f"tok_{hashlib.sha1(name.encode()).hexdigest()}",
                }
            },
            "TracingConfig": {"Mode": rng.choice(("PassThrough", "Active"))},
            "RevisionId": f"{i:08d}-0000-4000-8000-{rng.getrandbits(48):012x}",
            "Layers": [{"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{team}-shared:{rng.randint(1, 40)}",
                        "CodeSize": rng.randint(10_000, 5_000_000)}],
            "PackageType": "Zip" if runtime else "Image",
            "Architectures": [rng.choice(("x86_64", "arm64"))],
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
        }  # fmt: skip
        if runtime:
            config["Runtime"] = runtime
            config["Handler"] = HANDLERS[_family(runtime)]
        if rng.random() < 0.3:
            config["VpcConfig"] = {
                "SubnetIds": [f"subnet-{rng.getrandbits(64):017x}"[:24] for _ in range(2)],
                "SecurityGroupIds": [f"sg-{rng.getrandbits(64):017x}"[:20]],
                "VpcId": f"vpc-{rng.getrandbits(64):017x}"[:21],
                "Ipv6AllowedForDualStack": False,
            }
        configs.append(config)
    return sorted(configs, key=lambda c: c["FunctionName"])


class FakeLambda:
    """Just enough of a Lambda client for listing and auditing, paging like AWS does."""

    def __init__(self, configs: list[dict[str, Any]]) -> None:
        self.configs = configs
        self.calls: list[str] = []

    def list_functions(self, MaxItems: int = 50, Marker: str | None = None) -> dict[str, Any]:
        self.calls.append("ListFunctions")
        start = int(base64.b64decode(Marker).decode()) if Marker else 0
        size = max(1, min(MaxItems, 50))
        page = self.configs[start : start + size]
        response: dict[str, Any] = {"Functions": page}
        if start + size < len(self.configs):
            response["NextMarker"] = base64.b64encode(str(start + size).encode()).decode()
        return response

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        self.calls.append("GetFunctionConfiguration")
        for config in self.configs:
            if FunctionName in (config["FunctionName"], config["FunctionArn"]):
                return config
        raise KeyError(FunctionName)


def raw_pages(client: Any) -> Iterator[dict[str, Any]]:
    """Every ``ListFunctions`` page (50 functions each), as an assistant paging raw would receive them."""
    marker: str | None = None
    while True:
        response = client.list_functions(MaxItems=50, **({"Marker": marker} if marker else {}))
        yield {k: v for k, v in response.items() if k != "ResponseMetadata"}
        marker = response.get("NextMarker")
        if not marker:
            return


def tool_call_bytes(client: Any, tool: str, arguments: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One ``tools/call`` through ``app.handler`` (API Gateway event in, HTTP response out), against
    ``client``: the response body's size in bytes — what the assistant receives — and the parsed result."""
    from app.config import Settings
    from app.handler import build_handler
    from app.lambda_ops import LambdaClients, LambdaOps
    from app.local.context import LambdaContext
    from app.local.events import http_api_event
    from app.surface.server import build_server

    settings = Settings(auth_mode="none")  # the bench measures the MCP path, not sign-in
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's JSON log and EMF lines: not the report
        server = build_server(settings, ops=LambdaOps(LambdaClients.of(client)))
        handler = build_handler(settings, server=server)
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    headers = [
        ("host", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2025-11-25"),
    ]
    event = http_api_event(
        method="POST", raw_path="/mcp", query_string="", headers=headers,
        body=json.dumps(message).encode(), source_ip="127.0.0.1",
    )  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        response = handler(event, LambdaContext())
    body = response["body"].encode()
    assert response["statusCode"] == 200, response
    result: dict[str, Any] = json.loads(body)["result"]
    assert not result.get("isError"), result
    return len(body), result


def compare(count: int = 1000, family: str | None = None) -> dict[str, Any]:
    """Bytes and calls to answer the flagship question: paging raw ``ListFunctions`` (what a raw tool hands
    the assistant) vs one ``audit-runtimes`` tool call, its whole HTTP response body (structured + text)."""
    fake = FakeLambda(fake_configurations(count))
    raw = [json.dumps(page, default=str, separators=(",", ":")) for page in raw_pages(fake)]
    raw_bytes = sum(len(p.encode()) for p in raw)
    fake.calls.clear()
    ours, result = tool_call_bytes(fake, "audit-runtimes", {"family": family} if family else {})
    audit = result["structuredContent"]
    expected = sum(1 for c in fake.configs if family is None or _family(c.get("Runtime") or "") == family)
    if not audit["complete"] or audit["total_functions"] != expected:  # a partial answer would be smaller
        raise RuntimeError(f"the audit did not answer for all {expected} functions: {audit['note']}")
    return {
        "functions": count,
        "family": family,
        "raw_calls": len(raw),
        "raw_bytes": raw_bytes,
        "audit_calls": 1,
        "audit_list_functions_calls": len(fake.calls),
        "audit_bytes": ours,
        "ratio": ours / raw_bytes,
    }


def seed_moto(lambda_client: Any, iam_client: Any, count: int = 1000) -> int:
    """Create the fake account through the API (moto); returns the number of functions created."""
    from app.local.seed import TRUST_POLICY, code_zip, family

    role = iam_client.create_role(RoleName="bench-role", AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    for config in fake_configurations(count):
        request: dict[str, Any] = {
            "FunctionName": config["FunctionName"],
            "Role": role["Role"]["Arn"],
            "Description": config["Description"],
            "MemorySize": config["MemorySize"],
            "Timeout": config["Timeout"],
            "Architectures": config["Architectures"],
            "Environment": config["Environment"],
        }
        if "Runtime" in config:
            request.update(
                Runtime=config["Runtime"],
                Handler=config["Handler"],
                Code={"ZipFile": code_zip(family(config["Runtime"]))},
            )
        else:
            request.update(
                PackageType="Image", Code={"ImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1"}
            )
        lambda_client.create_function(**request)
    return count


def report(count: int = 1000) -> None:
    """The output-size benchmark's lines (``make bench`` prints them); target: ≤ 5 % in ≤ 2 calls."""
    for family in (None, "nodejs"):
        result = compare(count, family)
        label = f"audit-runtimes{f'(family={family})' if family else ''}"
        verdict = "meets" if result["ratio"] <= 0.05 and result["audit_calls"] <= 2 else "MISSES"
        print(
            f"{count} functions: raw ListFunctions {result['raw_bytes']:,} B in {result['raw_calls']} calls; "
            f"{label} {result['audit_bytes']:,} B in {result['audit_calls']} call = {result['ratio']:.1%} "
            f"of raw (target <= 5 % in <= 2 calls: {verdict})"
        )


def main(argv: list[str]) -> int:
    report(int(argv[0]) if argv else 1000)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
