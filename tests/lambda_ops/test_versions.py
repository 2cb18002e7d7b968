"""Published versions and aliases: the audit, get-function and list-functions see what production serves;
the plan checks architecture, SnapStart and layers against the target."""

from __future__ import annotations

from typing import Any

from app.lambda_ops import FunctionDetail, FunctionPage, RuntimeAudit
from app.lambda_ops.deployment import split_layer_arn
from app.lambda_ops.runtimes import shipped_catalog
from app.lambda_ops.upgrade.checks import compatibility_checks
from app.local.seed_data import FUNCTIONS
from tests.lambda_ops.helpers import (
    TODAY,
    FakeClock,
    client_error,
    configuration,
    ops_for,
    record_calls,
    stubbed_client,
)

ATTENTION = ("blocked", "deprecated", "deprecating_soon")


def audit(result: Any) -> RuntimeAudit:
    assert isinstance(result, RuntimeAudit), result
    return result


def test_the_audit_names_every_alias_serving_an_old_runtime(moto_lambda: Any) -> None:
    """Expected routes recomputed from the seed data: every alias → version on an attention runtime."""
    catalog = shipped_catalog()
    expected = set()
    for f in FUNCTIONS:
        for alias, target in f.aliases.items():
            primary, extra = target if isinstance(target, tuple) else (target, {})
            for version in (primary, *extra):
                if catalog.status(f.versions[int(version) - 1], TODAY).value in ATTENTION:
                    expected.add((f.name, alias, version))
    result = audit(ops_for(moto_lambda).audit_runtimes(routes_limit=200))
    assert result.complete
    found = {(r.function, r.alias, r.version) for g in result.groups for r in g.routes}
    assert found == expected
    assert ("orders-api-prod", "prod", "2") in found  # $LATEST nodejs22.x, prod on nodejs16.x
    weighted = next(r for g in result.groups for r in g.routes if r.function == "checkout-session-handler")
    assert weighted.version == "1"
    assert weighted.weight == 0.1
    assert result.total_published_versions == sum(len(f.versions) for f in FUNCTIONS)
    node16 = next(g for g in result.groups if g.runtime == "nodejs16.x")
    # orders-api-prod v1 (no alias), catalog-search-indexer v2 (no alias); orders-api-prod v2 routed by prod
    assert (node16.published_versions, node16.versions_routed, node16.versions_unreferenced) == (3, 1, 2)


def test_alias_lookups_only_where_a_version_is_on_an_old_runtime() -> None:
    client, stubber = stubbed_client()
    calls = record_calls(client)
    functions = [
        configuration("current", "python3.13"),
        configuration("current", "python3.13", Version="1"),  # a version on a supported runtime
        configuration("old-prod", "python3.13"),
        configuration("old-prod", "python3.8", Version="1"),
        configuration("old-prod", "python3.13", Version="2"),
        configuration("no-versions", "python3.8"),
    ]
    stubber.add_response(
        "list_functions", {"Functions": functions}, {"MaxItems": 50, "FunctionVersion": "ALL"}
    )
    stubber.add_response(
        "list_aliases",
        {"Aliases": [{"Name": "prod", "FunctionVersion": "1"}], "NextMarker": "a1"},
        {"FunctionName": "old-prod", "MaxItems": 50},
    )
    stubber.add_response(
        "list_aliases",
        {"Aliases": [{"Name": "beta", "FunctionVersion": "2"}]},
        {"FunctionName": "old-prod", "MaxItems": 50, "Marker": "a1"},
    )
    result = audit(ops_for(client).audit_runtimes())
    stubber.assert_no_pending_responses()
    assert calls.count("ListAliases") == 2  # both pages of the one function that needs it
    assert (result.aliases_read, result.aliases_needed, result.serving_from_attention) == (1, 1, 1)
    assert result.total_functions == 3
    assert result.needing_attention == 1  # no-versions, by its $LATEST
    py38 = next(g for g in result.groups if g.runtime == "python3.8")
    assert [(r.function, r.alias, r.latest_runtime) for r in py38.routes] == [
        ("old-prod", "prod", "python3.13")
    ]


def test_the_budget_cuts_alias_lookups_worst_first_and_says_so() -> None:
    client, stubber = stubbed_client()
    clock = FakeClock()
    client.meta.events.register("before-parameter-build.lambda.ListAliases", lambda **_: clock.advance(25))
    functions = [
        configuration("soon", "python3.13"),
        configuration("soon", "python3.10", Version="1"),  # deprecating soon on TODAY
        configuration("blocked", "python3.13"),
        configuration("blocked", "python3.6", Version="1"),  # blocked
    ]
    stubber.add_response("list_functions", {"Functions": functions})
    stubber.add_response("list_aliases", {"Aliases": [{"Name": "prod", "FunctionVersion": "1"}]})
    result = audit(ops_for(client, clock=clock).audit_runtimes())
    assert not result.complete
    assert (result.aliases_read, result.aliases_needed) == (1, 2)
    assert [r.function for g in result.groups for r in g.routes] == ["blocked"]
    assert result.note is not None
    assert "aliases only for 1 of the 2" in result.note


