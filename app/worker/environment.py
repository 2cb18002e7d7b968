"""What the worker builds once per execution environment, on its first invocation (never at import): the
settings, the task store and, per task, the domain facade with the same write policy as the server — the
worker's role holds the write actions, so it checks the policy itself (and never writes the server's own
function nor its own)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.config import Config

from app.config import Settings
from app.lambda_ops import CatalogProvider, LambdaClients, LambdaOps, WritePolicy
from app.lambda_ops.clients import boto3_factory
from app.tasks.model import WorkOrder
from app.tasks.store import TaskStore


@dataclass
class Environment:
    settings: Settings
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


@cache
def environment() -> Environment:
    settings = Settings()
    clients = LambdaClients()
    store = TaskStore(settings.tasks_table, lambda: _dynamodb(clients))
    return Environment(settings=settings, store=store, clients=clients)


def dynamodb_client() -> Any:
    """A DynamoDB client with the control-plane timeouts (for tests that build their own environment)."""
    return boto3_factory("dynamodb", Config(connect_timeout=3, read_timeout=8), None)
