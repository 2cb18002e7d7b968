"""Lambda SnapStart's runtime hooks for the handler built during init (app/handler.py).

- Before the snapshot: prime the handler — a few requests through its whole chain, in-process, on the event
  loop every invocation uses (app/web/priming.py) — so that the snapshot holds an environment that has
  already served: a restored environment's first request does no first-time work. Then collect garbage once
  and freeze what survives (``gc.freeze``): init's objects are never scanned by a collection again.
- After each restore: renew what must not be shared between the environments restored from one snapshot —
  the random module's state (seeded once at import; botocore's retry jitter and the SDK use it) and what the
  handler's builders registered in its ``Renewal`` (the LambdaOps with its boto3 clients and credentials;
  caches of keys or secrets belong there too). They are built again on first use.

The hooks come from ``snapshot_restore_py``, which Lambda's Python runtimes ship (it is not in the artifact;
tests use the PyPI package ``snapshot-restore-py``). Lambda runs the hooks only for SnapStart versions.
"""

from __future__ import annotations

import gc
import logging
import random
import time
from typing import Protocol

from starlette.types import ASGIApp

from app.config import Settings
from app.renewal import Renewal
from app.web.observability import SERVICE
from app.web.priming import prime


class Assembly(Protocol):
    """What the hooks need of ``app.handler.Assembly`` (a protocol: the handler imports this module)."""

    @property
    def asgi(self) -> ASGIApp: ...

    @property
    def renewal(self) -> Renewal: ...

    @property
    def settings(self) -> Settings: ...


log = logging.getLogger(SERVICE)


def register(assembly: Assembly) -> bool:
    """Register both hooks for ``assembly``; False when the runtime has no ``snapshot_restore_py``."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not on a Lambda Python runtime (nor installed): nothing will run hooks anyway
        return False
    register_before_snapshot(before_snapshot, assembly)
    register_after_restore(after_restore, assembly)
    return True


def before_snapshot(assembly: Assembly) -> None:
    """Prime the handler. A failure raises: Lambda then fails to publish the version (the deploy fails)
    rather than snapshot a handler that cannot serve."""
    started = time.perf_counter()
    read_runtimes = not assembly.settings.runtime_catalog_refresh  # a refresh would fetch a web page
    served = prime(assembly.asgi, read_runtimes=read_runtimes)
    # Everything init built lives as long as the environment: collect once, then move it out of the
    # collector's reach. Otherwise the older-generation collections after a restore keep scanning it (one
    # landed on the ~60th request in bench/snapstart.py's runs; with the freeze only young ones happen).
    gc.collect()
    gc.freeze()
    log.info(
        "primed before snapshot",
        extra={"priming": [f"{label} {status}" for label, status in served],
               "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
    )  # fmt: skip


def after_restore(assembly: Assembly) -> None:
    """Renew what restored environments must not share. Cheap: no I/O (Lambda gives the hooks 10 s)."""
    random.seed()  # from os.urandom: each restored environment gets its own random state
    renewed = assembly.renewal.renew()
    log.info("renewed after restore", extra={"renewed": renewed})
