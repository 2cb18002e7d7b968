"""Client-id mode, for Amazon Cognito without resource binding: its access tokens carry ``client_id``,
``scope`` and ``token_use=access`` but no ``aud``. With LAMBDA_OPS_OAUTH_CLIENT_IDS set, such a token is
accepted from an allow-listed client; an ID token never is, and a token that has an aud must name this
resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.config import Settings
from tests.auth.calls import tool_call
from tests.auth.conftest import Invoke, RecordingOps
from tests.auth.issuer import READ, RESOURCE, Issuer
from tests.helpers import header


@pytest.fixture
def cognito(build: Callable[[Settings], Invoke], auth_settings: Settings) -> Invoke:
    return build(auth_settings.model_copy(update={"oauth_client_ids": ["client-abc", "machine-ci"]}))


def cognito_access(issuer: Issuer, **claims: Any) -> str:
    return issuer.token(**{"aud": None, "token_use": "access", "username": "alice", **claims})


def test_an_allow_listed_clients_access_token_without_aud_is_accepted(
    cognito: Invoke, issuer: Issuer
) -> None:
    assert cognito(tool_call(token=cognito_access(issuer)))["statusCode"] == 200
    machine = cognito_access(issuer, client_id="machine-ci", sub="machine-ci")  # client credentials
    assert cognito(tool_call(token=machine))["statusCode"] == 200


def test_with_resource_binding_the_aud_must_be_this_resource(cognito: Invoke, issuer: Issuer) -> None:
    assert cognito(tool_call(token=cognito_access(issuer, aud=RESOURCE)))["statusCode"] == 200
    assert (
        cognito(tool_call(token=cognito_access(issuer, aud="https://other.example.com/mcp")))["statusCode"]
        == 401
    )


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"client_id": "someone-else"}, id="client_not_allowed"),
        pytest.param({"client_id": None, "azp": "client-abc"}, id="no_client_id_claim"),
        pytest.param({"token_use": "id", "aud": None}, id="cognito_id_token_without_aud"),
        pytest.param({"token_use": "id", "aud": "client-abc", "client_id": None}, id="cognito_id_token"),
        pytest.param(
            {"aud": "client-abc", "nonce": "n", "client_id": None, "token_use": None}, id="oidc_id_token"
        ),
    ],
)
def test_refused_in_client_id_mode(cognito: Invoke, issuer: Issuer, ops: RecordingOps, claims: Any) -> None:
    response = cognito(tool_call(token=cognito_access(issuer, **claims)))
    assert response["statusCode"] == 401
    assert 'error="invalid_token"' in (header(response, "www-authenticate") or "")
    assert ops.calls == []


def test_the_resources_own_scope_is_still_required(
    cognito: Invoke, issuer: Issuer, ops: RecordingOps
) -> None:
    """Cognito issues its own scopes too (openid, email, aws.cognito.signin.user.admin): not enough."""
    response = cognito(
        tool_call(token=cognito_access(issuer, scope="openid email aws.cognito.signin.user.admin"))
    )
    assert response["statusCode"] == 403
    assert f'scope="{READ}"' in (header(response, "www-authenticate") or "")
    assert ops.calls == []
