"""`make bench` is not part of `make test`, but its probes run the handler in ways no other test does (a
fresh process per measurement, a simulated SnapStart restore): one small run of each, so a change that
breaks them is caught here and not the next time someone measures."""

from __future__ import annotations

from pathlib import Path

from bench import latency, snapstart, tasks

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
