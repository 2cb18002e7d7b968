"""``make bench``: a runtime campaign over an emulated fleet — 100 functions in 4 accounts (moto, in this
process; members reached with ``sts.assume_role``), half behind an alias — with canary steps shortened
(``Canary10Percent5Minutes`` at ``minute_s`` = 0.04: a 0.2 s bake). Its wall time is set against the floor
the traffic shifts allow: the sum of the bakes divided by the concurrency allowed (``concurrency_per_account``
times accounts). The ratio says what the waves, batches and AWS calls cost beyond waiting."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from app.lambda_ops import CatalogProvider, LambdaClients, LambdaOps, WritePolicy
from app.lambda_ops.upgrade.campaign import plan_campaign
from app.lambda_ops.upgrade.campaign_model import Place, Selection
from app.lambda_ops.upgrade.campaign_run import CampaignRunner, RunOptions, batches, in_process
from app.lambda_ops.upgrade.effects import InProcess
from app.lambda_ops.upgrade.strategy import parse_strategy

ACCOUNTS = ("123456789012", "111111111111", "222222222222", "444444444444")
REGION = "us-east-1"
PER_ACCOUNT = 25
MINUTE_S = 0.04  # Canary10Percent5Minutes → 0.2 s
CONCURRENCY = 4


def _session(account: str) -> boto3.session.Session:
    if account == ACCOUNTS[0]:
        return boto3.session.Session()
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/lambda-ops-mcp-writer", RoleSessionName="bench"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


class CallClock:
    """Every AWS call the campaign makes (botocore's before-call → after-call, retries included) and the time
    spent in it: moto answers in this process, under the GIL, so these calls are mostly serialised — the
    part of the wall time that is AWS's latency on AWS and this process's CPU here."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._started = threading.local()

    def attach(self, session: boto3.session.Session) -> None:
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after)

    def _before(self, **_: Any) -> None:
        self._started.at = time.perf_counter()

    def _after(self, **_: Any) -> None:
        took = time.perf_counter() - getattr(self._started, "at", time.perf_counter())
        with self._lock:
            self.calls += 1
            self.seconds += took


def _ops(session: boto3.session.Session) -> LambdaOps:
    def factory(service: str, config: Any, region: str | None) -> Any:
        return session.client(service, config=config, region_name=region or REGION)  # type: ignore[call-overload]

    return LambdaOps(
        LambdaClients(factory=factory), policy=WritePolicy(allow_writes=True), catalog=CatalogProvider()
    )


def _seed(session: boto3.session.Session, account: str) -> None:
    from tests.campaign.fleet import code

    iam, client = session.client("iam", region_name=REGION), session.client("lambda", region_name=REGION)
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for i in range(PER_ACCOUNT):
        name = f"svc-{account[-4:]}-{i:02d}"
        client.create_function(
            FunctionName=name,
            Runtime="nodejs18.x",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": code()},
            Timeout=10,
        )
        if i % 2 == 0:
            version = client.publish_version(FunctionName=name)["Version"]
            client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)


def measure() -> dict[str, float]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(config={"lambda": {"use_docker": False}}):
        sessions = {account: _session(account) for account in ACCOUNTS}
        for account, session in sessions.items():
            _seed(session, account)
        clock = CallClock()
        for session in sessions.values():
            clock.attach(session)
        ops = {account: _ops(session) for account, session in sessions.items()}
        places = [Place(account, REGION, ops[account]) for account in ACCOUNTS]
        catalog = CatalogProvider().current(datetime.now(UTC).date())[0]
        selection = Selection(
            runtimes=["nodejs18.x"], target_runtime="nodejs22.x", alias="live", smoke_payload="{}"
        )
        started = time.perf_counter()
        plan = plan_campaign(
            places, selection, catalog=catalog, today=datetime.now(UTC).date(), now=datetime.now(UTC)
        )
        planned_s = time.perf_counter() - started
        options = RunOptions(minute_s=MINUTE_S, concurrency_per_account=CONCURRENCY, max_failures=100)
        runner = CampaignRunner(plan, options, lambda a, r: ops[a], catalog=catalog)

        def effects(_: Any = None) -> InProcess:
            return InProcess(poll_interval_s=0.05, max_poll_interval_s=0.2)

        planning_calls, planning_s = clock.calls, clock.seconds
        started, cpu = time.perf_counter(), time.process_time()
        report = runner.run(effects(), in_process(effects, threads=True))
        wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        run_calls, run_call_s = clock.calls - planning_calls, clock.seconds - planning_s
    bake = parse_strategy(options.strategy, MINUTE_S).total_wait_s
    shifted = sum(1 for f in plan.functions if f.alias is not None)
    floor = shifted * bake / (CONCURRENCY * len(ACCOUNTS))
    # The runner's own floor: batches (at most CONCURRENCY functions of each account) run one after another,
    # each as long as its slowest — a bake where it holds an aliased function.
    by_key = {f.key: f for f in plan.functions}
    cut = [b for w in plan.waves for b in batches([by_key[k] for k in w.functions], CONCURRENCY)]
    batched_floor = sum(bake for b in cut if any(f.alias is not None for f in b))
    return {
        "functions": float(len(plan.functions)),
        "succeeded": float(report.counts.get("succeeded", 0)),
        "plan_s": planned_s,
        "wall_s": wall,
        "floor_s": floor,
        "ratio": wall / floor if floor else 0.0,
        "shifted": float(shifted),
        "calls": float(run_calls),
        "call_s": run_call_s,
        "cpu_s": cpu_s,  # this process's CPU in the run, every thread: moto's and ours, under one GIL
        "batches": float(len(cut)),
        "batched_floor_s": batched_floor,
    }


def report() -> bool:
    m = measure()
    print(
        f"campaign: {m['functions']:.0f} functions in {len(ACCOUNTS)} accounts ({m['shifted']:.0f} through "
        f"an alias, Canary10Percent5Minutes at a {MINUTE_S * 5:.1f} s bake), {m['succeeded']:.0f} succeeded; "
        f"plan {m['plan_s']:.2f} s; run {m['wall_s']:.2f} s against the bakes' floor {m['floor_s']:.2f} s "
        f"(sum of bakes / {CONCURRENCY * len(ACCOUNTS)} allowed at once): ratio {m['ratio']:.1f}; against "
        f"the batches' floor {m['batched_floor_s']:.2f} s ({m['batches']:.0f} batches, each as long as its "
        f"slowest bake): {m['wall_s'] / max(m['batched_floor_s'], 1e-9):.1f}; "
        f"{m['calls']:.0f} AWS calls ({m['calls'] / max(m['functions'], 1):.0f} a function) took "
        f"{m['call_s']:.2f} s summed over threads; the run used {m['cpu_s']:.2f} s of CPU (moto answers in "
        f"this process, under one GIL: CPU-bound where CPU ≈ wall)"
    )
    return m["succeeded"] == m["functions"]
