"""A sweep of 8 grid points on a local Dask cluster of 2 worker processes against the same 8
points run one after another in this process.

Run: ``pytest benchmarks/test_bench_sweep.py --benchmark-only
--benchmark-columns=median,min,max,rounds``. The grid is Net CONE 250/300/330/400 yuan/kW·yr
x recovery ratio 0.3/0.5, one seed, fleet scale 0.01 (a small system, a full year of
hours). Both sides are warmed first (Numba's cache loaded, the workers' imports done), so the
times compare simulation plus, for Dask, scheduling and shipping the rules and summaries. The
cluster is started once, outside the timings. On 2 cores the ideal ratio is 0.5.
"""

from __future__ import annotations

import pytest

pytest.importorskip("studies.year.run")

from market.rules import load_preset  # noqa: E402
from studies.sweep import grid_points, parse_grid, run_sweep, year_summary  # noqa: E402

SCALE = 0.01
SEEDS = (1,)
RULES = load_preset("mengxi")
AXES = parse_grid(RULES, ["capacity.net_cone_yuan_per_kw_yr=250,300,330,400",
                          "compensation.recovery_ratio=0.3,0.5"])
POINTS = grid_points(AXES)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        run_sweep(RULES, AXES, SEEDS, SCALE, client=c)  # warm both workers
        yield c


def serial() -> list[dict]:
    return [year_summary(RULES.with_overrides(p), seed, SCALE) for p in POINTS for seed in SEEDS]


def test_sweep_8_points_on_2_workers(benchmark, client):
    benchmark.group = "sweep: 8 points, scale 0.01"
    result = benchmark.pedantic(run_sweep, args=(RULES, AXES, SEEDS, SCALE),
                                kwargs={"client": client}, rounds=3, iterations=1)
    assert len(result.rows) == 8 and not result.failed


def test_same_8_points_serially(benchmark, client):
    benchmark.group = "sweep: 8 points, scale 0.01"
    serial()  # warm this process
    summaries = benchmark.pedantic(serial, rounds=3, iterations=1)
    dask = run_sweep(RULES, AXES, SEEDS, SCALE, client=client)
    assert summaries == [r.summary for r in dask.rows]  # the same numbers either way
