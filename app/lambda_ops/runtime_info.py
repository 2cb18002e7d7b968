"""The runtime catalog as answered to callers: entries with their status today, and the optional refresh.

Refreshing is off by default and never required: on any failure the shipped catalog answers, and the
result says so. An answer is never an empty list.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date

from pydantic import BaseModel, Field

from app.lambda_ops.runtime_page import refreshed_catalog
from app.lambda_ops.runtimes import (
    STATUS_ORDER,
    Runtime,
    RuntimeCatalog,
    RuntimeStatus,
    severity,
    shipped_catalog,
    version_key,
)

Fetcher = Callable[[], str]
REFRESH_TTL_S = 24 * 3600.0
FAILED_REFRESH_TTL_S = 15 * 60.0


class RuntimeInfo(Runtime):
    status: RuntimeStatus = Field(
        description="Status today: supported, deprecating_soon, deprecated, blocked."
    )
    recommended_target: str | None = Field(
        description="Runtime to upgrade to (newest supported of the family), or null if already the newest."
    )


class RuntimeCatalogResult(BaseModel):
    today: date = Field(description="The day statuses were computed for.")
    catalog_as_of: date = Field(description="Date of the catalog data (when it was taken from the source).")
    source: str = Field(description="Where the data comes from.")
    source_url: str = Field(description="The AWS documentation page the catalog transcribes.")
    refreshed: bool = Field(description="True if the data was refreshed from the page, false if shipped.")
    refresh_note: str | None = Field(
        default=None, description="What happened to a refresh, if one was tried."
    )
    soon_window_days: int = Field(description="'deprecating_soon' means deprecation within this many days.")
    counts_by_status: dict[str, int] = Field(description="How many listed runtimes have each status.")
    runtimes: list[RuntimeInfo] = Field(description="The runtimes, worst status first, newest first.")


def runtime_info(catalog: RuntimeCatalog, runtime: Runtime, today: date) -> RuntimeInfo:
    return RuntimeInfo(
        **runtime.model_dump(),
        status=catalog.status(runtime.identifier, today),
        recommended_target=catalog.recommended_target(runtime.identifier, today),
    )


def catalog_result(
    catalog: RuntimeCatalog,
    today: date,
    *,
    refreshed: bool,
    note: str | None,
    family: str | None = None,
    identifier: str | None = None,
) -> RuntimeCatalogResult:
    chosen = [
        r
        for r in catalog.runtimes
        if (family is None or r.family == family) and (identifier is None or r.identifier == identifier)
    ]
    infos = [runtime_info(catalog, r, today) for r in chosen]
    infos.sort(key=lambda i: (severity(i.status), i.family, tuple(-n for n in version_key(i)[0])))
    counts = Counter(i.status.value for i in infos)
    return RuntimeCatalogResult(
        today=today,
        catalog_as_of=catalog.as_of,
        source=catalog.source,
        source_url=catalog.source_url,
        refreshed=refreshed,
        refresh_note=note,
        soon_window_days=catalog.soon_window_days,
        counts_by_status={s.value: counts[s.value] for s in STATUS_ORDER if counts[s.value]},
        runtimes=infos,
    )


def fetch_page(url: str, *, timeout_s: float = 3.0, max_bytes: int = 4 * 1024 * 1024) -> str:
    """GET one HTTPS documentation page (used only when the refresh is enabled)."""
    if not url.startswith("https://"):
        raise ValueError(f"refusing to fetch a non-HTTPS URL: {url}")
    import urllib.request  # only when the refresh is on: not on every cold start

    headers = {"User-Agent": "lambda-ops-mcp runtime catalog refresh"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - https checked above
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - https checked above
        body: bytes = response.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ValueError(f"page larger than {max_bytes} bytes")
    return body.decode("utf-8", errors="replace")


class CatalogProvider:
    """Hands out the catalog: the shipped one, or — when refresh is on — a copy refreshed at most once a
    day (a failed attempt is retried after 15 minutes; meanwhile the shipped catalog answers)."""

    def __init__(
        self,
        *,
        refresh: bool = False,
        fetcher: Fetcher | None = None,
        shipped: RuntimeCatalog | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refresh = refresh
        self._fetcher = fetcher
        self._shipped = shipped
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[RuntimeCatalog, bool, str | None] | None = None
        self._expires = 0.0

    @property
    def shipped(self) -> RuntimeCatalog:
        return self._shipped or shipped_catalog()

    def current(self, today: date) -> tuple[RuntimeCatalog, bool, str | None]:
        """(catalog, refreshed?, note about the refresh or None)."""
        if not self._refresh:
            return self.shipped, False, None
        with self._lock:
            if self._cached is None or self._clock() >= self._expires:
                self._cached, ttl = self._attempt(today)
                self._expires = self._clock() + ttl
            return self._cached

    def _attempt(self, today: date) -> tuple[tuple[RuntimeCatalog, bool, str | None], float]:
        shipped = self.shipped
        fetch = self._fetcher or (lambda: fetch_page(shipped.source_url))
        try:
            catalog = refreshed_catalog(fetch(), shipped, today)
        except Exception as exc:
            note = (
                f"Refreshing the catalog from {shipped.source_url} failed ({type(exc).__name__}: {exc}); "
                f"this is the catalog shipped with the server, as of {shipped.as_of.isoformat()}."
            )
            return (shipped, False, note), FAILED_REFRESH_TTL_S
        note = f"Refreshed from {shipped.source_url} on {today.isoformat()}."
        return (catalog, True, note), REFRESH_TTL_S
