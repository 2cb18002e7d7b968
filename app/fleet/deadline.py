"""The deadline of the call a thread works for, enforced on every AWS client the fleet builds.

A fleet call (the audit's fan-out, ``list-targets check=true``) has a budget; the threads that read its
targets must stop with it, or the pool's shutdown — which joins them — holds the answer past the gateway's
30 s. botocore has no per-call deadline, so whoever runs a target within a budget sets one here
(``until``: a context variable, so each thread carries its own), and ``guard(client)`` makes every client
honour it:

- ``before-send`` (registered last and generic: after any pre-send wait): no HTTP attempt starts after the
  deadline — ``DeadlineExceeded``, a ``ReadTimeoutError``, which ``aws_call`` maps to a ``timeout`` error;
- ``needs-retry`` (registered first, so its "no" wins over the retry handler's delay): no retry whose
  backoff could sleep past the deadline (botocore's standard and adaptive modes sleep at most
  ``2 ** (attempts - 1)`` s, capped at 20 s), and none after a refusal; the last attempt's own answer (a
  throttle, an error) is what the caller then gets;
- the fleet's token bucket (limits.py) raises instead of sleeping past it.

An attempt already in flight at the deadline may finish: it is bounded by the client's connect and read
timeouts (docs/design.md, the fleet section, states the worst case). Without a deadline set, nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ReadTimeoutError

MAX_BACKOFF_S = 20.0  # botocore.retries.standard: the longest sleep between two attempts


class DeadlineExceeded(ReadTimeoutError):
    """No request is sent once the call's budget is spent (a ``ReadTimeoutError``: the domain maps it to
    a ``timeout`` error, as it maps AWS not answering in time)."""

    fmt = 'The call\'s time budget ran out before a request to "{endpoint_url}" could be sent.'


@dataclass(frozen=True)
class Deadline:
    at: float  # on ``clock``
    clock: Callable[[], float]

    def remaining(self) -> float:
        return self.at - self.clock()


_current: ContextVar[Deadline | None] = ContextVar("lambda_ops_fleet_deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the call this thread works for; None when no budget was set."""
    return _current.get()


@contextmanager
def until(at: float, clock: Callable[[], float] = time.monotonic) -> Iterator[Deadline]:
    """Inside the block, this thread's AWS calls end by ``at`` (on ``clock``); an outer, earlier deadline
    is kept."""
    outer = _current.get()
    deadline = Deadline(at, clock)
    if outer is not None and outer.remaining() < deadline.remaining():
        deadline = outer
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def within(seconds: float, clock: Callable[[], float] = time.monotonic) -> Any:
    """``until(clock() + seconds)``."""
    return until(clock() + seconds, clock)


def backoff_bound(attempts: int) -> float:
    """The longest sleep botocore's standard (and adaptive) retry takes after ``attempts`` attempts."""
    return float(min(2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def exceeded(endpoint_url: str = "") -> DeadlineExceeded:
    return DeadlineExceeded(endpoint_url=endpoint_url or "AWS")


def guard(client: Any) -> Any:
    """Make ``client`` honour the calling thread's deadline (see the module's docstring); returns it."""
    service = client.meta.service_model.service_id.hyphenize()

    def refuse(request: Any = None, **_: Any) -> None:
        found = current()
        if found is not None and found.remaining() <= 0:
            raise exceeded(getattr(request, "url", ""))

    def no_retry_past(attempts: int = 1, caught_exception: Any = None, **_: Any) -> bool | None:
        found = current()
        if found is None:
            return None  # the retry handler decides
        if isinstance(caught_exception, DeadlineExceeded) or found.remaining() < backoff_bound(attempts):
            return False  # botocore: no retry; the last attempt's answer stands
        return None

    # Generic and last: after every other before-send handler, the adaptive mode's rate limiter (generic)
    # and the fleet's token bucket included, so no wait of theirs ends in a send past the deadline.
    client.meta.events.register_last("before-send", refuse)
    client.meta.events.register_first(f"needs-retry.{service}", no_retry_past)
    return client
