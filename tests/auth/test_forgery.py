"""The forgery corpus (issue #7 §5): each token or request through the production handler path (API Gateway
v2 events into ``build_handler``), asserting the status, the ``WWW-Authenticate`` challenge, and that no
tool ran (the domain facade recorded no call)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import HMACAlgorithm
from jwt.utils import base64url_encode

from app.config import Settings
from tests.auth.calls import READ_CALL, WRITE_CALL, challenge_params, tool_call
from tests.auth.conftest import Invoke, RecordingOps
from tests.auth.issuer import READ, RESOURCE, WRITE, Issuer
from tests.helpers import body_of, header

METADATA = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/.well-known/oauth-protected-resource/mcp"


def _segments(header_: dict[str, Any], claims: dict[str, Any]) -> bytes:
    encode = lambda part: base64url_encode(json.dumps(part).encode())  # noqa: E731
    return encode(header_) + b"." + encode(claims)


def alg_none(issuer: Issuer) -> str:
    return jwt.encode(issuer.claims(), None, algorithm="none", headers={"kid": issuer.kid})


def hs256_with_the_public_key(issuer: Issuer) -> str:
    """The key-confusion attack: HMAC keyed with the issuer's public key (PyJWT's encode refuses a PEM
    as an HMAC secret, so the test signs the segments itself)."""
    public_pem = issuer.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _segments({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}, issuer.claims())
    signature = HMACAlgorithm(HMACAlgorithm.SHA256).sign(signing_input, public_pem)
    return (signing_input + b"." + base64url_encode(signature)).decode()


def signed_by_another_key_same_kid(issuer: Issuer) -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(issuer.claims(), other, algorithm="RS256", headers={"kid": issuer.kid})


def cognito_id_token(issuer: Issuer) -> str:
    """Cognito's ID token: token_use=id — here even with this resource as its audience."""
    return issuer.token(token_use="id", email="a@example.com", scope=f"{READ} {WRITE}")


def oidc_id_token(issuer: Issuer) -> str:
    """An OpenID Connect ID token: aud is the client, with azp, nonce and at_hash, no scope."""
    return issuer.token(
        aud="client-abc", azp="client-abc", nonce="n-0S6", at_hash="x", scope=None, client_id=None
    )


now = lambda: int(time.time())  # noqa: E731

# (id, token maker, reason in the AuthFailures metric)
FORGERIES: list[tuple[str, Callable[[Issuer], str], str]] = [
    ("malformed", lambda i: "not-a-jwt", "malformed"),
    ("three_garbage_segments", lambda i: "eyJhbGciOi.e30.sig", "malformed"),
    ("alg_none", alg_none, "algorithm"),
    ("hs256_signed_with_the_public_key", hs256_with_the_public_key, "algorithm"),
    ("signed_by_another_key", signed_by_another_key_same_kid, "signature"),
    ("unknown_kid", lambda i: i.token(kid="rotated-away"), "unknown_key"),
    ("wrong_iss", lambda i: i.token(iss="https://evil.example.com"), "issuer"),
    ("iss_with_trailing_slash", lambda i: i.token(iss=i.url + "/"), "issuer"),
    ("wrong_aud", lambda i: i.token(aud="https://other.example.com/mcp"), "audience"),
    ("aud_with_trailing_slash", lambda i: i.token(aud=RESOURCE + "/"), "audience"),
    ("missing_aud", lambda i: i.token(aud=None), "claims"),
    ("missing_exp", lambda i: i.token(exp=None), "claims"),
    ("expired", lambda i: i.token(exp=now() - 120, iat=now() - 600), "expired"),
    ("nbf_in_the_future", lambda i: i.token(nbf=now() + 300), "not_yet_valid"),
    ("iat_in_the_future", lambda i: i.token(iat=now() + 300), "not_yet_valid"),
    ("cognito_id_token", cognito_id_token, "not_an_access_token"),
    ("oidc_id_token", oidc_id_token, "audience"),
]


def _assert_refused(response: dict[str, Any], status: int, ops: RecordingOps) -> dict[str, str]:
    assert response["statusCode"] == status
    assert body_of(response)["error"]["code"] == -32600  # a JSON-RPC error body, never a 5xx or HTML
    assert ops.calls == []  # no tool ran
    return challenge_params(header(response, "www-authenticate"))


@pytest.mark.parametrize(("make", "reason"), [f[1:] for f in FORGERIES], ids=[f[0] for f in FORGERIES])
def test_forged_tokens_get_401_invalid_token(
    invoke: Invoke,
    issuer: Issuer,
    ops: RecordingOps,
    capsys: pytest.CaptureFixture[str],
    make: Any,
    reason: str,
) -> None:
    token = make(issuer)
    response = invoke(tool_call(token=token))
    challenge = _assert_refused(response, 401, ops)
    assert challenge["error"] == "invalid_token"
    assert challenge["resource_metadata"] == METADATA
    assert challenge["scope"] == READ
    out = capsys.readouterr()
    emf = [json.loads(line) for line in out.out.splitlines() if '"AuthFailures"' in line]
    assert [line["reason"] for line in emf] == [reason]
    assert token not in out.out + out.err  # never logged


