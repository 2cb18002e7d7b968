"""What the worker builds once per execution environment, on its first invocation (never at import): the
settings, the task store, the fleet and, per task, the target's domain facade with the same write policy as
the server — the worker's role holds the write actions, so it checks the policy itself (and never writes the
server's own function nor its own, in any account). A task on a member account reaches it through the
member role, with the task's caller as ``SourceIdentity``, as the server would."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from app.fleet.aws import AwsFleet
from app.fleet.config import FleetConfig
from app.fleet.fleet import Fleet
from app.fleet.targets import Caller
from app.lambda_ops import CatalogProvider, LambdaClients, LambdaOps, WritePolicy
from app.tasks.model import WorkOrder
from app.tasks.store import TaskStore
from app.worker.settings import WorkerSettings

SERVICE = "lambda-ops-mcp"  # the server's service name: one log schema, one metrics namespace


@dataclass
class Environment:
    settings: WorkerSettings
    store: TaskStore
    clients: LambdaClients
    fleet: Fleet = field(default=None)  # type: ignore[assignment]  # built from the settings when omitted

    def __post_init__(self) -> None:
        if self.fleet is None:
            self.fleet = build_fleet(self.settings, self.clients)

    def caller(self, order: WorkOrder) -> Caller:
        """Who asked for the task (their ``sub``, else the client id), as member sessions name them."""
        who = order.caller
        return Caller(identity=who.sub or who.client_id or "anonymous", tool=order.tool)

    def ops(self, order: WorkOrder, *, write: bool = False) -> LambdaOps:
        """The facade of the order's target (home when it names none) with this order's write policy.
        Raises ``OpsFailure`` when the target cannot be reached (jobs answer it as the task's error)."""
        fleet = self.fleet
        target = fleet.resolve(order.account, order.region)
        reached = fleet.ops(target, self.caller(order), write=write)
        return LambdaOps(reached.clients, policy=self.policy(order), catalog=reached.catalogs)

    def policy(self, order: WorkOrder) -> WritePolicy:
        settings = self.settings
        return WritePolicy.from_values(
            settings.allow_writes,
            settings.write_function_prefixes,
            settings.write_tag,
            own_function=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),  # the worker itself
            also_own=[order.server_function or ""],
        )


def build_fleet(settings: WorkerSettings, clients: LambdaClients) -> AwsFleet:
    """The server's fleet, seen from the worker: the same targets and roles; alone at home, the worker's own
    clients (as before the fleet), else clients the fleet builds (rate limited like every target's)."""
    config = FleetConfig.of(settings)
    catalog = CatalogProvider(refresh=settings.runtime_catalog_refresh)
    return AwsFleet(
        config,
        policy=WritePolicy.from_values(
            settings.allow_writes, settings.write_function_prefixes, settings.write_tag
        ),
        catalog=catalog,
        home_ops=LambdaOps(clients, catalog=catalog) if config.single else None,
    )


def _dynamodb(clients: LambdaClients) -> Any:
    return clients.client("dynamodb")


def configure_logging() -> None:
    """The worker's lines as the server's: Powertools' JSON logger of the service; audit lines
    (``lambda-ops-mcp.audit``) and the worker's own (``lambda-ops-mcp.worker``) are its children."""
    from aws_lambda_powertools import Logger

    Logger(service=SERVICE)
    logging.getLogger(SERVICE).propagate = False  # Lambda's root handler would write each line twice


@cache
def environment() -> Environment:
    configure_logging()
    settings = WorkerSettings.from_environment()
    clients = LambdaClients()
    store = TaskStore(settings.tasks_table, lambda: _dynamodb(clients))
    return Environment(settings=settings, store=store, clients=clients)
