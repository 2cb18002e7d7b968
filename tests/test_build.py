"""The artifact `make build` leaves in .aws-sam/build/McpFunction (scripts/build_lambda.sh via SAM).

`make test` builds before pytest; run `make build` first when running this file alone.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / ".aws-sam" / "build" / "McpFunction"
DEV_ONLY = ("moto", "pytest", "_pytest", "mypy", "ruff", "app/local")
# ELF e_machine of the template's architecture (the artifact must match what Lambda runs).
E_MACHINE = {"arm64": 183, "x86_64": 62}
UNCHECKED_HASH = 0b01  # PEP 552 flags: bit 0 hash-based, bit 1 check_source (0b11 would be checked-hash)


@pytest.fixture(scope="module")
def artifact() -> Path:
    if not (ARTIFACT / "app").is_dir():
        pytest.fail(f"{ARTIFACT} is missing: run `make build` first (make test does)")
    return ARTIFACT


@pytest.fixture(scope="module")
def magic_313() -> bytes:
    """Python 3.13's bytecode magic number, from a 3.13 interpreter (this one when it is 3.13)."""
    if sys.version_info[:2] == (3, 13):
        return importlib.util.MAGIC_NUMBER
    env = {**os.environ, "PYENV_VERSION": "3.13.0"}
    candidates = [shutil.which("pyenv") and ["pyenv", "exec", "python"], shutil.which("python3.13")]
    for command in filter(None, candidates):
        argv = command if isinstance(command, list) else [command]
        probe = "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"
        done = subprocess.run([*argv, "-c", probe], env=env, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return bytes.fromhex(done.stdout)
    pytest.fail("no Python 3.13 found to read its magic number (the build needs one too)")


def test_the_handler_is_shipped_without_dev_only_code(artifact: Path) -> None:
    assert (artifact / "app" / "handler.py").is_file()
    shipped = [name for name in DEV_ONLY if (artifact / name).exists()]
    shipped += [p.name for p in artifact.glob("*.dist-info") if p.name.split("-")[0].lower() in DEV_ONLY]
    assert shipped == []


def test_the_app_is_the_current_source(artifact: Path) -> None:
    def files(base: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(base)): p.read_bytes()
            for p in (base / "app").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        }

    source = {name: data for name, data in files(ROOT).items() if not name.startswith("app/local/")}
    assert files(artifact) == source, "stale artifact: run `make build`"


def test_the_dependencies_are_exactly_the_pins(artifact: Path) -> None:
    def canonical(name: str) -> str:
        return name.lower().replace("_", "-")

    pins = {}
    for line in (ROOT / "requirements-lambda.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonical(name.split("[")[0])] = version
    installed = {}
    for dist_info in artifact.glob("*.dist-info"):
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[canonical(name)] = version
    assert installed == pins


def test_every_module_has_unchecked_hash_bytecode_of_python313(artifact: Path, magic_313: bytes) -> None:
    sources = list(artifact.rglob("*.py"))
    assert len(sources) > 500
    problems = []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not pyc.is_file():
            problems.append(f"{source.relative_to(artifact)}: no {pyc.name}")
            continue
        with pyc.open("rb") as f:
            header = f.read(8)
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] != magic_313 or flags != UNCHECKED_HASH:
            problems.append(f"{pyc.relative_to(artifact)}: magic {header[:4].hex()}, flags {flags:#04b}")
    assert problems == []


def test_extension_modules_match_the_template_architecture(artifact: Path) -> None:
    template = (ROOT / "template.yaml").read_text()
    [arch] = [a for a in E_MACHINE if f"Architectures: [{a}]" in template]
    extensions = list(artifact.rglob("*.so"))
    assert any(p.parent.name == "pydantic_core" for p in extensions)
    wrong = []
    for so in extensions:
        with so.open("rb") as f:
            header = f.read(20)
        if header[:4] != b"\x7fELF" or int.from_bytes(header[18:20], "little") != E_MACHINE[arch]:
            wrong.append(str(so.relative_to(artifact)))
    assert wrong == []


def test_the_artifact_fits_lambda(artifact: Path) -> None:
    size = sum(p.stat().st_size for p in artifact.rglob("*") if p.is_file())
    assert size < 250 * 1024 * 1024, "Lambda's limit for unzipped code"


def test_the_artifact_does_not_ship_the_snapstart_hooks_module(artifact: Path) -> None:
    """Lambda's Python runtime provides snapshot_restore_py; a copy in /var/task would shadow the runtime's
    and hooks registered in the copy would never run (app/snapstart.py)."""
    assert "snapshot-restore-py" not in (ROOT / "requirements-lambda.txt").read_text()
    assert not list(artifact.glob("snapshot_restore_py*"))
