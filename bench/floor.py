"""The floor: a minimal hand-written JSON-RPC handler for the same events. Never deployed; only measured."""

from __future__ import annotations

import base64
import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    message = json.loads(body)
    if message["method"] == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "floor", "version": "0"},
        }
    elif message["method"] == "tools/call":
        result = {"content": [{"type": "text", "text": "Pong!"}], "isError": False}
    else:
        result = {}
    reply = {"jsonrpc": "2.0", "id": message.get("id"), "result": result}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(reply)}
