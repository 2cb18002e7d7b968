"""The key that seals 2026-07-28 ``requestState``: one per deployment, from Secrets Manager.

A confirmation takes two requests (the question, then the retry with the answer), and API Gateway may send
the retry to another Lambda execution environment: every environment must seal and unseal with the same
key. The SDK does the sealing (``mcp.server.request_state``: AES-256-GCM, expiry, binding to the method,
tool, arguments, audience and signed-in principal); this module only supplies the key ring:

- deployed: the secret the template creates (``LAMBDA_OPS_REQUEST_STATE_SECRET_ARN``), read with boto3 on
  the first request that needs it — never at import or init — and cached. ``AWSCURRENT`` seals;
  ``AWSCURRENT`` and ``AWSPREVIOUS`` unseal, so rotating the secret (put-secret-value) loses no confirmation
  in flight. The cache is renewed after ``max_age_s``, and at once (at most every ``min_refresh_s``) when a
  token names a key the ring does not hold (minted by an environment that already saw the new value).
- local (no ARN): a random key held by this process only (``RequestStateSecurity.ephemeral``).

Nothing here logs key material. A failure to read the secret fails closed: the SDK answers
"Invalid or expired requestState" (unseal) or an internal error (seal), and no tool body runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState, RequestStateSecurity

from app.config import Settings
from app.renewal import Renewal

logger = logging.getLogger("lambda_ops.request_state")

SecretReader = Callable[[str, str], "str | None"]
"""(secret ARN, version stage) → the secret string, or None when that stage does not exist."""


def _read_with_boto3() -> SecretReader:
    client: Any = None

    def read(secret_id: str, stage: str) -> str | None:
        nonlocal client
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(connect_timeout=3, read_timeout=5, retries={"mode": "standard"})
            client = boto3.session.Session().client("secretsmanager", config=config)
        try:
            value = client.get_secret_value(SecretId=secret_id, VersionStage=stage)
        except client.exceptions.ResourceNotFoundException:
            return None  # e.g. no AWSPREVIOUS before the first rotation
        secret = value.get("SecretString")
        return secret if isinstance(secret, str) else None

    return read


class SecretKeyRing:
    """The request-state keys from one Secrets Manager secret, read on first need and cached."""

    def __init__(
        self,
        secret_arn: str,
        *,
        reader: SecretReader | None = None,
        max_age_s: float = 900.0,
        min_refresh_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_arn = secret_arn
        self._reader = reader
        self._max_age_s, self._min_refresh_s, self._clock = max_age_s, min_refresh_s, clock
        self._lock = threading.Lock()
        self._codec: AESGCMRequestStateCodec | None = None
        self._loaded_at = 0.0
        self.loads = 0  # how many times the secret was read (tests, metrics)

    def codec(self) -> AESGCMRequestStateCodec:
        with self._lock:
            if self._codec is None or self._clock() - self._loaded_at > self._max_age_s:
                self._load()
            assert self._codec is not None
            return self._codec

    def renew(self) -> bool:
        """Read the secret again unless it was read within ``min_refresh_s``; True if it was read."""
        with self._lock:
            if self._codec is not None and self._clock() - self._loaded_at < self._min_refresh_s:
                return False
            self._load()
            return True

    def reset(self) -> None:
        """Forget the cached keys and client (e.g. a SnapStart after-restore hook); read again on need."""
        with self._lock:
            self._codec, self._reader = None, None

    def _load(self) -> None:
        reader = self._reader = self._reader or _read_with_boto3()
        current = reader(self.secret_arn, "AWSCURRENT")
        if not current:
            raise InvalidRequestState("no key")  # fails closed; the SDK logs the reason, not the value
        previous = reader(self.secret_arn, "AWSPREVIOUS")
        keys = [current] + ([previous] if previous and previous != current else [])
        self._codec = AESGCMRequestStateCodec(keys)  # copies and derives; rejects keys under 32 bytes
        self._loaded_at = self._clock()
        self.loads += 1


class KeyRingCodec:
    """The SDK's ``RequestStateCodec`` over a ``SecretKeyRing``: its AES-GCM codec, renewed when needed."""

    def __init__(self, ring: SecretKeyRing) -> None:
        self.ring = ring

    def seal(self, payload: bytes) -> str:
        return self.ring.codec().seal(payload)

    def unseal(self, token: str) -> bytes:
        try:
            return self.ring.codec().unseal(token)
        except InvalidRequestState as exc:
            if str(exc) != "unknown key" or not self.ring.renew():
                raise
            return self.ring.codec().unseal(token)  # minted under a key this environment had not yet read


def request_state_security(
    settings: Settings, *, reader: SecretReader | None = None, renewal: Renewal | None = None
) -> RequestStateSecurity:
    """The policy ``MCPServer(request_state_security=...)`` gets: the deployment's key ring, or (no secret
    configured) a per-process key, said at startup because it only suits a single local process. With a
    ``renewal``, a SnapStart restore drops the ring's cached keys and client (``SecretKeyRing.reset``)."""
    if settings.request_state_secret_arn:
        ring = SecretKeyRing(settings.request_state_secret_arn, reader=reader)
        if renewal is not None:
            renewal.register("request-state keys (Secrets Manager client and cached secret)", ring.reset)
        return RequestStateSecurity(codec=KeyRingCodec(ring), ttl=settings.request_state_ttl_s)
    logger.warning(
        "LAMBDA_OPS_REQUEST_STATE_SECRET_ARN is not set: confirmations are sealed with a random key of this "
        "process only (fine for a local run; deployed, a retry on another execution environment is refused)"
    )
    return RequestStateSecurity.ephemeral(ttl=settings.request_state_ttl_s)
