"""`make bench` is not part of `make test`, but its probes run the handler in ways no other test does (a
fresh process per measurement, a simulated SnapStart restore): one small run of each, so a change that
breaks them is caught here and not the next time someone measures."""

from __future__ import annotations

from pathlib import Path

from bench import campaign, fleet, health, latency, snapstart, tasks

ROOT = Path(__file__).resolve().parent.parent


def test_the_snapstart_probe_serves_after_a_simulated_restore() -> None:
    for prime in (True, False):
        measured = snapstart.probe(ROOT, calls=2, prime=prime)
        assert len(measured["warm"]) == 2  # type: ignore[arg-type]


def test_the_latency_probe_serves_signed_out_as_the_bench_runs_it() -> None:
    measured = latency.probe("app.handler", "handler", 2, None)
    assert len(measured["warm"]) == 2  # type: ignore[arg-type]


def test_the_task_probes_measure_the_worker_and_the_stack() -> None:
    assert tasks.cold_init("worker", None, runs=1) > 0
    measured = tasks.task_latencies(calls=2, first_steps=1)
    assert set(measured) == {"tasks_get_p50_ms", "ping_p50_ms", "first_step_ms"}


def test_the_health_probes_measure_what_the_answers_report() -> None:
    """get-function-health once per case (the probe itself checks the AWS calls it counted against the
    answer's aws_calls) and the ranked audit on a small fake account."""
    cases = {case["case"]: case for case in health.health_probe()}
    assert cases["checkout-session-handler"]["status"] == "anomalous"
    assert cases["coupon-validator-v1"]["status"] == "idle"
    assert all(case["metric_calls"] == 1 for case in cases.values())
    assert cases["coupon-validator-v1"]["calls"] == [
        "lambda:GetFunctionConfiguration",
        "cloudwatch:GetMetricData",
    ]
    ranked = health.ranked_audit(60)
    assert ranked["metric_calls"] == 1
    assert ranked["ranked_bytes"] > ranked["plain_bytes"]


def test_the_fleet_probe_audits_an_emulated_fleet_completely() -> None:
    """A small fleet, fast calls: the probe counts the calls it served and the answer's bytes."""
    measured = fleet.run(targets=4, functions=40, latency_s=0.001, rate=1000.0, workers=4, memory=False)
    assert measured["busiest_target_calls"] > 0
    assert measured["calls"] >= measured["raw_pages"]
    assert 0 < measured["answer_bytes"] < measured["raw_bytes"]


def test_the_campaign_probe_upgrades_its_fleet_and_measures_a_ratio() -> None:
    measured = campaign.measure()
    assert measured["succeeded"] == measured["functions"] == 100
    assert measured["floor_s"] > 0
    assert measured["ratio"] >= 1  # never faster than its waits allow
