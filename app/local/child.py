"""A helper process of the local server (the sandbox, the engine): started with ``python -m <module>``, ready
when it prints one JSON line, stopped by closing its stdin (a child whose parent died stops by itself: no
orphans), killed if it does not stop."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import Any


class ChildError(RuntimeError):
    pass


class Child:
    def __init__(self, name: str, module: str, args: list[str], env: Mapping[str, str] | None = None) -> None:
        """Start it; returns at once (the child gets ready while the caller does other work)."""
        self.name = name
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our module
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            start_new_session=True,  # Ctrl+C reaches the parent only; the parent stops the child
        )
        self._first_line: list[bytes] = []
        self._reader = threading.Thread(target=self._read_first_line, name=f"{name}-ready", daemon=True)
        self._reader.start()

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        """Its ready line, parsed; raises ``ChildError`` if it failed or took too long."""
        self._reader.join(timeout)
        if self._reader.is_alive():
            self.stop()
            raise ChildError(f"the {self.name} was not ready within {timeout:.0f} s")
        line = self._first_line[0] if self._first_line else b""
        try:
            ready = json.loads(line)
            if not isinstance(ready, dict):
                raise TypeError(ready)
        except (ValueError, TypeError):
            code = self.stop()
            raise ChildError(
                f"the {self.name} failed to start (exit code {code}); see its output above"
            ) from None
        return ready

    def stop(self, timeout: float = 10.0) -> int:
        """Close the child's stdin (its signal to stop) and wait for it; kill it if it does not stop."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):  # a child that died already: broken pipe
                self.process.stdin.close()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def _read_first_line(self) -> None:
        assert self.process.stdout is not None
        self._first_line.append(self.process.stdout.readline())
