"""A full-scale simulated year of the Mengxi preset (``scale=1``: 225 units, 50 loads,
8,760 hours), warm: one untimed run first (Numba kernels compiled or loaded from the cache),
then three timed rounds.

Run: ``pytest benchmarks/test_bench_year.py --benchmark-only``. ``extra_info`` records the
peak resident memory of the process (``ru_maxrss``, MB) and the year's size (bid rows,
ledger entries, stress hours). Targets: <= 10 s a year, <= 2 GB peak.
"""

from __future__ import annotations

import resource
import sys

from market.rules import load_preset
from studies.year.run import run_year

SEED = 20231005


def _peak_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024  # bytes on macOS


def test_full_year(benchmark):
    rules = load_preset("mengxi")
    run_year(rules, SEED, 1.0)  # warm, untimed
    benchmark.group = "simulated year, scale 1"
    result = benchmark.pedantic(run_year, args=(rules, SEED, 1.0), rounds=3, iterations=1)
    benchmark.extra_info["peak_rss_mb"] = round(_peak_mb(), 1)
    benchmark.extra_info["bid_rows"] = int(len(result.bids["hour"]))
    benchmark.extra_info["ledger_entries"] = int(result.ledger.n_entries)
    benchmark.extra_info["stress_hours"] = int(result.summary["energy"]["stress_hours"])
    assert result.summary["hours"] == 8760
    assert result.summary["ledger"]["imbalance_yuan"] == 0
