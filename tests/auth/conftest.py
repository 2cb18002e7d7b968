from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.config import Settings
from app.handler import build_handler
from app.surface.server import build_ops, build_server
from tests.auth.issuer import Issuer, running_issuer
from tests.helpers import LambdaContext

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


class RecordingOps:
    """The real domain facade (writes off: refused before any AWS call), recording every method a tool
    calls — how the forgery tests prove that no tool ran."""

    def __init__(self, settings: Settings) -> None:
        self._ops = build_ops(settings)
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._ops, name)
        if not callable(attribute):
            return attribute

        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return record


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture
def auth_settings(issuer: Issuer) -> Settings:
    return Settings(
        auth_mode="oauth",
        oauth_issuer=issuer.url,
        oauth_jwks_url=f"{issuer.url}/jwks",
        oauth_http_timeout_seconds=1.0,
        allowed_origins=["https://inspector.example.com"],
    )


@pytest.fixture
def ops(auth_settings: Settings) -> RecordingOps:
    return RecordingOps(auth_settings)


@pytest.fixture
def build(ops: RecordingOps) -> Callable[[Settings], Invoke]:
    def make(settings: Settings) -> Invoke:
        handler = build_handler(settings, server=build_server(settings, ops=ops))  # type: ignore[arg-type]
        return lambda ev: handler(ev, LambdaContext())

    return make


@pytest.fixture
def invoke(build: Callable[[Settings], Invoke], auth_settings: Settings) -> Invoke:
    return build(auth_settings)
