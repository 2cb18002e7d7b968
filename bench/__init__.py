"""Benchmarks: `make bench` (python -m bench). Ratios against a floor, measured in one run."""
