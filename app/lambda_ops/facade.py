"""``LambdaOps``: the one object the MCP layer calls. Synchronous (boto3 is); every method returns its
result model or an ``OpsError`` — AWS and validation failures are values, never exceptions."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Literal, TypeVar

from app.lambda_ops.audit import (
    AUDIT_SECONDS,
    DEFAULT_NAMES_PER_GROUP,
    DEFAULT_ROUTES,
    RuntimeAudit,
    audit_runtimes,
)
from app.lambda_ops.clients import LambdaClients
from app.lambda_ops.detail import FunctionDetail, get_function_detail
from app.lambda_ops.errors import OpsError, OpsFailure, aws_call, invalid
from app.lambda_ops.function_health import DEFAULT_WINDOW_MINUTES, FunctionHealth, read_function_health
from app.lambda_ops.functions import DEFAULT_PAGE_SIZE, FunctionPage, list_functions_page
from app.lambda_ops.health import HealthSince
from app.lambda_ops.health import health_since as read_health_since
from app.lambda_ops.invoke import InvokeResult, invoke_function, validate_payload
from app.lambda_ops.policy import WritePolicy
from app.lambda_ops.ranking import TrafficRanking, not_ranked, rank
from app.lambda_ops.runtime_info import CatalogProvider, RuntimeCatalogResult, catalog_result
from app.lambda_ops.runtimes import RuntimeCatalog, RuntimeStatus
from app.lambda_ops.traffic import DEFAULT_DAYS, Traffic, read_traffic
from app.lambda_ops.upgrade.effects import Effects
from app.lambda_ops.upgrade.plan import DEFAULT_BUDGET_S, UpgradeOptions, UpgradeResult
from app.lambda_ops.upgrade.runner import UpgradeRunner
from app.lambda_ops.upgrade_health import attach_health
from app.lambda_ops.versions import AliasRoute

T = TypeVar("T")
# The ranked audit (rank_by): its scan gets RANK_RESERVE_S less of AUDIT_SECONDS, left to the ranking's
# GetMetricData calls (none started after AUDIT_SECONDS, each given up after RANK_READ_S): inside 29 s.
RANK_RESERVE_S = 5.0
RANK_READ_S = 4.0


def utc_today() -> date:
    return datetime.now(UTC).date()


def utc_now() -> datetime:
    return datetime.now(UTC)


class LambdaOps:
    def __init__(
        self,
        clients: LambdaClients | None = None,
        *,
        policy: WritePolicy | None = None,
        catalog: CatalogProvider | None = None,
        today: Callable[[], date] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 1.0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.clients = clients or LambdaClients()
        self.policy = policy or WritePolicy()
        self.catalogs = catalog or CatalogProvider()
        # Without a clock of its own, the module's utc_today, looked up at each call (tests pin it there).
        self.today = today or (lambda: utc_today())
        self.clock, self.sleep = clock, sleep
        self.poll_interval_s = poll_interval_s
        self.now = now or (lambda: utc_now())  # wall clock: metric and log time ranges

    def _catalog(self) -> RuntimeCatalog:
        return self.catalogs.current(self.today())[0]

    @staticmethod
    def _guard(action: Callable[[], T]) -> T | OpsError:
        try:
            return action()
        except OpsFailure as failure:
            return failure.error

    def runtime_info(
        self, *, runtime: str | None = None, family: str | None = None
    ) -> RuntimeCatalogResult | OpsError:
        """The runtime catalog with each runtime's status today; optionally one runtime or one family."""

        def run() -> RuntimeCatalogResult:
            today = self.today()
            catalog, refreshed, note = self.catalogs.current(today)
            wanted_family = (family or "").strip().lower() or None
            wanted = (runtime or "").strip() or None
            if wanted is not None and catalog.get(wanted) is None:
                raise invalid(f"Unknown runtime '{wanted}'. Omit it to list every runtime.")
            if wanted_family is not None and wanted_family not in catalog.families:
                raise invalid(
                    f"Unknown family '{wanted_family}'. Known: {', '.join(sorted(catalog.families))}."
                )
            known = catalog.get(wanted) if wanted is not None else None
            if known is not None and wanted_family is not None and known.family != wanted_family:
                raise invalid(
                    f"{wanted} is a {known.family} runtime, not {wanted_family}: pass one or the other."
                )
            return catalog_result(
                catalog, today, refreshed=refreshed, note=note, family=wanted_family, identifier=wanted
            )

        return self._guard(run)

    def list_functions(
        self,
        *,
        marker: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        runtime: str | None = None,
        name_prefix: str | None = None,
        include_versions: bool = False,
    ) -> FunctionPage | OpsError:
        """One page of compact function entries (see ``functions`` for the marker contract)."""

        def run() -> FunctionPage:
            return list_functions_page(
                self.clients.control,
                self._catalog(),
                self.today(),
                marker=marker,
                page_size=page_size,
                runtime=runtime,
                name_prefix=name_prefix,
                include_versions=include_versions,
                clock=self.clock,
            )

        return self._guard(run)

    def get_function(self, name: str) -> FunctionDetail | OpsError:
        """One function's sanitised configuration, tags, reserved concurrency and runtime status."""

        def run() -> FunctionDetail:
            return get_function_detail(self.clients.control, _required(name), self._catalog(), self.today())

        return self._guard(run)

    def audit_runtimes(
        self,
        *,
        family: str | None = None,
        names_per_group: int = DEFAULT_NAMES_PER_GROUP,
        routes_limit: int = DEFAULT_ROUTES,
        rank_by: Literal["invocations"] | None = None,
        budget_s: float = AUDIT_SECONDS,
    ) -> RuntimeAudit | OpsError:
        """Every function of the account grouped by runtime, worst status first, read within ``budget_s``
        (a tool call's 20 s; a task's worker gives it minutes); with ``rank_by``, the functions on old
        runtimes ranked by invocations over 30 days (``ranking``)."""
        if rank_by not in (None, "invocations"):
            return invalid(f"rank_by must be 'invocations' or omitted, got '{rank_by}'.").error

        entered = self.clock()

        def ranker(
            old: Mapping[str | None, Sequence[str]],
            statuses: Mapping[str | None, RuntimeStatus],
            routes: list[AliasRoute],
        ) -> TrafficRanking:
            # Within the tool call's time: a client that gives up quickly, no call started after the limit.
            deadline = (self.clock, entered + budget_s)

            def read(names: list[str]) -> Traffic:
                cloudwatch = self.clients.client_within("cloudwatch", RANK_READ_S)
                return read_traffic(cloudwatch, names, DEFAULT_DAYS, self.now(), deadline=deadline)

            try:
                return rank(old, statuses, routes, read)
            except OpsFailure as failure:  # the audit stands without its ranking
                return not_ranked(failure.error.message)

        def run() -> RuntimeAudit:
            return audit_runtimes(
                self.clients.control,
                self._catalog(),
                self.today(),
                family=family,
                names_per_group=names_per_group,
                routes_limit=routes_limit,
                clock=self.clock,
                budget_s=budget_s - RANK_RESERVE_S if rank_by else budget_s,
                ranker=ranker if rank_by else None,
            )

        return self._guard(run)

    def function_health(
        self, name: str, *, qualifier: str | None = None, window_minutes: int = DEFAULT_WINDOW_MINUTES
    ) -> FunctionHealth | OpsError:
        """Metrics of the function (or one alias or version) over the last ``window_minutes`` against the
        7 days before, the anomalies found and its recent error lines (``function_health``)."""

        def run() -> FunctionHealth:
            return read_function_health(
                self.clients.control,
                self.clients.client("cloudwatch"),
                self.clients.client("logs"),
                _required(name),
                qualifier=qualifier,
                window_minutes=window_minutes,
                now=self.now(),
                clock=self.clock,
                sleep=self.sleep,
            )

        return self._guard(run)

    def traffic(self, functions: list[str], *, days: int = DEFAULT_DAYS) -> Traffic | OpsError:
        """Invocations of many functions over the last ``days``: one GetMetricData call per 500 functions
        (``traffic``). For ordering functions by what they serve (the audit's ranking, upgrade waves)."""
        return self._guard(lambda: self._traffic(functions, days))

    def _traffic(self, functions: list[str], days: int) -> Traffic:
        return read_traffic(self.clients.client("cloudwatch"), functions, days, self.now())

    def health_since(self, name: str, qualifier: str | None, since: datetime) -> HealthSince | OpsError:
        """Errors and duration of the function (or alias) since ``since`` against the 7 days before it; for a
        caller checking an upgrade later (``health.health_since``)."""

        def run() -> HealthSince:
            cloudwatch = self.clients.client("cloudwatch")
            return read_health_since(cloudwatch, _required(name), qualifier or None, since, self.now())

        return self._guard(run)

    def invoke(
        self,
        name: str,
        payload: str | None = None,
        *,
        log_tail: bool = False,
        read_timeout_s: float | None = None,
    ) -> InvokeResult | OpsError:
        """A synchronous invoke (a write: gated by the policy before any AWS call); ``read_timeout_s``: wait
        that long for the function (a task waits for the function's whole timeout)."""

        def run() -> InvokeResult:
            function, data = self._invoke_target(name, payload)
            client = (
                self.clients.invoke if read_timeout_s is None else self.clients.invoke_within(read_timeout_s)
            )
            return invoke_function(client, function, data, log_tail=log_tail)

        return self._guard(run)

    def function_timeout(self, name: str) -> int | OpsError:
        """The function's configured timeout in seconds (GetFunctionConfiguration)."""

        def run() -> int:
            function = _required(name)
            with aws_call("GetFunctionConfiguration", function):
                config = self.clients.control.get_function_configuration(FunctionName=function)
            return int(config.get("Timeout") or 3)

        return self._guard(run)

    def check_invoke(self, name: str, payload: str | None = None) -> str | OpsError:
        """What ``invoke`` checks before invoking (name, payload, write policy), without invoking: the
        function's name, or the error ``invoke`` would answer. Reads only."""
        return self._guard(lambda: self._invoke_target(name, payload)[0])

    def _invoke_target(self, name: str, payload: str | None) -> tuple[str, bytes]:
        function = _required(name)
        data = validate_payload(payload)
        refusal = self.policy.check_name(function)
        if refusal is not None:
            raise refusal
        if self.policy.needs_tags:
            with aws_call("GetFunctionConfiguration", function):
                arn = self.clients.control.get_function_configuration(FunctionName=function)["FunctionArn"]
            with aws_call("ListTags", function):
                tags = self.clients.control.list_tags(Resource=arn).get("Tags", {})
            if (refusal := self.policy.check_tags(function, tags)) is not None:
                raise refusal
        return function, data

    def update_runtime(
        self,
        name: str,
        target_runtime: str,
        *,
        dry_run: bool = False,
        allow_cross_family: bool = False,
        allow_downgrade: bool = False,
        smoke_payload: str | None = None,
        budget_s: float = DEFAULT_BUDGET_S,
        alias: str | None = None,
        allow_layer_mismatch: bool = False,
        ship_latest_code: bool = False,
        effects: Effects | None = None,
    ) -> UpgradeResult | OpsError:
        """The safe upgrade (``upgrade``): a plan if ``dry_run``, else update, wait, smoke test, rollback;
        with ``alias``, ships through it (``upgrade.ship``). ``effects``: how it runs (``upgrade.effects``;
        None: now, within ``budget_s``; a durable worker passes its own)."""
        options = UpgradeOptions(
            target_runtime=target_runtime.strip(),
            dry_run=dry_run,
            allow_cross_family=allow_cross_family,
            allow_downgrade=allow_downgrade,
            smoke_payload=smoke_payload,
            budget_s=budget_s,
            alias=alias,
            allow_layer_mismatch=allow_layer_mismatch,
            ship_latest_code=ship_latest_code,
            in_task=effects is not None and effects.durable,
        )

        def run() -> UpgradeResult:
            function = _required(name)
            since, entered = self.now(), self.clock()
            runner = UpgradeRunner(
                self.clients,
                self._catalog(),
                self.today(),
                self.policy,
                clock=self.clock,
                sleep=self.sleep,
                poll_interval_s=self.poll_interval_s,
            )
            if effects is not None and effects.durable:  # a task: since its start, the same on every replay
                since = datetime.fromtimestamp(effects.now(), UTC)
            result = runner.run(function, options, effects)
            # After the runner, not inside it: the function's health since the change (never an error).
            if effects is None or not effects.durable:
                return attach_health(result, self.clients, since, self.now(), self.clock() - entered)
            checked = effects.call(  # in a task: one checkpointed read, no gateway to beat (elapsed 0)
                "health since the change",
                lambda: attach_health(result, self.clients, since, self.now(), 0.0).model_dump(mode="json"),
            )
            return UpgradeResult.model_validate(checked)

        return self._guard(run)


def _required(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise invalid("A function name is required.")
    return name
