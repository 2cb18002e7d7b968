"""Write gating decisions (the 'no AWS call' guarantees are tested in test_invoke / test_upgrade)."""

from __future__ import annotations

import pytest

from app.lambda_ops.errors import ErrorKind
from app.lambda_ops.policy import ALLOW_WRITES, PREFIXES, TAG, WritePolicy, function_name_of


def test_writes_are_off_by_default() -> None:
    refusal = WritePolicy().check_name("orders-api")
    assert refusal is not None
    assert refusal.error.kind is ErrorKind.REFUSED
    assert refusal.error.setting == ALLOW_WRITES
    assert ALLOW_WRITES in refusal.error.message


def test_prefix_allowlist() -> None:
    policy = WritePolicy.from_values(True, ["sandbox-", " dev-", ""])
    assert policy.function_prefixes == ("sandbox-", "dev-")
    assert policy.check_name("sandbox-orders") is None
    assert policy.check_name("arn:aws:lambda:us-east-1:123456789012:function:dev-x:live") is None
    refusal = policy.check_name("prod-orders")
    assert refusal is not None
    assert refusal.error.setting == PREFIXES
    assert PREFIXES in refusal.error.message
    # An ARN is judged by its function name, not by its text.
    assert policy.check_name("arn:aws:lambda:us-east-1:123456789012:function:prod-sandbox-") is not None


def test_tag_requirement() -> None:
    policy = WritePolicy.from_values(True, tag="lambda-ops=managed")
    assert policy.needs_tags
    assert policy.check_name("anything") is None
    assert policy.check_tags("f", {"lambda-ops": "managed", "team": "x"}) is None
    missing = policy.check_tags("f", {"team": "x"})
    assert missing is not None
    assert missing.error.setting == TAG
    assert "has no lambda-ops tag" in missing.error.message
    wrong = policy.check_tags("f", {"lambda-ops": "no"})
    assert wrong is not None
    assert "'no'" in wrong.error.message


@pytest.mark.parametrize("tag", ["novalue", "=x"])
def test_malformed_tag_setting(tag: str) -> None:
    with pytest.raises(ValueError, match=TAG):
        WritePolicy.from_values(True, tag=tag)


def test_describe() -> None:
    assert "disabled" in WritePolicy().describe()
    assert WritePolicy(allow_writes=True).describe() == "writes allowed for every function"
    both = WritePolicy.from_values(True, ["a-"], "k=v").describe()
    assert "'a-'" in both
    assert "k=v" in both


@pytest.mark.parametrize(
    ("identifier", "name"),
    [
        ("orders", "orders"),
        ("orders:live", "orders"),
        ("123456789012:function:orders", "orders"),
        ("arn:aws:lambda:us-east-1:123456789012:function:orders:7", "orders"),
    ],
)
def test_function_name_of(identifier: str, name: str) -> None:
    assert function_name_of(identifier) == name


@pytest.mark.parametrize(
    "target",
    [
        "lambda-ops-mcp-McpFunction-AbC123",
        "arn:aws:lambda:us-east-1:123456789012:function:lambda-ops-mcp-McpFunction-AbC123:live",
    ],
)
def test_the_server_never_writes_its_own_function(target: str) -> None:
    """Even when its name matches the write prefix: a broken runtime change would take it down mid-call."""
    policy = WritePolicy.from_values(True, ["lambda-ops-"], own_function="lambda-ops-mcp-McpFunction-AbC123")
    refusal = policy.check_name(target)
    assert refusal is not None
    assert refusal.error.kind is ErrorKind.REFUSED
    assert "this server itself" in refusal.error.message
    assert policy.check_name("lambda-ops-other") is None


def test_build_ops_protects_the_function_it_runs_as(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import Settings
    from app.surface.server import build_ops

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ops-mcp-fn")
    ops = build_ops(Settings(allow_writes=True))
    assert ops.policy.check_name("ops-mcp-fn") is not None
    assert ops.policy.check_name("orders-api") is None
