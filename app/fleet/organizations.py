"""Which accounts and regions the fleet covers, as AWS Organizations and EC2 say.

- ``organization``: every ACTIVE account ``ListAccounts`` pages through (from the management account or a
  delegated administrator); ``organization:ou-…`` / ``organization:r-…``: that OU's subtree, by
  ``ListChildren`` (child OUs) and ``ListAccountsForParent`` recursively. Names come along, for
  ``list-targets`` and for a tool's ``account=<name>``.
- ``enabled``: an account's enabled regions by EC2 ``DescribeRegions`` (opted-in and default regions),
  called in that account with its own role. Not ``account:ListRegions``: for another account that needs the
  organization's trusted access for AWS Account Management and the management account's rights, while
  DescribeRegions needs only ``ec2:DescribeRegions`` in the member role and answers the same question
  for the account the credentials belong to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.lambda_ops.errors import aws_call

ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class Account:
    id: str
    name: str | None = None


def _active(entry: dict[str, Any]) -> bool:
    # ``State`` (2025) replaces ``Status``; either says whether the account is live.
    return str(entry.get("State") or entry.get("Status") or ACTIVE).upper() == ACTIVE


def _accounts(pages: Iterator[dict[str, Any]]) -> list[Account]:
    return [Account(a["Id"], a.get("Name")) for page in pages for a in page.get("Accounts", []) if _active(a)]


def organization_accounts(client: Any, parent: str = "") -> list[Account]:
    """The ACTIVE accounts of the organization (``parent`` empty) or of one OU / root's subtree."""
    if not parent:
        with aws_call("ListAccounts", service="organizations"):
            return _accounts(client.get_paginator("list_accounts").paginate())
    found: list[Account] = []
    pending = [parent]
    while pending:
        here = pending.pop()
        with aws_call("ListAccountsForParent", service="organizations"):
            found += _accounts(client.get_paginator("list_accounts_for_parent").paginate(ParentId=here))
        with aws_call("ListChildren", service="organizations"):
            for page in client.get_paginator("list_children").paginate(
                ParentId=here, ChildType="ORGANIZATIONAL_UNIT"
            ):
                pending += [child["Id"] for child in page.get("Children", [])]
    return list({account.id: account for account in found}.values())


def enabled_regions(ec2: Any) -> list[str]:
    """The regions enabled in the account whose credentials ``ec2`` holds, sorted."""
    with aws_call("DescribeRegions", service="ec2"):
        regions = ec2.describe_regions(AllRegions=False)["Regions"]
    return sorted(
        r["RegionName"] for r in regions if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
    )
