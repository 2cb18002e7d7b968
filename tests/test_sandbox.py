"""The sandbox account: its seed data, seeding through the AWS API, and the moto child process."""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import signal
import socket
import time
import zipfile
from collections.abc import Iterator
from io import BytesIO

import boto3
import pytest
from moto import mock_aws

from app.local.sandbox import Sandbox, SandboxInfo, clients
from app.local.seed import code_zip, create_function_request, family, seed_account
from app.local.seed_data import FUNCTIONS, LAYERS, ROLE_NAME, SECRET_VALUES

CURRENT_AND_DEPRECATED = {
    "nodejs22.x", "nodejs20.x", "nodejs18.x", "nodejs16.x", "nodejs14.x", "nodejs12.x",
    "python3.13", "python3.12", "python3.11", "python3.9", "python3.8", "python3.7",
    "java21", "java17", "java11", "java8.al2", "java8",
    "dotnet8", "dotnet6",
    "ruby3.3", "ruby3.2", "ruby2.7",
    "go1.x", "provided.al2023", "provided.al2",
}  # fmt: skip


def test_seed_data_is_a_realistic_account() -> None:
    names = [f.name for f in FUNCTIONS]
    assert len(names) == len(set(names))
    zipped = [f for f in FUNCTIONS if f.runtime is not None]
    assert len(zipped) >= 40
    assert {f.runtime for f in zipped} == CURRENT_AND_DEPRECATED
    families = {family(f.runtime) for f in zipped}
    assert families == {"nodejs", "python", "java", "dotnet", "ruby", "go", "provided"}
    assert sum(f.runtime.startswith("nodejs") for f in zipped) >= 10  # the flagship question has an answer
    assert all(128 <= f.memory <= 3008 and 1 <= f.timeout <= 900 for f in FUNCTIONS)
    assert len({f.memory for f in FUNCTIONS}) >= 8
    assert len({f.timeout for f in FUNCTIONS}) >= 8
    assert {f.arch for f in FUNCTIONS} == {"x86_64", "arm64"}
    assert all(f.description and set(f.tags) == {"team", "env", "cost-center"} for f in FUNCTIONS)
    assert {f.env for f in FUNCTIONS} >= {"prod", "staging", "dev"}
    values = {v for f in FUNCTIONS for v in f.environment.values()}
    assert values >= SECRET_VALUES
    assert any(f.runtime is None and f.image for f in FUNCTIONS)  # container images have no runtime


def test_code_is_deterministic_and_a_valid_zip() -> None:
    for runtime_family in ("nodejs", "python", "java", "dotnet", "ruby", "go", "provided"):
        data = code_zip(runtime_family)
        assert len(data) < 1024
        code_zip.cache_clear()
        assert code_zip(runtime_family) == data  # the same bytes when built again
        with zipfile.ZipFile(BytesIO(data)) as archive:
            assert archive.testzip() is None
            assert len(archive.namelist()) == 1
    request = create_function_request(FUNCTIONS[0], "arn:aws:iam::123456789012:role/r")
    assert request["Handler"] == "index.handler"
    assert request["Code"]["ZipFile"] == code_zip("nodejs")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_IAM", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)  # mock_aws stops intercepting when an endpoint is set
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield


