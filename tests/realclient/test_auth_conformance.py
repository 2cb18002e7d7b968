"""The official conformance suite's authorization-server scenarios against the local sign-in mode's
authorization server (oidc-provider, tests/clients/auth-server.mjs):

    conformance authorization --url ISSUER --client-id ID --resource URL -p PORT

``authorization-server-metadata-endpoint`` reads the server's RFC 8414 metadata; ``authorization-code-grant``
prints an authorization URL for a person to open and waits for the redirect on its own callback server
(http://127.0.0.1:PORT/callback) — here the person is tests/realclient/signin.py, following the development
login and consent pages with httpx. The client is registered first by dynamic registration, with that
callback. Every check must be SUCCESS (a WARNING fails too).

The `authorization` command exists from conformance 0.2.0-alpha.x on (tests/clients pins 0.2.0-alpha.12): a
suite without it fails this test rather than skipping it — nothing is silently skipped in CI.
"""

from __future__ import annotations

import json
import queue
import re
import socket
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app.local.auth import LocalAuthServer
from tests.realclient.conftest import CLIENTS
from tests.realclient.signin import Person, register

if TYPE_CHECKING:
    from tests.realclient.conftest import NodeTools

pytestmark = pytest.mark.realclient

RESOURCE = "http://127.0.0.1:3999/mcp"
SCENARIOS = {"authorization-server-metadata-endpoint", "authorization-code-grant"}
TIMEOUT_S = 60.0
_RESULT_DIR = re.compile(r"^authorization-server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def suite_version() -> str:
    meta = json.loads((CLIENTS / "node_modules/@modelcontextprotocol/conformance/package.json").read_text())
    return str(meta["version"])


def results(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """Each scenario's checks, from the suite's result folders (authorization-server-<scenario>-<time>)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for checks in directory.glob("*/checks.json"):
        named = _RESULT_DIR.match(checks.parent.name)
        assert named, checks.parent.name
        found[named["scenario"]] = json.loads(checks.read_text())
    return found


def test_conformance_authorization_scenarios_pass_against_the_local_server(
    node_tools: NodeTools, tmp_path: Path
) -> None:
    usage = node_tools.run(node_tools.conformance, ["--help"], timeout=30)
    assert usage.returncode == 0, usage.stderr
    assert re.search(r"^\s+authorization \[options\]", usage.stdout, re.MULTILINE), (
        f"@modelcontextprotocol/conformance {suite_version()} (pinned in tests/clients) has no "
        "`authorization` command; 0.2.0-alpha.12 has (authorization-server-metadata-endpoint, "
        "authorization-code-grant)"
    )
    port = free_port()
    callback = f"http://127.0.0.1:{port}/callback"
    person = Person()
    with LocalAuthServer(RESOURCE) as info:
        client = register(info.registration_endpoint, callback)
        args = ["--url", info.issuer, "--client-id", client["client_id"], "--resource", info.resource]
        suite = subprocess.Popen(
            [
                str(node_tools.node),
                str(node_tools.conformance),
                "authorization",
                *args,
                "-p",
                str(port),
                "-o",
                str(tmp_path),
            ],
            cwd=CLIENTS,
            env=dict(node_tools.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        output: list[str] = []

        def read() -> None:
            assert suite.stdout is not None
            for line in suite.stdout:
                output.append(line)
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=TIMEOUT_S).strip()
                if line.startswith(info.authorization_endpoint):
                    person.authorize(
                        line, callback, deliver=True
                    )  # the suite's callback server gets the code
                    break
            suite.wait(TIMEOUT_S)
        except (queue.Empty, subprocess.TimeoutExpired):
            suite.kill()
            suite.wait(10)
            pytest.fail(f"the suite did not finish within {TIMEOUT_S:g} s:\n{''.join(output)[-3000:]}")
        finally:
            person.close()
    report = "".join(output)[-4000:]
    assert person.forms == ["login", "consent"], report
    found = results(tmp_path)
    assert set(found) == SCENARIOS, report
    problems = {
        scenario: [check for check in checks if check.get("status") != "SUCCESS"]
        for scenario, checks in found.items()
    }
    assert all(not bad for bad in problems.values()), json.dumps(problems, indent=2)
    assert suite.returncode == 0, report
