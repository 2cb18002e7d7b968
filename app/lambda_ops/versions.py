"""Published versions and the aliases that route traffic to them.

Published versions are immutable: each keeps the runtime it was published with, whatever ``$LATEST`` runs
now. ``ListFunctions`` with ``FunctionVersion=ALL`` returns ``$LATEST`` and every published version of every
function, 50 configurations a call — for an account of 1,000 functions with ~5 versions each about 120 calls,
where ``ListFunctions`` + one ``ListVersionsByFunction`` per function takes over 1,000 calls for the same
configurations (``make bench`` measures both). Aliases have no account-wide listing: ``ListAliases`` is one
call per function, so it is made only for the functions that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.lambda_ops.errors import ErrorKind, OpsFailure, aws_call
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus, severity

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

LATEST = "$LATEST"


@dataclass(frozen=True)
class VersionEntry:
    function: str
    version: str  # "$LATEST" or a published version number
    runtime: str | None


class AliasRoute(BaseModel):
    """One alias sending (a share of) its traffic to one version."""

    function: str = Field(description="Function name.")
    alias: str = Field(description="Alias name.")
    version: str = Field(description="The version the alias routes to.")
    weight: float = Field(description="Share of the alias's traffic this version receives (1.0: all).")
    runtime: str | None = Field(description="The runtime that version runs on.")
    status: RuntimeStatus = Field(description="That runtime's status today.")
    latest_runtime: str | None = Field(description="The runtime of the function's $LATEST, for contrast.")


def scan_all_versions(
    client: LambdaClient, deadline: float, clock: Callable[[], float]
) -> tuple[list[VersionEntry], bool]:
    """Every function's ``$LATEST`` and published versions, and whether the scan ended before the deadline."""
    entries: list[VersionEntry] = []
    marker: str | None = None
    while True:
        request: dict[str, Any] = {"MaxItems": 50, "FunctionVersion": "ALL"}
        if marker:
            request["Marker"] = marker
        with aws_call("ListFunctions"):
            response = client.list_functions(**request)
        entries.extend(
            VersionEntry(str(c["FunctionName"]), str(c.get("Version") or LATEST), c.get("Runtime"))
            for c in response.get("Functions", [])
        )
        marker = response.get("NextMarker") or None
        if marker is None:
            return entries, True
        if clock() >= deadline:
            return entries, False


def read_aliases(client: LambdaClient, function: str, max_pages: int = 10) -> list[dict[str, Any]]:
    """The function's aliases (``ListAliases``, every page up to ``max_pages`` of 50)."""
    aliases: list[dict[str, Any]] = []
    marker: str | None = None
    for _ in range(max_pages):
        request: dict[str, Any] = {"FunctionName": function, "MaxItems": 50}
        if marker:
            request["Marker"] = marker
        with aws_call("ListAliases", function):
            response = client.list_aliases(**request)
        aliases.extend(dict(a) for a in response.get("Aliases", []))
        marker = response.get("NextMarker") or None
        if marker is None:
            break
    return aliases


def weights_of(alias: Mapping[str, Any]) -> dict[str, float]:
    """Version → share of the alias's traffic: the primary version gets what the additional ones leave."""
    extra = {
        str(v): float(w)
        for v, w in ((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}).items()
    }
    primary = str(alias.get("FunctionVersion") or LATEST)
    return {primary: round(1.0 - sum(extra.values()), 6), **extra}


def alias_routes(
    client: LambdaClient,
    catalog: RuntimeCatalog,
    today: date,
    versions: dict[str | None, list[VersionEntry]],
    attention: set[str | None],
    latest: dict[str, str | None],
    deadline: float,
    clock: Callable[[], float],
) -> tuple[list[AliasRoute], int, int]:
    """Routes from aliases to versions on attention runtimes; functions read and needing a read. Worst
    runtime first, so a budget cut leaves out the least urgent."""
    runtime_of: dict[tuple[str, str], str | None] = {}
    worst: dict[str, int] = {}
    for runtime in attention:
        for entry in versions[runtime]:
            runtime_of[(entry.function, entry.version)] = runtime
            rank = severity(catalog.status(runtime, today))
            worst[entry.function] = min(rank, worst.get(entry.function, rank))
    routes: list[AliasRoute] = []
    read = 0
    for function in sorted(worst, key=lambda f: (worst[f], f)):
        if clock() >= deadline:
            break
        try:
            aliases = read_aliases(client, function)
        except OpsFailure as failure:
            if failure.error.kind is not ErrorKind.NOT_FOUND:
                raise
            aliases = []  # deleted since the scan: nothing routes to it any more
        read += 1
        for alias in aliases:
            for version, weight in weights_of(alias).items():
                if (function, version) in runtime_of and weight > 0:
                    runtime = runtime_of[(function, version)]
                    routes.append(
                        AliasRoute(
                            function=function,
                            alias=str(alias.get("Name")),
                            version=version,
                            weight=weight,
                            runtime=runtime,
                            status=catalog.status(runtime, today),
                            latest_runtime=latest.get(function),
                        )
                    )
    routes.sort(key=lambda r: (severity(r.status), r.function, r.alias, -r.weight, r.version))
    return routes, read, len(worst)
