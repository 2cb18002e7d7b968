"""Listing functions one page at a time, compactly, with optional runtime and name-prefix filters.

Marker contract: no marker (or an empty one) → the first page; a returned ``next_marker`` → there are more
functions, pass it back for the next page; ``next_marker`` null → that was the last page. Markers are
AWS's own ``ListFunctions`` markers, passed through unchanged. With ``include_versions`` the listing is
``ListFunctions`` with ``FunctionVersion=ALL``: every published version is an entry of its own (after its
function's ``$LATEST``), and the filters apply to each — ``runtime='nodejs16.x'`` then also finds versions
still on nodejs16.x whose function's ``$LATEST`` moved on. Pass the same ``include_versions`` with a marker.

Filtering happens here, over ``ListFunctions`` pages (AWS can't filter). Without filters a page is one AWS
page of ``page_size`` functions. With filters the server keeps reading AWS pages — each one asking AWS for
no more functions than are still missing — until ``page_size`` functions matched, the account ends, or the
scan budget (20 AWS pages or 8 s) is spent. So a filtered page may hold fewer than ``page_size`` entries,
even none, while ``next_marker`` is set: keep following the marker until it is null.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.lambda_ops.errors import aws_call, invalid
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus, family_of

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

MAX_PAGE_SIZE = 50  # ListFunctions' own maximum
DEFAULT_PAGE_SIZE = 50
MAX_SCAN_CALLS = 20
MAX_SCAN_SECONDS = 8.0


class FunctionSummary(BaseModel):
    """The compact form of one function."""

    name: str = Field(description="Function name.")
    version: str = Field(
        default="$LATEST", description="$LATEST, or a published version's number (include_versions)."
    )
    runtime: str | None = Field(description="Runtime identifier; null for container image functions.")
    runtime_status: RuntimeStatus = Field(description="Status of the runtime today.")
    architecture: str | None = Field(description="x86_64 or arm64.")
    memory_mb: int | None = Field(description="Memory size in MB.")
    timeout_s: int | None = Field(description="Timeout in seconds.")
    package_type: str | None = Field(description="Zip or Image.")
    last_modified: str | None = Field(description="When the function was last changed (ISO 8601).")
    state: str | None = Field(
        description="Active, Pending, Inactive or Failed when known; AWS's ListFunctions leaves it out, so "
        "it is usually null here: get-function reports it."
    )


class FunctionPage(BaseModel):
    functions: list[FunctionSummary] = Field(description="This page's functions (at most page_size).")
    next_marker: str | None = Field(description="Pass back as marker for the next page; null: last page.")
    page_size: int = Field(description="The page size used.")
    runtime_filter: str | None = Field(description="The runtime or runtime family filter applied, if any.")
    name_prefix: str | None = Field(description="The name prefix filter applied, if any.")
    include_versions: bool = Field(
        default=False, description="True: published versions are listed too, each as its own entry."
    )
    scanned: int = Field(description="How many functions were read from AWS to build this page.")
    note: str | None = Field(default=None, description="How to read this page, when not obvious.")


@dataclass(frozen=True)
class FunctionFilter:
    """``runtime`` is an exact identifier (``nodejs18.x``) or a family (``nodejs`` → every Node.js
    runtime); a family name wins over the identical legacy identifier (``nodejs``, ``provided``)."""

    runtime: str | None = None
    name_prefix: str | None = None
    family: str | None = None  # resolved from ``runtime`` by ``resolve``

    @classmethod
    def resolve(cls, runtime: str | None, name_prefix: str | None, catalog: RuntimeCatalog) -> FunctionFilter:
        runtime = (runtime or "").strip().lower() or None
        family = runtime if runtime is not None and runtime in catalog.families else None
        return cls(runtime=runtime, name_prefix=name_prefix or None, family=family)

    @property
    def active(self) -> bool:
        return self.runtime is not None or self.name_prefix is not None

    def matches(self, config: Mapping[str, Any], catalog: RuntimeCatalog) -> bool:
        if self.name_prefix is not None and not str(config.get("FunctionName", "")).startswith(
            self.name_prefix
        ):
            return False
        if self.runtime is None:
            return True
        runtime = config.get("Runtime")
        if runtime is None:
            return False
        if self.family is not None:
            return family_of(str(runtime), catalog) == self.family
        return str(runtime) == self.runtime


def summarise(config: Mapping[str, Any], catalog: RuntimeCatalog, today: date) -> FunctionSummary:
    runtime = config.get("Runtime")
    architectures = config.get("Architectures") or []
    return FunctionSummary(
        name=str(config["FunctionName"]),
        version=str(config.get("Version") or "$LATEST"),
        runtime=runtime,
        runtime_status=catalog.status(runtime, today),
        architecture=architectures[0] if architectures else None,
        memory_mb=config.get("MemorySize"),
        timeout_s=config.get("Timeout"),
        package_type=config.get("PackageType"),
        last_modified=config.get("LastModified"),
        state=config.get("State"),
    )


def list_functions_page(
    client: LambdaClient,
    catalog: RuntimeCatalog,
    today: date,
    *,
    marker: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    runtime: str | None = None,
    name_prefix: str | None = None,
    include_versions: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> FunctionPage:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise invalid(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}.")
    wanted = FunctionFilter.resolve(runtime, name_prefix, catalog)
    deadline = clock() + MAX_SCAN_SECONDS
    found: list[FunctionSummary] = []
    next_marker, scanned, calls = marker or None, 0, 0
    while True:
        request: dict[str, Any] = {"MaxItems": page_size - len(found)}
        if include_versions:
            request["FunctionVersion"] = "ALL"  # markers of this listing only work with it: keep it set
        if next_marker:
            request["Marker"] = next_marker
        with aws_call("ListFunctions"):
            response = client.list_functions(**request)
        calls += 1
        for config in response.get("Functions", []):
            scanned += 1
            if wanted.matches(config, catalog):
                found.append(summarise(config, catalog, today))
        next_marker = response.get("NextMarker") or None
        if not wanted.active or next_marker is None or len(found) >= page_size:
            break
        if calls >= MAX_SCAN_CALLS or clock() >= deadline:
            break
    note = None
    if wanted.runtime is not None and wanted.family is None and catalog.get(wanted.runtime) is None:
        note = (
            f"'{wanted.runtime}' is neither a runtime family ({', '.join(sorted(catalog.families))}) nor a "
            "known runtime identifier: only functions with exactly that runtime match."
        )
    elif wanted.active and next_marker is not None and len(found) < page_size:
        note = (
            f"Filtered page: {len(found)} of {scanned} functions scanned matched before the scan budget "
            "ran out. More functions remain: call again with next_marker until it is null."
        )
    return FunctionPage(
        functions=found,
        next_marker=next_marker,
        page_size=page_size,
        runtime_filter=wanted.runtime,
        name_prefix=wanted.name_prefix,
        include_versions=include_versions,
        scanned=scanned,
        note=note,
    )
