"""What the worker builds once per execution environment, on its first invocation (never at import): the
settings, the task store and, per task, the domain facade with the same write policy as the server — the
worker's role holds the write actions, so it checks the policy itself (and never writes the server's own
function nor its own)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

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

    def ops(self, order: WorkOrder) -> LambdaOps:
        settings = self.settings
        policy = WritePolicy.from_values(
            settings.allow_writes,
            settings.write_function_prefixes,
            settings.write_tag,
            own_function=os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),  # the worker itself
            also_own=[order.server_function or ""],
        )
        return LambdaOps(
            self.clients, policy=policy, catalog=CatalogProvider(refresh=settings.runtime_catalog_refresh)
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
