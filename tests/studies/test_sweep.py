"""Parameter sweeps: grid parsing (typed values, every problem refused at once), the grid's
points, failure capture, and the sweep on a local Dask cluster of two worker processes (every
point returned, the same numbers as each point run alone, failed points reported while the
rest finish). Stand-in tasks are made inside functions, so Dask ships them by value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from market.errors import StudyInputError
from market.rules import load_preset
from studies.sweep import (
    GridAxis,
    grid_points,
    parse_grid,
    run_point,
    run_sweep,
    write_sweep,
)

RULES = load_preset("mengxi")
CONE = "capacity.net_cone_yuan_per_kw_yr"
RATIO = "compensation.recovery_ratio"


def fake_task(fail_at_cone: float | None = None):
    """A stand-in for a year: figures from the rules' Net CONE and recovery ratio and the seed;
    raises at one Net CONE when asked."""

    def task(rules, seed, scale):
        cone = rules.capacity.net_cone_yuan_per_kw_yr
        ratio = rules.compensation.recovery_ratio
        if cone == fail_at_cone:
            raise RuntimeError(f"deliberate failure at Net CONE {cone}")
        return {
            "energy": {"avg_price_yuan_per_mwh": 200.0 + cone / 10 + seed},
            "capacity": {"clearing_price_yuan_per_kw_yr": 0.9 * cone},
            "consumer_cost_yuan": {"total": 1e6 * (1 + ratio) + seed},
            "renewable_share": 0.3,
            "scale": scale,
            "seed": seed,
        }

    return task


METRICS = ("energy.avg_price_yuan_per_mwh", "capacity.clearing_price_yuan_per_kw_yr",
           "consumer_cost_yuan.total", "renewable_share")


# --------------------------------------------------------------------- the grid


def test_grid_values_take_the_type_of_their_key():
    axes = parse_grid(RULES, [f"{CONE}=250, 330,400.5", "capacity.format=pay_as_bid,clock",
                              "capacity.enabled=true,false",
                              "green.certificate_validity_months=12,24"])
    by_key = {a.key: a for a in axes}
    assert by_key[CONE].values == (250.0, 330.0, 400.5)
    assert all(type(v) is float for v in by_key[CONE].values)
    assert by_key[CONE].texts == ("250", "330", "400.5")
    assert by_key["capacity.format"].values == ("pay_as_bid", "clock")
    assert by_key["capacity.enabled"].values == (True, False)
    assert by_key["green.certificate_validity_months"].values == (12, 24)
    assert all(type(v) is int for v in by_key["green.certificate_validity_months"].values)
    # list elements by index
    (axis,) = parse_grid(RULES, ["capacity.demand_points[0].price_yuan_per_kw_yr=450,495"])
    assert axis.values == (450.0, 495.0)


def test_grid_refuses_every_problem_at_once():
    with pytest.raises(StudyInputError) as info:
        parse_grid(RULES, [
            "capacity.net_cone_yuan_per_mwh=1,2",        # unknown key (a near miss)
            f"{CONE}=300,abc",                          # not a number
            "green.certificate_validity_months=12,1.5",  # not a whole number
            "capacity.enabled=true,yes",                # not a switch
            "capacity.demand_points=1,2",               # a list
            f"{RATIO}",                                 # no values
            "energy.price_cap_yuan_per_mwh=1000,1000",  # a repeated value
        ])
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 7, text
    assert "capacity.net_cone_yuan_per_mwh" in text and "net_cone_yuan_per_kw_yr" in text
    assert "'abc' is not a number" in text
    assert "'1.5' is not a whole number" in text
    assert "'yes' is not a switch" in text
    assert "capacity.demand_points is a list" in text
    assert "write KEY=V1,V2" in text
    assert "repeats" in text


def test_grid_refuses_a_key_given_twice_and_no_grid():
    with pytest.raises(StudyInputError, match="given twice"):
        parse_grid(RULES, [f"{CONE}=1", f"{CONE}=2"])
    with pytest.raises(StudyInputError, match="no grid"):
        parse_grid(RULES, [])


def test_grid_points_are_the_cartesian_product_last_axis_fastest():
    axes = (GridAxis("a", (1, 2), ("1", "2")), GridAxis("b", ("x", "y", "z"), ("x", "y", "z")))
    assert grid_points(axes) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
                                 {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]


def test_run_point_reports_refused_rules_and_task_errors_as_text():
    status, summary = run_point(fake_task(), RULES, {CONE: 300.0}, 4, 0.01)
    assert status == "ok"
    assert summary["energy"]["avg_price_yuan_per_mwh"] == 200.0 + 30.0 + 4
    status, message = run_point(fake_task(), RULES, {RATIO: 1.3}, 4, 0.01)
    assert status == "failed"
    assert message.startswith("RulesError") and RATIO in message
    status, message = run_point(fake_task(fail_at_cone=300.0), RULES, {CONE: 300.0}, 4, None)
    assert (status, message) == ("failed", "RuntimeError: deliberate failure at Net CONE 300.0")


# --------------------------------------------------------------------- on Dask


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


@pytest.mark.slow
def test_sweep_on_two_workers_returns_every_point_with_the_numbers_of_each_point_alone(client):
    axes = parse_grid(RULES, [f"{CONE}=250,330,400", f"{RATIO}=0.3,0.5"])
    seeds = (0, 1, 2)
    task = fake_task()
    seen: list[tuple[int, int]] = []
    result = run_sweep(RULES, axes, seeds, 0.01, metrics=METRICS, client=client, task=task,
                       progress=lambda step, done, total: seen.append((done, total)))
    assert len(client.scheduler_info()["workers"]) == 2
    assert len(result.rows) == 6 * 3
    assert [(r.point, r.seed) for r in result.rows] == [(p, s) for p in range(6) for s in seeds]
    assert all(r.status == "ok" for r in result.rows)
    assert seen == [(i, 18) for i in range(1, 19)]
    for row in result.rows:
        alone = task(RULES.with_overrides(row.overrides), row.seed, 0.01)
        assert row.summary == alone
    points = result.point_table()
    assert [(p[CONE], p[RATIO]) for p in points] == [
        (250.0, 0.3), (250.0, 0.5), (330.0, 0.3), (330.0, 0.5), (400.0, 0.3), (400.0, 0.5)]
    # mean over seeds 0, 1, 2 of 200 + cone / 10 + seed = 201 + cone / 10
    assert points[2]["energy.avg_price_yuan_per_mwh"] == pytest.approx(201.0 + 33.0)
    assert result.rules_sha256 == RULES.sha256()


def test_failed_points_are_reported_and_the_rest_finish(client):
    # recovery ratio 1.3 is refused by the rules inside the task; Net CONE 250 makes the task
    # raise; the two other points run.
    axes = parse_grid(RULES, [f"{CONE}=250,330", f"{RATIO}=0.5,1.3"])
    result = run_sweep(RULES, axes, (7, 8), metrics=METRICS, client=client,
                       task=fake_task(fail_at_cone=250.0))
    status = {(r.overrides[CONE], r.overrides[RATIO], r.seed): r.status for r in result.rows}
    assert status == {(250.0, 0.5, 7): "failed", (250.0, 0.5, 8): "failed",
                      (250.0, 1.3, 7): "failed", (250.0, 1.3, 8): "failed",
                      (330.0, 0.5, 7): "ok", (330.0, 0.5, 8): "ok",
                      (330.0, 1.3, 7): "failed", (330.0, 1.3, 8): "failed"}
    by_point = {(r.overrides[CONE], r.overrides[RATIO]): r.error for r in result.rows}
    assert by_point[(250.0, 0.5)] == "RuntimeError: deliberate failure at Net CONE 250.0"
    assert by_point[(330.0, 1.3)].startswith("RulesError") and RATIO in by_point[(330.0, 1.3)]
    assert by_point[(330.0, 0.5)] is None
    ok = [r for r in result.rows if r.status == "ok"]
    assert [r.metric("energy.avg_price_yuan_per_mwh") for r in ok] == [240.0, 241.0]
    assert len(result.failed) == 6


def test_sweep_reaches_a_running_cluster_by_address(client):
    axes = parse_grid(RULES, [f"{CONE}=300,310"])
    result = run_sweep(RULES, axes, (1,), metrics=METRICS,
                       scheduler=client.scheduler.address, task=fake_task())
    assert [r.summary["capacity"]["clearing_price_yuan_per_kw_yr"] for r in result.rows] == \
        pytest.approx([270.0, 279.0])


def test_an_unreachable_scheduler_is_refused_with_its_address():
    from studies.sweep import dask_client

    with pytest.raises(StudyInputError, match="tcp://127.0.0.1:9"), \
            dask_client("tcp://127.0.0.1:9", connect_timeout="1s"):
        pass


@pytest.mark.slow
def test_sweep_starts_its_own_local_cluster_of_two_workers():
    axes = parse_grid(RULES, [f"{CONE}=300,350"])
    workers: list[int] = []

    def task(rules, seed, scale):
        from distributed import get_worker

        workers.append(1)  # runs in a worker process: the test's list stays empty
        return {"worker": get_worker().address, "cone": rules.capacity.net_cone_yuan_per_kw_yr}

    result = run_sweep(RULES, axes, (1, 2, 3), metrics=(), task=task)
    assert workers == []
    assert [r.summary["cone"] for r in result.rows] == [300.0] * 3 + [350.0] * 3
    assert all(r.summary["worker"].startswith("tcp://") for r in result.rows)


def test_sweep_refuses_no_seeds_repeated_seeds_and_a_bad_scale(client):
    axes = parse_grid(RULES, [f"{CONE}=300"])
    with pytest.raises(StudyInputError, match="no seeds"):
        run_sweep(RULES, axes, (), client=client, task=fake_task())
    with pytest.raises(StudyInputError, match="repeat"):
        run_sweep(RULES, axes, (1, 1), client=client, task=fake_task())
    with pytest.raises(StudyInputError, match="scale must be a number > 0"):
        run_sweep(RULES, axes, (1,), -0.5, client=client, task=fake_task())


def test_write_sweep_files(client, tmp_path: Path):
    axes = parse_grid(RULES, [f"{CONE}=250,330,400", f"{RATIO}=0.3,1.3"])
    result = run_sweep(RULES, axes, (0, 1), metrics=METRICS, client=client,
                       task=fake_task(fail_at_cone=400.0))
    paths = write_sweep(result, tmp_path)
    with paths["csv"].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12
    assert list(rows[0]) == ["point", CONE, RATIO, "seed", "status", "error", *METRICS]
    first = rows[0]
    assert (first[CONE], first[RATIO], first["seed"], first["status"]) == \
        ("250.0", "0.3", "0", "ok")
    assert float(first["energy.avg_price_yuan_per_mwh"]) == 225.0
    refused = rows[2]  # 250, 1.3: refused by the rules, message on one line
    assert refused["status"] == "failed" and "\n" not in refused["error"]
    assert RATIO in refused["error"] and refused["energy.avg_price_yuan_per_mwh"] == ""
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["grid"] == {CONE: [250.0, 330.0, 400.0], RATIO: [0.3, 1.3]}
    assert [p["ok"] for p in data["points"]] == [2, 0, 2, 0, 0, 0]
    assert data["rows"][0]["summary"]["energy"]["avg_price_yuan_per_mwh"] == 225.0
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_real_sweep_gives_the_numbers_of_each_year_run_alone(client):
    from studies.year.run import run_year

    axes = parse_grid(RULES, [f"{CONE}=250,400"])
    result = run_sweep(RULES, axes, (0, 1), 0.01, client=client)
    assert [r.status for r in result.rows] == ["ok"] * 4
    for row in result.rows:
        alone = run_year(RULES.with_overrides(row.overrides), row.seed, scale=0.01)
        assert row.summary == alone.summary
    assert result.rows[0].summary["rules_sha256"] == \
        RULES.with_overrides({CONE: 250.0}).sha256()
