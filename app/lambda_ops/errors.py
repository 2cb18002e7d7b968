"""Errors as values: what went wrong, in words a model can act on, and whether retrying can help.

Operations return ``Result | OpsError``; the MCP layer turns an ``OpsError`` into a tool result with
``isError: true``. Inside the package, ``OpsFailure`` carries an ``OpsError`` up to the facade.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)
from pydantic import BaseModel, Field


class ErrorKind(StrEnum):
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    THROTTLED = "throttled"
    INVALID_PARAMETER = "invalid_parameter"  # AWS rejected a parameter (e.g. a runtime blocked for updates)
    CONFLICT = "conflict"  # the function is being changed by something else
    SERVICE_ERROR = "service_error"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    CONFIGURATION = "configuration"  # the server has no credentials or region
    REFUSED = "refused"  # this server's write policy refuses the operation
    INVALID_ARGUMENT = "invalid_argument"  # the request failed validation before any AWS call
    UNSUPPORTED = "unsupported"
    AWS_ERROR = "aws_error"  # any other AWS error, with its code
    REGION_DISABLED = "region_disabled"  # the region is not enabled in that account (an opt-in region)


class OpsError(BaseModel):
    """An operation that did not happen (or did not finish), and what to do about it."""

    kind: ErrorKind = Field(description="Category of the error.")
    message: str = Field(description="What went wrong and what to do next.")
    retryable: bool = Field(description="True if the same call may succeed later unchanged.")
    operation: str | None = Field(default=None, description="The AWS API operation that failed, if any.")
    aws_code: str | None = Field(default=None, description="The AWS error code, if AWS answered.")
    setting: str | None = Field(default=None, description="The server setting that refused the operation.")


class OpsFailure(Exception):
    """Raised inside the package; the facade returns ``.error``."""

    def __init__(self, error: OpsError) -> None:
        super().__init__(error.message)
        self.error = error


def refused(message: str, setting: str) -> OpsFailure:
    return OpsFailure(OpsError(kind=ErrorKind.REFUSED, message=message, retryable=False, setting=setting))


def invalid(message: str) -> OpsFailure:
    return OpsFailure(OpsError(kind=ErrorKind.INVALID_ARGUMENT, message=message, retryable=False))


_THROTTLING = {
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
}
_ACCESS = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
}
_CREDENTIALS = {"InvalidClientTokenId"}
# Credentials that were valid and ran out: nothing for an operator to fix (the fleet's member sessions and the
# function's own role renew themselves), unlike a denied call.
_EXPIRED = {"ExpiredTokenException", "ExpiredToken"}


def from_client_error(
    exc: ClientError, operation: str, function: str | None = None, *, service: str = "lambda"
) -> OpsError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    aws_message = str(error.get("Message", "")).strip() or code
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    target = f"function '{function}'" if function else "the requested resource"

    def make(kind: ErrorKind, message: str, retryable: bool = False) -> OpsError:
        return OpsError(kind=kind, message=message, retryable=retryable, operation=operation, aws_code=code)

    if code in _EXPIRED:
        return make(
            ErrorKind.AWS_ERROR,
            f"The session's credentials expired before AWS answered {service}:{operation} ({code}): they are "
            "renewed on the next call, so retry. No permission is missing.",
            retryable=True,
        )
    if code in _ACCESS or code in _CREDENTIALS:
        return make(
            ErrorKind.ACCESS_DENIED,
            f"AWS denied {service}:{operation} on {target} ({code}: {aws_message}). The server's IAM role "
            "lacks this permission or its credentials are invalid; an operator must fix that. Retrying won't "
            "help.",
        )
    if code == "ResourceNotFoundException":
        return make(
            ErrorKind.NOT_FOUND,
            f"AWS Lambda has no {target} in this account and region ({aws_message}). Check the exact name "
            "(names are case-sensitive) by listing functions with a name prefix.",
        )
    if code in _THROTTLING or status == 429:
        return make(
            ErrorKind.THROTTLED,
            f"AWS throttled {service}:{operation} ({code}) even after retries. Wait a few seconds and retry.",
            retryable=True,
        )
    if code == "InvalidParameterValueException":
        return make(
            ErrorKind.INVALID_PARAMETER, f"AWS rejected {service}:{operation} on {target}: {aws_message}"
        )
    if code in ("ResourceConflictException", "PreconditionFailedException"):
        return make(
            ErrorKind.CONFLICT,
            f"{target[0].upper()}{target[1:]} is being changed by another operation ({code}: {aws_message}). "
            "Wait until its last update status is Successful, re-read it, then retry.",
            retryable=True,
        )
    if code in (
        "RequestTooLargeException",
        "UnsupportedMediaTypeException",
        "InvalidRequestContentException",
    ):
        return make(ErrorKind.INVALID_PARAMETER, f"AWS rejected the request to {target}: {aws_message}")
    if code in ("ServiceException", "ServiceUnavailableException", "InternalFailure") or status >= 500:
        return make(
            ErrorKind.SERVICE_ERROR,
            f"AWS Lambda failed internally on {operation} ({code}: {aws_message}). Retry shortly.",
            retryable=True,
        )
    return make(ErrorKind.AWS_ERROR, f"{service}:{operation} on {target} failed: {code}: {aws_message}")


def from_botocore_error(
    exc: BotoCoreError, operation: str, *, may_have_run: bool = False, service: str = "lambda"
) -> OpsError:
    def make(kind: ErrorKind, message: str, retryable: bool) -> OpsError:
        return OpsError(kind=kind, message=message, retryable=retryable, operation=operation)

    if isinstance(exc, ReadTimeoutError):
        effect = (
            " The request reached AWS: it may have taken effect (the function may still be running). "
            "It was not retried, to avoid running it twice."
            if may_have_run
            else ""
        )
        return make(ErrorKind.TIMEOUT, f"AWS did not answer {service}:{operation} in time.{effect}", True)
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return make(
            ErrorKind.CONNECTION, f"Could not reach the AWS Lambda endpoint for {operation}: {exc}", True
        )
    if isinstance(exc, NoCredentialsError | NoRegionError):
        return make(
            ErrorKind.CONFIGURATION,
            f"The server is not configured to call AWS ({exc}). An operator must set credentials/region.",
            False,
        )
    return make(ErrorKind.AWS_ERROR, f"{service}:{operation} failed before AWS answered: {exc}", False)


@contextmanager
def aws_call(
    operation: str, function: str | None = None, *, may_have_run: bool = False, service: str = "lambda"
) -> Iterator[None]:
    """Turns botocore's exceptions raised inside the block into ``OpsFailure``; ``service`` names the API
    in messages (``cloudwatch:GetMetricData``)."""
    try:
        yield
    except ClientError as exc:
        raise OpsFailure(from_client_error(exc, operation, function, service=service)) from exc
    except BotoCoreError as exc:
        error = from_botocore_error(exc, operation, may_have_run=may_have_run, service=service)
        raise OpsFailure(error) from exc
