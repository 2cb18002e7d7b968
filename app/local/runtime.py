"""One Lambda execution environment: the handler's module imported once, invocations one at a time, on one
thread (Mangum keeps one event loop per thread across invocations, as Lambda keeps one process)."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from app.local.context import TIMEOUT_SECONDS, LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]
DEFAULT_HANDLER = "app.handler:handler"


class InvocationTimeout(Exception):
    """The handler did not return within the function's timeout."""


class LambdaRuntime:
    """``handler`` is ``module:attribute`` (imported by ``init()`` or the first invocation) or a callable."""

    def __init__(
        self, handler: str | Handler = DEFAULT_HANDLER, *, timeout_s: float = TIMEOUT_SECONDS
    ) -> None:
        self._handler: Handler | None = None
        if callable(handler):
            self._handler, self.handler_spec = handler, getattr(handler, "__qualname__", repr(handler))
        else:
            module, _, attr = handler.partition(":")
            if not module or not attr:
                raise ValueError(f"handler must be module:attribute, got {handler!r}")
            self.handler_spec = handler
        self.timeout_s = timeout_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-env")

    def init(self) -> Future[float]:
        """Import the handler's module on the environment's thread (Lambda's init phase); seconds it took."""
        return self._executor.submit(self._import)

    def invoke(self, event: dict[str, Any]) -> Any:
        """Invoke the handler with a fresh context; waits at most the function's timeout.

        On a timeout the invocation goes on in the background (a thread cannot be stopped) and every later
        invocation waits behind it, as they would behind a stuck Lambda environment until it is recycled.
        """
        future = self._executor.submit(self._invoke, event)
        try:
            return future.result(timeout=self.timeout_s + 1.0)
        except FutureTimeout:
            raise InvocationTimeout(
                f"{self.handler_spec} did not return within {self.timeout_s:g} s"
            ) from None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _import(self) -> float:
        started = time.perf_counter()
        if self._handler is not None:
            return 0.0
        module, _, attr = self.handler_spec.partition(":")
        handler = getattr(importlib.import_module(module), attr)
        if not callable(handler):
            raise TypeError(f"{self.handler_spec} is not callable")
        self._handler = handler
        return time.perf_counter() - started

    def _invoke(self, event: dict[str, Any]) -> Any:
        if self._handler is None:
            self._import()
        assert self._handler is not None
        return self._handler(event, LambdaContext(timeout_s=self.timeout_s))
