"""Reads the runtime tables out of the AWS documentation page "Lambda runtimes" (HTML or its Markdown form).

Each table row is ``Name | Identifier | Operating system | Deprecation date | Block function create |
Block function update``. Rows that don't have that shape are skipped; a page yielding too few rows is
rejected (the page changed, or it isn't the page), so a refresh can never shrink the catalog to nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser

from app.lambda_ops.runtimes import Runtime, RuntimeCatalog, family_of

MIN_ROWS = 15
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(?:[0-9.]+[a-z0-9.\-]*)?(?:\.x|\.al2|\.al2023)?$")
_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%Y-%m-%d", "%b %d %Y")


class PageFormatError(ValueError):
    """The document doesn't contain the runtime tables."""


class _TableRows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(document: str) -> list[list[str]]:
    """Every table row of an HTML or Markdown document, as stripped cell texts."""
    if "<tr" in document.lower():
        parser = _TableRows()
        parser.feed(document)
        parser.close()
        return parser.rows
    rows = []
    for line in document.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            rows.append([cell.strip().replace("\\", "") for cell in line.strip("|").split("|")])
    return rows


def parse_date(text: str) -> date | None:
    text = " ".join(text.replace("\u00a0", " ").split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_runtime_rows(document: str, shipped: RuntimeCatalog) -> list[Runtime]:
    """The runtimes listed in the document; names, families and successors of runtimes the shipped
    catalog knows are kept from it, dates and OS come from the document."""
    found: dict[str, Runtime] = {}
    for cells in table_rows(document):
        if len(cells) < 6:
            continue
        name, identifier, os_name, deprecation, create, update = cells[:6]
        identifier = identifier.strip("` ")
        if not _IDENTIFIER.match(identifier) or "linux" not in os_name.lower():
            continue
        dates = {
            "deprecation_date": parse_date(deprecation),
            "block_function_create": parse_date(create),
            "block_function_update": parse_date(update),
        }
        known = shipped.get(identifier)
        if known is not None:
            found[identifier] = known.model_copy(update={"os": os_name or known.os, **dates})
            continue
        family = family_of(identifier)
        if family is None:
            continue
        found[identifier] = Runtime(
            identifier=identifier,
            name=name,
            family=family,
            version=".".join(re.findall(r"\d+", identifier)) or identifier,
            os=os_name,
            container_only="container" in name.lower(),
            **dates,
        )
    if len(found) < MIN_ROWS:
        raise PageFormatError(f"found {len(found)} runtime rows, expected at least {MIN_ROWS}")
    return list(found.values())


def refreshed_catalog(document: str, shipped: RuntimeCatalog, today: date) -> RuntimeCatalog:
    """The shipped catalog updated from the document: runtimes the page no longer lists are kept (the page
    drops long-gone runtimes, but functions can still be on them)."""
    rows = {r.identifier: r for r in parse_runtime_rows(document, shipped)}
    merged = [rows.pop(r.identifier, r) for r in shipped.runtimes] + list(rows.values())
    return RuntimeCatalog(
        as_of=today,
        source=f"{shipped.source} (refreshed {today.isoformat()})",
        source_url=shipped.source_url,
        runtimes=tuple(merged),
        soon_window_days=shipped.soon_window_days,
    )
