"""Runtime updates that take time, as on AWS — a patch of moto inside the sandbox.

moto 5.2.5 applies ``UpdateFunctionConfiguration`` at once and always reports ``LastUpdateStatus:
Successful``. On AWS an update is applied asynchronously: ``GetFunctionConfiguration`` shows the new
configuration with ``LastUpdateStatus: InProgress`` for seconds to minutes, and a second update meanwhile
is refused with ``ResourceConflictException``. That is what the upgrade's wait exists for, and what makes a
long upgrade a task. This patch gives the functions named in ``SLOW`` (and any a test names) that
behaviour: their updates stay ``InProgress`` for the given seconds of wall-clock time.

Applied in the sandbox's process (``install``), never in the server's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

# The sandbox's slow function: a 40 s runtime update, longer than a tool call's budget (25 s).
SLOW: dict[str, float] = {"partner-feed-exporter": 40.0}

_lock = threading.Lock()
_seconds: dict[str, float] = {}
_until: dict[str, float] = {}  # function ARN → when its update is applied
_installed: list[tuple[Any, str, Callable[..., Any]]] = []


def install(seconds_by_name: Mapping[str, float] = SLOW) -> None:
    """Patch moto's LambdaFunction (idempotent); ``seconds_by_name``: function name → update duration."""
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaFunction

    with _lock:
        _seconds.update(seconds_by_name)
        if _installed:
            return
        original_get = LambdaFunction.get_configuration
        original_update = LambdaFunction.update_configuration

        def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
            config: dict[str, Any] = original_get(self, on_create)
            if not on_create and time.monotonic() < _until.get(self.function_arn, 0.0):
                config["LastUpdateStatus"] = "InProgress"
                config["LastUpdateStatusReason"] = "The function is being updated."
            return config

        def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
            if time.monotonic() < _until.get(self.function_arn, 0.0):
                raise LambdaClientError(
                    "ResourceConflictException",
                    f"The operation cannot be performed at this time. An update is in progress for resource: "
                    f"{self.function_arn}",
                )
            seconds = _seconds.get(self.function_name, 0.0)
            if seconds and "Runtime" in config_updates:
                _until[self.function_arn] = time.monotonic() + seconds
            result: dict[str, Any] = original_update(self, config_updates)
            return result

        for name, patched, original in (
            ("get_configuration", get_configuration, original_get),
            ("update_configuration", update_configuration, original_update),
        ):
            setattr(LambdaFunction, name, patched)
            _installed.append((LambdaFunction, name, original))


def uninstall() -> None:
    with _lock:
        for owner, name, original in reversed(_installed):
            setattr(owner, name, original)
        _installed.clear()
        _seconds.clear()
        _until.clear()


@contextmanager
def slow_updates(seconds_by_name: Mapping[str, float]) -> Iterator[None]:
    """For tests: moto's updates of these functions take that long, inside the block."""
    install(seconds_by_name)
    try:
        yield
    finally:
        uninstall()
