"""The issuer's signing keys: fetched on first need, cached for the execution environment's life with a
TTL, refetched once for an unknown ``kid`` — at most once per ``min_interval``, so a flood of tokens with
random kids cannot hammer the issuer — and a failed fetch is not retried before ``min_interval`` either.
Stale keys keep working while the issuer is unreachable."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKSetError

from app.auth.fetch import FetchError, get_json

Clock = Callable[[], float]
MIN_REFETCH_SECONDS = 30.0


class KeysUnavailable(Exception):
    """No keys could be had (unreachable, not JSON, no usable key): the request gets 503."""


class UnknownKey(Exception):
    """The keys are fine but none has this kid: the token gets 401."""


def discovery_urls(issuer: str) -> list[str]:
    """RFC 8414 (path inserted after the well-known prefix) first, then OpenID Connect discovery."""
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


class IssuerMetadata:
    """The issuer's metadata document, cached with a TTL; its ``issuer`` must be the configured one. A
    failure is remembered for ``MIN_REFETCH_SECONDS`` (the stale document, if any, serves meanwhile)."""

    def __init__(self, issuer: str, timeout: float, ttl: float, clock: Clock = time.monotonic) -> None:
        self.issuer, self._timeout, self._ttl, self._clock = issuer, timeout, ttl, clock
        self._document: dict[str, object] | None = None
        self._fetched_at = self._failed_at = -math.inf
        self._failure = ""

    async def document(self) -> dict[str, object]:
        now = self._clock()
        if self._document is not None and now - self._fetched_at < self._ttl:
            return self._document
        if now - self._failed_at < MIN_REFETCH_SECONDS:
            if self._document is not None:
                return self._document
            raise FetchError(self._failure)
        try:
            return await self._fetch()
        except FetchError as error:
            self._failed_at, self._failure = now, str(error)
            if self._document is not None:
                return self._document
            raise

    async def _fetch(self) -> dict[str, object]:
        problems = []
        for url in discovery_urls(self.issuer):
            try:
                document = await get_json(url, self._timeout)
            except FetchError as error:
                problems.append(str(error))
                continue
            if document.get("issuer") != self.issuer:
                problems.append(f"{url} names another issuer")
                continue
            self._document, self._fetched_at = document, self._clock()
            return document
        raise FetchError("issuer metadata: " + "; ".join(problems))


class KeySet:
    def __init__(
        self,
        jwks_url: str,
        metadata: IssuerMetadata,
        timeout: float,
        ttl: float,
        *,
        min_interval: float = MIN_REFETCH_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self._jwks_url, self._metadata, self._timeout = jwks_url, metadata, timeout
        self._ttl, self._min_interval, self._clock = ttl, min_interval, clock
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = self._attempted_at = -math.inf
        self.fetches = 0  # attempts, for tests and the notes

    async def key(self, kid: str) -> PyJWK:
        now = self._clock()
        if self._keys is None or now - self._fetched_at >= self._ttl:
            await self._refresh(now)
        keys = self._keys or {}
        if kid not in keys and now - self._attempted_at >= self._min_interval:
            await self._refresh(now)
            keys = self._keys or {}
        if kid not in keys:
            raise UnknownKey(kid)
        return keys[kid]

    async def _refresh(self, now: float) -> None:
        if now - self._attempted_at < self._min_interval:
            if self._keys is None:
                raise KeysUnavailable("the issuer's keys could not be fetched moments ago; not retried yet")
            return
        self._attempted_at = now
        self.fetches += 1
        try:
            keys = await self._fetch()
        except (FetchError, PyJWKSetError) as error:
            if self._keys is None:
                raise KeysUnavailable(str(error)) from error
            return  # stale keys go on working until the issuer is back
        self._keys, self._fetched_at = keys, now

    async def _fetch(self) -> dict[str, PyJWK]:
        url = self._jwks_url
        if not url:
            jwks_uri = (await self._metadata.document()).get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise FetchError("the issuer's metadata has no jwks_uri")
            url = jwks_uri
        document = await get_json(url, self._timeout)
        keyset = PyJWKSet.from_dict(document)  # skips keys PyJWT cannot use; raises if none is left
        keys = {
            k.key_id: k
            for k in keyset.keys
            if k.key_id and k.key_type in ("RSA", "EC") and k.public_key_use in (None, "sig")
        }
        if not keys:
            raise FetchError(f"{url} has no RSA or EC signing key with a kid")
        return keys
