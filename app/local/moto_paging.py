"""Lambda's list operations page as on AWS — a patch of moto's server side, inside the sandbox.

moto 5.2.5 ignores ``MaxItems`` and ``Marker`` on ``ListFunctions`` (with and without
``FunctionVersion=ALL``), ``ListVersionsByFunction`` and ``ListAliases``: every call answers everything and
no ``NextMarker``, so ``list-functions page_size=3`` in ``make serve`` returned all 50 functions and code that
pages was never exercised. AWS answers at most ``MaxItems`` (1 to 10000, default 50; ``ListFunctions`` and
``ListVersionsByFunction`` never more than 50 per response, as their documentation says) with an opaque
``NextMarker`` while more remain, and refuses a marker it did not issue for that listing with
``InvalidParameterValueException`` (HTTP 400, the operations' only client error in botocore's model); an
out-of-range ``MaxItems`` is a ``ValidationException``. ``ListAliases`` also honours its ``FunctionVersion``
filter (moto ignores it).

Markers here are HMAC-sealed with a key of the moto process and name the operation, the account, the region
and the listing (``FunctionVersion=ALL`` or not; the function, for versions and aliases): a garbage, tampered
or foreign marker (another listing's, another account's) is refused. The listing continues after the last key
returned (functions by name, as AWS orders them; versions by number), so a function created or deleted
between pages moves nothing else.

``install()`` patches ``moto.awslambda.responses.LambdaResponse`` (idempotent): every client of the sandbox
sees it, the server ``make serve`` runs included. The sandbox child calls it before seeding.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

DEFAULT_ITEMS = 50  # AWS's page when MaxItems is not given
MAX_ITEMS = 10000  # MaxListItems in the service model
PAGE_CAP = {"ListFunctions": 50, "ListVersionsByFunction": 50, "ListAliases": MAX_ITEMS}

_lock = threading.Lock()
_key = secrets.token_bytes(32)
_installed: list[tuple[Any, str, Callable[..., Any]]] = []

Response = tuple[int, dict[str, str], str]


class MarkerError(ValueError):
    """A marker this listing did not issue."""


def seal(payload: list[Any]) -> str:
    body = json.dumps(payload, separators=(",", ":")).encode()
    tag = hmac.new(_key, body, hashlib.sha256).digest()[:12]
    return f"{_b64(body)}.{_b64(tag)}"


def unseal(marker: str, listing: list[Any]) -> Any:
    """The key a marker continues after, if this listing (``[operation, account, region, scope]``) made it."""
    try:
        body_part, tag_part = marker.split(".")
        body, tag = _unb64(body_part), _unb64(tag_part)
    except (ValueError, binascii.Error):
        raise MarkerError(marker) from None
    if not hmac.compare_digest(tag, hmac.new(_key, body, hashlib.sha256).digest()[:12]):
        raise MarkerError(marker)
    payload = json.loads(body)
    if not isinstance(payload, list) or len(payload) != len(listing) + 1 or payload[:-1] != listing:
        raise MarkerError(marker)  # another operation's, account's, region's or listing's marker
    return payload[-1]


def page_of(
    keys: Sequence[Any], listing: list[Any], marker: str | None, max_items: int, cap: int
) -> tuple[int, int, str | None]:
    """``(start, stop, next_marker)`` over ``keys`` (sorted, unique) for one page."""
    start = 0
    if marker:
        after = unseal(marker, listing)
        start = bisect.bisect_right(keys, _comparable(after))
    stop = min(len(keys), start + min(max_items, cap))
    next_marker = seal([*listing, keys[stop - 1]]) if stop < len(keys) and stop > start else None
    return start, stop, next_marker


def install() -> None:
    """Patch moto's Lambda list operations (idempotent)."""
    from moto.awslambda.responses import LambdaResponse

    with _lock:
        if _installed:
            return
        for name, patched in (
            ("list_functions", _list_functions),
            ("list_versions_by_function", _list_versions_by_function),
            ("list_aliases", _list_aliases),
        ):
            _installed.append((LambdaResponse, name, getattr(LambdaResponse, name)))
            setattr(LambdaResponse, name, patched)


def uninstall() -> None:
    with _lock:
        for owner, name, original in reversed(_installed):
            setattr(owner, name, original)
        _installed.clear()


