"""Bearer token verification with PyJWT: asymmetric algorithms only, ``iss`` exact, ``exp`` required,
``nbf``/``iat`` with a small leeway, and the audience — the canonical resource URL (RFC 8707) — or, in
client-id mode (Amazon Cognito without resource binding, whose access tokens carry no ``aud``), an
allow-listed ``client_id`` with ``token_use`` = ``access``."""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from jwt import PyJWK
from mcp.server.auth.provider import AccessToken

from app.auth.keys import KeySet, KeysUnavailable, UnknownKey
from app.auth.refusal import Refusal


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    algorithms: tuple[str, ...]
    leeway: int
    client_ids: frozenset[str]  # empty: audience mode

    @property
    def client_id_mode(self) -> bool:
        return bool(self.client_ids)


def _invalid(reason: str, message: str) -> Refusal:
    return Refusal(401, reason, message, error="invalid_token")


# PyJWT's exceptions, most specific first, to the bounded reasons of the AuthFailures metric.
_REASONS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.InvalidAudienceError, "audience"),
    (jwt.MissingRequiredClaimError, "claims"),
    (jwt.InvalidAlgorithmError, "algorithm"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.DecodeError, "malformed"),
]


async def verify(token: str, policy: TokenPolicy, keys: KeySet, audience: str) -> AccessToken:
    """The token's principal, or a ``Refusal`` (401 for the token, 503 when the keys cannot be had)."""
    try:
        header = jwt.get_unverified_header(token)  # only to find the key: alg and kid are checked below
    except jwt.PyJWTError as error:
        raise _invalid("malformed", "the bearer token is not a JWT") from error
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in policy.algorithms:
        raise _invalid("algorithm", f"tokens must be signed with {', '.join(policy.algorithms)}")
    if not isinstance(kid, str):
        raise _invalid("malformed", "the token names no signing key (kid)")
    try:
        key = await keys.key(kid)
    except UnknownKey as error:
        raise _invalid("unknown_key", "the token's signing key is not one of the issuer's") from error
    except KeysUnavailable as error:
        raise Refusal(503, "keys_unavailable", "the authorization server's keys are unavailable") from error
    try:
        # Client-id mode accepts a token without aud, but one that has an aud must name this resource: the
        # verified claims say which, and such a token is decoded (verified) again with the audience.
        claims = _decode(token, key, alg, policy, None if policy.client_id_mode else audience)
        check_aud = not policy.client_id_mode or "aud" in claims
        if policy.client_id_mode and check_aud:
            claims = _decode(token, key, alg, policy, audience)
    except jwt.PyJWTError as error:
        reason = next((r for kind, r in _REASONS if isinstance(error, kind)), "malformed")
        raise _invalid(reason, f"the bearer token was refused ({reason.replace('_', ' ')})") from error
    return _principal(token, claims, policy, audience if check_aud else None)


def _decode(token: str, key: PyJWK, alg: str, policy: TokenPolicy, audience: str | None) -> dict[str, object]:
    """PyJWT's verification: the signature with ``alg`` only, ``iss`` exact, ``exp`` required, ``nbf`` and
    ``iat`` with the leeway, and ``aud`` required and checked unless ``audience`` is None."""
    claims: dict[str, object] = jwt.decode(
        token,
        key,
        algorithms=[alg],
        issuer=policy.issuer,
        audience=audience,
        leeway=policy.leeway,
        options={
            "require": ["exp", "iss", *(["aud"] if audience else [])],
            "verify_aud": audience is not None,
        },
    )
    return claims


def _principal(
    token: str, claims: dict[str, object], policy: TokenPolicy, resource: str | None
) -> AccessToken:
    if claims.get("token_use", "access") != "access":
        raise _invalid("not_an_access_token", "an ID token is not an access token")
    client_id = claims.get("client_id", claims.get("azp"))
    if policy.client_id_mode and (claims.get("client_id") not in policy.client_ids):
        raise _invalid("client_not_allowed", "the token was issued to a client this server does not accept")
    sub = claims.get("sub")
    exp = claims.get("exp")
    return AccessToken(
        token=token,
        client_id=client_id if isinstance(client_id, str) else "",
        scopes=_scopes(claims),
        expires_at=exp if isinstance(exp, int) else None,
        resource=resource,
        subject=sub if isinstance(sub, str) else None,
        claims={"iss": policy.issuer, **{k: claims[k] for k in ("aud", "token_use", "jti") if k in claims}},
    )


def _scopes(claims: dict[str, object]) -> list[str]:
    """``scope`` (RFC 9068, Cognito: space-separated) or ``scp`` (a list, or a string)."""
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
