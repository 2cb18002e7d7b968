"""``HomeFleet``: the fleet of one target, the home account and region — what the server reaches when no
accounts or regions are configured (a stand-in until the configured fleet, app/fleet/aws.py, is wired)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property

from app.fleet.targets import Caller, Target
from app.lambda_ops import LambdaOps
from app.lambda_ops.errors import aws_call, invalid


class HomeFleet:
    home_only = True  # no call is needed to know: the tools take today's path

    def __init__(self, ops: Callable[[], LambdaOps]) -> None:
        self._ops = ops

    @cached_property
    def home(self) -> Target:
        clients = self._ops().clients
        with aws_call("GetCallerIdentity", service="sts"):
            account = str(clients.client("sts").get_caller_identity()["Account"])
        region = (
            clients.settings.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        )
        return Target(account, region or "us-east-1")

    def targets(self) -> list[Target]:
        return [self.home]

    def resolve(self, account: str | None, region: str | None) -> Target:
        home = self.home
        if account not in (None, home.account) or region not in (None, home.region):
            raise invalid(
                f"This server answers for {home.label} only: LAMBDA_OPS_ACCOUNTS and LAMBDA_OPS_REGIONS "
                "configure more accounts and regions."
            )
        return home

    def ops(self, target: Target, caller: Caller, *, write: bool = False) -> LambdaOps:
        self.resolve(target.account, target.region)  # anything but home: invalid
        return self._ops()
