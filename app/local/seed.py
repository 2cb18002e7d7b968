"""Creates the sandbox account (``seed_data.FUNCTIONS``) through the AWS API: an IAM role, then every
function with its configuration, tags and a tiny zip of code. Works against any endpoint boto3 talks to:
moto in server mode (the local sandbox) or ``mock_aws`` in-process (tests)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from functools import cache
from typing import Any

from app.local.seed_data import ECR, FUNCTIONS, LAYERS, ROLE_NAME, SeedFunction, SeedLayer

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}

# (file in the zip, handler, source) per runtime family: what a hello-world deployment package holds.
_CODE = {
    "nodejs": (
        "index.mjs",
        "index.handler",
        "export const handler = async (event) => ({ statusCode: 200 });\n",
    ),
    "python": ("app.py", "app.handler", "def handler(event, context):\n    return {'statusCode': 200}\n"),
    "java": ("com/acme/lambda/Handler.class", "com.acme.lambda.Handler::handleRequest", "\xca\xfe\xba\xbe"),
    "dotnet": ("Acme.Functions.dll", "Acme.Functions::Acme.Functions.Function::FunctionHandler", "MZ"),
    "ruby": (
        "function.rb",
        "function.handler",
        "def handler(event:, context:)\n  { statusCode: 200 }\nend\n",
    ),
    "go": ("main", "main", "\x7fELF"),
    "provided": ("bootstrap", "bootstrap", "\x7fELF"),
}


def seed_account(lambda_client: Any, iam_client: Any, functions: Iterable[SeedFunction] = FUNCTIONS) -> int:
    """Create the role and the functions; the number of functions created."""
    role = iam_client.create_role(
        RoleName=ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
        Description="Execution role of the sandbox account's functions",
    )["Role"]["Arn"]
    layers = {layer.name: publish_layer(lambda_client, layer) for layer in LAYERS}
    count = 0
    for function in functions:
        request = create_function_request(function, role)
        if function.layers:
            request["Layers"] = [layers[name] for name in function.layers]
        if function.versions:
            request["Runtime"] = function.versions[0]
        lambda_client.create_function(**request)
        ship_versions(lambda_client, function)
        if function.reserved_concurrency is not None:
            lambda_client.put_function_concurrency(
                FunctionName=function.name, ReservedConcurrentExecutions=function.reserved_concurrency
            )
        count += 1
    return count


def publish_layer(lambda_client: Any, layer: SeedLayer) -> str:
    """Publish version 1 of a layer, declaring what its publisher declared; its version ARN."""
    request: dict[str, Any] = {
        "LayerName": layer.name,
        "Description": layer.description,
        "Content": {"ZipFile": code_zip("python" if "py" in layer.name else "nodejs")},
    }
    if layer.runtimes is not None:
        request["CompatibleRuntimes"] = list(layer.runtimes)
    if layer.architectures is not None:
        request["CompatibleArchitectures"] = list(layer.architectures)
    return str(lambda_client.publish_layer_version(**request)["LayerVersionArn"])


def ship_versions(lambda_client: Any, function: SeedFunction) -> None:
    """Publish a version per entry of ``versions`` (moving $LATEST's runtime between them), move $LATEST
    on to ``runtime``, then create the aliases."""
    for number, runtime in enumerate(function.versions, start=1):
        if number > 1 and runtime != function.versions[number - 2]:
            lambda_client.update_function_configuration(FunctionName=function.name, Runtime=runtime)
        elif number > 1:  # the same runtime again: a new release (moto publishes only after a change)
            lambda_client.update_function_configuration(
                FunctionName=function.name, Description=f"{function.description} (release {number})"
            )
        lambda_client.publish_version(FunctionName=function.name, Description=f"release {number}")
    if function.versions:
        lambda_client.update_function_configuration(
            FunctionName=function.name, Runtime=function.runtime, Description=function.description
        )
    for alias, target in function.aliases.items():
        request: dict[str, Any] = {"FunctionName": function.name, "Name": alias}
        if isinstance(target, tuple):
            request["FunctionVersion"] = target[0]
            request["RoutingConfig"] = {"AdditionalVersionWeights": target[1]}
        else:
            request["FunctionVersion"] = target
        lambda_client.create_alias(**request)


def create_function_request(function: SeedFunction, role_arn: str) -> dict[str, Any]:
    """The ``CreateFunction`` parameters for one seeded function."""
    request: dict[str, Any] = {
        "FunctionName": function.name,
        "Role": role_arn,
        "Description": function.description,
        "MemorySize": function.memory,
        "Timeout": function.timeout,
        "Architectures": [function.arch],
        "Tags": function.tags,
    }
    if function.environment:
        request["Environment"] = {"Variables": dict(function.environment)}
    if function.runtime is None:
        request["PackageType"] = "Image"
        request["Code"] = {"ImageUri": f"{ECR}/{function.image}"}
        return request
    runtime_family = family(function.runtime)
    request["Runtime"] = function.runtime
    request["Handler"] = _CODE[runtime_family][1]
    request["Code"] = {"ZipFile": code_zip(runtime_family)}
    return request


def family(runtime: str) -> str:
    """The runtime's family: ``nodejs20.x`` → ``nodejs``, ``java8.al2`` → ``java``, ``go1.x`` → ``go``."""
    match = re.match(r"[a-z]+", runtime)
    if match is None or match.group() not in _CODE:
        raise ValueError(f"unknown runtime family: {runtime!r}")
    return match.group()


@cache
def code_zip(runtime_family: str) -> bytes:
    """A deterministic deployment package (fixed timestamps and permissions: the same bytes every run)."""
    filename, _, source = _CODE[runtime_family]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(filename, date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o100755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, source.encode("latin-1"))
    return buffer.getvalue()
