"""One function's configuration, sanitised.

Built field by field from an allowlist — never by copying AWS's response — so nothing new AWS adds can
leak. Never included: ``Code.Location`` (a presigned download URL for the code), environment variable
values (names only), the environment's error message, image configuration (commands may carry secrets).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.lambda_ops.deployment import AliasInfo, LayerInfo, describe_aliases, read_layers
from app.lambda_ops.errors import aws_call
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class RuntimeAssessment(BaseModel):
    runtime: str | None = Field(description="Runtime identifier; null for container image functions.")
    status: RuntimeStatus = Field(description="supported, deprecating_soon, deprecated, blocked, unknown...")
    deprecation_date: date | None = Field(description="When AWS deprecates (deprecated) the runtime.")
    block_function_create: date | None = Field(description="From when new functions can't use it.")
    block_function_update: date | None = Field(description="From when functions on it can't be updated.")
    recommended_target: str | None = Field(description="Runtime to upgrade to, if any.")


class FunctionDetail(BaseModel):
    """A sanitised function configuration: no code URL, no environment values."""

    name: str = Field(description="Function name.")
    arn: str | None = Field(description="Function ARN.")
    description: str | None = Field(description="The function's description.")
    runtime: RuntimeAssessment = Field(description="The runtime and its status today.")
    handler: str | None = Field(description="Handler (absent for image functions).")
    package_type: str | None = Field(description="Zip or Image.")
    architectures: list[str] = Field(description="x86_64 or arm64.")
    memory_mb: int | None = Field(description="Memory size in MB.")
    timeout_s: int | None = Field(description="Timeout in seconds.")
    ephemeral_storage_mb: int | None = Field(description="Ephemeral storage (the /tmp directory) in MB.")
    code_size_bytes: int | None = Field(description="Deployment package size.")
    code_sha256: str | None = Field(description="SHA-256 of the deployment package.")
    code_repository_type: str | None = Field(description="S3 for .zip functions, ECR for images.")
    image_uri: str | None = Field(description="Container image URI (image functions only).")
    role: str | None = Field(description="Execution role ARN.")
    environment_variable_names: list[str] = Field(description="Names only: values are never returned.")
    kms_key_arn: str | None = Field(description="Customer managed key for environment encryption, if any.")
    layers: list[LayerInfo] = Field(
        description="Layer versions: ARN and the runtimes and architectures each declares it was built for."
    )
    aliases: list[AliasInfo] = Field(
        default_factory=list,
        description="Aliases: the version each points to, weighted routing, and the runtime each version "
        "serves (a published version keeps the runtime it was published with).",
    )
    deployment_note: str | None = Field(
        default=None, description="What about aliases or layers could not be read, if anything."
    )
    vpc_subnet_ids: list[str] = Field(description="VPC subnets, if attached to a VPC.")
    vpc_security_group_ids: list[str] = Field(description="VPC security groups, if attached to a VPC.")
    tracing_mode: str | None = Field(description="X-Ray tracing: Active or PassThrough.")
    dead_letter_target_arn: str | None = Field(description="Dead-letter queue or topic ARN, if any.")
    log_group: str | None = Field(description="CloudWatch Logs log group.")
    log_format: str | None = Field(description="Text or JSON.")
    snap_start: str | None = Field(description="SnapStart: PublishedVersions or None.")
    state: str | None = Field(description="Pending, Active, Inactive or Failed.")
    state_reason: str | None = Field(description="Why the function is in its state, if not Active.")
    last_update_status: str | None = Field(description="Successful, Failed or InProgress.")
    last_update_status_reason: str | None = Field(description="Why the last update failed, if it did.")
    last_modified: str | None = Field(description="When the function was last changed (ISO 8601).")
    version: str | None = Field(description="$LATEST or a published version.")
    revision_id: str | None = Field(description="Revision of the configuration (changes on every update).")
    reserved_concurrency: int | None = Field(description="Reserved concurrent executions; null: unreserved.")
    tags: dict[str, str] = Field(description="Tags (present only if the server may call lambda:ListTags).")


def assess_runtime(runtime: str | None, catalog: RuntimeCatalog, today: date) -> RuntimeAssessment:
    known = catalog.get(runtime) if runtime is not None else None
    return RuntimeAssessment(
        runtime=runtime,
        status=catalog.status(runtime, today),
        deprecation_date=known.deprecation_date if known else None,
        block_function_create=known.block_function_create if known else None,
        block_function_update=known.block_function_update if known else None,
        recommended_target=catalog.recommended_target(runtime, today) if runtime else None,
    )


def sanitise(response: Mapping[str, Any], catalog: RuntimeCatalog, today: date) -> FunctionDetail:
    """``FunctionDetail`` from a ``GetFunction`` response."""
    config: Mapping[str, Any] = response.get("Configuration", {})
    code: Mapping[str, Any] = response.get("Code", {})
    variables: Mapping[str, Any] = (config.get("Environment") or {}).get("Variables") or {}
    vpc: Mapping[str, Any] = config.get("VpcConfig") or {}
    logging: Mapping[str, Any] = config.get("LoggingConfig") or {}
    concurrency: Mapping[str, Any] = response.get("Concurrency") or {}
    return FunctionDetail(
        name=str(config["FunctionName"]),
        arn=config.get("FunctionArn"),
        description=config.get("Description") or None,
        runtime=assess_runtime(config.get("Runtime"), catalog, today),
        handler=config.get("Handler"),
        package_type=config.get("PackageType"),
        architectures=list(config.get("Architectures") or []),
        memory_mb=config.get("MemorySize"),
        timeout_s=config.get("Timeout"),
        ephemeral_storage_mb=(config.get("EphemeralStorage") or {}).get("Size"),
        code_size_bytes=config.get("CodeSize"),
        code_sha256=config.get("CodeSha256"),
        code_repository_type=code.get("RepositoryType"),
        image_uri=code.get("ImageUri"),
        role=config.get("Role"),
        environment_variable_names=sorted(variables),
        kms_key_arn=config.get("KMSKeyArn"),
        layers=[
            LayerInfo(arn=str(layer["Arn"]), compatible_runtimes=None, compatible_architectures=None)
            for layer in config.get("Layers") or []
            if layer.get("Arn")
        ],
        vpc_subnet_ids=list(vpc.get("SubnetIds") or []),
        vpc_security_group_ids=list(vpc.get("SecurityGroupIds") or []),
        tracing_mode=(config.get("TracingConfig") or {}).get("Mode"),
        dead_letter_target_arn=(config.get("DeadLetterConfig") or {}).get("TargetArn"),
        log_group=logging.get("LogGroup"),
        log_format=logging.get("LogFormat"),
        snap_start=(config.get("SnapStart") or {}).get("ApplyOn"),
        state=config.get("State"),
        state_reason=config.get("StateReason"),
        last_update_status=config.get("LastUpdateStatus"),
        last_update_status_reason=config.get("LastUpdateStatusReason"),
        last_modified=config.get("LastModified"),
        version=config.get("Version"),
        revision_id=config.get("RevisionId"),
        reserved_concurrency=concurrency.get("ReservedConcurrentExecutions"),
        tags={str(k): str(v) for k, v in (response.get("Tags") or {}).items()},
    )


def get_function_detail(
    client: LambdaClient, name: str, catalog: RuntimeCatalog, today: date
) -> FunctionDetail:
    """One ``GetFunction`` call: configuration, code info, tags (if lambda:ListTags is allowed) and
    reserved concurrency come back together; then the aliases (``ListAliases``, and the runtime of each
    aliased version) and each layer's declared compatibility (``GetLayerVersion``)."""
    with aws_call("GetFunction", name):
        response = client.get_function(FunctionName=name)
    detail = sanitise(response, catalog, today)
    config: Mapping[str, Any] = response.get("Configuration", {})
    detail.layers = read_layers(client, config)
    if config.get("Version") in (None, "$LATEST"):  # a qualified name reads one version: no alias listing
        detail.aliases, detail.deployment_note = describe_aliases(client, detail.name, config.get("Runtime"))
    return detail
