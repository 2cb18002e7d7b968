"""What the repository itself tracks: a clean clone must build on a fresh machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_symbolic_link_is_tracked() -> None:
    """A committed link to one machine's venv (`.venv-checks -> /work/...`) broke a clean clone's make test:
    git records a link as mode 120000, and nothing in this repository needs one."""
    listing = subprocess.run(
        ["git", "ls-files", "--stage"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert [line.split("\t", 1)[1] for line in listing.splitlines() if line.startswith("120000")] == []
