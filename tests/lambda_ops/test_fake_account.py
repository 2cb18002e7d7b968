"""The benchmark's 1,000-function account, and the marker contract walked end to end over it."""

from __future__ import annotations

from app.lambda_ops import FunctionPage, LambdaClients, LambdaOps, RuntimeAudit
from app.lambda_ops.runtimes import shipped_catalog
from bench.fake_account import FakeLambda, compare, fake_account, fake_configurations, raw_pages
from tests.lambda_ops.helpers import TODAY


def test_the_fake_account_pages_like_aws() -> None:
    configs = fake_configurations(1000)
    assert len({c["FunctionName"] for c in configs}) == 1000
    assert fake_configurations(1000) == configs  # deterministic
    pages = list(raw_pages(FakeLambda(configs)))
    assert len(pages) == 20
    assert all(len(p["Functions"]) == 50 for p in pages)
    assert "NextMarker" not in pages[-1]


def test_walking_every_page_yields_every_function_once() -> None:
    fake = FakeLambda(fake_configurations(1000))
    lambda_ops = LambdaOps(LambdaClients.of(fake), today=lambda: TODAY)
    seen: list[str] = []
    marker: str | None = None
    while True:
        page = lambda_ops.list_functions(marker=marker, page_size=37, runtime="nodejs")
        assert isinstance(page, FunctionPage)
        assert len(page.functions) <= 37
        seen += [f.name for f in page.functions]
        marker = page.next_marker
        if marker is None:
            break
    expected = [c["FunctionName"] for c in fake.configs if str(c.get("Runtime", "")).startswith("nodejs")]
    assert seen == expected


def test_the_audit_answers_in_a_small_fraction_of_the_raw_bytes() -> None:
    result = compare(1000)
    expected_calls = -(-(1000 + result["published_versions"]) // 50)
    assert result["raw_calls"] == expected_calls
    assert result["audit_list_functions_calls"] == expected_calls  # every version, paged server-side
    # one ListFunctions(ALL) listing is far fewer calls than ListVersionsByFunction per function
    assert result["per_function_calls"] >= 1000 > 10 * result["raw_calls"]
    assert result["audit_list_aliases_calls"] < result["functions_with_aliases"]  # only where needed
    assert result["ratio"] <= 0.01
    fake = fake_account(1000)
    audit = LambdaOps(LambdaClients.of(fake)).audit_runtimes()
    assert isinstance(audit, RuntimeAudit)
    assert audit.complete
    assert audit.total_functions == 1000
    assert audit.total_published_versions == sum(len(v) for v in fake.versions.values())


def test_the_audit_finds_every_alias_serving_an_old_runtime() -> None:
    """Recomputed from the fake account's own data: every (function, alias, version) whose version is on
    an attention runtime is counted, weighted ones with their share."""
    fake = fake_account(300)
    audit = LambdaOps(LambdaClients.of(fake), today=lambda: TODAY).audit_runtimes(routes_limit=200)
    assert isinstance(audit, RuntimeAudit)
    catalog = shipped_catalog()
    runtime = {(n, v["Version"]): v.get("Runtime") for n, vs in fake.versions.items() for v in vs}
    expected = set()
    for name, aliases in fake.aliases.items():
        for alias in aliases:
            weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            for version in [alias["FunctionVersion"], *weights]:
                status = catalog.status(runtime[(name, version)], TODAY).value
                if status in ("blocked", "deprecated", "deprecating_soon"):
                    expected.add((name, alias["Name"], version))
    found = {(r.function, r.alias, r.version) for g in audit.groups for r in g.routes}
    assert audit.routes_total == len(expected) == len(found)
    assert found == expected
    assert any(r.weight < 1 for g in audit.groups for r in g.routes)
