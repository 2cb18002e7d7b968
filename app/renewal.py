"""What an execution environment must renew after a SnapStart restore, registered by whoever built it.

Lambda SnapStart resumes many execution environments from one snapshot of memory taken after init: anything
built during init is then shared by all of them — credentials and the boto3 clients holding them, connection
pools, caches of things that expire (signing keys, tokens), random state. Each builder that keeps such a
thing registers how to drop it; ``app/snapstart.py`` calls ``renew()`` from the after-restore hook. Dropped
things are built again lazily, on first use, by the code that owns them.

This module imports nothing of the app: every layer (surface, web, auth) may register here.
"""

from __future__ import annotations

from collections.abc import Callable


class Renewal:
    """An ordered list of (what, how to drop it); one per handler (per execution environment)."""

    def __init__(self) -> None:
        self._parts: list[tuple[str, Callable[[], None]]] = []

    def register(self, what: str, drop: Callable[[], None]) -> None:
        """``drop`` must be cheap and make no I/O: it runs before the first request after a restore."""
        self._parts.append((what, drop))

    def renew(self) -> list[str]:
        """Drop every registered thing, in registration order; the names of what was dropped."""
        for _, drop in self._parts:
            drop()
        return [what for what, _ in self._parts]
