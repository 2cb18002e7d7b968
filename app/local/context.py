"""A stand-in for the context object AWS Lambda passes to a handler (what Powertools and Mangum read)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account: the sandbox and the local events agree on it
REGION = "us-east-1"
# The sandbox's credentials (moto accepts any).
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
FUNCTION_NAME = "lambda-ops-mcp"
TIMEOUT_SECONDS = 29.0  # the function's timeout: under API Gateway's 30 s integration timeout


@dataclass
class LambdaContext:
    """One invocation's context: a unique request id and a deadline ``timeout_s`` from its creation."""

    timeout_s: float = TIMEOUT_SECONDS
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    region: str = REGION
    account_id: str = ACCOUNT_ID
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_context: Any = None
    identity: Any = None
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """One stream per execution environment, as on Lambda: here, one per process."""
        day = time.strftime("%Y/%m/%d", time.gmtime())
        return f"{day}/[{self.function_version}]{_environment_id()}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@cache
def _environment_id() -> str:
    return uuid.uuid4().hex
