"""The task records: one DynamoDB item per task, every transition a conditional write.

- Reads are strongly consistent (a ``tasks/get`` right after ``CreateTaskResult`` finds the task).
- A terminal status is final: every write that changes an active task is conditioned on the task still
  being active (``working`` or ``input_required``); read-modify-write updates (answers, cancellation) are
  also conditioned on the item's ``version``, so two concurrent requests cannot both win.
- Items carry ``expires_at`` (epoch seconds), DynamoDB's TTL attribute; DynamoDB deletes expired items
  eventually (typically within days), so the service also treats an expired item as gone on read.
- JSON from clients (answers) and from the work (results, errors) is stored as JSON text or zlib-compressed
  binary, never as DynamoDB numbers (which refuse floats) — boto3's ``TypeSerializer`` marshals the rest.
- A result must fit an item (400 KB): compressed, it may take ``MAX_RESULT_BYTES``; a larger one raises
  ``ResultTooLarge`` and the worker records an error result instead that says so.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from app.tasks.model import TaskRecord, TaskStatus

MAX_RESULT_BYTES = 300 * 1024  # compressed; the rest of the item (ids, messages, questions) stays far below
_JSON_FIELDS = ("error", "input_requests", "answers")
_ACTIVE_CONDITION = "#status IN (:working, :input_required)"
_ACTIVE_VALUES = {":working": TaskStatus.WORKING.value, ":input_required": TaskStatus.INPUT_REQUIRED.value}


class ResultTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"result of {size} bytes compressed exceeds {MAX_RESULT_BYTES}")
        self.size = size


def encode_result(result: Mapping[str, Any]) -> bytes:
    data = zlib.compress(json.dumps(result, separators=(",", ":")).encode(), 6)
    if len(data) > MAX_RESULT_BYTES:
        raise ResultTooLarge(len(data))
    return data


class TaskStore:
    def __init__(self, table: str, client: Callable[[], Any]) -> None:
        """``client`` returns the DynamoDB client (built on first use by the owner of the clients)."""
        # boto3 when the first task is stored or read (the store itself is built lazily): not on the server's
        # import path, where a request that touches no task would pay for it.
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self.table, self._client = table, client
        self._serializer, self._deserializer = TypeSerializer(), TypeDeserializer()

    # --- reading ------------------------------------------------------------------------------------------

    def load(self, task_id: str) -> TaskRecord | None:
        response = self._client().get_item(
            TableName=self.table, Key={"task_id": {"S": task_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return self._record(item) if item else None

    # --- writing ------------------------------------------------------------------------------------------

    def create(self, record: TaskRecord) -> None:
        """Put a new task; raises ``ClientError`` (ConditionalCheckFailed) if the id exists."""
        item = self._item(record)
        self._client().put_item(
            TableName=self.table,
            Item=item,
            ConditionExpression="attribute_not_exists(task_id)",
        )

    def attach_execution(self, task_id: str, execution_arn: str, now_ms: int) -> bool:
        return self._update(task_id, {"execution_arn": execution_arn, "updated_ms": now_ms}) is not None

    def progress(self, task_id: str, message: str, now_ms: int) -> TaskRecord | None:
        """The worker says where it is; the task as it now stands (its cancel flag), None if no longer
        active. Only a ``working`` task's message changes (a question's message stays while it waits)."""
        values = {":working_only": TaskStatus.WORKING.value}
        record = self._update(
            task_id,
            {"status_message": message, "updated_ms": now_ms},
            condition="#status = :working_only",
            values=values,
        )
        return record if record is not None else self.load(task_id)

    def ask(
        self, task_id: str, requests: dict[str, dict[str, Any]], callback_id: str, message: str, now_ms: int
    ) -> bool:
        """The worker needs input: the task waits for ``requests`` (keys never used before)."""
        record = self.load(task_id)
        if record is None or record.terminal:
            return False
        reused = set(requests) & set(record.answered_keys)
        if reused:
            raise ValueError(f"input request keys reused: {sorted(reused)}")
        return (
            self._update(
                task_id,
                {
                    "status": TaskStatus.INPUT_REQUIRED.value,
                    "status_message": message,
                    "input_requests": requests,
                    "answers": {},
                    "callback_id": callback_id,
                    "input_round": record.input_round + 1,
                    "updated_ms": now_ms,
                    "version": record.version + 1,
                },
                condition=f"{_ACTIVE_CONDITION} AND #version = :expected",
                values={":expected": record.version},
            )
            is not None
        )

    def answer(self, record: TaskRecord, responses: Mapping[str, Any], now_ms: int) -> TaskRecord | None:
        """Record answers to open requests (others are ignored); when none is left open, the task is
        ``working`` again. The task after the write, or None if it changed meanwhile (call again)."""
        accepted = {key: value for key, value in responses.items() if key in record.input_requests}
        if not accepted:
            return record
        answers = {**record.answers, **accepted}
        still_open = {k: v for k, v in record.input_requests.items() if k not in answers}
        changes: dict[str, Any] = {
            "answers": answers,
            "input_requests": still_open,
            "answered_keys": sorted({*record.answered_keys, *accepted}),
            "updated_ms": now_ms,
            "version": record.version + 1,
        }
        if not still_open:
            changes |= {"status": TaskStatus.WORKING.value, "status_message": "input received: resuming"}
        return self._update(
            record.task_id,
            changes,
            condition="#status = :asking AND #version = :expected",
            values={":asking": TaskStatus.INPUT_REQUIRED.value, ":expected": record.version},
        )

    def request_cancel(self, record: TaskRecord, message: str, now_ms: int) -> TaskRecord | None:
        changes: dict[str, Any] = {
            "cancel_requested": True,
            "updated_ms": now_ms,
            "version": record.version + 1,
        }
        if record.stop_on_cancel:  # nothing to leave consistent: cancelled now, the execution is stopped
            changes |= {"status": TaskStatus.CANCELLED.value, "status_message": message, "input_requests": {}}
        else:
            changes["status_message"] = message
        return self._update(
            record.task_id,
            changes,
            condition=f"{_ACTIVE_CONDITION} AND #version = :expected",
            values={":expected": record.version},
        )

    def finish(
        self,
        task_id: str,
        status: TaskStatus,
        message: str,
        now_ms: int,
        *,
        result: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
    ) -> bool:
        """Make an active task terminal (raises ``ResultTooLarge`` before writing anything); False if it
        was terminal already (a terminal status is final)."""
        changes: dict[str, Any] = {
            "status": status.value,
            "status_message": message,
            "updated_ms": now_ms,
            "input_requests": {},
        }
        if result is not None:
            changes["result_z"] = encode_result(result)
        if error is not None:
            changes["error"] = dict(error)
        return self._update(task_id, changes) is not None

    # --- marshalling ----------------------------------------------------------------------------------------

    def _update(
        self,
        task_id: str,
        changes: Mapping[str, Any],
        *,
        condition: str = _ACTIVE_CONDITION,
        values: Mapping[str, Any] | None = None,
    ) -> TaskRecord | None:
        """SET the changes if ``condition`` holds; the item after, or None when the condition failed."""
        names = {"#status": "status", "#version": "version"}
        expression_values: dict[str, Any] = {}
        for index, (field, value) in enumerate(changes.items()):
            names[f"#f{index}"] = field
            expression_values[f":v{index}"] = self._value(field, value)
        sets = [f"#f{index} = :v{index}" for index in range(len(changes))]
        bound = {**_ACTIVE_VALUES, **(values or {})}
        placeholders = set(re.findall(r"[:#]\w+", condition))
        for key, value in bound.items():
            if key in placeholders:
                expression_values[key] = self._serializer.serialize(value)
        used = {key: value for key, value in names.items() if key in placeholders or key.startswith("#f")}
        try:
            response = self._client().update_item(
                TableName=self.table,
                Key={"task_id": {"S": task_id}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=f"attribute_exists(task_id) AND {condition}",
                ExpressionAttributeNames=used,
                ExpressionAttributeValues=expression_values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return self._record(response["Attributes"])

    def _value(self, field: str, value: Any) -> Any:
        if field in _JSON_FIELDS:
            return {"S": json.dumps(value, separators=(",", ":"))}
        if field == "result_z":
            return {"B": value}
        return self._serializer.serialize(value)

    def _item(self, record: TaskRecord) -> dict[str, Any]:
        data = record.model_dump(mode="json", exclude_none=True)
        result = data.pop("result", None)
        item = {field: self._value(field, value) for field, value in data.items()}
        if result is not None:
            item["result_z"] = {"B": encode_result(result)}
        return item

    def _record(self, item: Mapping[str, Any]) -> TaskRecord:
        data: dict[str, Any] = {}
        for field, value in item.items():
            if field in _JSON_FIELDS:
                data[field] = json.loads(value["S"])
            elif field == "result_z":
                raw = value["B"]
                data["result"] = json.loads(zlib.decompress(bytes(raw)))
            else:
                data[field] = self._deserializer.deserialize(value)
        return TaskRecord.model_validate(data)
