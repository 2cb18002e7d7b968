"""Lambda's control plane allows about 15 requests per second per account and region, shared with the
account's own deployments: the fleet stays under ``rate_per_s`` (10 by default) per account and region.

One token bucket per (account, region), shared by every client built for that target in this process; a
botocore ``before-send`` hook takes a token before each HTTP attempt — retries included, since each retry
is a request AWS counts. The clients retry in adaptive mode, so a throttle AWS still answers is retried
(and slowed down) rather than surfaced. No thread: a caller that finds the bucket empty sleeps — never past
the deadline of the call it works for (app/fleet/deadline.py): it raises ``DeadlineExceeded`` instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from app.fleet import deadline


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` at once; ``take()`` waits for one (thread-safe)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self.clock, self.sleep = clock, sleep
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        self.taken = 0  # attempts let through (what a test or a benchmark counts)

    def take(self) -> float:
        """Take one token, sleeping until there is one; the seconds waited. Raises ``DeadlineExceeded``
        (taking nothing) when the wait would end after this thread's deadline."""
        limit = deadline.current()
        with self._lock:  # reserve under the lock, sleep outside it: waiters queue in order
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            if wait > 0 and limit is not None and wait >= limit.remaining():  # would send after it
                raise deadline.exceeded()
            self._tokens -= 1
            self.taken += 1
        if wait > 0:
            self.sleep(wait)
        return wait


class Limits:
    """The buckets of every target this process reaches, by (account, region)."""

    def __init__(
        self,
        rate_per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.clock, self.sleep = clock, sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, account: str, region: str) -> TokenBucket:
        key = (account, region)
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = TokenBucket(self.rate_per_s, clock=self.clock, sleep=self.sleep)
            return found

    def attach(self, client: Any, account: str, region: str) -> Any:
        """Make every HTTP attempt of this (Lambda) client take a token of its target's bucket."""
        bucket = self.bucket(account, region)

        def before_send(**_: Any) -> None:  # returning None: the request is sent as usual
            bucket.take()

        client.meta.events.register_first("before-send.lambda", before_send)  # before any stub
        return client
