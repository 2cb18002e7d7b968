"""``AwsFleet``: the ``Fleet`` of a deployment, on boto3 (issue #14).

- Single target (``LAMBDA_OPS_ACCOUNTS`` and ``LAMBDA_OPS_REGIONS`` unset): exactly the server as it was —
  one facade on the function's own role and region, no STS call for a tool call without ``account`` (the
  home target's ``account`` is then ``""`` until something asked for the id, e.g. ``list-targets``).
- Otherwise: the home account (STS GetCallerIdentity, once, lazily) with the function's own role, and the
  configured accounts (ids, or the organization) through their member roles (``sessions``), in the
  configured regions; every Lambda client a fleet target gets is rate limited per account and region
  (``limits``) and retries in adaptive mode.

Facades are cached per (target, role, caller identity, tool), their member credentials refreshing themselves
(sessions.py): a boto3 client holds a connection pool, no thread. ``renew()`` drops credentials and clients
(SnapStart restore).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.credentials import CredentialResolver

from app.fleet import deadline
from app.fleet.config import ACCOUNT_ID, REGION, FleetConfig
from app.fleet.failures import classify
from app.fleet.limits import Limits
from app.fleet.organizations import Account, enabled_regions, organization_accounts
from app.fleet.sessions import Credentials, Given, Sessions
from app.fleet.targets import Caller, Target
from app.lambda_ops import CatalogProvider, LambdaClients, LambdaOps, WritePolicy
from app.lambda_ops.clients import ClientFactory, ClientSettings
from app.lambda_ops.errors import ErrorKind, OpsError, OpsFailure, aws_call, invalid

if TYPE_CHECKING:
    import botocore.session

# Fleet clients: adaptive retries (a throttle a retry absorbs is never surfaced), more attempts than a
# single-account call needs — none past the call's deadline (deadline.py) — and timeouts that bound the one
# attempt in flight at the deadline to 2 + 6 s: a 20 s budget ends by 28 s, inside the gateway's 30 s.
FLEET_CLIENTS = ClientSettings(
    retry_mode="adaptive", max_attempts=6, connect_timeout_s=2.0, read_timeout_s=6.0
)
STS_CONFIG = Config(  # also STS, EC2 and Organizations lookups: one attempt is at most 2 + 5 s
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    user_agent_extra="lambda-ops-mcp",
)
CHECK_BUDGET_S = 20.0  # list-targets check=true: inside the gateway's 30 s
CHECK_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=2,
    read_timeout=5,
    user_agent_extra="lambda-ops-mcp",
)
LOOKUP_TTL_S = 600.0  # the organization's accounts and each account's enabled regions
FAILED_LOOKUP_TTL_S = 60.0  # an account whose enabled regions could not be read: not asked again before
FACADES = 256  # cached facades (target, role, caller), least recently used dropped first
SERVER = Caller(identity="lambda-ops-mcp", tool="targets")  # the fleet's own lookups (enabled regions)

SessionFactory = Callable[..., Any]  # boto3.session.Session's signature


def _boto3_session(**kwargs: Any) -> Any:
    import boto3

    return boto3.session.Session(**kwargs)


_loader: Any = None
_loader_lock = threading.Lock()


def shared_core_session() -> botocore.session.Session:
    """A new botocore session that shares one model loader with every other the fleet makes. Each target
    needs a session of its own (its credentials), and each session would otherwise parse the service models
    again: 40 targets' first clients took 4.5 s of one core in parallel, 0.4 s with a shared loader. The
    loader holds parsed JSON models only (no credentials); built on first use, not at import."""
    import botocore.session  # with the first target's session, not at import

    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = botocore.session.get_session().get_component("data_loader")
    core = botocore.session.Session()
    core.register_component("data_loader", _loader)
    return core


@dataclass
class _Cached:
    ops: LambdaOps
    credentials: Credentials | None  # what it was built with, refreshing themselves (None: the own role)


class AwsFleet:
    def __init__(
        self,
        config: FleetConfig,
        *,
        policy: WritePolicy | None = None,
        catalog: CatalogProvider | None = None,
        home_ops: LambdaOps | None = None,
        session_factory: SessionFactory = _boto3_session,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.policy = policy or WritePolicy()
        self.catalog = catalog or CatalogProvider()
        self._given_home = home_ops
        self._session = session_factory
        environ = os.environ if environ is None else environ
        self.home_region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
        self.clock = clock
        self.limits = Limits(config.rate_per_s, clock=clock, sleep=sleep)
        self.sessions = Sessions(
            self._sts,
            partition=self._partition(),
            server_role=self._server_role_text,
            clock=wall_clock,
        )
        self._lock = threading.Lock()
        self._sts_client: Any = None
        self._account: str | None = None
        self._role_arn: str | None = None
        self._facades: OrderedDict[tuple[str, str, str, str, str], _Cached] = OrderedDict()
        self._accounts_at: tuple[float, list[Account]] | None = None
        self._regions_at: dict[str, tuple[float, list[str]]] = {}
        self._regions_failed: dict[str, tuple[float, OpsError]] = {}

    # --- the Fleet protocol ---------------------------------------------------------------------------------

    @property
    def home_only(self) -> bool:
        """Nothing configured: the home target alone, known without a call (the tools take today's path)."""
        return self.config.single

    @property
    def home(self) -> Target:
        return Target(self.home_account(), self.home_region)

    def targets(self) -> list[Target]:
        home = self.home
        if self.config.single:
            return [home]
        accounts = [a.id for a in self.accounts()]
        regions = self._regions_of_all(accounts)
        found = [home]
        for account in accounts:
            found += [
                Target(account, region) for region in regions[account] if Target(account, region) != home
            ]
        return list(dict.fromkeys(found))

    def resolve(self, account: str | None, region: str | None) -> Target:
        account = (account or "").strip() or None
        region = (region or "").strip() or None
        if region is not None and not REGION.fullmatch(region):
            raise invalid(f"'{region}' is not a region name (such as us-east-1).")
        if self.config.single:
            return self._resolve_single(account, region)
        found = self.home_account() if account is None else self._account_id(account)
        return Target(found, self._region(region))

    def ops(self, target: Target, caller: Caller, *, write: bool = False) -> LambdaOps:
        home = self._is_home_single(target) or (
            not self.config.single and target.account == self.home_account()
        )
        if home and target.region == self.home_region and self._given_home is not None:
            return self._given_home
        role = "" if home else self._role(write)
        key = (
            "home" if home else target.account,
            target.region,
            role,
            "" if home else caller.identity,  # raw: source_identity is lossy (a|b and a-b are one)
            "" if home else caller.tool,
        )
        credentials = None if home else self.sessions.credentials(target.account, role, caller)
        with self._lock:
            cached = self._facades.get(key)
            if cached is not None and cached.credentials is credentials:
                self._facades.move_to_end(key)
                return cached.ops
        ops = self._build(target, credentials, home)
        with self._lock:
            self._facades[key] = _Cached(ops, credentials)
            self._facades.move_to_end(key)
            evicted = [self._facades.popitem(last=False)[1] for _ in range(len(self._facades) - FACADES)]
        for gone in evicted:
            gone.ops.clients.close()
        return ops

    # --- beyond the protocol: names, reachability, renewal -------------------------------------------------

    def home_account(self) -> str:
        """The function's own account (STS GetCallerIdentity, once per execution environment)."""
        if self._account is None:
            with aws_call("GetCallerIdentity", service="sts"):
                answer = self._sts().get_caller_identity()
            self._account = str(answer["Account"])
            self._role_arn = role_of(str(answer.get("Arn", "")))
        return self._account

    def accounts(self) -> list[Account]:
        """The configured accounts, home first (names when the organization lists them)."""
        home = self.home_account()
        if self.config.organization is None:
            listed = [Account(a) for a in self.config.accounts]
        else:
            listed = self._organization()
        named = {a.id: a for a in listed}
        return [named.get(home, Account(home)), *[a for a in listed if a.id != home]]

    def names(self) -> dict[str, str]:
        """Account id → name, as far as the organization says (empty for an id list)."""
        if self.config.organization is None:
            return {}
        return {a.id: a.name for a in self._organization() if a.name}

    def regions(self) -> list[str]:
        """The configured regions as the settings say (``enabled`` resolves per account in ``targets``)."""
        return list(self.config.regions) or [self.home_region]

    def check(
        self, targets: list[Target], caller: Caller, *, budget_s: float = CHECK_BUDGET_S
    ) -> dict[Target, OpsError | None]:
        """Whether each target can be reached (its role assumed, one ListFunctions of one item), in parallel
        with at most ``workers`` at a time; what has not answered within ``budget_s`` is ``timeout``."""
        results: dict[Target, OpsError | None] = {}
        if not targets:
            return results
        at = self.clock() + budget_s  # every thread's AWS calls end with it (deadline.py)

        def reach(target: Target) -> OpsError | None:
            with deadline.until(at, self.clock):
                return self._reach(target, caller)

        pool = ThreadPoolExecutor(max_workers=min(self.config.workers, len(targets)))
        try:
            futures = {pool.submit(reach, target): target for target in targets}
            done, _ = wait(futures, timeout=budget_s)
            for future, target in futures.items():
                if future in done:
                    results[target] = future.result()
                else:
                    future.cancel()
                    results[target] = OpsError(
                        kind=ErrorKind.TIMEOUT,
                        message=f"{target.label} did not answer within {budget_s:g} s; check it alone.",
                        retryable=True,
                    )
        finally:
            # Joins the threads: none sends after the deadline, so at most one attempt each (2 + 5 s) is left.
            pool.shutdown(wait=True, cancel_futures=True)
            self.release()
        return results

    def release(self) -> None:
        """Close the connections of every member target's clients (they reconnect when next used): after a
        fan-out, no connection to tens of accounts outlives the request. The home target's stay open."""
        with self._lock:
            members = [cached.ops for key, cached in self._facades.items() if key[0] != "home"]
        for ops in members:
            ops.clients.close()

    def renew(self) -> None:
        """Drop credentials, clients and the cached facades (after a SnapStart restore)."""
        self.sessions.clear()
        with self._lock:
            self._facades.clear()
            self._regions_failed.clear()
            self._sts_client = None

    # --- internals ------------------------------------------------------------------------------------------

    def _resolve_single(self, account: str | None, region: str | None) -> Target:
        if region is not None and region != self.home_region:
            raise invalid(
                f"Region {region} is not one this server reaches: LAMBDA_OPS_REGIONS is unset, so only its "
                f"own region ({self.home_region or 'unknown'}). Omit region."
            )
        if account is None:
            return Target(self._account or "", self.home_region)
        if ACCOUNT_ID.fullmatch(account) and account == self.home_account():
            return Target(account, self.home_region)
        raise invalid(
            f"Account {account} is not one this server reaches: LAMBDA_OPS_ACCOUNTS is unset, so only its "
            f"own account ({self.home_account()}). Omit account."
        )

    def _is_home_single(self, target: Target) -> bool:
        return (
            self.config.single and target.region == self.home_region and target.account in ("", self._account)
        )

    def _account_id(self, given: str) -> str:
        if ACCOUNT_ID.fullmatch(given):
            known = {a.id for a in self.accounts()}
            if given not in known:
                raise invalid(
                    f"Account {given} is not in this server's fleet ({self._described_accounts()}). "
                    "list-targets lists the accounts."
                )
            return given
        matches = [
            a.id for a in self.accounts() if a.name is not None and a.name.casefold() == given.casefold()
        ]
        if not matches:
            raise invalid(
                f"No account of this server's fleet is named '{given}' ({self._described_accounts()}). "
                "Pass a 12-digit account id or a name list-targets shows."
            )
        if len(matches) > 1:
            raise invalid(
                f"Several accounts are named '{given}' ({', '.join(matches)}): pass the account id."
            )
        return matches[0]

    def _described_accounts(self) -> str:
        organization = self.config.organization
        if organization is None:
            return "LAMBDA_OPS_ACCOUNTS lists " + ", ".join(self.config.accounts)
        return f"LAMBDA_OPS_ACCOUNTS=organization{':' + organization if organization else ''}"

    def _region(self, region: str | None) -> str:
        if region is None or region == self.home_region or self.config.enabled_regions:
            return region or self.home_region  # enabled: a disabled one answers region_disabled when reached
        if self.config.regions and region not in self.config.regions:
            raise invalid(
                f"Region {region} is not one this server reaches (LAMBDA_OPS_REGIONS: "
                f"{', '.join(self.config.regions)})."
            )
        if not self.config.regions:
            raise invalid(
                f"Region {region} is not one this server reaches: LAMBDA_OPS_REGIONS is unset, so only its "
                f"own region ({self.home_region})."
            )
        return region

    def _role(self, write: bool) -> str:
        # Writes go through the writer role — only when writes are allowed at all: otherwise the facade
        # refuses before any AWS call, and the reader role (which every member has) is enough to say so.
        return (
            self.config.member_write_role if write and self.policy.allow_writes else self.config.member_role
        )

    def _organization(self) -> list[Account]:
        now = self.clock()
        cached = self._accounts_at
        if cached is not None and now - cached[0] < LOOKUP_TTL_S:
            return cached[1]
        client = deadline.guard(
            self._session(region_name=self.home_region or None).client("organizations", config=STS_CONFIG)
        )
        try:
            found = organization_accounts(client, self.config.organization or "")
        finally:
            client.close()
        self._accounts_at = (now, found)
        return found

    def _regions_of_all(self, accounts: list[str]) -> dict[str, list[str]]:
        if not self.config.enabled_regions:
            return {account: self.regions() for account in accounts}
        found: dict[str, list[str]] = {}
        with ThreadPoolExecutor(max_workers=max(1, min(self.config.workers, len(accounts)))) as pool:
            for account, regions in zip(accounts, pool.map(self._enabled_in, accounts), strict=True):
                found[account] = regions
        return found

    def unlisted(self) -> dict[str, OpsError]:
        """Accounts whose enabled regions (``LAMBDA_OPS_REGIONS=enabled``) could not be read when ``targets``
        last asked, and why: only their home-region target is in ``targets()``, so an answer over them must
        say their other regions are missing (the fleet audit's coverage does). Empty otherwise."""
        now = self.clock()
        with self._lock:
            return {
                account: error
                for account, (at, error) in self._regions_failed.items()
                if now - at < FAILED_LOOKUP_TTL_S
            }

    def _enabled_in(self, account: str) -> list[str]:
        """The account's enabled regions; its home region alone when they cannot be read — recorded
        (``unlisted``) for FAILED_LOOKUP_TTL_S, so callers say so and do not all retry it."""
        now = self.clock()
        cached = self._regions_at.get(account)
        if cached is not None and now - cached[0] < LOOKUP_TTL_S:
            return cached[1]
        with self._lock:
            failed = self._regions_failed.get(account)
        if failed is not None and now - failed[0] < FAILED_LOOKUP_TTL_S:
            return [self.home_region]
        try:
            home = account == self.home_account()
            credentials = (
                None if home else self.sessions.credentials(account, self.config.member_role, SERVER)
            )
            client = deadline.guard(
                self._client_session(credentials, self.home_region).client(
                    "ec2", config=STS_CONFIG, region_name=self.home_region or None
                )
            )
            try:
                regions = enabled_regions(client) or [self.home_region]
            finally:
                client.close()
        except OpsFailure as failure:
            with self._lock:
                self._regions_failed[account] = (now, failure.error)
            return [self.home_region]
        with self._lock:
            self._regions_failed.pop(account, None)
        self._regions_at[account] = (now, regions)
        return regions

    def _reach(self, target: Target, caller: Caller) -> OpsError | None:
        try:
            ops = self.ops(target, caller)
            with aws_call("ListFunctions"):
                client = ops.clients.client_within("lambda", CHECK_BUDGET_S / 4)
                try:
                    client.list_functions(MaxItems=1)
                finally:
                    client.close()  # a client of this check only: its connection ends with it
        except OpsFailure as failure:
            return classify(failure.error, target, self.home_region)
        return None

    def _build(self, target: Target, credentials: Credentials | None, home: bool) -> LambdaOps:
        if home and self.config.single:
            return LambdaOps(LambdaClients(), policy=self.policy, catalog=self.catalog)  # as before the fleet
        settings = dataclasses.replace(FLEET_CLIENTS, region=target.region)
        return LambdaOps(
            LambdaClients(settings, self._factory(target, credentials)),
            policy=self.policy,
            catalog=self.catalog,
        )

    def _factory(self, target: Target, credentials: Credentials | None) -> ClientFactory:
        def make(service: str, config: Config, region: str | None) -> Any:
            client = deadline.guard(  # every client: no request past the call's deadline
                self._client_session(credentials, region).client(service, config=config, region_name=region)
            )
            if service == "lambda":
                self.limits.attach(client, target.account, target.region)
            return client

        return make

    def _client_session(self, credentials: Credentials | None, region: str | None) -> Any:
        if credentials is None:
            return self._session(botocore_session=shared_core_session(), region_name=region or None)
        # A botocore session whose only credentials are the member session's, refreshing themselves: every
        # client made from it signs with the current ones, however long the facade lives.
        core = shared_core_session()
        core.register_component("credential_provider", CredentialResolver([Given(credentials)]))
        return self._session(botocore_session=core, region_name=region or None)

    def _sts(self) -> Any:
        """The STS client of the function's own role, on its region's endpoint (never the global one)."""
        if self._sts_client is None:
            session = self._session(region_name=self.home_region or None)
            core = getattr(session, "_session", None)
            if core is not None:
                core.set_config_variable("sts_regional_endpoints", "regional")
            self._sts_client = deadline.guard(session.client("sts", config=STS_CONFIG))
        return self._sts_client

    def _partition(self) -> str:
        if not self.home_region:
            return "aws"
        try:
            return str(self._session(region_name=self.home_region).get_partition_for_region(self.home_region))
        except Exception:  # an unknown region: the commercial partition
            return "aws"

    def _server_role_text(self) -> str:
        with contextlib.suppress(OpsFailure):
            self.home_account()
        return self._role_arn or "this server's execution role"


def role_of(caller_arn: str) -> str | None:
    """The role ARN behind an assumed-role session ARN (``arn:aws:sts::1:assumed-role/R/s`` →
    ``arn:aws:iam::1:role/R``); None for anything else."""
    parts = caller_arn.split(":")
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return None
