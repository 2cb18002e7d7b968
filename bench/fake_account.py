"""A large fake Lambda account (1,000 functions by default) for the output-size benchmark.

``FakeLambda`` serves ``ListFunctions`` exactly as AWS pages it (``MaxItems`` ≤ 50, opaque ``Marker``) —
which moto doesn't — from deterministic, realistic configurations (environment variables, layers, VPC,
logging: what a raw ``ListFunctions`` page really carries). ``compare()`` measures the bytes needed to
answer the flagship question ("which functions — and which published versions serving traffic through
aliases — use deprecated runtimes?") by paging raw ``ListFunctions`` with all versions versus one
``audit-runtimes`` answer; ``fake_versions``/``fake_aliases`` add published versions (older ones on older
runtimes) and ``prod``/``staging`` aliases, some weighted. ``seed_moto`` creates the same account through the
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


# Each family's runtimes, oldest first: older published versions sit lower on the ladder.
LADDERS = {
    "nodejs": ("nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x",
               "nodejs24.x"),
    "python": ("python3.7", "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13"),
    "java": ("java8", "java8.al2", "java11", "java17", "java21"),
    "dotnet": ("dotnet6", "dotnet8"),
    "ruby": ("ruby2.7", "ruby3.2", "ruby3.3"),
    "go": ("go1.x",),
    "provided": ("provided.al2", "provided.al2023"),
}  # fmt: skip
VERSION_COUNTS = (0, 0, 1, 2, 3, 3, 5, 8)  # published versions per function: ~2.75 on average


def fake_versions(configs: list[dict[str, Any]], seed: int = 20261129) -> dict[str, list[dict[str, Any]]]:
    """Published versions per function: copies of ``$LATEST`` published over time, the older ones on older
    runtimes of the family (as AWS returns them: a full configuration each, Version and ARN qualified)."""
    rng = random.Random(seed)
    versions: dict[str, list[dict[str, Any]]] = {}
    for config in configs:
        count = rng.choice(VERSION_COUNTS)
        runtime = config.get("Runtime")
        ladder = LADDERS[_family(runtime)] if runtime else ()
        here = ladder.index(runtime) if runtime in ladder else 0
        published = []
        for number in range(1, count + 1):
            version = {**config, "Version": str(number), "FunctionArn": f"{config['FunctionArn']}:{number}"}
            version["RevisionId"] = f"{number:08d}" + config["RevisionId"][8:]
            if runtime:
                version["Runtime"] = ladder[max(0, here - (count - number + 1) // 2)]
            published.append(version)
        versions[config["FunctionName"]] = published
    return versions


def fake_aliases(versions: dict[str, list[dict[str, Any]]], seed: int = 20261130) -> dict[str, list[Any]]:
    """``prod`` on most functions with versions — usually the newest, sometimes an older one, now and then
    weighted (10 % to another version) — and ``staging`` on the newest for some."""
    rng = random.Random(seed)
    aliases: dict[str, list[dict[str, Any]]] = {}
    for name, published in versions.items():
        if not published:
            continue
        arn = published[0]["FunctionArn"].rsplit(":", 1)[0]
        newest = len(published)
        prod = newest if rng.random() < 0.7 else max(1, newest - rng.randint(1, 2))
        entries = [{"Name": "prod", "FunctionVersion": str(prod)}]
        if prod > 1 and rng.random() < 0.08:
            entries[0]["RoutingConfig"] = {"AdditionalVersionWeights": {str(prod - 1): 0.1}}
        if rng.random() < 0.3:
            entries.append({"Name": "staging", "FunctionVersion": str(newest)})
        for entry in entries:
            entry.update(AliasArn=f"{arn}:{entry['Name']}", Description="", RevisionId=f"alias-{name}")
        aliases[name] = entries
    return aliases


def _page(items: list[dict[str, Any]], key: str, max_items: int, marker: str | None) -> dict[str, Any]:
    start = int(base64.b64decode(marker).decode()) if marker else 0
    size = max(1, min(max_items, 50))
    response: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        response["NextMarker"] = base64.b64encode(str(start + size).encode()).decode()
    return response


class FakeLambda:
    """Just enough of a Lambda client for listing and auditing, paging like AWS does; with ``versions`` and
    ``aliases`` (``fake_versions``, ``fake_aliases``) it serves published versions and aliases too."""

    def __init__(
        self,
        configs: list[dict[str, Any]],
        versions: dict[str, list[dict[str, Any]]] | None = None,
        aliases: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.configs = configs
        self.versions = versions or {}
        self.aliases = aliases or {}
        self.calls: list[str] = []
        self._all: list[dict[str, Any]] | None = None

    def list_functions(
        self, MaxItems: int = 50, Marker: str | None = None, FunctionVersion: str | None = None
    ) -> dict[str, Any]:
        self.calls.append("ListFunctions")
        if FunctionVersion != "ALL":
            return _page(self.configs, "Functions", MaxItems, Marker)
        if self._all is None:
            self._all = [
                entry for c in self.configs for entry in (c, *self.versions.get(c["FunctionName"], []))
            ]
        return _page(self._all, "Functions", MaxItems, Marker)

    def list_versions_by_function(
        self, FunctionName: str, MaxItems: int = 50, Marker: str | None = None
    ) -> dict[str, Any]:
        self.calls.append("ListVersionsByFunction")
        latest = next(c for c in self.configs if c["FunctionName"] == FunctionName)
        return _page([latest, *self.versions.get(FunctionName, [])], "Versions", MaxItems, Marker)

    def list_aliases(
        self, FunctionName: str, MaxItems: int = 50, Marker: str | None = None
    ) -> dict[str, Any]:
        self.calls.append("ListAliases")
        return _page(self.aliases.get(FunctionName, []), "Aliases", MaxItems, Marker)

    def get_function_configuration(self, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        self.calls.append("GetFunctionConfiguration")
        for config in self.configs:
            if FunctionName in (config["FunctionName"], config["FunctionArn"]):
                if Qualifier in (None, "$LATEST"):
                    return config
                return next(v for v in self.versions[config["FunctionName"]] if v["Version"] == Qualifier)
        raise KeyError(FunctionName)


def raw_pages(client: Any, **extra: str) -> Iterator[dict[str, Any]]:
    """Every ``ListFunctions`` page (50 configurations each), as an assistant paging raw would receive them;
    ``FunctionVersion="ALL"`` for every published version too."""
    marker: str | None = None
    while True:
        response = client.list_functions(MaxItems=50, **extra, **({"Marker": marker} if marker else {}))
        yield {k: v for k, v in response.items() if k != "ResponseMetadata"}
        marker = response.get("NextMarker")
        if not marker:
            return


def tool_call_bytes(
    client: Any, tool: str, arguments: dict[str, Any], **others: Any
) -> tuple[int, dict[str, Any]]:
    """One ``tools/call`` through ``app.handler`` (API Gateway event in, HTTP response out), against
    ``client`` (and ``others``' clients by service, e.g. ``cloudwatch=``): the response body's size in bytes —
    what the assistant receives — and the parsed result."""
    from app.config import Settings
    from app.handler import build_handler
    from app.lambda_ops import LambdaClients, LambdaOps
    from app.local.context import LambdaContext
    from app.local.events import http_api_event
    from app.surface.server import build_server

    settings = Settings(auth_mode="none")  # the bench measures the MCP path, not sign-in
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's JSON log and EMF lines: not the report
        server = build_server(settings, ops=LambdaOps(LambdaClients.of(client, **others)))
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


def _raw_bytes(pages: Iterator[dict[str, Any]]) -> tuple[int, int]:
    sizes = [len(json.dumps(p, default=str, separators=(",", ":")).encode()) for p in pages]
    return sum(sizes), len(sizes)


def per_function_listing(fake: FakeLambda) -> tuple[int, int]:
    """Bytes and calls of the other way to read every version: ``ListFunctions``, then
    ``ListVersionsByFunction`` for each function (all its pages)."""
    total, calls = _raw_bytes(raw_pages(fake))
    for config in fake.configs:
        marker: str | None = None
        while True:
            response = fake.list_versions_by_function(
                FunctionName=config["FunctionName"], MaxItems=50, **({"Marker": marker} if marker else {})
            )
            total += len(json.dumps(response, default=str, separators=(",", ":")).encode())
            calls += 1
            marker = response.get("NextMarker")
            if not marker:
                break
    return total, calls


def fake_account(count: int = 1000) -> FakeLambda:
    configs = fake_configurations(count)
    versions = fake_versions(configs)
    return FakeLambda(configs, versions, fake_aliases(versions))


def compare(count: int = 1000, family: str | None = None) -> dict[str, Any]:
    """Bytes and calls to answer the flagship question with versions and aliases: paging raw
    ``ListFunctions`` with ``FunctionVersion=ALL`` (what a raw tool hands the assistant; it still lacks the
    aliases) vs one ``audit-runtimes`` tool call, its whole HTTP response body (structured + text)."""
    fake = fake_account(count)
    raw_bytes, raw_calls = _raw_bytes(raw_pages(fake, FunctionVersion="ALL"))
    other_bytes, other_calls = per_function_listing(fake)
    fake.calls.clear()
    ours, result = tool_call_bytes(fake, "audit-runtimes", {"family": family} if family else {})
    audit = result["structuredContent"]
    expected = sum(1 for c in fake.configs if family is None or _family(c.get("Runtime") or "") == family)
    if not audit["complete"] or audit["total_functions"] != expected:  # a partial answer would be smaller
        raise RuntimeError(f"the audit did not answer for all {expected} functions: {audit['note']}")
    return {
        "functions": count,
        "family": family,
        "published_versions": sum(len(v) for v in fake.versions.values()),
        "raw_calls": raw_calls,
        "raw_bytes": raw_bytes,
        "per_function_calls": other_calls,
        "per_function_bytes": other_bytes,
        "audit_calls": 1,
        "audit_list_functions_calls": fake.calls.count("ListFunctions"),
        "audit_list_aliases_calls": fake.calls.count("ListAliases"),
        "functions_with_aliases": len(fake.aliases),
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


TARGET_RATIO = 0.01


def report(count: int = 1000) -> bool:
    """The output-size benchmark's lines (``make bench`` prints them); target: <= 1 % of the raw bytes in
    one call. False if a target is missed."""
    met = True
    for family in (None, "nodejs"):
        r = compare(count, family)
        label = f"audit-runtimes{f'(family={family})' if family else ''}"
        ok = r["ratio"] <= TARGET_RATIO and r["audit_calls"] == 1
        met = met and ok
        if family is None:
            print(
                f"{count} functions, {r['published_versions']:,} published versions: raw ListFunctions "
                f"(FunctionVersion=ALL) {r['raw_bytes']:,} B in {r['raw_calls']} calls; ListFunctions + "
                f"ListVersionsByFunction per function {r['per_function_bytes']:,} B in "
                f"{r['per_function_calls']} calls"
            )
        print(
            f"  {label}: {r['audit_bytes']:,} B in 1 call = {r['ratio']:.2%} of raw (server side: "
            f"{r['audit_list_functions_calls']} ListFunctions + {r['audit_list_aliases_calls']} ListAliases "
            f"of {r['functions_with_aliases']} functions with aliases) (target <= 1 % in 1 call: "
            f"{'meets' if ok else 'MISSES'})"
        )
    return met


def main(argv: list[str]) -> int:
    return 0 if report(int(argv[0]) if argv else 1000) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
