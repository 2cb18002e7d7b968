"""What the tool modules share: argument types, annotations, and the boundary where results become MCP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from app.lambda_ops import OpsError
from app.surface import render

M = TypeVar("M", bound=BaseModel)

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

FunctionName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=170,
        description="The function's name (my-function), partial ARN (123456789012:function:my-function) "
        "or ARN. Names come from audit-runtimes or list-functions.",
    ),
]
Family = Annotated[
    str | None, Field(description="Only this family: nodejs, python, java, dotnet, ruby, go or provided.")
]
# The fleet (issue #14): where a tool looks. Validated again by the fleet (a configured target).
Account = Annotated[
    str | None,
    Field(
        max_length=64,
        description="The AWS account: its 12-digit id or its name (list-targets lists them). Omit for the "
        "server's own account.",
    ),
]
Region = Annotated[
    str | None,
    Field(
        max_length=32,
        pattern=r"^[a-z]{2}(-[a-z]+)+-\d$",
        description="The AWS region (us-east-1). Omit for the server's own region.",
    ),
]
# Any, not pydantic's JsonValue: the request is JSON already, and JsonValue's recursive $defs entry carries no
# validation keyword, which Inspector's schema-portability check flags.
Payload = Annotated[
    dict[str, Any] | list[Any] | None,
    Field(description="The event to send, as a JSON object or array (at most 256 KiB). Omit for {}."),
]


def result(outcome: M | OpsError, text: Callable[[M], str]) -> CallToolResult:
    """The boundary where errors-as-values become MCP tool errors."""
    if isinstance(outcome, OpsError):
        return CallToolResult(content=[TextContent(type="text", text=render.error(outcome))], is_error=True)
    return CallToolResult(
        content=[TextContent(type="text", text=text(outcome))],
        structured_content=outcome.model_dump(mode="json"),
    )


def compact_json(payload: dict[str, Any] | list[Any] | None) -> str | None:
    return None if payload is None else json.dumps(payload, separators=(",", ":"))
