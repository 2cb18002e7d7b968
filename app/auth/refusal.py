"""Why a request is not let through, as an HTTP status, a bounded reason (a metric dimension) and a
message for the client. Never carries the token."""

from __future__ import annotations

from dataclasses import dataclass

# Every reason a sign-in can fail: the AuthFailures metric's dimension values (bounded by construction).
REASONS = frozenset(
    {
        "missing_token",
        "token_in_query",
        "malformed",
        "algorithm",
        "unknown_key",
        "signature",
        "issuer",
        "audience",
        "expired",
        "not_yet_valid",
        "claims",
        "not_an_access_token",
        "client_not_allowed",
        "keys_unavailable",
        "not_configured",
        "insufficient_scope",
    }
)


@dataclass(frozen=True)
class Refusal(Exception):
    status: int
    reason: str
    message: str
    # RFC 6750 error code for WWW-Authenticate: None when no token was sent (the spec: no error then).
    error: str | None = None

    def __post_init__(self) -> None:
        assert self.reason in REASONS, self.reason


def www_authenticate(refusal: Refusal | None, scopes: tuple[str, ...], metadata_url: str) -> str:
    """RFC 6750 §3 / RFC 9728 §5.1: ``error`` only when a token was sent (or one was misplaced), the
    scopes the call needs, and where the protected-resource metadata is."""
    parts = []
    if refusal is not None and refusal.error is not None:
        parts.append(f'error="{refusal.error}"')
        parts.append(f'error_description="{refusal.message}"')
    parts.append(f'scope="{" ".join(scopes)}"')
    parts.append(f'resource_metadata="{metadata_url}"')
    return "Bearer " + ", ".join(parts)
