"""The benchmark's 1,000-function account, and the marker contract walked end to end over it."""

from __future__ import annotations

from app.lambda_ops import FunctionPage, LambdaClients, LambdaOps, RuntimeAudit
from bench.fake_account import FakeLambda, compare, fake_configurations, raw_pages
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
    assert result["raw_calls"] == 20
    assert result["audit_list_functions_calls"] == 20  # paged server-side
    assert result["ratio"] <= 0.05
    audit = LambdaOps(LambdaClients.of(FakeLambda(fake_configurations(1000)))).audit_runtimes()
    assert isinstance(audit, RuntimeAudit)
    assert audit.complete
    assert audit.total_functions == 1000
