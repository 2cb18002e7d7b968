"""The checks a runtime change needs beyond the runtime itself: the function's architecture, SnapStart and
layers against the target runtime. Pure: the layers were read before (``deployment.read_layers``).

A layer version declares the runtimes and architectures it was built for when its publisher said so (a layer
of native wheels built for python3.8 breaks on python3.13): a declared mismatch fails the check unless
``allow_layer_mismatch``; an undeclared or unreadable declaration is a warning, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.lambda_ops.deployment import LayerInfo
from app.lambda_ops.runtimes import Runtime
from app.lambda_ops.upgrade.plan import Check


def compatibility_checks(
    config: Mapping[str, Any],
    target: str,
    known_target: Runtime | None,
    layers: list[LayerInfo],
    *,
    allow_layer_mismatch: bool = False,
) -> tuple[list[Check], list[str]]:
    checks: list[Check] = []
    warnings: list[str] = []
    architecture = str((config.get("Architectures") or ["x86_64"])[0])
    if known_target is not None and known_target.architectures is not None:
        offered = known_target.architectures
        checks.append(
            Check(
                name="architecture_supported",
                passed=architecture in offered,
                detail=f"{target} is offered on {', '.join(offered)}; the function runs on {architecture}",
            )
        )
    elif known_target is not None:
        warnings.append(f"The catalog does not say which architectures {target} supports: not checked.")
    if (config.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions":
        supported = known_target.snap_start if known_target is not None else None
        if supported is None:
            warnings.append(f"The function uses SnapStart; whether {target} supports it is not known.")
        else:
            checks.append(
                Check(
                    name="snap_start_supported",
                    passed=supported,
                    detail=f"the function uses SnapStart, which {target} "
                    + ("supports" if supported else "does not support (Java 11+, Python 3.12+, .NET 8+ do)"),
                )
            )
    mismatches: list[str] = []
    for layer in layers:
        if layer.note is not None:
            warnings.append(f"Layer {layer.arn}: {layer.note}; its compatibility is not checked.")
            continue
        if layer.compatible_runtimes is None:
            warnings.append(f"Layer {layer.arn} declares no compatible runtimes: check it works on {target}.")
        elif target not in layer.compatible_runtimes:
            mismatches.append(
                f"{layer.arn} is built for {', '.join(layer.compatible_runtimes)}, not {target}"
            )
        if layer.compatible_architectures is not None and architecture not in layer.compatible_architectures:
            mismatches.append(
                f"{layer.arn} is built for {', '.join(layer.compatible_architectures)}, not {architecture}"
            )
    if layers:
        detail = "; ".join(mismatches) if mismatches else f"no layer declares against {target}/{architecture}"
        if mismatches and allow_layer_mismatch:
            detail += " (allowed by allow_layer_mismatch)"
            warnings.append(
                "A layer built for another runtime can break the function (native code, paths): publish a "
                f"layer version built for {target} and attach it."
            )
        checks.append(
            Check(name="layers_compatible", passed=not mismatches or allow_layer_mismatch, detail=detail)
        )
    return checks, warnings
