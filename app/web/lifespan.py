"""Run an ASGI app's lifespan once per Lambda execution environment; keep each invocation's work inside it.

Mangum keeps one event loop for the life of the execution environment and runs each invocation with
``loop.run_until_complete``. Two things go wrong with the SDK's Streamable-HTTP app there:

- with Mangum's lifespan on, startup runs per invocation and the session manager's ``run()`` may be entered
  only once: the second warm invocation fails (python-sdk #3121);
- work a request leaves behind (a notification is processed after its 202 is sent) is frozen with the loop
  when the invocation returns and resumes during the *next* invocation, under that invocation's request id.

``OncePerEnvironment`` starts the wrapped app's lifespan on the first request, in a task that lives as long
as the loop, and after every request waits for the tasks that request started before it returns — for as
long as the invocation has time left (less a margin), then cancels what is still running: work that cannot
finish inside its invocation must not finish inside the next one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.observability import SERVICE

log = logging.getLogger(SERVICE)  # the service's JSON logger (Powertools)
MARGIN_S = 1.0  # of the invocation's remaining time, kept for cancelling, logging and the response


class LifespanStartupFailed(RuntimeError):
    """The wrapped app reported ``lifespan.startup.failed``."""


class OncePerEnvironment:
    def __init__(self, app: ASGIApp, drain_timeout: float = 25.0) -> None:
        self.app = app
        self.drain_timeout = drain_timeout
        self._host: asyncio.Task[None] | None = None
        self._state: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the caller's lifespan is not ours to run
            return
        if self._host is None or self._host.done():
            await self._start()
        scope["state"] = dict(self._state)
        before = asyncio.all_tasks()
        try:
            await self.app(scope, receive, send)
        finally:
            await self._drain(before, self._time_left(scope))

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        inbox.put_nowait({"type": "lifespan.startup"})

        async def send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete" and not ready.done():
                ready.set_result(None)
            elif message["type"] == "lifespan.startup.failed" and not ready.done():
                ready.set_exception(LifespanStartupFailed(message.get("message", "")))

        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self._state}
        self._host = loop.create_task(_run(self.app, scope, inbox.get, send), name="asgi-lifespan")
        self._host.add_done_callback(lambda task: _fail(ready, task))
        await ready

    def _time_left(self, scope: Scope) -> float:
        """The drain's time: ``drain_timeout``, or less when the Lambda context says the invocation ends
        sooner (Mangum puts the context in the scope)."""
        context = scope.get("aws.context")
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return self.drain_timeout
        return max(0.0, min(self.drain_timeout, float(remaining()) / 1000 - MARGIN_S))

    async def _drain(self, before: set[asyncio.Task[Any]], seconds: float) -> None:
        leftover = asyncio.all_tasks() - before - {asyncio.current_task(), self._host}
        if not leftover:
            return
        _, pending = await asyncio.wait(leftover, timeout=seconds) if seconds > 0 else (set(), leftover)
        if pending:
            log.warning("cancelled %d task(s) still running when the invocation had to end", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=MARGIN_S / 2)


async def _run(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    await app(scope, receive, send)


def _fail(ready: asyncio.Future[None], task: asyncio.Task[None]) -> None:
    if ready.done():
        return
    error = None if task.cancelled() else task.exception()
    ready.set_exception(LifespanStartupFailed(f"lifespan ended before startup completed: {error!r}"))
