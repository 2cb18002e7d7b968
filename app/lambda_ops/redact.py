"""Secrets out of text the function wrote (log lines, log tails) before a tool returns it.

Two layers: the function's own environment variable values (the configuration read gives them to us; they
never leave the domain), and patterns of well-known credentials (AWS access key ids, JWTs, bearer tokens,
Stripe/Slack/GitHub tokens, Slack webhooks, ``password=...``-style pairs, credentials in URLs, private key
blocks). Redaction is best effort against accidents, not a guarantee against a function that encodes a
secret on purpose: what a function logs is data, never instructions, and is marked so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# A variable whose name says it holds a secret: its value is redacted from 4 characters on. Other values
# from 8 on — shorter ones ("info", "prod", "true") are words every log line may carry.
_SECRET_NAME = re.compile(r"(?i)(key|secret|token|passw|pwd|credential|auth|webhook|dsn|conn|private|cert)")
SECRET_NAME_MIN = 4
VALUE_MIN = 8

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
     "[REDACTED private key]"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "[REDACTED aws key id]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[REDACTED jwt]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [REDACTED]"),
    (re.compile(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9_]{6,}"), "[REDACTED api key]"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{8,}"), "[REDACTED slack token]"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), "[REDACTED github token]"),
    (re.compile(r"https://hooks\.slack\.com/services/[^\s\"'<>]+"), "[REDACTED webhook url]"),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1[REDACTED]@"),
    (
        re.compile(
            r"(?i)\b((?:aws_)?(?:secret_access_key|session_token)|password|passwd|pwd|secret|token|api[_-]?key"
            r"|access[_-]?key|client[_-]?secret|authorization)(\"?'?\s*[:=]\s*\"?'?)([^\s\"',;&}]{3,})"
        ),
        r"\1\2[REDACTED]",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Redactor:
    """Redacts ``values`` (name → secret value) and the credential patterns from text."""

    values: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def for_environment(cls, variables: Mapping[str, object] | None) -> Redactor:
        """The values of a function's environment worth hiding, longest first (a value that contains
        another is replaced whole)."""
        found: list[tuple[str, str]] = []
        for name, value in (variables or {}).items():
            text = str(value)
            minimum = SECRET_NAME_MIN if _SECRET_NAME.search(str(name)) else VALUE_MIN
            if len(text) >= minimum:
                found.append((str(name), text))
        found.sort(key=lambda pair: -len(pair[1]))
        return cls(tuple(found))

    def __call__(self, text: str) -> str:
        for name, value in self.values:
            if value in text:
                text = text.replace(value, f"[REDACTED env {name}]")
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


PATTERNS_ONLY = Redactor()


def redact(text: str | None) -> str | None:
    """The patterns only (no environment known): for text such as an invoke's log tail."""
    return None if text is None else PATTERNS_ONLY(text)
