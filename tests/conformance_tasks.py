"""The conformance suite's tasks fixtures (``tasks-*`` scenarios, SEP-2663), as
@modelcontextprotocol/conformance 0.2.0-alpha.12's scenario descriptions specify them: ``greet``
(synchronous only), ``slow_compute``, ``failing_job``, ``protocol_error_job``, ``confirm_delete``,
``multi_input`` and ``test_tool_with_task``.

They run on the production path end to end: the tools (server side) decide to become tasks through the same
``task_offer`` as the deployed tools, the records live in the sandbox's DynamoDB table, and the work runs in
the durable worker — ``worker`` below is ``app.worker.handler.make_handler`` with these fixture jobs added —
executed by the durable SDK's local runner (app/local/engine.py). Only the jobs' contents are fixtures.

    python -m app.local --handler tests.conformance_profile:handler --worker tests.conformance_tasks:worker

Test-only: imported by tests/conformance_profile.py and the local engine, never part of the artifact.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_durable_execution_sdk_python.config import Duration
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import (
    CallToolResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
)

from app.surface.task_offer import offer
from app.tasks.model import TaskStatus
from app.worker.environment import Environment
from app.worker.handler import make_handler
from app.worker.jobs import JOBS
from app.worker.task import Outcome, TaskRun, completed, failed

TASK_ONLY = frozenset({"failing_job", "test_tool_with_task"})
FIXTURE_POLL_MS = 200  # the suite polls every 200 ms for at most 10 s


def _text(text: str, *, is_error: bool = False) -> dict[str, Any]:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=is_error).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )


def _elicitation(message: str, properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties}
    request = ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)


def _start(tool: str, arguments: dict[str, Any], *, stop_on_cancel: bool = True) -> CallToolResult:
    task = offer()
    assert task is not None
    error = task.start(tool, arguments, message=f"{tool}: started", stop_on_cancel=stop_on_cancel,
                       poll_interval_ms=FIXTURE_POLL_MS)  # fmt: skip
    return CallToolResult(content=[TextContent(type="text", text=error.message)], is_error=True)


def register_task_fixtures(server: MCPServer) -> None:
    @server.tool(description="Greets synchronously: never a task (conformance fixture).")
    async def greet(name: str) -> str:
        return f"Hello, {name}!"

    @server.tool(description="Sleeps `seconds`, then answers; a task for clients that take tasks, "
                 "answered at once for seconds=0 (conformance fixture).")  # fmt: skip
    async def slow_compute(seconds: float = 1, label: str = "") -> CallToolResult:
        if seconds > 0 and offer() is not None:
            return _start("slow_compute", {"seconds": seconds, "label": label})
        await asyncio.sleep(min(seconds, 5))
        return CallToolResult(content=[TextContent(type="text", text=f"computed {label} after {seconds} s")])

    @server.tool(description="Task only: fails as a tool after about a second (conformance fixture).")
    async def failing_job() -> CallToolResult:
        return _start("failing_job", {})

    @server.tool(description="A task that ends in a protocol error (conformance fixture).")
    async def protocol_error_job() -> CallToolResult:
        return _start("protocol_error_job", {})

    @server.tool(description="A task that asks for confirmation before deleting (conformance fixture).")
    async def confirm_delete(filename: str) -> CallToolResult:
        return _start("confirm_delete", {"filename": filename})

    @server.tool(description="A task that asks two questions at once (conformance fixture).")
    async def multi_input() -> CallToolResult:
        return _start("multi_input", {})

    @server.tool(description="Task only: asks the user's name on the call, then becomes a task "
                 "(MRTR before the task; conformance fixture).")  # fmt: skip
    async def test_tool_with_task(ctx: Context) -> Any:
        answer = (ctx.input_responses or {}).get("user_name")
        if isinstance(answer, ElicitResult) and answer.action == "accept" and answer.content:
            return _start("test_tool_with_task", {"user_name": str(answer.content.get("name"))})
        schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        question = ElicitRequest(
            params=ElicitRequestFormParams(message="What is your name?", requested_schema=schema)
        )
        return InputRequiredResult(input_requests={"user_name": question})


# --- the jobs, in the worker --------------------------------------------------------------------------------


def slow_compute_job(task: TaskRun, env: Environment) -> Outcome:
    seconds = max(1, round(float(task.order.arguments.get("seconds", 1))))
    task.context.wait(Duration.from_seconds(seconds), name="compute")
    label = task.order.arguments.get("label", "")
    return completed("CallToolResult", _text(f"computed {label} after {seconds} s"), "computed")


def failing_job_job(task: TaskRun, env: Environment) -> Outcome:
    task.context.wait(Duration.from_seconds(1), name="work")
    return completed("CallToolResult", _text("the job failed: nothing to do", is_error=True), "tool error")


def protocol_error_job_job(task: TaskRun, env: Environment) -> Outcome:
    return failed("Internal error: the job could not run (conformance fixture)")


def confirm_delete_job(task: TaskRun, env: Environment) -> Outcome:
    filename = task.order.arguments.get("filename", "")
    question = _elicitation(f"Delete {filename}?", {"confirm": {"type": "boolean"}})
    answers = task.ask({"confirm": question}, f"waiting for confirmation to delete {filename}")
    if answers.get("cancelled"):
        return Outcome(TaskStatus.CANCELLED, "Cancelled: nothing was deleted.")
    accepted = (answers.get("confirm") or {}).get("action") == "accept"
    text = f"Deleted {filename}" if accepted else f"Not deleted: {filename}"
    return completed("CallToolResult", _text(text), text)


def multi_input_job(task: TaskRun, env: Environment) -> Outcome:
    questions = {
        "name": _elicitation("Your name?", {"name": {"type": "string"}}),
        "confirm": _elicitation("Go ahead?", {"confirm": {"type": "boolean"}}),
    }
    answers = task.ask(questions, "waiting for two answers")
    if answers.get("cancelled"):
        return Outcome(TaskStatus.CANCELLED, "Cancelled.")
    return completed("CallToolResult", _text(f"received {sorted(answers)}"), "received both answers")


def test_tool_with_task_job(task: TaskRun, env: Environment) -> Outcome:
    name = task.order.arguments.get("user_name", "")
    return completed("CallToolResult", _text(f"Hello, {name}! (from the task)"), "greeted")


FIXTURE_JOBS = {
    "slow_compute": slow_compute_job,
    "failing_job": failing_job_job,
    "protocol_error_job": protocol_error_job_job,
    "confirm_delete": confirm_delete_job,
    "multi_input": multi_input_job,
    "test_tool_with_task": test_tool_with_task_job,
}

worker = make_handler({**JOBS, **FIXTURE_JOBS})
