"""Why a target could not be read, in words an operator can act on (the kinds the fleet answers with)."""

from __future__ import annotations

from app.fleet.targets import Target
from app.lambda_ops.errors import ErrorKind, OpsError

# What Lambda answers valid credentials with in a region the account has not enabled (an opt-in region).
_NOT_ENABLED = {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired"}


def region_disabled(target: Target, operation: str | None = None) -> OpsError:
    return OpsError(
        kind=ErrorKind.REGION_DISABLED,
        message=f"Region {target.region} is not enabled in account {target.account} (an opt-in region): "
        "enable it in the account's Regions settings, or leave it out of LAMBDA_OPS_REGIONS.",
        retryable=False,
        operation=operation,
    )


EXPIRED = {"ExpiredToken", "ExpiredTokenException"}


def expired(target: Target, error: OpsError) -> OpsError:
    return error.model_copy(
        update={
            "message": f"The member session of account {target.account} expired during "
            f"{error.operation or 'a call'} ({error.aws_code}): it is assumed again on the next call, so "
            "retry. The member roles are fine.",
            "retryable": True,
        }
    )


def classify(error: OpsError, target: Target, home_region: str) -> OpsError:
    """A target's error as the fleet reports it: an invalid-token answer outside the region the credentials
    came from means the region is not enabled there (``region_disabled``); an expired session is one to
    retry, not a role to deploy; the rest unchanged."""
    if error.aws_code in EXPIRED:
        return expired(target, error)
    if (
        error.kind is ErrorKind.ACCESS_DENIED
        and error.aws_code in _NOT_ENABLED
        and target.region != home_region
    ):
        return region_disabled(target, error.operation).model_copy(update={"aws_code": error.aws_code})
    return error
