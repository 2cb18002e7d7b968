"""audit-runtimes with rank_by="invocations": the functions on old runtimes by traffic over 30 days, busiest
first, idle ones named as deletion candidates — and without rank_by, the audit exactly as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.lambda_ops import ErrorKind, LambdaClients, LambdaOps, OpsError, RuntimeAudit
from app.lambda_ops.ranking import rank
from app.lambda_ops.runtimes import RuntimeStatus
from app.lambda_ops.traffic import Traffic
from app.local.seed_health import DAILY_TRAFFIC, IDLE
from tests.conftest import HealthAccount
from tests.lambda_ops.helpers import TODAY

TODAY_START = datetime(2026, 11, 24, tzinfo=UTC)


def audit(result: RuntimeAudit | OpsError) -> RuntimeAudit:
    assert isinstance(result, RuntimeAudit), result
    return result


def metric_calls(client: Any) -> list[str]:
    calls: list[str] = []
    client.meta.events.register("before-call.cloudwatch", lambda model, **_: calls.append(model.name))
    return calls


def test_without_rank_by_the_audit_is_unchanged_and_reads_no_metrics(moto_health: HealthAccount) -> None:
    calls = metric_calls(moto_health.cloudwatch)
    plain = audit(moto_health.ops().audit_runtimes())
    assert plain.ranking is None
    assert calls == []
    ranked = audit(moto_health.ops().audit_runtimes(rank_by="invocations"))
    # the ranking is a new field: everything the audit said before is said the same way
    assert ranked.model_dump(exclude={"ranking"}) == plain.model_dump(exclude={"ranking"})


def test_the_busiest_lead_and_the_idle_are_deletion_candidates(moto_health: HealthAccount) -> None:
    calls = metric_calls(moto_health.cloudwatch)
    ranking = audit(moto_health.ops().audit_runtimes(rank_by="invocations")).ranking
    assert ranking is not None
    assert calls == ["GetMetricData"]  # every old-runtime function of the account in one batched call
    assert ranking.calls == 1
    counts = [entry.invocations for entry in ranking.busiest]
    assert counts == sorted(counts, reverse=True)
    assert ranking.busiest[0].function == "marketing-landing-ssr"
    assert ranking.busiest[0].invocations == 30 * DAILY_TRAFFIC["marketing-landing-ssr"]
    assert ranking.busiest[0].status is RuntimeStatus.DEPRECATED
    assert IDLE in ranking.idle
    assert ranking.idle_count >= len(ranking.idle)
    assert ranking.functions_ranked == ranking.idle_count + len(ranking.busiest) + ranking.more
    via_alias = {e.function: e.via for e in ranking.busiest if e.via}
    assert via_alias.get("orders-api-prod") == "prod"  # $LATEST is current; prod serves nodejs16.x


def test_a_family_ranks_only_its_functions(moto_health: HealthAccount) -> None:
    ranking = audit(moto_health.ops().audit_runtimes(family="python", rank_by="invocations")).ranking
    assert ranking is not None
    assert all((e.runtime or "").startswith("python") for e in ranking.busiest)
    assert "marketing-landing-ssr" not in {e.function for e in ranking.busiest} | set(ranking.idle)


def test_unreadable_metrics_leave_the_audit_standing(moto_lambda: Any) -> None:
    class Denied:
        def get_metric_data(self, **_: Any) -> Any:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")

    ops = LambdaOps(LambdaClients.of(moto_lambda, cloudwatch=Denied()), today=lambda: TODAY)
    result = audit(ops.audit_runtimes(rank_by="invocations"))
    assert result.total_functions > 0
    assert result.ranking is not None
    assert result.ranking.note is not None
    assert result.ranking.note.startswith("Not ranked: AWS denied cloudwatch:GetMetricData")


def test_rank_by_anything_else_is_refused(moto_lambda: Any) -> None:
    result = LambdaOps(LambdaClients.of(moto_lambda), today=lambda: TODAY).audit_runtimes(rank_by="errors")  # type: ignore[arg-type]
    assert isinstance(result, OpsError)
    assert result.kind is ErrorKind.INVALID_ARGUMENT


def test_an_alias_serving_a_worse_runtime_than_latest_is_the_one_ranked() -> None:
    from app.lambda_ops.versions import AliasRoute

    routes = [
        AliasRoute(
            function="api", alias="prod", version="2", weight=1.0, runtime="nodejs14.x",
            status=RuntimeStatus.BLOCKED, latest_runtime="nodejs18.x",
        )
    ]  # fmt: skip
    seen: list[list[str]] = []

    def read(names: list[str]) -> Traffic:
        seen.append(names)
        return Traffic(
            days=30, start=TODAY_START, end=TODAY_START, invocations={"api": 5, "cron": 0}, calls=1
        )

    ranking = rank({"nodejs18.x": ["api", "cron"]}, {"nodejs18.x": RuntimeStatus.DEPRECATED}, routes, read)
    assert seen == [["api", "cron"]]  # one read for all of them
    (api,) = ranking.busiest
    assert (api.function, api.runtime, api.via, api.status) == (
        "api",
        "nodejs14.x",
        "prod",
        RuntimeStatus.BLOCKED,
    )
    assert ranking.idle == ["cron"]


def test_the_ranking_has_its_share_of_the_call_and_no_more() -> None:
    """With rank_by the scan gets RANK_RESERVE_S less (its note says 15 s, not 20 s); no GetMetricData call
    starts after AUDIT_SECONDS — the ranking is then missing, said so, never partial (a function not read
    would pass for idle)."""
    from app.lambda_ops.audit import AUDIT_SECONDS
    from app.lambda_ops.facade import RANK_RESERVE_S
    from tests.lambda_ops.helpers import FakeClock, configuration, ops_for, stubbed_client

    client, stubber = stubbed_client()
    clock = FakeClock()
    client.meta.events.register("before-parameter-build.lambda.ListFunctions", lambda **_: clock.advance(11))
    for i in range(2):
        stubber.add_response(
            "list_functions", {"Functions": [configuration(f"f{i}", "java8")], "NextMarker": f"m{i}"}
        )

    class Slow:
        calls = 0

        def get_metric_data(self, **_: Any) -> Any:
            self.calls += 1
            clock.advance(AUDIT_SECONDS)  # as if CloudWatch took the rest of the call
            return {"MetricDataResults": []}

    ops = ops_for(client, clock=clock)
    slow = Slow()
    ops.clients = LambdaClients.of(client, cloudwatch=slow)
    result = audit(ops.audit_runtimes(rank_by="invocations"))
    assert result.note is not None
    assert f"could be read in {AUDIT_SECONDS - RANK_RESERVE_S:.0f} s" in result.note
    assert result.ranking is not None
    assert slow.calls == 0  # the scan took 22 s (two pages of 11 s): past 20 s, no metric call starts
    assert result.ranking.note == "Not ranked: no time left for the metrics after 0 GetMetricData calls"


def test_read_traffic_fails_whole_rather_than_answer_for_some() -> None:
    from app.lambda_ops.errors import OpsFailure
    from app.lambda_ops.traffic import read_traffic
    from tests.lambda_ops.helpers import FakeClock

    clock = FakeClock()

    class Paced:
        def get_metric_data(self, MetricDataQueries: list[Any], **_: Any) -> Any:
            clock.advance(3)
            return {
                "MetricDataResults": [
                    {"Id": q["Id"], "Timestamps": [], "Values": []} for q in MetricDataQueries
                ]
            }

    names = [f"fn-{i}" for i in range(1200)]  # three calls of 500
    with pytest.raises(OpsFailure, match=r"^no time left for the metrics after 2 GetMetricData calls$"):
        read_traffic(Paced(), names, 30, TODAY_START, deadline=(clock, clock() + 5))
