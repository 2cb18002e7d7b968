"""Faults a campaign meets, emulated in the sandbox's moto (a patch, never in the shipped app):

- ``BREAKS``: function → the runtime(s) on which its code fails. Invoking it (``$LATEST`` or a version)
  while it runs one of them answers a function error (``Unhandled``), as code that does not run on the
  new runtime would: the campaign's smoke test fails and the function is rolled back.
- ``CANARY_ERRORS``: functions whose new version fails under real traffic although its smoke test passes.
  When ``UpdateAlias`` gives a share of an alias's traffic to a version (``RoutingConfig``), the patch
  writes what CloudWatch would then record for the minute — Lambda's own ``AWS/Lambda`` series with the
  ``FunctionName``/``Resource``/``ExecutedVersion`` dimensions, for the new version (20 % errors) and the
  old one (none) — into moto's CloudWatch of the function's account and region. The ExecutedVersion value
  is the version that was published during the campaign, known only then: that is why the datapoints are
  written when the traffic moves, not seeded beforehand. The gate then reads them as it reads AWS's.

``install`` is idempotent; ``configure`` sets what faults apply (tests name their own functions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

Runtimes = str | tuple[str, ...]
BREAKS: dict[str, Runtimes] = {"legacy-checkout-webhook": ("nodejs22.x", "nodejs24.x")}
CANARY_ERRORS: set[str] = {"user-profile-api"}
CANARY_INVOCATIONS = 100  # a minute of the canary's share
CANARY_ERROR_SHARE = 0.2

_lock = threading.Lock()
_breaks: dict[str, tuple[str, ...]] = {}
_canary: set[str] = set()
_installed: list[tuple[Any, str, Callable[..., Any]]] = []


def configure(breaks: Mapping[str, Runtimes] | None = None, canary_errors: set[str] | None = None) -> None:
    with _lock:
        _breaks.clear()
        for name, runtimes in (BREAKS if breaks is None else breaks).items():
            _breaks[name] = (runtimes,) if isinstance(runtimes, str) else tuple(runtimes)
        _canary.clear()
        _canary.update(CANARY_ERRORS if canary_errors is None else canary_errors)


def install(breaks: Mapping[str, Runtimes] | None = None, canary_errors: set[str] | None = None) -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend  # the backend without Docker

    configure(breaks, canary_errors)
    with _lock:
        if _installed:
            return
        original_invoke = LambdaSimpleBackend.invoke
        original_update_alias = LambdaBackend.update_alias

        def invoke(
            self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
        ) -> Any:
            function = self.get_function(function_name, qualifier)
            if function.run_time in _breaks.get(function.function_name, ()):
                response_headers["x-amz-function-error"] = "Unhandled"
                return (
                    '{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module '
                    f"'legacy-crypto' on {function.run_time}\"}}"
                ).encode()
            return original_invoke(self, function_name, qualifier, body, headers, response_headers)

        def update_alias(
            self: Any,
            name: str,
            function_name: str,
            function_version: str,
            description: str,
            routing_config: Any,
        ) -> Any:
            alias = original_update_alias(
                self, name, function_name, function_version, description, routing_config
            )
            short = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
            weights = (routing_config or {}).get("AdditionalVersionWeights") or {}
            if short in _canary and weights:
                _canary_minute(self.account_id, self.region_name, short, name, function_version, weights)
            return alias

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
        LambdaBackend.update_alias = update_alias  # type: ignore[method-assign]
        _installed.extend(
            [
                (LambdaSimpleBackend, "invoke", original_invoke),
                (LambdaBackend, "update_alias", original_update_alias),
            ]
        )


def uninstall() -> None:
    with _lock:
        for owner, attribute, original in _installed:
            setattr(owner, attribute, original)
        _installed.clear()


def _canary_minute(
    account: str, region: str, function: str, alias: str, primary: str, weights: Mapping[str, Any]
) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    now = datetime.now(UTC).replace(tzinfo=None)  # moto keeps naive UTC timestamps
    data: list[dict[str, Any]] = []
    for version, share in [(primary, 1 - sum(float(w) for w in weights.values())), *weights.items()]:
        invocations = round(CANARY_INVOCATIONS * float(share) / max(float(w) for w in weights.values()))
        errors = round(invocations * CANARY_ERROR_SHARE) if version != primary else 0
        dims = [
            {"Name": "FunctionName", "Value": function},
            {"Name": "Resource", "Value": f"{function}:{alias}"},
            {"Name": "ExecutedVersion", "Value": str(version)},
        ]
        for metric, value in (("Invocations", invocations), ("Errors", errors)):
            data.append(
                {"MetricName": metric, "Dimensions": dims, "Value": value, "Timestamp": now, "Unit": "Count"}
            )
    cloudwatch_backends[account][region].put_metric_data("AWS/Lambda", data)
