"""JSON-RPC calls as complete API Gateway v2 events, with or without a bearer token."""

from __future__ import annotations

from typing import Any

from tests.helpers import event, request

READ_CALL = ("get-runtime-info", {"runtime": "python3.13"})
WRITE_CALL = ("invoke-function", {"name": "orders-api", "payload": {}})


def tool_call(
    tool: tuple[str, dict[str, Any]] = READ_CALL, token: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    name, arguments = tool
    return event(
        body=request("tools/call", {"name": name, "arguments": arguments}), headers=headers, **kwargs
    )


def challenge_params(value: str | None) -> dict[str, str]:
    """The auth-params of a ``Bearer`` challenge (our values never contain quotes or commas... except
    scope lists, which are space-separated)."""
    assert value is not None
    assert value.startswith("Bearer ")
    params = {}
    for part in value[len("Bearer ") :].split('", '):
        key, _, raw = part.partition("=")
        params[key.strip()] = raw.strip().strip('"')
    return params
