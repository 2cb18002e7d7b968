"""audit-runtimes: the whole account, grouped by runtime, worst first, bounded."""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.lambda_ops import ErrorKind, OpsError, RuntimeAudit, RuntimeStatus
from app.local.seed_data import FUNCTIONS
from tests.lambda_ops.helpers import FakeClock, client_error, configuration, ops_for, stubbed_client


def audit(result: RuntimeAudit | OpsError) -> RuntimeAudit:
    assert isinstance(result, RuntimeAudit), result
    return result


def test_the_flagship_question_in_one_call(moto_lambda: Any) -> None:
    """Which nodejs functions use deprecated runtimes, grouped by version?"""
    result = audit(ops_for(moto_lambda).audit_runtimes(family="nodejs"))
    expected = Counter(f.runtime for f in FUNCTIONS if f.runtime and f.runtime.startswith("nodejs"))
    assert result.complete
    assert result.total_functions == sum(expected.values())
    assert {g.runtime: g.count for g in result.groups} == expected
    assert [g.runtime for g in result.groups] == [
        "nodejs12.x", "nodejs20.x", "nodejs18.x", "nodejs16.x", "nodejs14.x", "nodejs22.x",
    ]  # fmt: skip
    blocked, *_ = result.groups
    assert blocked.status is RuntimeStatus.BLOCKED
    assert str(blocked.block_function_update) == "2023-04-30"
    assert blocked.recommended_target == "nodejs24.x"
    assert blocked.functions == ["cognito-pre-token-trigger"]
    assert blocked.more == 0
    assert result.counts_by_status == {"blocked": 1, "deprecated": 12, "deprecating_soon": 4}
    assert result.needing_attention == result.total_functions


def test_the_whole_account(moto_lambda: Any) -> None:
    result = audit(ops_for(moto_lambda).audit_runtimes())
    assert result.total_functions == len(FUNCTIONS)
    images = next(g for g in result.groups if g.runtime is None)
    assert images.count == 2
    assert images.status is RuntimeStatus.NOT_APPLICABLE
    assert result.groups[-1] is images
    severities = [g.status for g in result.groups]
    assert severities.index(RuntimeStatus.BLOCKED) < severities.index(RuntimeStatus.SUPPORTED)


def test_names_are_bounded_with_a_hint(moto_lambda: Any) -> None:
    result = audit(ops_for(moto_lambda).audit_runtimes(names_per_group=1))
    group = next(g for g in result.groups if g.runtime == "nodejs22.x")
    assert group.count == 4
    assert len(group.functions) == 1
    assert group.more == 3
    assert group.list_hint is not None
    assert "runtime='nodejs22.x'" in group.list_hint


def test_invalid_arguments_make_no_aws_call() -> None:
    client, stubber = stubbed_client()
    lambda_ops = ops_for(client)
    unknown = lambda_ops.audit_runtimes(family="cobol")
    assert isinstance(unknown, OpsError)
    assert unknown.kind is ErrorKind.INVALID_ARGUMENT
    assert "nodejs" in unknown.message
    assert isinstance(lambda_ops.audit_runtimes(names_per_group=101), OpsError)
    stubber.assert_no_pending_responses()


def test_pages_through_every_aws_page() -> None:
    client, stubber = stubbed_client()
    pages = [[("a", "python3.8"), ("b", "python3.13")], [("c", "python3.8")], [("d", None)]]
    for i, functions in enumerate(pages):
        response: dict[str, Any] = {"Functions": [configuration(n, r) for n, r in functions]}
        if i < len(pages) - 1:
            response["NextMarker"] = f"m{i}"
        stubber.add_response(
            "list_functions",
            response,
            {"MaxItems": 50, "FunctionVersion": "ALL", **({"Marker": f"m{i - 1}"} if i else {})},
        )
    result = audit(ops_for(client).audit_runtimes())
    stubber.assert_no_pending_responses()
    assert result.complete
    assert result.total_functions == 4
    assert {g.runtime: g.functions for g in result.groups} == {
        "python3.8": ["a", "c"],
        "python3.13": ["b"],
        None: ["d"],
    }


def test_an_account_too_large_for_the_budget_is_reported_incomplete() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    client.meta.events.register("before-parameter-build.lambda.ListFunctions", lambda **_: clock.advance(8))
    for i in range(3):
        stubber.add_response(
            "list_functions", {"Functions": [configuration(f"f{i}", "java8")], "NextMarker": f"m{i}"}
        )
    result = audit(ops_for(client, clock=clock).audit_runtimes())
    assert not result.complete
    assert result.total_functions == 3
    assert result.note is not None
    assert "Incomplete" in result.note


def test_throttling_and_access_denied_are_values() -> None:
    for code, status, kind in [
        ("TooManyRequestsException", 429, ErrorKind.THROTTLED),
        ("AccessDeniedException", 403, ErrorKind.ACCESS_DENIED),
    ]:
        client, stubber = stubbed_client()
        stubber.add_response("list_functions", {"Functions": [configuration("a")], "NextMarker": "m"})
        stubber.add_client_error("list_functions", **client_error(code, status=status))
        result = ops_for(client).audit_runtimes()
        assert isinstance(result, OpsError)
        assert result.kind is kind
