"""The shipped runtime catalog and status computation."""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib import resources

import pytest

from app.lambda_ops.runtimes import (
    Runtime,
    RuntimeCatalog,
    RuntimeStatus,
    family_of,
    shipped_catalog,
    status_of,
    version_key,
)
from tests.lambda_ops.helpers import TODAY

EXPECTED = {
    "nodejs": "nodejs24.x nodejs22.x nodejs20.x nodejs18.x nodejs16.x nodejs14.x nodejs12.x nodejs10.x "
    "nodejs8.10 nodejs6.10 nodejs4.3",
    "python": "python3.14 python3.13 python3.12 python3.11 python3.10 python3.9 python3.8 python3.7 "
    "python3.6 python2.7",
    "java": "java25 java21 java17 java11 java8.al2 java8",
    "dotnet": "dotnet10 dotnet9 dotnet8 dotnet7 dotnet6 dotnet5.0 dotnetcore3.1 dotnetcore2.1",
    "ruby": "ruby4.0 ruby3.4 ruby3.3 ruby3.2 ruby2.7 ruby2.5",
    "go": "go1.x",
    "provided": "provided.al2023 provided.al2 provided",
}


def test_the_shipped_catalog_lists_every_current_and_deprecated_runtime() -> None:
    catalog = shipped_catalog()
    for family, identifiers in EXPECTED.items():
        for identifier in identifiers.split():
            runtime = catalog.get(identifier)
            assert runtime is not None, identifier
            assert runtime.family == family
            assert runtime.os.startswith("Amazon Linux")
            assert runtime.deprecation_date is not None


def test_the_catalog_carries_its_date_and_source() -> None:
    catalog = shipped_catalog()
    assert catalog.as_of == date(2026, 6, 2)
    assert "Lambda runtimes" in catalog.source
    assert catalog.source_url.endswith("/lambda/latest/dg/lambda-runtimes.html")
    raw = json.loads(resources.files("app.lambda_ops").joinpath("data/runtimes.json").read_text())
    assert raw["schema_version"] == 1
    assert len({r["identifier"] for r in raw["runtimes"]}) == len(raw["runtimes"])


def test_block_dates_follow_deprecation() -> None:
    # Since the three-stage policy (2023), blocks follow deprecation; a few 2019-2020 entries don't.
    for runtime in shipped_catalog().runtimes:
        if (
            runtime.block_function_update
            and runtime.deprecation_date
            and runtime.deprecation_date.year >= 2023
        ):
            assert runtime.block_function_update >= runtime.deprecation_date, runtime.identifier


@pytest.mark.parametrize(
    ("identifier", "status"),
    [
        ("nodejs24.x", RuntimeStatus.SUPPORTED),
        ("python3.13", RuntimeStatus.SUPPORTED),
        ("nodejs22.x", RuntimeStatus.DEPRECATING_SOON),  # 2027-04-30: 157 days away
        ("nodejs20.x", RuntimeStatus.DEPRECATED),
        ("nodejs14.x", RuntimeStatus.DEPRECATED),  # updates blocked only from 2027-03-03
        ("nodejs12.x", RuntimeStatus.BLOCKED),
        ("python2.7", RuntimeStatus.BLOCKED),
        ("dotnet7", RuntimeStatus.DEPRECATED),  # container only: no block dates
    ],
)
def test_status_on_a_given_day(identifier: str, status: RuntimeStatus) -> None:
    assert shipped_catalog().status(identifier, TODAY) is status


def test_status_boundaries() -> None:
    runtime = Runtime(
        identifier="nodejs99.x", name="Node.js 99", family="nodejs", version="99", os="Amazon Linux 2023",
        deprecation_date=date(2030, 1, 1), block_function_create=date(2030, 2, 1),
        block_function_update=date(2030, 3, 1),
    )  # fmt: skip
    deprecation = date(2030, 1, 1)
    assert status_of(runtime, deprecation - timedelta(days=181)) is RuntimeStatus.SUPPORTED
    assert status_of(runtime, deprecation - timedelta(days=180)) is RuntimeStatus.DEPRECATING_SOON
    assert status_of(runtime, deprecation) is RuntimeStatus.DEPRECATED
    assert status_of(runtime, date(2030, 2, 28)) is RuntimeStatus.DEPRECATED
    assert status_of(runtime, date(2030, 3, 1)) is RuntimeStatus.BLOCKED


