"""The tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663) on the MCP SDK's extension hook.

- Advertised in ``capabilities.extensions`` (``server/discover``, initialize). A task is only ever returned
  to a 2026-07-28 request whose ``_meta`` client capabilities declare the extension; the server decides
  which calls become tasks (the tools do, ``task_offer``); the old ``params.task`` hint is ignored. Other
  clients get the synchronous tools, unchanged — except the task-only tools (``task_only``), which answer
  them -32021 with ``requiredCapabilities``.
- ``tasks/get`` answers the task with its ``result`` (the tool's ``CallToolResult``, rendered here exactly as
  the synchronous tool renders it), ``error`` or ``inputRequests`` by status; ``tasks/update`` records
  answers (``inputResponses``); ``tasks/cancel`` asks the work to stop. Each answers an empty ack, each
  -32021 for a client that did not declare the extension, and -32602 for a task that is unknown — or
  another principal's (no oracle), or expired. ``tasks/result`` and ``tasks/list`` are not methods (-32601).
- ``Mcp-Name`` on ``tasks/*`` must equal the ``taskId``: checked at the edge (app/web/edge.py), where the
  SDK's own check does not look.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolRequestParams, CallToolResult, RequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

from app.fleet.answer import FleetAudit
from app.lambda_ops import FunctionDetail, InvokeResult, OpsError, RuntimeAudit, UpgradeResult
from app.lambda_ops.upgrade.campaign_run import CampaignReport
from app.surface import render, render_campaign
from app.surface.shapes import result as tool_result
from app.surface.task_offer import TaskCreated, TaskOffer, offering, owner, task_fields
from app.tasks.model import EXTENSION, TaskRecord, TaskStatus
from app.tasks.service import EXPIRED, TaskService

NOT_FOUND = "Failed to retrieve task: Task not found"
EXPIRED_MESSAGE = "Failed to retrieve task: Task has expired"


class TaskIdParams(RequestParams):
    task_id: str = Field(min_length=1, max_length=256, description="The task's id.")


class UpdateTaskParams(TaskIdParams):
    input_responses: dict[str, Any] = Field(description="Answers to the task's inputRequests, by key.")


# How a stored result (``{"shape": ..., "value": ...}``) becomes the CallToolResult the tool would answer.
def _upgrade(value: Any) -> CallToolResult:
    return tool_result(UpgradeResult.model_validate(value), render.upgrade)


def _audit(value: Any) -> CallToolResult:
    return tool_result(RuntimeAudit.model_validate(value), render.audit)


def _fleet_audit(value: Any) -> CallToolResult:
    return tool_result(FleetAudit.model_validate(value), render.audit)


def _invoke(value: Any) -> CallToolResult:
    invoked = InvokeResult.model_validate(value)
    return tool_result(invoked, lambda r: render.invoke(r, r.log_tail is not None))


def _error(value: Any) -> CallToolResult:
    return tool_result(OpsError.model_validate(value), render.error)


def _detail(value: Any) -> CallToolResult:
    return tool_result(FunctionDetail.model_validate(value), render.detail)


def _campaign(value: Any) -> CallToolResult:
    return tool_result(CampaignReport.model_validate(value), render_campaign.report)


RENDERERS: dict[str, Callable[[Any], CallToolResult]] = {
    "CampaignReport": _campaign,
    "UpgradeResult": _upgrade,
    "RuntimeAudit": _audit,
    "FleetAudit": _fleet_audit,
    "InvokeResult": _invoke,
    "OpsError": _error,
    "FunctionDetail": _detail,
    "CallToolResult": CallToolResult.model_validate,  # already in the wire shape (test fixtures)
}


def wire_result(stored: Mapping[str, Any]) -> dict[str, Any]:
    render_shape = RENDERERS.get(str(stored.get("shape")))
    if render_shape is None:
        rendered = CallToolResult(content=[], is_error=True)
    else:
        rendered = render_shape(stored.get("value"))
    return rendered.model_dump(mode="json", by_alias=True, exclude_none=True)


def detailed(record: TaskRecord) -> dict[str, Any]:
    """A ``DetailedTask`` (tasks/get): the task, with what its status carries."""
    answer = task_fields(record)
    if record.status is TaskStatus.COMPLETED and record.result is not None:
        answer["result"] = wire_result(record.result)
    elif record.status is TaskStatus.FAILED:
        answer["error"] = record.error or {"code": -32603, "message": record.status_message or "failed"}
    elif record.status is TaskStatus.INPUT_REQUIRED:
        answer["inputRequests"] = record.input_requests
    return answer


def declares_tasks(ctx: ServerRequestContext[Any, Any]) -> bool:
    """The request is 2026-07-28 or later and declared the extension in its own capabilities."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return False
    capabilities = ctx.session.client_capabilities
    declared = capabilities.extensions if capabilities else None
    return bool(declared) and EXTENSION in (declared or {})


class TasksExtension(Extension):
    identifier = EXTENSION

    def __init__(self, service: Callable[[], TaskService], task_only: frozenset[str] = frozenset()) -> None:
        """``service`` returns the (lazily built) ``TaskService``; ``task_only``: tools that can only run
        as tasks."""
        self.service, self.task_only = service, task_only

    def methods(self) -> list[MethodBinding]:
        versions = frozenset(MODERN_PROTOCOL_VERSIONS)
        return [
            MethodBinding("tasks/get", TaskIdParams, self.get, protocol_versions=versions),
            MethodBinding("tasks/update", UpdateTaskParams, self.update, protocol_versions=versions),
            MethodBinding("tasks/cancel", TaskIdParams, self.cancel, protocol_versions=versions),
        ]

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if not declares_tasks(ctx):
            if params.name in self.task_only:
                require_client_extension(ctx, EXTENSION)  # raises -32021 with requiredCapabilities
            return await call_next(ctx)
        with offering(TaskOffer(self.service())):
            try:
                return await call_next(ctx)
            except TaskCreated as created:  # the tool made the call a task: answer CreateTaskResult
                return created.result

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> HandlerResult:
        require_client_extension(ctx, EXTENSION)
        found = self.service().get(params.task_id, owner())
        if found == EXPIRED:
            raise MCPError(code=INVALID_PARAMS, message=EXPIRED_MESSAGE)
        if not isinstance(found, TaskRecord):
            raise MCPError(code=INVALID_PARAMS, message=NOT_FOUND)
        return detailed(found)

    async def update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> HandlerResult:
        require_client_extension(ctx, EXTENSION)
        if not self.service().update(params.task_id, owner(), params.input_responses):
            raise MCPError(code=INVALID_PARAMS, message=NOT_FOUND)
        return {}

    async def cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> HandlerResult:
        require_client_extension(ctx, EXTENSION)
        if not self.service().cancel(params.task_id, owner()):
            raise MCPError(code=INVALID_PARAMS, message=NOT_FOUND)
        return {}
