"""What surrounds a function's ``$LATEST``: the aliases that serve its traffic and the layers it runs with.

An alias names a published version (and, with weighted routing, a second one and its share); each version
keeps the runtime it was published with, read here with ``GetFunctionConfiguration`` and ``Qualifier``. A
layer version says which runtimes and architectures it was built for when its publisher declared them
(``GetLayerVersion`` by layer ARN and number: the call ``lambda:GetLayerVersion`` allows on the layer-version
ARN; moto has no ``GetLayerVersionByArn``, and it needs the same permission). A layer of another account may
not be readable: that is said, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.lambda_ops.errors import ErrorKind, OpsFailure, aws_call
from app.lambda_ops.versions import LATEST, read_aliases, weights_of

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

MAX_VERSIONS_READ = 10  # distinct aliased versions whose runtime get-function reads
_LAYER_ARN = re.compile(r"^(arn:[\w-]+:lambda:[\w-]+:\d{12}:layer:[\w-]+):(\d+)$")


class AliasInfo(BaseModel):
    name: str = Field(description="Alias name.")
    version: str = Field(description="The primary version the alias points to.")
    weights: dict[str, float] = Field(
        description="Version → share of the alias's traffic (one entry of 1.0 unless weighted routing)."
    )
    runtimes: dict[str, str | None] = Field(
        description="Version → the runtime it runs on (absent if not read: see the note)."
    )
    revision_id: str | None = Field(default=None, description="The alias's revision (for a guarded update).")


class LayerInfo(BaseModel):
    arn: str = Field(description="Layer version ARN.")
    compatible_runtimes: list[str] | None = Field(
        description="Runtimes the layer version declares it was built for; null: not declared or not read."
    )
    compatible_architectures: list[str] | None = Field(
        description="Architectures it declares; null: not declared or not read."
    )
    note: str | None = Field(default=None, description="Why the declaration could not be read, if so.")


def split_layer_arn(arn: str) -> tuple[str, int] | None:
    """``arn:...:layer:deps:3`` → (``arn:...:layer:deps``, 3); None if it is not a layer version ARN."""
    match = _LAYER_ARN.match(arn)
    return (match.group(1), int(match.group(2))) if match else None


def read_layer(client: LambdaClient, arn: str) -> LayerInfo:
    parts = split_layer_arn(arn)
    if parts is None:
        return LayerInfo(
            arn=arn, compatible_runtimes=None, compatible_architectures=None, note="not a layer ARN"
        )
    try:
        with aws_call("GetLayerVersion"):
            layer = client.get_layer_version(LayerName=parts[0], VersionNumber=parts[1])
    except OpsFailure as failure:
        return LayerInfo(
            arn=arn,
            compatible_runtimes=None,
            compatible_architectures=None,
            note=f"could not read the layer version ({failure.error.kind.value}): {failure.error.message}"[
                :300
            ],
        )
    return LayerInfo(
        arn=arn,
        compatible_runtimes=list(layer.get("CompatibleRuntimes") or []) or None,
        compatible_architectures=list(layer.get("CompatibleArchitectures") or []) or None,
    )


def read_layers(client: LambdaClient, config: Mapping[str, Any]) -> list[LayerInfo]:
    """The function's layers (at most five, Lambda's limit), each with its declared compatibility."""
    return [read_layer(client, str(layer["Arn"])) for layer in config.get("Layers") or [] if layer.get("Arn")]


def version_runtime(client: LambdaClient, function: str, version: str) -> dict[str, Any]:
    """One version's configuration (``GetFunctionConfiguration`` with ``Qualifier``)."""
    with aws_call("GetFunctionConfiguration", f"{function}:{version}"):
        return dict(client.get_function_configuration(FunctionName=function, Qualifier=version))


def describe_aliases(
    client: LambdaClient, function: str, latest_runtime: str | None
) -> tuple[list[AliasInfo], str | None]:
    """Every alias with the runtime each of its versions runs on, and a note when something was not read.
    A missing permission or a failure here leaves the aliases out with a note: the function itself was
    read, and that answer stays useful."""
    try:
        aliases = read_aliases(client, function)
    except OpsFailure as failure:
        return [], f"Aliases not read: {failure.error.message}"[:300]
    wanted = sorted({v for a in aliases for v in weights_of(a)} - {LATEST}, key=_numeric)
    runtimes: dict[str, str | None] = {LATEST: latest_runtime}
    note = None
    for version in wanted[-MAX_VERSIONS_READ:]:
        try:
            runtimes[version] = version_runtime(client, function, version).get("Runtime")
        except OpsFailure as failure:
            if failure.error.kind is not ErrorKind.NOT_FOUND:
                note = f"Some versions' runtimes not read: {failure.error.message}"[:300]
    if len(wanted) > MAX_VERSIONS_READ:
        note = f"Runtimes read for the newest {MAX_VERSIONS_READ} of {len(wanted)} aliased versions only."
    infos = []
    for alias in aliases:
        weights = weights_of(alias)
        infos.append(
            AliasInfo(
                name=str(alias.get("Name")),
                version=str(alias.get("FunctionVersion") or LATEST),
                weights=weights,
                runtimes={v: runtimes[v] for v in weights if v in runtimes},
                revision_id=alias.get("RevisionId"),
            )
        )
    return infos, note


def _numeric(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (-1, version)