@pytest.mark.usefixtures("aws")
def test_seed_account_creates_every_function_as_configured() -> None:
    lam, iam = boto3.client("lambda"), boto3.client("iam")
    started = time.perf_counter()
    assert seed_account(lam, iam) == len(FUNCTIONS)
    assert time.perf_counter() - started < 5

    pages = lam.get_paginator("list_functions").paginate()
    listed = {f["FunctionName"]: f for page in pages for f in page["Functions"]}
    assert set(listed) == {f.name for f in FUNCTIONS}
    for seeded in FUNCTIONS:
        config = listed[seeded.name]
        assert config.get("Runtime") == seeded.runtime
        assert config["MemorySize"] == seeded.memory
        assert config["Timeout"] == seeded.timeout
        assert config["Architectures"] == [seeded.arch]
        assert config["Description"] == seeded.description
        assert config["Role"].endswith(f":role/{ROLE_NAME}")
        assert config["PackageType"] == ("Zip" if seeded.runtime else "Image")
        assert config.get("Environment", {}).get("Variables", {}) == seeded.environment
        if seeded.runtime:
            assert (
                config["CodeSha256"]
                == base64.b64encode(hashlib.sha256(code_zip(family(seeded.runtime))).digest()).decode()
            )
        assert lam.list_tags(Resource=config["FunctionArn"])["Tags"] == seeded.tags
    reserved = {f.name: f.reserved_concurrency for f in FUNCTIONS if f.reserved_concurrency}
    for name, limit in reserved.items():
        assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == limit
    runtimes = collections.Counter(f.get("Runtime") for f in listed.values())
    assert runtimes["nodejs16.x"] >= 2
    assert runtimes["nodejs14.x"] >= 2
    # published versions keep their runtimes; aliases point where the seed data says; layers declare theirs
    for seeded in FUNCTIONS:
        versions = lam.list_versions_by_function(FunctionName=seeded.name)["Versions"]
        assert [v.get("Runtime") for v in versions if v["Version"] != "$LATEST"] == list(seeded.versions)
        aliases = {a["Name"]: a for a in lam.list_aliases(FunctionName=seeded.name)["Aliases"]}
        assert set(aliases) == set(seeded.aliases)
        for name, target in seeded.aliases.items():
            primary, weights = target if isinstance(target, tuple) else (target, None)
            assert aliases[name]["FunctionVersion"] == primary
            assert (aliases[name].get("RoutingConfig") or {}).get("AdditionalVersionWeights") == weights
        layers = [layer["Arn"].split(":")[-2] for layer in listed[seeded.name].get("Layers", [])]
        assert layers == list(seeded.layers)
    assert any(isinstance(t, tuple) for f in FUNCTIONS for t in f.aliases.values())  # one weighted alias
    declared = {layer.name: layer.runtimes for layer in LAYERS}
    assert declared["numpy-pandas-py38"] == ("python3.8",)
    assert declared["acme-common-utils"] is None


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, SandboxInfo]]:
    box = Sandbox.spawn()
    try:
        yield box, box.wait_ready(timeout=60)
    finally:
        box.stop()


def test_sandbox_child_serves_a_seeded_account_and_stops(sandbox: tuple[Sandbox, SandboxInfo]) -> None:
    box, info = sandbox
    assert info.endpoint_url.startswith("http://127.0.0.1:")
    assert info.functions == len(FUNCTIONS)
    assert info.seed_seconds < 5
    assert info.fleet.startswith("organisation of 4 accounts")  # app/local/seed_fleet.py, in its own tests
    assert info.limits == "none"
    lam, _ = clients(info.endpoint_url)
    functions = lam.list_functions()["Functions"]
    assert len(functions) == len(FUNCTIONS) >= 40
    assert {f.get("Runtime") for f in functions} - {None} == CURRENT_AND_DEPRECATED
    # Docker is off: invoke echoes the payload instead of trying to run a container.
    reply = lam.invoke(FunctionName="orders-api-prod", Payload=json.dumps({"ping": 1}).encode())
    assert json.loads(reply["Payload"].read()) == {"ping": 1}

    assert box.stop() == 0  # closing its stdin stops it
    port = int(info.endpoint_url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_sandbox_child_stops_on_sigterm(sandbox: tuple[Sandbox, SandboxInfo]) -> None:
    box, _ = sandbox
    box.process.send_signal(signal.SIGTERM)
    assert box.process.wait(10) == 0


def test_sandbox_child_serves_health_data(sandbox: tuple[Sandbox, SandboxInfo]) -> None:
    """Metrics (percentiles too: moto patched in the child) and log lines for get-function-health: a spiking
    function, a quiet one and an idle one, through the same endpoint `make serve` uses."""
    from app.lambda_ops import LambdaClients, LambdaOps
    from app.lambda_ops.function_health import FunctionHealth

    _, info = sandbox
    lam, _ = clients(info.endpoint_url)
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    others = {
        service: session.client(service, region_name="us-east-1", endpoint_url=info.endpoint_url)
        for service in ("cloudwatch", "logs")
    }
    ops = LambdaOps(LambdaClients.of(lam, **others))
    statuses = {}
    for name in ("checkout-session-handler", "cart-service-prod", "coupon-validator-v1"):
        found = ops.function_health(name)
        assert isinstance(found, FunctionHealth), found
        statuses[name] = found.status
        if name == "checkout-session-handler":
            assert found.duration_p99_ms is not None
            assert found.recent_errors.lines
            assert not [s for s in SECRET_VALUES if s in found.model_dump_json()]
    assert statuses == {
        "checkout-session-handler": "anomalous",
        "cart-service-prod": "ok",
        "coupon-validator-v1": "idle",
    }
