"""Credentials for a member account: STS AssumeRole into its reader (or writer) role, naming the caller.

- ``SourceIdentity`` = the signed-in caller (their ``sub``; a machine token's client id): AWS copies it into
  every CloudTrail event of the session, and a role chained from it cannot change it. Session tags
  ``lambda-ops-caller`` and ``lambda-ops-tool`` say who and which tool (tags are also usable in the member
  role's conditions).
- 900 s sessions (the minimum STS grants): a leaked set of credentials is worth a quarter of an hour.
- The regional STS endpoint of the function's own region: no dependency on us-east-1, the call stays in the
  region, and the tokens are valid in every region.
- Refreshable (botocore's ``RefreshableCredentials``, the AssumeRole call as the refresher): a facade built
  on them keeps working for as long as it is used — a worker's 5-minute target, a 12-minute member-account
  task, an upgrade's whole invocation — renewing ``margin_s`` before expiry (in the calling thread, under
  the call's deadline), with the same SourceIdentity and tags each time. Static credentials would fail with
  ExpiredToken mid-task.
- Cached per (account, role, caller identity, tool) (the tool is part of the key so that the
  ``lambda-ops-tool`` tag in CloudTrail is always the tool that made the call); ``clear()`` (registered with
  app/renewal.py) drops them all after a SnapStart restore.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.credentials import CredentialProvider, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from app.fleet.targets import Caller
from app.lambda_ops.errors import (
    ErrorKind,
    OpsError,
    OpsFailure,
    from_botocore_error,
    from_client_error,
)

DURATION_S = 900
MARGIN_S = 120.0
CALLER_TAG = "lambda-ops-caller"
TOOL_TAG = "lambda-ops-tool"
_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidIdentityToken"}


Credentials = RefreshableCredentials  # what ``Sessions.credentials`` returns (its repr shows no secret)


class Given(CredentialProvider):
    """A botocore session's only credential provider: these (refreshable) credentials."""

    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def tag_value(value: str) -> str:
    """A session tag value: at most 256 characters of [\\w\\s+=,.@:/-]."""
    cleaned = "".join(c if c.isalnum() or c in " _+=,.@:/-" else "-" for c in value)
    return cleaned[:256] or "-"


class Sessions:
    """AssumeRole with the caller's identity, cached. ``sts`` returns the STS client (regional endpoint);
    ``server_role`` names the role the member roles must trust (for the fix in an access-denied message)."""

    def __init__(
        self,
        sts: Callable[[], Any],
        *,
        partition: str = "aws",
        server_role: Callable[[], str] = lambda: "the server's execution role",
        clock: Callable[[], float] = time.time,
        margin_s: float = MARGIN_S,
        duration_s: int = DURATION_S,
    ) -> None:
        self._sts, self.partition, self._server_role = sts, partition, server_role
        self.clock, self.margin_s, self.duration_s = clock, margin_s, duration_s
        self._cache: dict[tuple[str, str, str, str], RefreshableCredentials] = {}
        self._lock = threading.Lock()
        self.assumed = 0  # AssumeRole calls made (tests and benchmarks count them)

    def role_arn(self, account: str, role: str) -> str:
        return f"arn:{self.partition}:iam::{account}:role/{role}"

    def credentials(self, account: str, role: str, caller: Caller) -> RefreshableCredentials:
        """The credentials of (account, role, caller and tool), assumed on first use and refreshing themselves
        (AssumeRole again) ``margin_s`` before they expire; raises ``OpsFailure`` when the first AssumeRole
        fails (a failed refresh raises it from the AWS call that needed it)."""
        # The raw identity, not ``source_identity``: that one is sanitised and truncated for STS, so two
        # subjects (``a|b`` and ``a-b``) could map to one value and share each other's credentials.
        key = (account, role, caller.identity, caller.tool)
        with self._lock:
            found = self._cache.get(key)
        if found is not None:
            return found

        def fetch() -> dict[str, str]:
            return self._assume(account, role, caller)

        first = fetch()
        fresh = RefreshableCredentials(
            access_key=first["access_key"],
            secret_key=first["secret_key"],
            token=first["token"],
            expiry_time=datetime.fromisoformat(first["expiry_time"]),
            refresh_using=fetch,
            method=Given.METHOD,
            time_fetcher=lambda: datetime.fromtimestamp(self.clock(), UTC),
            advisory_timeout=int(self.margin_s),  # refresh from here on; a failure keeps the current ones
            mandatory_timeout=int(self.margin_s / 2),  # from here on a refresh must succeed
        )
        with self._lock:
            return self._cache.setdefault(key, fresh)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def _assume(self, account: str, role: str, caller: Caller) -> dict[str, str]:
        """One AssumeRole, as botocore's refreshable credentials take it (``expiry_time`` ISO 8601)."""
        arn = self.role_arn(account, role)
        try:
            self.assumed += 1
            answer = self._sts().assume_role(
                RoleArn=arn,
                RoleSessionName=f"lambda-ops-{caller.source_identity}"[:64],
                DurationSeconds=self.duration_s,
                SourceIdentity=caller.source_identity,
                Tags=[
                    {"Key": CALLER_TAG, "Value": tag_value(caller.identity)},
                    {"Key": TOOL_TAG, "Value": tag_value(caller.tool)},
                ],
            )
        except ClientError as exc:
            raise OpsFailure(self._denied(exc, account, role)) from exc
        except BotoCoreError as exc:
            raise OpsFailure(from_botocore_error(exc, "AssumeRole", service="sts")) from exc
        found = answer["Credentials"]
        expiration = found["Expiration"]
        expires_at = expiration.timestamp() if hasattr(expiration, "timestamp") else float(expiration)
        return {
            "access_key": found["AccessKeyId"],
            "secret_key": found["SecretAccessKey"],
            "token": found["SessionToken"],
            "expiry_time": datetime.fromtimestamp(expires_at, UTC).isoformat(),
        }

    def _denied(self, exc: ClientError, account: str, role: str) -> OpsError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _DENIED:
            return OpsError(
                kind=ErrorKind.ACCESS_DENIED,
                message=f"role {role} is missing in {account} or does not trust {self._server_role()}: "
                f"deploy infra/member-roles.yaml to account {account} (the StackSet in the README) with this "
                "deployment's ServerRoleArn and WorkerRoleArn, or fix the role's trust policy. Retrying "
                "won't help.",
                retryable=False,
                operation="AssumeRole",
                aws_code=code,
            )
        if code == "RegionDisabledException":
            return OpsError(
                kind=ErrorKind.REGION_DISABLED,
                message=f"STS is not activated in this server's region for account {account}: activate it "
                "(IAM account settings) in the server's account.",
                retryable=False,
                operation="AssumeRole",
                aws_code=code,
            )
        return from_client_error(exc, "AssumeRole", service="sts")
