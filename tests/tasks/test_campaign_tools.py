"""``plan-runtime-campaign`` and ``run-runtime-campaign`` through the production handler (API Gateway events,
2026-07-28): the plan's structured result, the task-only refusal for clients without the tasks extension,
a changed plan refused naming what changed, and the one confirmation (elicitation) that covers the
campaign — declining changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from app.tasks.model import EXTENSION
from tests.tasks.conftest import TASKS_META, Stack, call, terminal, wait_for
from tests.tasks.test_task_campaign import BEFORE, SELECTION, campaign_stack, planned, state

ASKS = {**TASKS_META, "elicitation": {}}
HOME = "123456789012/us-east-1"


@pytest.fixture
def fast() -> Iterator[Stack]:
    yield from campaign_stack(0.01)


def run_call(handler: Any, arguments: dict[str, Any], **kw: Any) -> tuple[int, dict[str, Any]]:
    return call(handler, "tools/call", {"name": "run-runtime-campaign", "arguments": arguments}, **kw)


def untouched() -> None:
    for name, before in BEFORE.items():
        assert state(name)[0] == before, name
        assert state(name)[1] in (None, "1")


def test_the_plan_orders_waves_least_risky_first_and_counts_the_blast_radius(fast: Stack) -> None:
    plan = planned(fast.handler())
    waves = [
        (w["number"], w["tier"], [key.rsplit("/", 1)[1] for key in w["functions"]]) for w in plan["waves"]
    ]
    assert waves == [
        (1, "idle", ["partner-feed-exporter"]),
        (2, "low", ["slack-alerts-forwarder", "legacy-checkout-webhook", "user-profile-api"]),  # by traffic
        (3, "busiest", ["marketing-landing-ssr"]),
    ]
    assert [(x["name"], x["code"]) for x in plan["excluded"]] == [
        ("image-thumbnail-generator", "layers_compatible")
    ]
    assert "is built for nodejs16.x, nodejs18.x, not nodejs24.x" in plan["excluded"][0]["reason"]
    (radius,) = plan["blast_radius"]
    invocations = {f["name"]: f["invocations"] for f in plan["functions"]}
    assert (radius["account"], radius["region"], radius["functions"]) == ("123456789012", "us-east-1", 5)
    assert radius["invocations"] == sum(invocations.values())
    assert invocations["partner-feed-exporter"] == 0
    assert plan["busiest"][0] == f"{HOME}/marketing-landing-ssr (630000 invocations in 30 days)"
    sha, _, prints = plan["digest"].partition(".")
    assert len(sha) == 64
    assert prints  # 8 bytes a function: what lets a run say which ones changed
    aliased = {f["name"]: f["alias"] for f in plan["functions"]}
    assert aliased["user-profile-api"] == {"name": "live", "version": "1", "weights": {"1": 1.0}}
    assert aliased["partner-feed-exporter"] is None
    assert plan["complete"] is True
    assert planned(fast.handler())["digest"] == plan["digest"]  # the same account: the same digest


def test_a_client_without_the_tasks_extension_is_told_what_it_must_declare(fast: Stack) -> None:
    handler = fast.handler()
    digest = planned(handler)["digest"]
    status, answer = run_call(handler, {**SELECTION, "digest": digest}, capabilities={})
    assert status == 400
    assert answer["error"]["code"] == -32021
    assert answer["error"]["data"]["requiredCapabilities"] == {"extensions": {EXTENSION: {}}}
    untouched()


def test_a_plan_that_changed_since_is_refused_naming_what_changed(fast: Stack) -> None:
    handler = fast.handler()
    digest = planned(handler)["digest"]
    boto3.client("lambda").update_function_configuration(
        FunctionName="partner-feed-exporter", Runtime="nodejs18.x"
    )
    for capabilities in (TASKS_META, ASKS):  # refused before anything is asked
        status, answer = run_call(handler, {**SELECTION, "digest": digest}, capabilities=capabilities)
        assert status == 200
        result = answer["result"]
        assert result["isError"] is True
        assert "inputRequests" not in result
        text = result["content"][0]["text"]
        assert "The plan changed since its digest was made; nothing was started." in text
        assert (
            f"changed since you saw it (revision, runtime, code or alias): {HOME}/partner-feed-exporter"
            in text
        )
        assert "slack-alerts-forwarder" not in text
    assert state("marketing-landing-ssr") == ("nodejs16.x", "1", {})


def test_one_question_covers_the_campaign_and_declining_changes_nothing(fast: Stack) -> None:
    handler = fast.handler()
    plan = planned(handler)
    arguments = {**SELECTION, "digest": plan["digest"], "strategy": "Linear10PercentEvery1Minute"}
    status, answer = run_call(handler, arguments, capabilities=ASKS)
    assert status == 200
    asked = answer["result"]
    assert asked["resultType"] == "input_required", asked
    [(key, question)] = asked["inputRequests"].items()  # exactly one question
    assert question["method"] == "elicitation/create"
    words = question["params"]["message"]
    assert words.startswith(f"Upgrade the runtime of 5 Lambda function(s) (5 in {HOME}) in 3 wave(s)")
    assert "Strategy: Linear10PercentEvery1Minute for functions behind an alias" in words
    assert f"Busiest: {HOME}/marketing-landing-ssr (630000 invocations in 30 days)" in words
    assert "any failure in the first wave, or 3 in all" in words
    assert f"Plan digest: {plan['digest'][:16]}" in words
    state_token = asked["requestState"]

    declined = {key: {"action": "decline"}}
    params = {"name": "run-runtime-campaign", "arguments": arguments, "requestState": state_token}
    status, answer = call(handler, "tools/call", {**params, "inputResponses": declined}, capabilities=ASKS)
    assert status == 200
    result = answer["result"]
    assert result["resultType"] == "complete"
    assert "taskId" not in result
    assert result["content"][0]["text"].endswith(
        "Not started: the user declined the confirmation. Nothing changed."
    )
    untouched()

    accepted = {key: {"action": "accept", "content": {"confirm": True}}}
    status, answer = call(handler, "tools/call", {**params, "inputResponses": accepted}, capabilities=ASKS)
    created = answer["result"]
    assert created["resultType"] == "task", created
    done = wait_for(handler, created["taskId"], terminal, timeout=120)
    assert done["status"] == "completed", done
    assert "structuredContent" in done["result"], done["result"]
    assert done["result"]["structuredContent"]["strategy"] == "Linear10PercentEvery1Minute"
