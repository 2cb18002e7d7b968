"""Waves span the fleet: functions of equal traffic are taken from each target in turn, so a wave's batches
run in every account at once (bench/campaign.py measured a wave of one account at a time: 2.3x slower)."""

from __future__ import annotations

from app.lambda_ops.upgrade.campaign_model import PlannedFunction
from app.lambda_ops.upgrade.campaign_run import batches
from app.lambda_ops.upgrade.campaign_waves import assign_waves


def planned(account: str, name: str, invocations: int | None) -> PlannedFunction:
    return PlannedFunction(
        account=account, region="us-east-1", name=name, runtime="nodejs18.x", target_runtime="nodejs22.x",
        alias=None, invocations=invocations, tier="idle", wave=0, rollback_possible=True, checks=[],
        warnings=[],
    )  # fmt: skip


def test_a_wave_of_idle_functions_takes_every_account_in_turn() -> None:
    functions = [
        planned(a, f"fn-{i}", 0) for a in ("111111111111", "222222222222", "333333333333") for i in range(4)
    ]
    [wave] = assign_waves(functions, wave_size=25)
    accounts = [key.split("/")[0] for key in wave.functions]
    assert accounts[:3] == ["111111111111", "222222222222", "333333333333"]
    assert accounts[3:6] == ["111111111111", "222222222222", "333333333333"]
    by_key = {f.key: f for f in functions}
    cut = batches([by_key[k] for k in wave.functions], 2)
    assert [len(b) for b in cut] == [6, 6]  # 2 of each account at once, not 2 of one account


def test_traffic_still_orders_the_waves_before_the_accounts() -> None:
    functions = [
        planned("111111111111", "busy", 900), planned("111111111111", "quiet", 10),
        planned("222222222222", "mid", 50), planned("222222222222", "idle", 0),
    ]  # fmt: skip
    waves = assign_waves(functions, wave_size=25)
    assert [(w.tier, [k.split("/")[-1] for k in w.functions]) for w in waves] == [
        ("idle", ["idle"]),
        ("low", ["quiet", "mid"]),
        ("busiest", ["busy"]),
    ]
