"""list-functions: compact pages, the marker contract, server-side filters."""

from __future__ import annotations

from typing import Any

import pytest

from app.lambda_ops import ErrorKind, FunctionPage, OpsError, RuntimeStatus
from app.lambda_ops.functions import MAX_SCAN_CALLS
from app.local.seed_data import FUNCTIONS
from tests.lambda_ops.helpers import client_error, configuration, ops_for, record_calls, stubbed_client


def page(result: FunctionPage | OpsError) -> FunctionPage:
    assert isinstance(result, FunctionPage), result
    return result


def functions(*pairs: tuple[str, str | None]) -> list[dict[str, Any]]:
    return [configuration(name, runtime) for name, runtime in pairs]


def test_first_page_of_the_seeded_account_is_compact(moto_lambda: Any) -> None:
    result = page(ops_for(moto_lambda).list_functions())
    assert len(result.functions) == len(FUNCTIONS)
    assert result.next_marker is None
    entry = next(f for f in result.functions if f.name == "legacy-checkout-webhook")
    assert entry.runtime == "nodejs16.x"
    assert entry.runtime_status is RuntimeStatus.DEPRECATED
    assert (entry.architecture, entry.memory_mb, entry.timeout_s, entry.package_type) == (
        "x86_64",
        256,
        30,
        "Zip",
    )
    assert entry.last_modified
    assert entry.state == "Active"
    image = next(f for f in result.functions if f.runtime is None)
    assert image.package_type == "Image"
    assert image.runtime_status is RuntimeStatus.NOT_APPLICABLE
    assert set(entry.model_dump()) == {
        "name", "version", "runtime", "runtime_status", "architecture", "memory_mb", "timeout_s",
        "package_type", "last_modified", "state",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("nodejs", {f.name for f in FUNCTIONS if f.runtime and f.runtime.startswith("nodejs")}),
        ("nodejs18.x", {f.name for f in FUNCTIONS if f.runtime == "nodejs18.x"}),
        ("provided", {f.name for f in FUNCTIONS if f.runtime and f.runtime.startswith("provided")}),
        ("cobol85", set()),
    ],
)
def test_runtime_filters(moto_lambda: Any, runtime: str, expected: set[str]) -> None:
    result = page(ops_for(moto_lambda).list_functions(runtime=runtime))
    assert {f.name for f in result.functions} == expected
    assert result.runtime_filter == runtime


def test_name_prefix_filter(moto_lambda: Any) -> None:
    result = page(ops_for(moto_lambda).list_functions(name_prefix="legacy-", runtime="python"))
    assert {f.name for f in result.functions} == {
        f.name for f in FUNCTIONS if f.name.startswith("legacy-") and (f.runtime or "").startswith("python")
    }


@pytest.mark.parametrize("size", [0, 51, -1])
def test_page_size_is_bounded(size: int) -> None:
    client, _ = stubbed_client()
    calls = record_calls(client)
    result = ops_for(client).list_functions(page_size=size)
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.INVALID_ARGUMENT
    assert calls == []


def test_unfiltered_pages_pass_the_aws_marker_through() -> None:
    client, stubber = stubbed_client()
    stubber.add_response(
        "list_functions", {"Functions": functions(("a", "python3.12"), ("b", "java21")), "NextMarker": "m2"},
        {"MaxItems": 2},
    )  # fmt: skip
    stubber.add_response(
        "list_functions", {"Functions": functions(("c", "nodejs22.x"))}, {"MaxItems": 2, "Marker": "m2"}
    )
    lambda_ops = ops_for(client)
    first = page(lambda_ops.list_functions(page_size=2, marker=""))
    assert [f.name for f in first.functions] == ["a", "b"]
    assert first.next_marker == "m2"
    last = page(lambda_ops.list_functions(page_size=2, marker=first.next_marker))
    assert [f.name for f in last.functions] == ["c"]
    assert last.next_marker is None
    stubber.assert_no_pending_responses()


def test_filtered_pages_scan_aws_pages_without_overshooting() -> None:
    client, stubber = stubbed_client()
    node, py, java = "nodejs16.x", "python3.9", "java21"
    stubber.add_response(
        "list_functions", {"Functions": functions(("a", node), ("b", py), ("c", py)), "NextMarker": "A"},
        {"MaxItems": 3},
    )  # fmt: skip
    stubber.add_response(
        "list_functions", {"Functions": functions(("d", node), ("e", java)), "NextMarker": "B"},
        {"MaxItems": 2, "Marker": "A"},
    )  # fmt: skip
    stubber.add_response(
        "list_functions", {"Functions": functions(("f", "nodejs22.x")), "NextMarker": "C"},
        {"MaxItems": 1, "Marker": "B"},
    )  # fmt: skip
    result = page(ops_for(client).list_functions(page_size=3, runtime="nodejs"))
    assert [f.name for f in result.functions] == ["a", "d", "f"]
    assert result.next_marker == "C"
    assert result.scanned == 6
    assert result.note is None
    stubber.assert_no_pending_responses()


def test_a_filtered_scan_ends_with_the_account() -> None:
    client, stubber = stubbed_client()
    stubber.add_response("list_functions", {"Functions": functions(("a", "java21")), "NextMarker": "A"})
    stubber.add_response("list_functions", {"Functions": functions(("b", "nodejs20.x"))})
    result = page(ops_for(client).list_functions(runtime="nodejs20.x", name_prefix="b"))
    assert [f.name for f in result.functions] == ["b"]
    assert result.next_marker is None


def test_a_filtered_scan_stops_at_its_budget_and_says_so() -> None:
    client, stubber = stubbed_client()
    for i in range(MAX_SCAN_CALLS):
        stubber.add_response(
            "list_functions", {"Functions": functions((f"f{i}", "java21")), "NextMarker": f"m{i}"}
        )
    result = page(ops_for(client).list_functions(runtime="ruby"))
    assert result.functions == []
    assert result.next_marker == f"m{MAX_SCAN_CALLS - 1}"
    assert result.note is not None
    assert "next_marker" in result.note
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "kind", "retryable"),
    [
        ("TooManyRequestsException", 429, ErrorKind.THROTTLED, True),
        ("AccessDeniedException", 403, ErrorKind.ACCESS_DENIED, False),
    ],
)
def test_aws_errors_are_values(code: str, status: int, kind: ErrorKind, retryable: bool) -> None:
    client, stubber = stubbed_client()
    stubber.add_client_error("list_functions", **client_error(code, status=status))
    result = ops_for(client).list_functions()
    assert isinstance(result, OpsError)
    assert (result.kind, result.retryable, result.operation) == (kind, retryable, "ListFunctions")


def test_an_unknown_runtime_filter_is_explained(moto_lambda: Any) -> None:
    result = page(ops_for(moto_lambda).list_functions(runtime="nodejs18"))
    assert result.functions == []
    assert result.note is not None
    assert "neither a runtime family" in result.note
