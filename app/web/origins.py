"""Which Host and Origin headers a request may carry (DNS-rebinding and cross-site protection).

Patterns: ``example.com`` (exact), ``example.com:*`` (any port, or none), ``*.example.com`` (any subdomain),
and for origins ``https://example.com`` or ``http://localhost:*``.

Behind API Gateway, the domain the request came in on (``requestContext.domainName``, set by API Gateway,
never by the client) is always accepted: that is how the deployed API's own domain and its custom domains
pass without configuration, and without the function having to reference its API in the template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    parts = []
    for pattern in patterns:
        pattern = pattern.strip().lower()
        any_port = pattern.endswith(":*")
        if any_port:
            pattern = pattern[:-2]
        regex = re.escape(pattern).replace(r"\*\.", r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.")
        parts.append(regex + (r"(?::[0-9]+)?" if any_port else ""))  # [0-9]: \d also matches other digits
    return re.compile("|".join(f"(?:{p})" for p in parts) or r"(?!)")


class OriginPolicy:
    def __init__(self, allowed_hosts: Iterable[str], allowed_origins: Iterable[str]) -> None:
        self._hosts = _compile(allowed_hosts)
        self._origins = _compile(allowed_origins)
        # For Starlette's CORSMiddleware, which compiles it itself and matches the Origin as sent: case-
        # insensitive, like origin_allowed (which lowercases), or an allowed Origin in capitals would pass
        # the 403 check and get no CORS headers.
        self.origin_regex = "(?i)" + self._origins.pattern

    def host_allowed(self, host: str | None, api_domain: str | None) -> bool:
        if not host:
            return False
        host = host.lower()
        if api_domain and host.split(":", 1)[0] == api_domain.lower():
            return True
        return self._hosts.fullmatch(host) is not None

    def origin_allowed(self, origin: str | None) -> bool:
        """An absent Origin is a non-browser client: allowed. ``null`` and unknown origins are not."""
        return origin is None or self._origins.fullmatch(origin.lower()) is not None
