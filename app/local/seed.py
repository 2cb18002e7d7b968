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

from app.local.seed_data import ECR, FUNCTIONS, ROLE_NAME, SeedFunction

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
    count = 0
    for function in functions:
        lambda_client.create_function(**create_function_request(function, role))
        if function.reserved_concurrency is not None:
            lambda_client.put_function_concurrency(
                FunctionName=function.name, ReservedConcurrentExecutions=function.reserved_concurrency
            )
        count += 1
    return count


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
