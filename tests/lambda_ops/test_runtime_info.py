"""The catalog as answered: statuses, filters, and the optional refresh (injected fetchers, no network)."""

from __future__ import annotations

from datetime import date

import pytest

from app.lambda_ops import LambdaClients, LambdaOps, OpsError, RuntimeStatus
from app.lambda_ops.runtime_info import FAILED_REFRESH_TTL_S, REFRESH_TTL_S, CatalogProvider
from app.lambda_ops.runtime_page import PageFormatError, parse_date, parse_runtime_rows, table_rows
from app.lambda_ops.runtimes import Runtime, shipped_catalog
from tests.lambda_ops.helpers import TODAY, FakeClock


def _fmt(day: date | None) -> str:
    return day.strftime("%b %d, %Y").replace(" 0", " ") if day else "Not scheduled"


def markdown_page(runtimes: list[Runtime]) -> str:
    lines = [
        "# Lambda runtimes",
        "| Name | Identifier | Operating system | Deprecation date | Block function create "
        "| Block function update |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in runtimes:
        lines.append(
            f"|  {r.name}  |  `{r.identifier}`  |  {r.os}  |  {_fmt(r.deprecation_date)}  |  "
            f"{_fmt(r.block_function_create)}  |  {_fmt(r.block_function_update)}  |"
        )
    return "\n".join(lines)


def html_page(runtimes: list[Runtime]) -> str:
    rows = "".join(
        f"<tr><td>{r.name}</td><td><code class='code'>{r.identifier}</code></td><td>{r.os}</td>"
        f"<td>{_fmt(r.deprecation_date)}</td><td>{_fmt(r.block_function_create)}</td>"
        f"<td>{_fmt(r.block_function_update)}</td></tr>"
        for r in runtimes
    )
    head = "<tr><th>Name</th><th>Identifier</th><th>Operating system</th><th>Deprecation date</th>"
    return f"<html><body><table>{head}<th>x</th><th>y</th></tr>{rows}</table></body></html>"


def changed_runtimes() -> list[Runtime]:
    """The shipped runtimes, with nodejs22.x's deprecation moved and a new nodejs26.x."""
    runtimes = [
        r.model_copy(update={"deprecation_date": date(2027, 10, 31)}) if r.identifier == "nodejs22.x" else r
        for r in shipped_catalog().runtimes
    ]
    new = Runtime(
        identifier="nodejs26.x", name="Node.js 26", family="nodejs", version="26", os="Amazon Linux 2023",
        deprecation_date=date(2030, 4, 30), block_function_create=date(2030, 6, 1),
        block_function_update=date(2030, 7, 1),
    )  # fmt: skip
    return [new, *runtimes]


def ops(provider: CatalogProvider) -> LambdaOps:
    return LambdaOps(LambdaClients.of(object()), catalog=provider, today=lambda: TODAY)


def test_shipped_catalog_by_default_and_never_fetched() -> None:
    def fetcher() -> str:
        raise AssertionError("refresh is off: must not fetch")

    result = ops(CatalogProvider(fetcher=fetcher)).runtime_info()
    assert not isinstance(result, OpsError)
    assert result.refreshed is False
    assert result.refresh_note is None
    assert result.catalog_as_of == date(2026, 6, 2)
    assert result.today == TODAY
    assert len(result.runtimes) == len(shipped_catalog().runtimes)
    assert result.runtimes[0].status is RuntimeStatus.BLOCKED  # worst first
    assert sum(result.counts_by_status.values()) == len(result.runtimes)


def test_filters_by_family_and_identifier() -> None:
    lambda_ops = ops(CatalogProvider())
    nodejs = lambda_ops.runtime_info(family="NodeJS")
    assert not isinstance(nodejs, OpsError)
    assert {r.family for r in nodejs.runtimes} == {"nodejs"}
    one = lambda_ops.runtime_info(runtime="python3.9")
    assert not isinstance(one, OpsError)
    [python39] = one.runtimes
    assert python39.status is RuntimeStatus.DEPRECATED
    assert python39.recommended_target == "python3.14"
    assert isinstance(lambda_ops.runtime_info(runtime="cobol85"), OpsError)
    assert isinstance(lambda_ops.runtime_info(family="cobol"), OpsError)


@pytest.mark.parametrize(
    "error", [OSError("network unreachable"), TimeoutError("timed out"), ValueError("x")]
)
def test_a_failing_refresh_falls_back_to_the_shipped_catalog(error: Exception) -> None:
    def fetcher() -> str:
        raise error

    result = ops(CatalogProvider(refresh=True, fetcher=fetcher)).runtime_info()
    assert not isinstance(result, OpsError)
    assert result.refreshed is False
    assert result.refresh_note is not None
    assert "failed" in result.refresh_note
    assert "shipped" in result.refresh_note
    assert "2026-06-02" in result.refresh_note
    assert len(result.runtimes) == len(shipped_catalog().runtimes)


def test_a_page_without_the_tables_falls_back() -> None:
    provider = CatalogProvider(refresh=True, fetcher=lambda: "<html><body>Service unavailable</body></html>")
    result = ops(provider).runtime_info()
    assert not isinstance(result, OpsError)
    assert result.refreshed is False
    assert "PageFormatError" in (result.refresh_note or "")
    assert result.runtimes


@pytest.mark.parametrize("render", [markdown_page, html_page])
def test_a_refresh_updates_dates_and_adds_new_runtimes(render: object) -> None:
    page = render(changed_runtimes())  # type: ignore[operator]
    result = ops(CatalogProvider(refresh=True, fetcher=lambda: page)).runtime_info(family="nodejs")
    assert not isinstance(result, OpsError)
    assert result.refreshed is True
    assert result.catalog_as_of == TODAY
    by_id = {r.identifier: r for r in result.runtimes}
    assert by_id["nodejs22.x"].deprecation_date == date(2027, 10, 31)
    assert by_id["nodejs22.x"].status is RuntimeStatus.SUPPORTED  # no longer within 180 days
    assert by_id["nodejs26.x"].status is RuntimeStatus.SUPPORTED
    assert by_id["nodejs20.x"].recommended_target == "nodejs24.x"  # AWS's successor, still supported
    assert by_id["nodejs"].name == "Node.js 0.10"  # kept from the shipped catalog


def test_refresh_happens_at_most_once_a_day_and_retries_failures_later() -> None:
    clock, calls = FakeClock(), []

    def fetcher() -> str:
        calls.append(clock())
        if len(calls) == 1:
            raise OSError("down")
        return markdown_page(changed_runtimes())

    provider = CatalogProvider(refresh=True, fetcher=fetcher, clock=clock)
    assert provider.current(TODAY)[1] is False
    assert provider.current(TODAY)[1] is False
    assert len(calls) == 1
    clock.advance(FAILED_REFRESH_TTL_S)
    assert provider.current(TODAY)[1] is True
    assert len(calls) == 2
    clock.advance(REFRESH_TTL_S - 1)
    assert provider.current(TODAY)[1] is True
    assert len(calls) == 2
    clock.advance(1)
    provider.current(TODAY)
    assert len(calls) == 3


def test_page_parsing_details() -> None:
    assert parse_date("Apr 30, 2028") == date(2028, 4, 30)
    assert parse_date("Sept\u00a0 1, 2025") is None
    assert parse_date("September 1, 2025") == date(2025, 9, 1)
    assert parse_date("Not scheduled") is None
    assert table_rows("| a | b |\nnot a row\n| c | d |") == [["a", "b"], ["c", "d"]]
    with pytest.raises(PageFormatError):
        parse_runtime_rows(markdown_page(list(shipped_catalog().runtimes)[:3]), shipped_catalog())
