"""The fleet answer's coverage: per target, whether its part of the answer is complete, partial or missing,
why, and what a person does about it.

Reasons are few and each has a fix: ``access_denied`` (the member role is missing or does not trust the
server), ``region_disabled`` (an opt-in region the account has not enabled), ``throttled`` (Lambda kept
refusing after the retries the budget allowed), ``timeout`` (not read, or not finished, within the budget),
``error`` (anything else, with AWS's words).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from app.fleet.targets import Target
from app.lambda_ops import OpsError
from app.lambda_ops.errors import ErrorKind


class CoverageStatus(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"


class Reason(StrEnum):
    ACCESS_DENIED = "access_denied"
    REGION_DISABLED = "region_disabled"
    THROTTLED = "throttled"
    TIMEOUT = "timeout"
    ERROR = "error"


class TargetCoverage(BaseModel):
    """One target's part of the fleet answer."""

    account: str = Field(description="The account id.")
    region: str = Field(description="The region.")
    status: CoverageStatus = Field(
        description="complete: every function, version and alias needed was read (its counts are exact); "
        "partial: some were (counts are lower bounds); failed: nothing was read."
    )
    reason: Reason | None = Field(
        default=None,
        description="Why not complete: access_denied, region_disabled, throttled, timeout or error.",
    )
    message: str | None = Field(default=None, description="What went wrong and how to fix it.")
    functions_read: int = Field(description="Functions ($LATEST) read in this target (after the filter).")
    latest_source: str | None = Field(
        default=None,
        description="Where this target's $LATEST counts come from when not from the target itself (the AWS "
        "Config aggregator, as recorded then); null: read live.",
    )


def reason_of(error: OpsError) -> Reason:
    if error.kind.value == "region_disabled" or error.aws_code in (
        "RegionDisabledException",
        "OptInRequired",
    ):
        return Reason.REGION_DISABLED
    if error.kind is ErrorKind.ACCESS_DENIED:
        return Reason.ACCESS_DENIED
    if error.kind is ErrorKind.THROTTLED:
        return Reason.THROTTLED
    if error.kind is ErrorKind.TIMEOUT:
        return Reason.TIMEOUT
    return Reason.ERROR


def fix(reason: Reason, target: Target, budget_s: float) -> str:
    """What a person does about ``reason`` in ``target``."""
    if reason is Reason.ACCESS_DENIED:
        return (
            f"Fix: deploy the member roles (infra/member-roles.yaml, e.g. as a StackSet) to account "
            f"{target.account}, trusting this server's execution role, or leave the account out of "
            "LAMBDA_OPS_ACCOUNTS."
        )
    if reason is Reason.REGION_DISABLED:
        return (
            f"Fix: enable {target.region} in account {target.account} (Account → AWS Regions), or leave it "
            "out of LAMBDA_OPS_REGIONS."
        )
    if reason is Reason.THROTTLED:
        return (
            "Fix: Lambda's control plane kept throttling after retries (the account's own deployments share "
            "the limit): retry later, or lower LAMBDA_OPS_FLEET_RATE_PER_S."
        )
    if reason is Reason.TIMEOUT:
        return (
            f"Fix: not read within the {budget_s:.0f} s budget: ask again from a client that takes tasks "
            "(the task reads every target), or narrow accounts/regions."
        )
    return "Fix: see AWS's message; retry once it is resolved."


def failed(target: Target, error: OpsError, budget_s: float) -> TargetCoverage:
    reason = reason_of(error)
    # The fleet's own refusal to reach a target already says what to deploy: no second fix after it.
    says_fix = reason is Reason.ACCESS_DENIED and "infra/member-roles.yaml" in error.message
    hint = "" if says_fix else f" {fix(reason, target, budget_s)}"
    return TargetCoverage(
        account=target.account,
        region=target.region,
        status=CoverageStatus.FAILED,
        reason=reason,
        message=f"{error.message}{hint}",
        functions_read=0,
    )


def timed_out(target: Target, budget_s: float, *, started: bool) -> TargetCoverage:
    what = "still being read" if started else "not started"
    return TargetCoverage(
        account=target.account,
        region=target.region,
        status=CoverageStatus.FAILED,
        reason=Reason.TIMEOUT,
        message=f"{target.label}: {what} when the budget ran out. {fix(Reason.TIMEOUT, target, budget_s)}",
        functions_read=0,
    )


UNLISTED_REGION = "*"  # the coverage entry of an account's regions that could not be listed


def regions_unlisted(account: str, error: OpsError, budget_s: float) -> TargetCoverage:
    """An account whose enabled regions could not be read: its regions beyond the home one are missing."""
    entry = failed(
        Target(account, UNLISTED_REGION),
        error.model_copy(
            update={"message": f"enabled regions of {account} could not be read: {error.message}"}
        ),
        budget_s,
    )
    return entry.model_copy(
        update={"message": f"{entry.message} Only its home region was read; its other regions are missing."}
    )
