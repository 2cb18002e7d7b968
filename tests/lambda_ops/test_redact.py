"""Secrets out of text a function wrote: its own environment values, and well-known credential patterns."""

from __future__ import annotations

import pytest

from app.lambda_ops.redact import Redactor, redact
from app.local.seed_data import FUNCTIONS, SECRET_VALUES


def test_every_fake_secret_of_the_sandbox_is_redacted_from_its_functions_lines() -> None:
    for function in FUNCTIONS:
        redactor = Redactor.for_environment(function.environment)
        for value in function.environment.values():
            if value in SECRET_VALUES:
                line = f"ERROR\tcould not connect using {value} (retrying)"
                assert value not in redactor(line), function.name


def test_values_of_secret_named_variables_go_from_four_characters_others_from_eight() -> None:
    redactor = Redactor.for_environment(
        {"API_TOKEN": "t0k3", "STAGE": "prod", "TABLE": "orders-table-prod", "RETRIES": "3"}
    )
    assert redactor("token t0k3 in prod for orders-table-prod, 3 retries") == (
        "token [REDACTED env API_TOKEN] in prod for [REDACTED env TABLE], 3 retries"
    )


def test_a_value_containing_another_is_replaced_whole() -> None:
    redactor = Redactor.for_environment(
        {"DB_PASSWORD": "hunter2-long", "DB_URL": "postgres://u:hunter2-long@db"}
    )
    assert redactor("dial postgres://u:hunter2-long@db failed") == "dial [REDACTED env DB_URL] failed"


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl here", "eyJzdWIiOiIxMjMifQ"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
        ("stripe sk_live_51HqLyjWDarjtT1zdp7dc", "sk_live_51HqLyjWDarjtT1zdp7dc"),
        ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
        ("gh ghp_abcdefghijklmnopqrstuvwxyz0123", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
        ("post https://hooks.slack.com/services/T000/B000/XXXX failed", "T000/B000/XXXX"),
        ("dsn postgres://app:s3cr3t-pw@db.internal:5432/app", "s3cr3t-pw"),
        ('{"password": "correct horse"}', "correct"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
    ],
)
def test_credential_patterns_are_redacted_without_knowing_the_environment(text: str, gone: str) -> None:
    cleaned = redact(text)
    assert cleaned is not None
    assert gone not in cleaned
    assert "REDACTED" in cleaned


def test_ordinary_lines_pass_unchanged() -> None:
    line = "2026-11-24T11:50:00Z\tid\tERROR\tInvoke Error TypeError: Cannot read properties of undefined"
    assert redact(line) == line
    assert redact(None) is None
