from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings


def test_defaults_are_safe_for_a_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALLOW_WRITES", "ALLOWED_HOSTS", "ALLOWED_ORIGINS", "TRACING"):
        monkeypatch.delenv(f"LAMBDA_OPS_{name}", raising=False)
    settings = Settings()
    assert settings.allow_writes is False
    assert settings.allowed_hosts == []
    assert settings.allowed_origins == []
    assert settings.tracing is False


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_OPS_ALLOWED_HOSTS", " mcp.example.com, localhost:* ,")
    monkeypatch.setenv("LAMBDA_OPS_BASE_PATH", "ops/")
    monkeypatch.setenv("LAMBDA_OPS_ALLOW_WRITES", "true")
    monkeypatch.setenv("LAMBDA_OPS_WRITE_TAG", "lambda-ops=allowed")
    settings = Settings()
    assert settings.allowed_hosts == ["mcp.example.com", "localhost:*"]
    assert settings.base_path == "/ops"
    assert settings.allow_writes is True
    assert settings.write_tag == "lambda-ops=allowed"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_BODY_BYTES", "0"),
        ("WRITE_TAG", "no-equals-sign"),
        (
            "WRITE_TAG",
            " =x",
        ),  # regression: passed here, then broke every tool when the write policy was built
        ("ALLOW_WRITES", "maybe"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"LAMBDA_OPS_{name}", value)
    with pytest.raises(ValidationError):
        Settings()
