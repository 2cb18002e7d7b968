"""The sandbox's task table, as template.yaml declares ``TasksTable``: key ``task_id``, TTL on
``expires_at`` (moto stores the setting; nothing ever expires there — the service expires tasks on read)."""

from __future__ import annotations

from typing import Any

TABLE = "lambda-ops-mcp-tasks"
WORKER = "arn:aws:lambda:us-east-1:123456789012:function:lambda-ops-mcp-worker:live"


def create_tasks_table(dynamodb: Any, table: str = TABLE) -> None:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "task_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "task_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True},
    )
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
