"""The Config aggregator's inventory (botocore Stubber: moto has no aggregator query): paged, and used only
for the $LATEST counts of targets whose own read did not complete — labelled with its source and time."""

from __future__ import annotations

import json

import boto3
from botocore.stub import Stubber

from app.fleet.audit import audit_fleet
from app.fleet.coverage import CoverageStatus
from app.fleet.inventory import QUERY, read_inventory
from app.fleet.targets import Target
from app.lambda_ops import CatalogProvider
from tests.fleet.moto_fleet import DENIED, MEMBER_A, MotoFleet
from tests.lambda_ops.helpers import TODAY


def item(account: str, region: str, name: str, runtime: str | None, at: str) -> str:
    configuration = {"runtime": runtime} if runtime else {}
    return json.dumps({
        "accountId": account, "awsRegion": region, "resourceName": name, "configuration": configuration,
        "configurationItemCaptureTime": at,
    })  # fmt: skip


def stubbed(pages: list[list[str]]) -> tuple[object, Stubber]:
    client = boto3.client("config", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for number, results in enumerate(pages):
        expected = {"Expression": QUERY, "ConfigurationAggregatorName": "org", "Limit": 100}
        if number:
            expected["NextToken"] = f"t{number}"
        response = {"Results": results, "QueryInfo": {"SelectFields": []}}
        if number < len(pages) - 1:
            response["NextToken"] = f"t{number + 1}"
        stubber.add_response("select_aggregate_resource_config", response, expected)
    stubber.activate()
    return client, stubber


DENIED_ITEMS = [
    item(DENIED, "us-east-1", "legacy-a", "nodejs16.x", "2026-11-20T08:00:00.000Z"),
    item(DENIED, "us-east-1", "legacy-b", "python3.8", "2026-11-21T09:30:00.000Z"),
]


def test_the_inventory_pages_through_the_aggregator() -> None:
    client, stubber = stubbed(
        [[DENIED_ITEMS[0]], [DENIED_ITEMS[1], item(MEMBER_A, "eu-west-1", "x", None, "")]]
    )
    inventory = read_inventory(client, "org")
    stubber.assert_no_pending_responses()
    assert inventory.pages == 2
    assert [f.name for f in inventory.of(Target(DENIED, "us-east-1")) or []] == ["legacy-a", "legacy-b"]
    assert (inventory.of(Target(MEMBER_A, "eu-west-1")) or [])[0].runtime is None


def test_config_fills_the_latest_counts_of_a_target_that_could_not_be_read(fleet: MotoFleet) -> None:
    client, _ = stubbed([DENIED_ITEMS])
    targets = [Target(MEMBER_A, "eu-west-1"), Target(DENIED, "us-east-1")]
    answer = audit_fleet(
        targets, fleet.ops_for(), catalog=CatalogProvider().shipped, today=TODAY,
        inventory=lambda deadline: read_inventory(client, "org", deadline=deadline),
    )  # fmt: skip
    denied = next(c for c in answer.coverage or [] if c.account == DENIED)
    assert denied.status is CoverageStatus.PARTIAL
    assert denied.latest_source == "AWS Config aggregator org"
    assert denied.functions_read == 2
    assert answer.inventory is not None
    assert answer.inventory.used_for == [f"{DENIED}/us-east-1"]
    assert str(answer.inventory.recorded_from) == "2026-11-20 08:00:00+00:00"
    assert answer.total_functions == 3  # member A's orders-eu, read live, and Config's two
    assert not answer.complete  # Config records no versions nor aliases: the target stays partial
    assert "AWS Config aggregator org" in (answer.note or "")