def test_a_function_deleted_since_the_scan_is_skipped() -> None:
    client, stubber = stubbed_client()
    stubber.add_response(
        "list_functions",
        {"Functions": [configuration("gone", "python3.13"), configuration("gone", "python3.8", Version="1")]},
    )
    stubber.add_client_error("list_aliases", **client_error("ResourceNotFoundException", status=404))
    result = audit(ops_for(client).audit_runtimes())
    assert result.complete
    py38 = next(g for g in result.groups if g.runtime == "python3.8")
    assert (py38.versions_routed, py38.versions_unreferenced) == (0, 1)


def test_get_function_lists_aliases_and_layers(moto_lambda: Any) -> None:
    orders = ops_for(moto_lambda).get_function("orders-api-prod")
    assert isinstance(orders, FunctionDetail)
    aliases = {a.name: a for a in orders.aliases}
    assert aliases["prod"].version == "2"
    assert aliases["prod"].runtimes == {"2": "nodejs16.x"}
    checkout = ops_for(moto_lambda).get_function("checkout-session-handler")
    assert isinstance(checkout, FunctionDetail)
    assert checkout.aliases[0].weights == {"2": 0.9, "1": 0.1}
    assert checkout.aliases[0].runtimes == {"2": "nodejs22.x", "1": "nodejs18.x"}
    pricing = ops_for(moto_lambda).get_function("legacy-pricing-engine")
    assert isinstance(pricing, FunctionDetail)
    assert [(layer.compatible_runtimes, layer.compatible_architectures) for layer in pricing.layers] == [
        (["python3.8"], ["x86_64"])
    ]


def test_get_function_says_what_it_could_not_read() -> None:
    client, stubber = stubbed_client()
    layer = "arn:aws:lambda:us-east-1:999999999999:layer:vendor:4"
    stubber.add_response(
        "get_function", {"Configuration": configuration("f", "python3.12", Layers=[{"Arn": layer}])}
    )
    stubber.add_client_error("get_layer_version", **client_error("AccessDeniedException", status=403))
    stubber.add_client_error("list_aliases", **client_error("AccessDeniedException", status=403))
    result = ops_for(client).get_function("f")
    assert isinstance(result, FunctionDetail)
    assert result.layers[0].compatible_runtimes is None
    assert result.layers[0].note is not None
    assert "access_denied" in result.layers[0].note
    assert result.deployment_note is not None
    assert "ListAliases" in result.deployment_note


def test_list_functions_can_include_versions(moto_lambda: Any) -> None:
    page = ops_for(moto_lambda).list_functions(runtime="nodejs16.x", include_versions=True)
    assert isinstance(page, FunctionPage)
    found = {(f.name, f.version) for f in page.functions}
    assert ("orders-api-prod", "2") in found  # a version on nodejs16.x whose $LATEST moved on
    assert ("legacy-checkout-webhook", "$LATEST") in found
    plain = ops_for(moto_lambda).list_functions(runtime="nodejs16.x")
    assert isinstance(plain, FunctionPage)
    assert {f.version for f in plain.functions} == {"$LATEST"}


def test_layer_arns_are_split_for_get_layer_version() -> None:
    assert split_layer_arn("arn:aws:lambda:eu-west-1:123456789012:layer:deps:12") == (
        "arn:aws:lambda:eu-west-1:123456789012:layer:deps",
        12,
    )
    assert split_layer_arn("arn:aws:lambda:eu-west-1:123456789012:function:deps") is None


def test_architecture_and_snapstart_against_the_target() -> None:
    catalog = shipped_catalog()
    snap = configuration("f", "java17", SnapStart={"ApplyOn": "PublishedVersions"}, Architectures=["arm64"])
    checks, _ = compatibility_checks(snap, "java21", catalog.get("java21"), [])
    assert all(c.passed for c in checks)
    checks, _ = compatibility_checks(snap, "java8", catalog.get("java8"), [])
    failed = {c.name for c in checks if not c.passed}
    assert failed == {"architecture_supported", "snap_start_supported"}  # java8 (AL1): x86_64, no SnapStart
    python = configuration("p", "python3.11", SnapStart={"ApplyOn": "PublishedVersions"})
    checks, _ = compatibility_checks(python, "python3.13", catalog.get("python3.13"), [])
    assert all(c.passed for c in checks)
    checks, _ = compatibility_checks(python, "nodejs22.x", catalog.get("nodejs22.x"), [])
    assert [c.name for c in checks if not c.passed] == ["snap_start_supported"]
