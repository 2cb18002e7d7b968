"""AWS failures become OpsError values with messages a model can act on."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from app.lambda_ops.errors import ErrorKind, OpsFailure, aws_call, from_botocore_error, from_client_error


def client_error(code: str, status: int = 400, message: str = "boom") -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetFunction")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "kind", "retryable"),
    [
        ("AccessDeniedException", 403, ErrorKind.ACCESS_DENIED, False),
        ("ResourceNotFoundException", 404, ErrorKind.NOT_FOUND, False),
        ("TooManyRequestsException", 429, ErrorKind.THROTTLED, True),
        ("ThrottlingException", 400, ErrorKind.THROTTLED, True),
        ("InvalidParameterValueException", 400, ErrorKind.INVALID_PARAMETER, False),
        ("ResourceConflictException", 409, ErrorKind.CONFLICT, True),
        ("PreconditionFailedException", 412, ErrorKind.CONFLICT, True),
        ("ServiceException", 500, ErrorKind.SERVICE_ERROR, True),
        ("RequestTooLargeException", 413, ErrorKind.INVALID_PARAMETER, False),
        ("KMSAccessDeniedException", 502, ErrorKind.SERVICE_ERROR, True),
        ("SomethingNew", 400, ErrorKind.AWS_ERROR, False),
    ],
)
def test_client_errors(code: str, status: int, kind: ErrorKind, retryable: bool) -> None:
    error = from_client_error(client_error(code, status), "GetFunction", "orders-api")
    assert (error.kind, error.retryable, error.aws_code, error.operation) == (
        kind,
        retryable,
        code,
        "GetFunction",
    )
    assert error.message


def test_messages_say_what_to_do() -> None:
    denied = from_client_error(client_error("AccessDeniedException", 403), "UpdateFunctionConfiguration", "f")
    assert "lambda:UpdateFunctionConfiguration" in denied.message
    assert "Retrying won't help" in denied.message
    missing = from_client_error(client_error("ResourceNotFoundException", 404), "GetFunction", "orderz")
    assert "'orderz'" in missing.message
    assert "name prefix" in missing.message
    throttled = from_client_error(client_error("TooManyRequestsException", 429), "ListFunctions")
    assert "retry" in throttled.message.lower()
    message = "The runtime parameter of nodejs12.x is no longer supported for updating functions."
    error = client_error("InvalidParameterValueException", message=message)
    rejected = from_client_error(error, "UpdateFunctionConfiguration", "f")
    assert "no longer supported" in rejected.message


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (ReadTimeoutError(endpoint_url="https://lambda"), ErrorKind.TIMEOUT, True),
        (EndpointConnectionError(endpoint_url="https://lambda"), ErrorKind.CONNECTION, True),
        (ConnectTimeoutError(endpoint_url="https://lambda"), ErrorKind.CONNECTION, True),
        (NoCredentialsError(), ErrorKind.CONFIGURATION, False),
        (NoRegionError(), ErrorKind.CONFIGURATION, False),
    ],
)
def test_botocore_errors(exc: Exception, kind: ErrorKind, retryable: bool) -> None:
    error = from_botocore_error(exc, "Invoke")  # type: ignore[arg-type]
    assert (error.kind, error.retryable) == (kind, retryable)


def test_an_invoke_timeout_warns_that_the_function_may_have_run() -> None:
    error = from_botocore_error(ReadTimeoutError(endpoint_url="https://lambda"), "Invoke", may_have_run=True)
    assert "may still be running" in error.message
    assert "not retried" in error.message


def test_aws_call_wraps_botocore_exceptions_only() -> None:
    with pytest.raises(OpsFailure) as caught, aws_call("ListFunctions"):
        raise client_error("ThrottlingException")
    assert caught.value.error.kind is ErrorKind.THROTTLED
    with pytest.raises(KeyError), aws_call("ListFunctions"):
        raise KeyError("a bug stays a bug")
