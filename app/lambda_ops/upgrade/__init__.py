"""Upgrading a function's runtime safely: plan, checks, update and wait, smoke test, rollback, and the
alias path (publish, smoke test the version, move the alias).

- ``plan``: the options, the result model and the checks that must pass before anything is written;
- ``checks`` (layers, architecture, SnapStart) and ``alias`` (the alias's checks) extend the plan;
- ``wait``: UpdateFunctionConfiguration and polling LastUpdateStatus within a deadline;
- ``runner``: the single-function upgrade; ``ship``: its alias path; ``run``: the state they share.
"""

from app.lambda_ops.upgrade.plan import (
    DEFAULT_BUDGET_S,
    MAX_BUDGET_S,
    Check,
    Outcome,
    UpgradeOptions,
    UpgradeResult,
    UpgradeStep,
)
from app.lambda_ops.upgrade.runner import UpgradeRunner

__all__ = [
    "DEFAULT_BUDGET_S",
    "MAX_BUDGET_S",
    "Check",
    "Outcome",
    "UpgradeOptions",
    "UpgradeResult",
    "UpgradeRunner",
    "UpgradeStep",
]
