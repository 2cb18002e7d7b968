"""audit-runtimes with rank_by="invocations": the functions on old runtimes by traffic over 30 days, busiest
first, idle ones named as deletion candidates — and without rank_by, the audit exactly as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