def test_no_token_gets_a_challenge_without_error(invoke: Invoke, ops: RecordingOps) -> None:
    challenge = _assert_refused(invoke(tool_call()), 401, ops)
    assert "error" not in challenge
    assert challenge == {"scope": READ, "resource_metadata": METADATA}


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token abc"])
def test_other_authorization_schemes_are_no_token(
    invoke: Invoke, ops: RecordingOps, authorization: str
) -> None:
    challenge = _assert_refused(invoke(tool_call(headers={"authorization": authorization})), 401, ops)
    assert "error" not in challenge


def test_a_write_without_a_token_is_challenged_for_both_scopes(invoke: Invoke, ops: RecordingOps) -> None:
    challenge = _assert_refused(invoke(tool_call(WRITE_CALL)), 401, ops)
    assert challenge["scope"] == f"{READ} {WRITE}"


def test_a_token_in_the_query_string_is_refused(invoke: Invoke, issuer: Issuer, ops: RecordingOps) -> None:
    """RFC 6750 §2.3 is not supported: a valid token in the URL is refused, even beside a header."""
    token = issuer.token()
    for ev in (tool_call(), tool_call(token=token)):
        ev["rawQueryString"] = f"access_token={token}"
        ev["queryStringParameters"] = {"access_token": token}
        challenge = _assert_refused(invoke(ev), 400, ops)
        assert challenge["error"] == "invalid_request"


def test_a_read_token_calling_a_write_gets_403_insufficient_scope(
    invoke: Invoke, issuer: Issuer, ops: RecordingOps
) -> None:
    challenge = _assert_refused(invoke(tool_call(WRITE_CALL, token=issuer.token(scope=READ))), 403, ops)
    assert challenge["error"] == "insufficient_scope"
    assert challenge["scope"] == f"{READ} {WRITE}"  # every scope the call needs
    assert challenge["resource_metadata"] == METADATA


@pytest.mark.parametrize("dry_run", [False, "false", 0, None])
def test_an_upgrade_that_is_not_a_dry_run_needs_write(
    invoke: Invoke, issuer: Issuer, ops: RecordingOps, dry_run: Any
) -> None:
    call = (
        "update-function-runtime",
        {"name": "orders-api", "target_runtime": "nodejs22.x", "dry_run": dry_run},
    )
    _assert_refused(invoke(tool_call(call, token=issuer.token(scope=READ))), 403, ops)


def test_a_write_only_token_cannot_read(invoke: Invoke, issuer: Issuer, ops: RecordingOps) -> None:
    challenge = _assert_refused(invoke(tool_call(READ_CALL, token=issuer.token(scope=WRITE))), 403, ops)
    assert challenge["scope"] == READ


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "jwks",
    [
        pytest.param(lambda issuer: f"http://127.0.0.1:{_closed_port()}/jwks", id="unreachable"),
        pytest.param(lambda issuer: f"{issuer.url}/garbage", id="garbage"),
        pytest.param(lambda issuer: f"{issuer.url}/no-keys", id="no_usable_keys"),
        pytest.param(lambda issuer: f"{issuer.url}/error", id="http_500"),
        pytest.param(lambda issuer: f"{issuer.url}/missing", id="http_404"),
    ],
)
def test_broken_jwks_gives_503_json_never_500(
    build: Callable[[Settings], Invoke], auth_settings: Settings, issuer: Issuer, ops: RecordingOps, jwks: Any
) -> None:
    issuer.routes["/garbage"] = (200, b"<html>not json</html>")
    issuer.routes["/no-keys"] = (200, b'{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}')
    issuer.routes["/error"] = (500, b"{}")
    invoke = build(auth_settings.model_copy(update={"oauth_jwks_url": jwks(issuer)}))
    response = invoke(tool_call(token=issuer.token()))
    assert response["statusCode"] == 503
    assert header(response, "retry-after") == "30"
    assert "keys" in body_of(response)["error"]["message"]
    assert ops.calls == []


def test_a_stalled_jwks_times_out_into_503(
    build: Callable[[Settings], Invoke], auth_settings: Settings, issuer: Issuer, ops: RecordingOps
) -> None:
    issuer.stall = 3.0
    invoke = build(auth_settings.model_copy(update={"oauth_http_timeout_seconds": 0.3}))
    started = time.monotonic()
    response = invoke(tool_call(token=issuer.token()))
    assert response["statusCode"] == 503
    assert time.monotonic() - started < 2.5
    assert ops.calls == []


def test_the_priming_key_cannot_be_forged_from_an_event(invoke: Invoke, ops: RecordingOps) -> None:
    """Mangum builds the ASGI scope from fixed keys: a header, a query parameter or a request-context
    field named like the priming key stays data."""
    from app.auth import PRIMING_KEY

    ev = tool_call(headers={PRIMING_KEY: "true"})
    ev["rawQueryString"] = f"{PRIMING_KEY}=true"
    ev["queryStringParameters"] = {PRIMING_KEY: "true"}
    ev["requestContext"][PRIMING_KEY] = True
    ev["stageVariables"] = {PRIMING_KEY: "true"}
    ev[PRIMING_KEY] = True
    _assert_refused(invoke(ev), 401, ops)
