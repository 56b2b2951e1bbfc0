"""``mengxi compare`` and ``mengxi sweep`` through Typer's CliRunner, on the ``mengxi`` app.
The year is a stand-in (patched in) so these tests check the command line itself: tables,
files, exit statuses, messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

import studies.compare
import studies.sweep
from api.cli import app

runner = CliRunner()
CONE = "capacity.net_cone_yuan_per_kw_yr"
RATIO = "compensation.recovery_ratio"


def summary_of(rules, seed: int) -> dict:
    noise = np.random.default_rng(seed).normal(0, 1)
    cone = rules.capacity.net_cone_yuan_per_kw_yr
    return {
        "energy": {"avg_price_yuan_per_mwh": 300.0 + 10 * noise - 0.05 * cone,
                   "stress_hours": 12},
        "capacity": {"clearing_price_yuan_per_kw_yr": 0.9 * cone, "cleared_mw": 500.0},
        "consumer_cost_yuan": {"total": 1e9 + 1e6 * noise},
        "renewable_share": 0.3,
    }


@pytest.fixture
def fake_years(monkeypatch):
    """Patch the year out of compare and sweep; sweep tasks are shipped to workers by value."""
    calls: list = []

    def run(rules, seed, scale=None):
        calls.append((rules.meta.name, seed, scale))
        return SimpleNamespace(summary=summary_of(rules, seed))

    def make_task():
        def task(rules, seed, scale):
            if rules.capacity.net_cone_yuan_per_kw_yr == 999.0:
                raise RuntimeError("deliberate failure at 999")
            return summary_of(rules, seed)
        return task

    monkeypatch.setattr(studies.compare, "_default_run", lambda: run)
    monkeypatch.setattr(studies.sweep, "year_summary", make_task())
    return calls


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


METRICS = ["--metric", "energy.avg_price_yuan_per_mwh", "--metric",
           "capacity.clearing_price_yuan_per_kw_yr"]

# --------------------------------------------------------------------- compare


def test_compare_a_preset_with_itself_prints_zero_differences(fake_years):
    result = runner.invoke(app, ["compare", "mengxi", "mengxi", "--seeds", "3", "--scale",
                                 "0.01", *METRICS])
    assert result.exit_code == 0, result.output
    assert fake_years == [("mengxi", s, 0.01) for s in (0, 0, 1, 1, 2, 2)]
    lines = [ln for ln in result.output.splitlines() if "energy.avg_price" in ln
             or "capacity.clearing" in ln]
    assert len(lines) == 2
    for line in lines:
        assert "[0, 0]" in line
        assert line.rstrip().rstrip("│ ").endswith("3")  # n = 3 seeds


def test_compare_writes_files_and_shows_the_change(fake_years, tmp_path: Path):
    variant = tmp_path / "cone300.toml"
    variant.write_text('extends = "mengxi"\n[meta]\nname = "cone300"\n[capacity]\n'
                       "net_cone_yuan_per_kw_yr = 300.0\n", encoding="utf-8")
    result = runner.invoke(app, ["compare", "mengxi", str(variant), "--seeds", "4",
                                 "--first-seed", "10", "--out", str(tmp_path / "out"), *METRICS])
    assert result.exit_code == 0, result.output
    assert "seeds 10..13" in result.output
    with (tmp_path / "out" / "comparison.csv").open(encoding="utf-8") as handle:
        rows = {r["metric"]: r for r in csv.DictReader(handle)}
    # paired: the seed's noise cancels; price rises by 0.05 * 30, capacity falls by 0.9 * 30
    assert float(rows["energy.avg_price_yuan_per_mwh"]["mean_diff"]) == pytest.approx(1.5)
    assert float(rows["capacity.clearing_price_yuan_per_kw_yr"]["mean_diff"]) == \
        pytest.approx(-27.0)
    data = json.loads((tmp_path / "out" / "comparison.json").read_text(encoding="utf-8"))
    assert data["b"]["rules_name"] == "cone300" and data["seeds"] == [10, 11, 12, 13]
    assert (tmp_path / "out" / "comparison.png").is_file()
    assert "wrote" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["compare", "mengxi", "no-such-preset"], "no preset named 'no-such-preset'"),
    (["compare", "mengxi", "mengxi", "--metric", "energy.nope"], "energy.nope"),
    (["compare", "mengxi", "/nonexistent/rules.toml"], "file not found"),
])
def test_compare_refuses_bad_input_with_status_2_and_no_traceback(fake_years, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_compare_needs_at_least_one_seed(fake_years):
    result = runner.invoke(app, ["compare", "mengxi", "mengxi", "--seeds", "0"])
    assert result.exit_code == 2
    assert fake_years == []


# --------------------------------------------------------------------- sweep


@pytest.mark.slow
def test_sweep_prints_one_row_per_point_and_writes_files(fake_years, scheduler, tmp_path):
    result = runner.invoke(app, ["sweep", "mengxi", "--grid", f"{CONE}=250,330",
                                 "--grid", f"{RATIO}=0.3,0.5", "--seeds", "2",
                                 "--scheduler", scheduler, "--out", str(tmp_path), *METRICS])
    assert result.exit_code == 0, result.output
    table_rows = [ln for ln in result.output.splitlines() if "2/2" in ln]
    assert len(table_rows) == 4
    # Net CONE 250: capacity price 0.9 * 250 = 225 in both of its rows
    assert sum("225" in ln for ln in table_rows) == 2
    with (tmp_path / "sweep.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"ok"}
    assert (tmp_path / "sweep.png").is_file() and (tmp_path / "sweep.json").is_file()


@pytest.mark.slow
def test_sweep_on_its_own_local_cluster(fake_years):
    result = runner.invoke(app, ["sweep", "mengxi", "--grid", f"{CONE}=300,310", *METRICS])
    assert result.exit_code == 0, result.output
    assert sum("1/1" in ln for ln in result.output.splitlines()) == 2


@pytest.mark.slow
def test_sweep_reports_failed_points_exits_1_and_finishes_the_rest(fake_years, scheduler,
                                                                    tmp_path):
    result = runner.invoke(app, ["sweep", "mengxi", "--grid", f"{CONE}=300,999",
                                 "--grid", f"{RATIO}=0.5,1.3", "--scheduler", scheduler,
                                 "--out", str(tmp_path), *METRICS])
    assert result.exit_code == 1, result.output
    failed = [ln for ln in result.output.splitlines() if ln.startswith("failed:")]
    assert len(failed) == 3
    assert any("=999" in ln and "deliberate failure at 999" in ln for ln in failed), failed
    assert any(f"{RATIO}=1.3" in ln and "RulesError" in ln for ln in failed)
    assert sum("1/1" in ln for ln in result.output.splitlines()) == 1  # 300, 0.5 ran
    with (tmp_path / "sweep.csv").open(encoding="utf-8") as handle:
        assert [r["status"] for r in csv.DictReader(handle)] == ["ok", "failed", "failed",
                                                                 "failed"]


@pytest.mark.parametrize(("grid", "message"), [
    ("capacity.net_cone_yuan_per_mwh=1,2", "did you mean 'capacity.net_cone_yuan_per_kw_yr'"),
    (f"{CONE}=300,abc", "'abc' is not a number"),
    ("capacity.demand_points=1", "is a list"),
    ("nonsense", "write KEY=V1,V2"),
])
def test_sweep_refuses_bad_grids_with_status_2(fake_years, grid, message):
    result = runner.invoke(app, ["sweep", "mengxi", "--grid", grid])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_sweep_needs_a_grid():
    result = runner.invoke(app, ["sweep", "mengxi"])
    assert result.exit_code == 2
    assert "--grid" in result.output


# --------------------------------------------------------------------- real years


@pytest.mark.slow
def test_real_compare_of_a_preset_with_itself(tmp_path: Path):
    result = runner.invoke(app, ["compare", "mengxi", "mengxi", "--seeds", "2", "--scale",
                                 "0.01", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with (tmp_path / "comparison.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 10
    for row in rows:
        assert row["mean_diff"] in ("0.0", ""), row
        if int(row["n"]) >= 2:
            assert (row["ci_low"], row["ci_high"]) == ("0.0", "0.0"), row


def test_real_compare_with_a_bad_scale_is_refused():
    result = runner.invoke(app, ["compare", "mengxi", "mengxi", "--seeds", "1", "--scale",
                                 "-1"])
    assert result.exit_code == 2, result.output
    assert "scale must be a number > 0" in result.output
    assert "Traceback" not in result.output


def test_sweep_with_a_bad_scale_is_refused_before_any_point_runs(fake_years):
    result = runner.invoke(app, ["sweep", "mengxi", "--grid", f"{CONE}=300", "--scale", "0"])
    assert result.exit_code == 2, result.output
    assert "scale must be a number > 0" in result.output
