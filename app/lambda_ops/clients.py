"""boto3 Lambda clients, created on first use and reused for the life of the execution environment.

Two clients, because retries differ: control-plane reads and writes retry (standard or adaptive mode);
``Invoke`` never retries on its own — a retried invoke after a read timeout would run the function twice.
Timeouts fit a tool call under API Gateway's 30 s limit. boto3 reads ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_LAMBDA`` and the standard credential chain from the environment by itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.config import Config

from app.lambda_ops.errors import aws_call

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

RetryMode = Literal["standard", "adaptive"]


@dataclass(frozen=True)
class ClientSettings:
    retry_mode: RetryMode = "standard"
    max_attempts: int = 3  # total attempts of a control-plane call, the first included
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 8.0
    invoke_read_timeout_s: float = 20.0  # a synchronous invoke waits for the function itself
    region: str | None = None  # None: AWS_REGION / AWS_DEFAULT_REGION / the profile's region

    def control_config(self) -> Config:
        return Config(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            user_agent_extra="lambda-ops-mcp",
        )

    def invoke_config(self, read_timeout_s: float | None = None) -> Config:
        return Config(
            retries={"mode": self.retry_mode, "total_max_attempts": 1},
            connect_timeout=self.connect_timeout_s,
            read_timeout=read_timeout_s or self.invoke_read_timeout_s,
            user_agent_extra="lambda-ops-mcp",
        )


def _boto3_factory(config: Config, region: str | None) -> LambdaClient:
    import boto3

    session = boto3.session.Session()
    return session.client("lambda", config=config, region_name=region)


ClientFactory = Callable[[Config, "str | None"], Any]


class LambdaClients:
    """Lazily built, thread-safe pair of Lambda clients."""

    def __init__(self, settings: ClientSettings | None = None, factory: ClientFactory | None = None) -> None:
        self.settings = settings or ClientSettings()
        self._factory: ClientFactory = factory or _boto3_factory
        self._lock = threading.Lock()
        self._control: LambdaClient | None = None
        self._invoke: LambdaClient | None = None

    @classmethod
    def of(cls, control: Any, invoke: Any = None) -> LambdaClients:
        """Clients made elsewhere (tests, benchmarks): ``invoke`` defaults to ``control``; they keep their own
        timeouts (``invoke_within`` returns ``invoke`` itself)."""
        invoke = invoke if invoke is not None else control
        clients = cls(factory=lambda config, region: invoke)
        clients._control, clients._invoke = control, invoke
        return clients

    @property
    def control(self) -> LambdaClient:
        """For List*/Get*/Update* calls: retried in the configured mode."""
        if self._control is None:
            with self._lock:
                if self._control is None:
                    with aws_call("CreateClient"):  # no credentials/region → an OpsError, not a crash
                        self._control = self._factory(self.settings.control_config(), self.settings.region)
        return self._control

    def invoke_within(self, seconds: float) -> LambdaClient:
        """A new invoke client that gives up reading after ``seconds`` (botocore has no per-call timeout):
        for the one invoke that must end inside a time budget, the upgrade's smoke test."""
        with aws_call("CreateClient"):
            client: LambdaClient = self._factory(
                self.settings.invoke_config(read_timeout_s=seconds), self.settings.region
            )
        return client

    @property
    def invoke(self) -> LambdaClient:
        """For Invoke only: never retried automatically."""
        if self._invoke is None:
            with self._lock:
                if self._invoke is None:
                    with aws_call("CreateClient"):
                        self._invoke = self._factory(self.settings.invoke_config(), self.settings.region)
        return self._invoke
