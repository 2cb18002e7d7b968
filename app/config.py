"""One typed settings object, read from the environment when asked for — never at import time."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.fleet.config import ROLE_NAME, check_accounts, check_regions

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
    campaign_minute_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a minute of a campaign's traffic-shifting strategy lasts in the worker "
        "(60; the sandbox shortens it so a canary bakes in seconds).",
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

    # Tasks (issue #13): long work as MCP tasks, records in DynamoDB, run by the durable worker (app/worker).
    # Off (tools answer synchronously, the extension is not advertised) unless both the table and the worker
    # are set; the template sets both.
    tasks_table: str = Field(default="", description="The DynamoDB table holding task records.")
    worker_function: str = Field(
        default="",
        description="The task worker's qualified ARN (its alias): a Lambda durable function.",
        pattern=r"^$|^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+:[A-Za-z0-9_$-]+$",
    )
    worker_endpoint_url: str = Field(
        default="",
        description="Local runs only: where the durable-execution API is served (the durable SDK's local "
        "runner, app/local/engine.py). Empty on AWS: the Lambda API.",
        pattern=r"^$|^http://127\.0\.0\.1:\d+$",
    )
    task_ttl_s: int = Field(
        default=24 * 3600, ge=300, le=7 * 24 * 3600, description="How long a task stays readable (ttlMs)."
    )
    task_stale_after_s: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="An active task whose record has not moved for this long is checked against its "
        "execution (a crashed or timed-out worker leaves it failed, not working).",
    )

    # The fleet (issue #14): the accounts and regions this deployment answers for (app/fleet). Unset: the
    # home account and region only, with the function's own role (no STS call).
    accounts: CommaList = Field(
        default_factory=list,
        description="Member accounts the tools may reach: 12-digit account ids, 'organization' (every ACTIVE "
        "account AWS Organizations lists) or 'organization:ou-…' / 'organization:r-…' (one OU's subtree). "
        "Empty: the home account only.",
    )
    regions: CommaList = Field(
        default_factory=list,
        description="Regions of every target: a comma list, or 'enabled' (each account's enabled regions). "
        "Empty: the function's own region.",
    )
    member_role: str = Field(
        default="lambda-ops-mcp-reader",
        pattern=ROLE_NAME,
        description="The read role every member account has (infra/member-roles.yaml).",
    )
    member_write_role: str = Field(
        default="lambda-ops-mcp-writer",
        pattern=ROLE_NAME,
        description="The write role of member accounts that allow writes (infra/member-roles.yaml).",
    )
    fleet_rate_per_s: float = Field(
        default=10.0,
        gt=0,
        le=15,
        description="Lambda control-plane requests per second per account and region (AWS allows about 15, "
        "shared with the account's own deployments); every attempt counts, retries included.",
    )
    fleet_workers: int = Field(
        default=16, ge=1, le=64, description="Targets read in parallel in one process."
    )
    config_aggregator: str = Field(
        default="",
        pattern=r"^$|^[A-Za-z0-9_-]{1,256}$",
        description="An AWS Config aggregator of the organization: the fleet audit reads $LATEST from it.",
    )

    # Sign-in (issue #7): the function is an OAuth 2.1 protected resource. See app/auth/ and docs/design.md.
    auth_mode: Literal["oauth", "none"] = Field(
        default="oauth",
        description="oauth: every MCP request needs a bearer token (fails closed without an issuer); "
        "none: no sign-in (local development only).",
    )
    oauth_issuer: str = Field(default="", description="The authorization server's issuer, compared exactly.")
    oauth_jwks_url: str = Field(default="", description="JWKS URL; else from the issuer's metadata.")
    oauth_audience: str = Field(default="", description="Expected aud; else the resource URL.")
    resource_url: str = Field(
        default="",
        description="The canonical MCP URL (ends in /mcp); else derived from each request.",
        pattern=r"^$|^https?://[^/?#\s]+(/[^?#\s]*)?/mcp$",
    )
    # RFC 6749 scope-token characters: no space, quote or backslash (they go into WWW-Authenticate).
    oauth_read_scope: str = Field(default="lambda-ops/read", pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")
    oauth_write_scope: str = Field(default="lambda-ops/write", pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")
    oauth_client_ids: CommaList = Field(
        default_factory=list,
        description="Client-id mode (Cognito without resource binding): tokens without aud are accepted "
        "from these clients only, and token_use must be access.",
    )
    oauth_algorithms: CommaList = Field(default_factory=lambda: ["RS256"], description="RS256 and/or ES256.")
    oauth_leeway_seconds: int = Field(default=30, ge=0, le=300)
    oauth_jwks_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    oauth_http_timeout_seconds: float = Field(default=3.0, gt=0, le=10)
    # The authorization-server facade for issuers that cannot serve MCP clients themselves (Cognito: no
    # PKCE in its metadata, no dynamic registration). On when a public client id is set.
    oauth_public_client_id: str = Field(default="", pattern=r"^[A-Za-z0-9._~-]*$")
    oauth_redirect_uris: CommaList = Field(default_factory=list)
    oauth_authorization_endpoint: str = Field(default="", pattern=r"^$|^https?://\S+$")
    oauth_token_endpoint: str = Field(default="", pattern=r"^$|^https?://\S+$")

    @field_validator(
        "allowed_hosts",
        "allowed_origins",
        "write_function_prefixes",
        "oauth_client_ids",
        "oauth_algorithms",
        "oauth_redirect_uris",
        "accounts",
        "regions",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("oauth_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        if not value or not set(value) <= {"RS256", "ES256"}:
            raise ValueError("oauth_algorithms: RS256 and/or ES256 only")
        return value

    @field_validator("oauth_issuer", "oauth_audience", "oauth_jwks_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("base_path")
    @classmethod
    def _normalise_base_path(cls, value: str) -> str:
        value = value.strip().strip("/")
        return f"/{value}" if value else ""

    @field_validator("accounts")
    @classmethod
    def _fleet_accounts(cls, value: list[str]) -> list[str]:
        return check_accounts(value)

    @field_validator("regions")
    @classmethod
    def _fleet_regions(cls, value: list[str]) -> list[str]:
        return check_regions(value)
