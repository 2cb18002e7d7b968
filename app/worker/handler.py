"""The worker's entry point, ``app.worker.handler.handler``: a Lambda durable function.

Its input is a task's ``WorkOrder`` (the server starts one execution per task, named after the task id).
It runs the order's job and records the outcome in the task. A job that fails unexpectedly (a bug, an
error the domain did not turn into a value) leaves the task ``failed`` with a JSON-RPC internal error, not
``working``; the durable engine's own errors (a checkpoint it cannot write, a replay that diverged) pass
through, so the engine retries or fails the execution — and the server's staleness check then fails the
task (app/tasks/service.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.exceptions import UnrecoverableError

from app.tasks.model import WorkOrder
from app.worker.environment import SERVICE, Environment, environment
from app.worker.jobs import JOBS, Job
from app.worker.task import TaskRun, failed

log = logging.getLogger("lambda-ops-mcp.worker")


def work(
    event: Mapping[str, Any], context: DurableContext, env: Environment, jobs: Mapping[str, Job]
) -> dict[str, Any]:
    order = WorkOrder.model_validate(event)
    logging.getLogger(SERVICE).info(
        "task work", extra={"task_id": order.task_id, "tool": order.tool, "replaying": context.is_replaying()}
    )
    task = TaskRun(order, context, env.store)
    job = jobs.get(order.tool)
    if job is None:
        outcome = failed(f"This worker has no job for the tool {order.tool!r}.")
    else:
        try:
            outcome = job(task, env)
        except UnrecoverableError:
            raise
        except Exception as error:
            log.exception("task job failed", extra={"task_id": order.task_id, "tool": order.tool})
            outcome = failed(
                f"The task failed inside the worker ({type(error).__name__}); nothing more runs."
            )
    recorded = task.finish(outcome)
    return {"task_id": order.task_id, "status": outcome.status.value, "recorded": recorded}


def make_handler(
    jobs: Mapping[str, Job] = JOBS, env: Callable[[], Environment] = environment
) -> Callable[[Any, Any], Any]:
    """A durable handler running ``jobs`` (test profiles add the conformance suite's fixture jobs)."""

    @durable_execution
    def handle(event: Any, context: DurableContext) -> dict[str, Any]:
        return work(event, context, env(), jobs)

    return handle


handler = make_handler()
