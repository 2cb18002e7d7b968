"""One typed settings object, read from the environment when asked for — never at import time."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every knob of the server: environment variables LAMBDA_OPS_<FIELD NAME IN CAPITALS>."""

    model_config = SettingsConfigDict(env_prefix="LAMBDA_OPS_", extra="ignore", frozen=True)

    base_path: str = Field(
        default="",
        description="Base path of a custom-domain API mapping (e.g. /ops). Stripped before routing.",
    )
    allowed_hosts: CommaList = Field(
        default_factory=list,
        description="Host header values accepted besides the domain API Gateway received the request on. "
        "'host:*' allows any port; '*.example.com' any subdomain.",
    )
    allowed_origins: CommaList = Field(
        default_factory=list,
        description="Origins of browser clients allowed to call the server (CORS and the Origin check). "
        "'https://host:*' allows any port.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, le=6 * 1024 * 1024, description="Largest request body."
    )
    tracing: bool = Field(default=False, description="Trace with AWS X-Ray through Powertools Tracer.")
    allow_writes: bool = Field(
        default=False, description="Allow invoke-function and update-function-runtime to change the account."
    )
    write_function_prefixes: CommaList = Field(
        default_factory=list, description="Only functions whose names start with one of these may be written."
    )
    write_tag: str = Field(
        default="",
        description="Only functions carrying this tag (key=value) may be written.",
        # The key must have a visible character: WritePolicy strips it ("" would tag-match nothing).
        pattern=r"^$|^\s*[^=\s][^=]*=.*$",
    )
    runtime_catalog_refresh: bool = Field(
        default=False, description="Try to refresh the runtime catalog from the AWS documentation page."
    )
    # Confirmations (2026-07-28 requestState): the key ring and how long a question stays answerable.
    request_state_secret_arn: str = Field(
        default="",
        description="ARN of the Secrets Manager secret whose value keys the requestState seal of "
        "confirmations (the template creates it). Empty: a random key per process, for local runs only.",
    )
    request_state_ttl_s: int = Field(
        default=300, ge=30, le=900, description="Seconds a confirmation question stays answerable."
    )

    @field_validator("allowed_hosts", "allowed_origins", "write_function_prefixes", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("base_path")
    @classmethod
    def _normalise_base_path(cls, value: str) -> str:
        value = value.strip().strip("/")
        return f"/{value}" if value else ""
