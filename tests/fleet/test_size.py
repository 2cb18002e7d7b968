"""The fleet answer stays small: at most 1 % of the bytes of paging raw ListFunctions (with every version)
across the same targets — on an emulated fleet of 10 targets x 300 functions (bench/fleet.py, no latency)."""

from __future__ import annotations

from bench import fleet


def test_the_fleet_answer_is_at_most_one_percent_of_raw_paging() -> None:
    measured = fleet.run(targets=10, functions=300, latency_s=0.0, rate=1e6, workers=4, memory=False)
    assert measured["configurations"] > 10 * 300 * 3
    assert measured["bytes_ratio"] <= 0.01
