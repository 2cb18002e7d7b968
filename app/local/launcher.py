"""Start ``python -m app.local`` in a child process on a free port and wait until it is ready — for tests
and benchmarks that drive the server ``make serve`` runs with real clients.

    with LocalServer() as server:          # or LocalServer(handler="tests.conformance_profile:handler")
        httpx.post(server.url, ...)
    server.returncode                      # 0: it stopped cleanly on SIGTERM
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

REPOSITORY = Path(__file__).resolve().parents[2]
READY = re.compile(r"^lambda-ops-mcp ready: (http://127\.0\.0\.1:\d+/mcp)$")
SANDBOX = re.compile(r"moto on (http://127\.0\.0\.1:\d+)")
# The local sign-in mode's banner (app/local/auth.py): its authorization server and dev machine client.
AUTH_SERVER = re.compile(r"authorization server (http://127\.0\.0\.1:\d+) ")
MACHINE_CLIENT = re.compile(r"curl -s -u (\S+?):(\S+) -d grant_type=client_credentials")


class LocalServerError(RuntimeError):
    pass


class LocalServer:
    def __init__(
        self,
        *,
        handler: str | None = None,
        worker: str | None = None,
        backend: str = "sandbox",
        auth: str | None = None,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        self.args = [sys.executable, "-m", "app.local", "--port", "0", "--backend", backend]
        if handler:
            self.args += ["--handler", handler]
        if worker:
            self.args += ["--worker", worker]
        if auth:
            self.args += ["--auth", auth]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.ready_timeout = ready_timeout
        self.output: list[str] = []  # every line it printed (stdout and stderr)
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self.returncode: int | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def start(self) -> LocalServer:
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our module, our arguments
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=self.env,
            cwd=REPOSITORY,  # where `--handler tests.some_module:handler` can be imported from
        )
        self._reader = threading.Thread(target=self._read, name="local-server-output", daemon=True)
        self._reader.start()
        if not self._ready.wait(self.ready_timeout) or not self.url:
            code = self.stop()
            tail = "".join(self.output[-30:])
            raise LocalServerError(f"not ready within {self.ready_timeout:.0f} s (exit code {code}):\n{tail}")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send ``sig``, wait, kill it if it does not exit; its exit code (negative: ended by a signal)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.returncode = self.process.returncode
        return self.returncode

    def text(self) -> str:
        return "".join(self.output)

    @property
    def sandbox_url(self) -> str | None:
        """The sandbox's moto URL, from the banner (None with ``backend="aws"``)."""
        found = SANDBOX.search(self.text())
        return found.group(1) if found else None

    @property
    def auth_server_url(self) -> str | None:
        """The local authorization server's issuer, from the banner (None unless ``auth="local"``)."""
        found = AUTH_SERVER.search(self.text())
        return found.group(1) if found else None

    @property
    def machine_client(self) -> tuple[str, str] | None:
        """The local authorization server's dev machine client (id, secret), from the banner."""
        found = MACHINE_CLIENT.search(self.text())
        return (found.group(1), found.group(2)) if found else None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.returncode is None:
            self.stop()

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            ready = READY.match(line.rstrip("\n"))
            if ready and not self.url:
                self.url = ready.group(1)
                self._ready.set()
        self._ready.set()  # it exited