def test_unknown_runtimes_and_images() -> None:
    catalog = shipped_catalog()
    assert catalog.status("cobol85", TODAY) is RuntimeStatus.UNKNOWN
    assert catalog.status(None, TODAY) is RuntimeStatus.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("identifier", "target"),
    [
        ("nodejs16.x", "nodejs24.x"),
        ("nodejs22.x", "nodejs24.x"),
        ("nodejs24.x", None),
        ("python3.8", "python3.14"),
        ("java8", "java25"),
        ("dotnet6", "dotnet10"),  # never the container-only dotnet9
        ("go1.x", "provided.al2023"),
        ("ruby2.7", "ruby4.0"),
        ("cobol85", None),
    ],
)
def test_recommended_targets(identifier: str, target: str | None) -> None:
    assert shipped_catalog().recommended_target(identifier, TODAY) == target


def test_recommendation_skips_a_successor_that_is_itself_deprecated() -> None:
    catalog = shipped_catalog()
    # On 2028-06-01 nodejs24.x (AWS's successor) is deprecated: nothing newer in the catalog.
    assert catalog.recommended_target("nodejs16.x", date(2028, 6, 1)) is None
    assert catalog.newest_supported("python", date(2028, 6, 1)).identifier == "python3.14"  # type: ignore[union-attr]


def test_versions_order_within_a_family() -> None:
    catalog = shipped_catalog()

    def key(identifier: str) -> tuple[tuple[int, ...], int]:
        runtime = catalog.get(identifier)
        assert runtime is not None
        return version_key(runtime)

    assert key("python3.9") < key("python3.10") < key("python3.14")
    assert key("nodejs8.10") < key("nodejs10.x")
    assert key("java8") < key("java8.al2") < key("java11")
    assert key("provided") < key("provided.al2") < key("provided.al2023")
    assert key("dotnetcore3.1") < key("dotnet5.0") < key("dotnet6")


def test_family_of_known_and_unknown_identifiers() -> None:
    catalog = shipped_catalog()
    assert family_of("nodejs26.x") == "nodejs"
    assert family_of("dotnetcore3.1") == "dotnet"
    assert family_of("java8.al2", catalog) == "java"
    assert family_of("provided.al2023", catalog) == "provided"
    assert family_of("123") is None


def test_catalog_lookup_is_by_exact_identifier() -> None:
    catalog = RuntimeCatalog(as_of=TODAY, source="s", source_url="https://example.invalid", runtimes=())
    assert catalog.get("nodejs22.x") is None
    assert catalog.families == frozenset()


def test_architectures_and_snapstart_support_are_in_the_catalog() -> None:
    """Every shipped runtime says which architectures it offers and whether SnapStart supports it (the
    upgrade plan checks both): arm64 on Amazon Linux 2 and 2023 runtimes only; SnapStart on Java 11+, Python
    3.12+ and .NET 8+."""
    catalog = shipped_catalog()
    for runtime in catalog.runtimes:
        assert runtime.architectures is not None
        assert runtime.snap_start is not None
        assert ("arm64" in runtime.architectures) == (
            runtime.os != "Amazon Linux" and runtime.identifier != "nodejs10.x"
        ), runtime.identifier
    snap = {r.identifier for r in catalog.runtimes if r.snap_start}
    assert {"java11", "java17", "java21", "python3.12", "python3.13", "dotnet8"} <= snap
    assert not snap & {"java8", "java8.al2", "python3.11", "nodejs22.x", "dotnet6", "provided.al2023"}
