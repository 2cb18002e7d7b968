"""A campaign plan's digest (``<sha256>.<fingerprints>``) and, for a run that finds another plan, what
changed in words — without the server keeping any plan (app/lambda_ops/upgrade/campaign.py says what it
covers)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from app.lambda_ops.errors import ErrorKind, OpsError
from app.lambda_ops.upgrade.campaign_model import (
    CampaignPlan,
    Excluded,
    PlannedFunction,
    Selection,
)


def _content(function: PlannedFunction) -> dict[str, Any]:
    return {
        "key": function.key,
        "runtime": function.runtime,
        "target": function.target_runtime,
        "revision": function.revision_id,
        "code": function.code_sha256,
        "alias": function.alias.model_dump() if function.alias else None,
    }


def _hash(value: Any) -> bytes:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).digest()


def digest_of(selection: Selection, planned: list[PlannedFunction], excluded: list[Excluded]) -> str:
    entries = sorted(
        [("p", _content(f)) for f in planned]
        + [("x", {"key": x.key, "runtime": x.runtime, "code": x.code}) for x in excluded],
        key=lambda e: str(e[1]["key"]),
    )
    sha = hashlib.sha256(
        json.dumps(
            {"selection": selection.model_dump(), "entries": entries}, sort_keys=True, separators=(",", ":")
        ).encode()
    ).hexdigest()
    prints = b"".join(_hash(e["key"])[:4] + _hash([kind, e])[:4] for kind, e in entries)
    return f"{sha}.{base64.urlsafe_b64encode(prints).decode().rstrip('=')}"


def changes(seen: str, plan: CampaignPlan) -> list[str]:
    """What differs between the plan whose digest is ``seen`` and ``plan``, in words ([] if the same)."""
    if seen == plan.digest:
        return []
    sha, _, blob = seen.partition(".")
    if sha == plan.sha:
        return []
    try:
        raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    except ValueError:
        raw = b""
    if not blob or len(raw) % 8:
        return ["the digest is not one a plan-runtime-campaign answered: plan again and pass its digest"]
    old = {raw[i : i + 4]: raw[i + 4 : i + 8] for i in range(0, len(raw), 8)}
    now: dict[bytes, tuple[str, bytes]] = {}
    for function in plan.functions:
        content = _content(function)
        now[_hash(function.key)[:4]] = (f"{function.key} (planned)", _hash(["p", content])[:4])
    for exclusion in plan.excluded:
        content = {"key": exclusion.key, "runtime": exclusion.runtime, "code": exclusion.code}
        label = f"{exclusion.key} (now excluded: {exclusion.code})"
        now[_hash(exclusion.key)[:4]] = (label, _hash(["x", content])[:4])
    said: list[str] = []
    for key, (label, content_hash) in sorted(now.items(), key=lambda item: item[1][0]):
        if key not in old:
            said.append(f"new in the plan: {label}")
        elif old[key] != content_hash:
            said.append(f"changed since you saw it (revision, runtime, code or alias): {label}")
    gone = len([key for key in old if key not in now])
    if gone:
        said.append(
            f"{gone} function(s) of the plan you saw are no longer selected (deleted, or changed so "
            "that the selection no longer matches)"
        )
    if not said:
        said.append("the selection or the shipping options differ from the plan you saw")
    return said


def refusal(seen: str, plan: CampaignPlan) -> OpsError | None:
    """The run's refusal when the plan changed since the person saw it."""
    found = changes(seen, plan)
    if not found:
        return None
    shown = found[:20] + ([f"… and {len(found) - 20} more"] if len(found) > 20 else [])
    return OpsError(
        kind=ErrorKind.CONFLICT,
        message="The plan changed since its digest was made; nothing was started. "
        + "; ".join(shown)
        + ". Plan again (plan-runtime-campaign), review it and pass the new digest.",
        retryable=False,
    )
