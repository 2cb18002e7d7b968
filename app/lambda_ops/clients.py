"""boto3 clients of one target (account and region), created on first use and reused for the life of the
execution environment.

Two Lambda clients, because retries differ: control-plane reads and writes retry (standard or adaptive mode);
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


def boto3_factory(service: str, config: Config, region: str | None) -> Any:
    """A client of the default credential chain (a session of its own: sessions are not thread-safe)."""
    import boto3

    session = boto3.session.Session()
    return session.client(service, config=config, region_name=region)  # type: ignore[call-overload]


# (service, config, region) -> a boto3 client. Another account's clients come from a factory whose session
# holds that account's credentials.
ClientFactory = Callable[[str, Config, "str | None"], Any]


class LambdaClients:
    """One target's boto3 clients (an account and region), built on first use and reused: the pair of Lambda
    clients and, by name, any other service's (``client("cloudwatch")``), all thread-safe to obtain."""

    def __init__(self, settings: ClientSettings | None = None, factory: ClientFactory | None = None) -> None:
        self.settings = settings or ClientSettings()
        self._factory: ClientFactory = factory or boto3_factory
        self._lock = threading.Lock()
        self._control: LambdaClient | None = None
        self._invoke: LambdaClient | None = None
        self._others: dict[str, Any] = {}
        self._made_elsewhere = False

    @classmethod
    def of(cls, control: Any, invoke: Any = None, **others: Any) -> LambdaClients:
        """Clients made elsewhere (tests, benchmarks): ``invoke`` defaults to ``control``; ``others`` by
        service name (``cloudwatch=...``). They keep their own timeouts (``invoke_within`` returns
        ``invoke`` itself)."""
        invoke = invoke if invoke is not None else control
        clients = cls(factory=lambda service, config, region: invoke)
        clients._control, clients._invoke = control, invoke
        clients._others.update(others)
        clients._made_elsewhere = True
        return clients

    @property
    def control(self) -> LambdaClient:
        """For List*/Get*/Update* calls: retried in the configured mode."""
        if self._control is None:
            with self._lock:
                if self._control is None:
                    with aws_call("CreateClient"):  # no credentials/region → an OpsError, not a crash
                        self._control = self._make("lambda", self.settings.control_config())
        return self._control

    def invoke_within(self, seconds: float) -> LambdaClient:
        """A new invoke client that gives up reading after ``seconds`` (botocore has no per-call timeout):
        for the one invoke that must end inside a time budget, the upgrade's smoke test."""
        with aws_call("CreateClient"):
            client: LambdaClient = self._make("lambda", self.settings.invoke_config(read_timeout_s=seconds))
        return client

    @property
    def invoke(self) -> LambdaClient:
        """For Invoke only: never retried automatically."""
        if self._invoke is None:
            with self._lock:
                if self._invoke is None:
                    with aws_call("CreateClient"):
                        self._invoke = self._make("lambda", self.settings.invoke_config())
        return self._invoke

    def client(self, service: str) -> Any:
        """Another service's client for this target (``cloudwatch``, ``logs``, ...), retried like the
        control-plane client."""
        found = self._others.get(service)
        if found is None:
            with self._lock:
                found = self._others.get(service)
                if found is None:
                    with aws_call("CreateClient"):
                        found = self._others[service] = self._make(service, self.settings.control_config())
        return found

    def close(self) -> None:
        """Close the connections every client made here holds (botocore's ``close``): the clients stay usable
        and open new connections when next called. For connections that must not outlive a request (a
        fleet's fan-out). Clients made elsewhere (``of``) are their owner's to close."""
        if self._made_elsewhere:
            return
        with self._lock:
            made = [self._control, self._invoke, *self._others.values()]
        for client in made:
            if client is not None:
                client.close()

    def _make(self, service: str, config: Config) -> Any:
        return self._factory(service, config, self.settings.region)

    def client_within(self, service: str, seconds: float) -> Any:
        """A new client of ``service`` that gives up after about ``seconds`` (one attempt, no retry): for a
        read that must not push a call past the gateway's limit (the health read after an upgrade).
        Clients made elsewhere (``of``) are returned as they are."""
        if self._made_elsewhere:
            return self.client(service)
        config = Config(
            retries={"mode": self.settings.retry_mode, "total_max_attempts": 1},
            connect_timeout=min(self.settings.connect_timeout_s, max(seconds / 2, 0.5)),
            read_timeout=max(seconds, 0.5),
            user_agent_extra="lambda-ops-mcp",
        )
        with aws_call("CreateClient"):
            return self._make(service, config)