@contextmanager
def paging() -> Iterator[None]:
    """For tests: moto pages like AWS inside the block."""
    install()
    try:
        yield
    finally:
        uninstall()


def _list_functions(self: Any) -> Response:
    query = self.querystring
    every_version = query.get("FunctionVersion", [None])[0] == "ALL"
    groups = self.backend._lambdas._functions  # name → {"latest": LambdaFunction, "versions": [...]}
    entries: list[tuple[Any, Any, bool]] = []  # (key, function, is $LATEST)
    for name in sorted(groups):
        group = groups[name]
        if group["latest"] is not None:
            entries.append(([name, 0] if every_version else name, group["latest"], True))
        if every_version:
            entries.extend(([name, int(v.version)], v, False) for v in group["versions"])
    listing = ["ListFunctions", self.current_account, self.region, "ALL" if every_version else "LATEST"]

    def render(function: Any, latest: bool) -> dict[str, Any]:
        if every_version and latest:  # as moto's own listing: $LATEST with a qualified ARN
            function = copy.copy(function)
            function.function_arn = f"{function.function_arn}:$LATEST"
        return dict(function.get_configuration())

    return _respond(self, "ListFunctions", "Functions", entries, listing, render)


def _list_versions_by_function(self: Any) -> Response:
    name = unquote(self.path.split("/")[-2])
    versions = list(self.backend.list_versions_by_function(name))
    entries = [(0 if v.version == "$LATEST" else int(v.version), v, False) for v in versions]
    listing = ["ListVersionsByFunction", self.current_account, self.region, name]
    return _respond(self, "ListVersionsByFunction", "Versions", entries, listing, _configuration)


def _list_aliases(self: Any) -> Response:
    name = unquote(self.path.split("/")[-2])
    version = self.querystring.get("FunctionVersion", [None])[0]
    aliases = [a for a in self.backend.list_aliases(name) if version is None or a.function_version == version]
    entries = [(a.name, a, False) for a in aliases]
    listing = ["ListAliases", self.current_account, self.region, name, version]
    return _respond(self, "ListAliases", "Aliases", entries, listing, lambda alias, _: dict(alias.to_json()))


def _configuration(function: Any, latest: bool) -> dict[str, Any]:
    return dict(function.get_configuration())


def _respond(
    self: Any,
    operation: str,
    field: str,
    entries: list[tuple[Any, Any, bool]],
    listing: list[Any],
    render: Callable[[Any, bool], dict[str, Any]],
) -> Response:
    query = self.querystring
    raw_max = query.get("MaxItems", [None])[0]
    try:
        max_items = DEFAULT_ITEMS if raw_max in (None, "") else int(raw_max)
    except ValueError:
        max_items = 0
    if not 1 <= max_items <= MAX_ITEMS:
        bound = "greater than or equal to 1" if max_items < 1 else f"less than or equal to {MAX_ITEMS}"
        return _error(
            "ValidationException",
            f"1 validation error detected: Value '{raw_max}' at 'maxItems' failed to satisfy constraint: "
            f"Member must have value {bound}",
        )
    keys = [_comparable(key) for key, _, _ in entries]
    marker = query.get("Marker", [None])[0]
    try:
        start, stop, next_marker = page_of(keys, listing, marker, max_items, PAGE_CAP[operation])
    except MarkerError:
        return _error("InvalidParameterValueException", f"Invalid Marker: {marker}")
    body: dict[str, Any] = {field: [render(item, latest) for _, item, latest in entries[start:stop]]}
    if next_marker is not None:
        body["NextMarker"] = next_marker
    return 200, {"Content-Type": "application/json", "status": "200"}, json.dumps(body)


def _error(code: str, message: str) -> Response:  # moto takes the status from the "status" header
    """A Lambda client error as AWS sends it: HTTP 400, the code in ``x-amzn-ErrorType``, ``Type: User``."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code, "status": "400"}
    return 400, headers, json.dumps({"Type": "User", "message": message})


def _comparable(key: Any) -> Any:
    """Keys as they compare: JSON turns tuples into lists, so lists are made tuples again."""
    return tuple(key) if isinstance(key, list) else key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text:
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
