"""The folders of app/ are layers: nothing imports upward. Read from the source with ast, so a new import
that crosses a layer fails here, not in a review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"

# What each package may not import (by module prefix).
# app/snapstart.py (SnapStart's hooks) sits beside app/handler.py, on top; app/renewal.py imports nothing of
# the app, so any layer may register what a restore must renew.
FORBIDDEN = {
    "lambda_ops": (
        "app.web", "app.surface", "app.handler", "app.snapstart", "app.local", "mcp", "mcp_types", "starlette"
    ),
    "web": ("app.surface", "app.lambda_ops", "app.handler", "app.snapstart", "app.local"),
    "auth": ("app.web", "app.surface", "app.lambda_ops", "app.handler", "app.snapstart", "app.local"),
    "surface": ("app.web", "app.handler", "app.snapstart", "app.local"),
    "security": ("app.web", "app.surface", "app.lambda_ops", "app.handler", "app.snapstart", "app.local"),
}  # fmt: skip


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


def test_the_layering_check_sees_a_crossing(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from app.surface.server import build_server\nimport starlette.types\n")
    assert {"app.surface.server", "starlette.types"} <= _imports(module)
