"""The folders of app/ are layers: nothing imports upward. Read from the source with ast, so a new import
that crosses a layer fails here, not in a review."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# What each package may not import (by module prefix).
# app/snapstart.py (SnapStart's hooks) sits beside app/handler.py, on top; app/renewal.py imports nothing of
# the app, so any layer may register what a restore must renew.
_NO_MCP = (
    "mcp",
    "mcp_types",
    "starlette",
    "mangum",
    "jwt",
    "app.web",
    "app.surface",
    "app.auth",
    "app.handler",
    "app.snapstart",
    "app.local",
)
FORBIDDEN = {
    "lambda_ops": (*_NO_MCP, "app.tasks", "app.worker", "app.records"),
    # The task worker (a durable function) and what it shares with the server: no MCP SDK, no Starlette,
    # no sign-in stack — its cold start is a fraction of the server's (test_the_worker_imports_no_mcp).
    "tasks": (*_NO_MCP, "app.worker"),
    "records": (*_NO_MCP, "app.worker", "app.tasks"),
    "worker": _NO_MCP,
    # The fleet (issue #14): between the domain and its callers; no MCP/HTTP, nothing of who calls it.
    "fleet": (*_NO_MCP, "app.worker", "app.tasks", "app.records"),
    "web": ("app.surface", "app.lambda_ops", "app.handler", "app.snapstart", "app.local"),
    "auth": ("app.web", "app.surface", "app.lambda_ops", "app.handler", "app.snapstart", "app.local"),
    "surface": ("app.web", "app.handler", "app.snapstart", "app.local"),
    "security": ("app.web", "app.surface", "app.lambda_ops", "app.handler", "app.snapstart", "app.local"),
}  # fmt: skip


def test_the_worker_imports_no_mcp_starlette_or_sign_in() -> None:
    """What the worker's cold start really loads (importing the handler, in a fresh interpreter), not just
    what its modules name: no MCP SDK, Starlette, Mangum, PyJWT, nor the server's own layers."""
    code = (
        "import sys, app.worker.handler; "
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mcp', 'mcp_types', 'starlette', 'mangum', 'jwt') or m.startswith(('app.surface', 'app.web', "
        "'app.auth', 'app.handler')))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=APP.parent, check=True
    )
    assert done.stdout.strip() == ""


def test_renewal_imports_nothing_of_the_app() -> None:
    assert not [name for name in _imports(APP / "renewal.py") if name.startswith("app")]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_upward(package: str) -> None:
    crossings = [
        f"{path.relative_to(APP)} imports {name}"
        for path in sorted((APP / package).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[package])
    ]
    assert crossings == []


def _module_name(path: Path, root: Path) -> str:
    parts = ["app", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = APP) -> dict[str, set[str]]:
    """Module → the app modules it imports (TYPE_CHECKING imports included: a circle there is a circle in
    the design, even when Python never runs it). ``from a.b import c`` names module ``a.b.c`` when that is a
    module, else ``a.b``."""
    modules = {_module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    edges.add(target if target in modules else node.module)
        graph[name] = {edge for edge in edges if edge in modules and edge != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle (strongly connected components of more than one module), Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in sorted(graph.get(node, ())):
            if edge not in index:
                visit(edge)
                low[node] = min(low[node], low[edge])
            elif edge in on_stack:
                low[node] = min(low[node], index[edge])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_the_circle_check_sees_a_circle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from app.pkg.b import thing\n")
    (package / "b.py").write_text(  # a type-only import still closes the circle
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.pkg import a\n"
    )
    (package / "c.py").write_text("from app.pkg.a import thing\n")
    assert cycles(import_graph(tmp_path)) == [["app.pkg.a", "app.pkg.b"]]


def test_the_layering_check_sees_a_crossing(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from app.surface.server import build_server\nimport starlette.types\n")
    assert {"app.surface.server", "starlette.types"} <= _imports(module)


def test_the_servers_init_imports_no_boto3() -> None:
    """boto3 (with s3transfer, ~0.2 s) is imported by the first request that needs an AWS client, not by the
    handler's init: the task store and the fleet's sessions import it when they are first built."""
    code = (
        "import os, sys; os.environ.setdefault('LAMBDA_OPS_AUTH_MODE', 'none'); "
        "from app.handler import build_handler; build_handler(); "
        "print([m for m in ('boto3', 'botocore.session', 's3transfer') if m in sys.modules])"
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "LAMBDA_OPS_AUTH_MODE": "none"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=APP.parent, check=True,
        env=env,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "[]"
