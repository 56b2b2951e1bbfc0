"""Pathways in compare and sweep (issue 10, item 4): ``mengxi compare A B --years`` pairs
pathways seed by seed, ``mengxi sweep --years`` runs a grid of pathways on Dask, each
reported by the pathway's summary (summed LOLE, firm MW in the last year, consumer cost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from market.rules import load_preset
from studies.pathway.run import run_pathway
from studies.pathway.study import PATHWAY_METRICS, PathwayTask, pathway_summary

YEARS = (2025, 2026)
SCALE = 0.02


def test_the_summary_adds_up_the_pathway() -> None:
    result = run_pathway(load_preset("mengxi"), list(YEARS), 3, SCALE)
    s = pathway_summary(result)["pathway"]
    assert s["lole_hours_sum"] == sum(r["lole_hours"] for r in result.years)
    last = result.years[-1]["installed_mw"]
    assert s["firm_mw_last"] == pytest.approx(
        sum(v for t, v in last.items() if t.startswith("coal") or t == "storage"), abs=1e-3)
    costs = [r["consumer_cost_yuan_per_mwh"] for r in result.years]
    assert min(costs) <= s["consumer_cost_yuan_per_mwh"] <= max(costs)
    # the same task, the same bytes
    again = PathwayTask(YEARS)(load_preset("mengxi"), 3, SCALE)
    assert json.dumps(again, sort_keys=True) == json.dumps(pathway_summary(result),
                                                           sort_keys=True)


@pytest.mark.slow
def test_compare_pathways_with_and_without_a_capacity_market(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, [
        "compare", "mengxi", "no-capacity-market", "--years", "2025-2026", "--seeds", "2",
        "--scale", str(SCALE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "comparison.json").read_text())
    assert [m["metric"] for m in data["metrics"]] == list(PATHWAY_METRICS)
    price = next(m for m in data["metrics"]
                 if m["metric"] == "pathway.capacity_price_yuan_per_kw_yr_mean")
    assert price["n"] == 0 or price["mean_b"] is None  # B has no capacity market
    assert "pathway.lole_hours_sum" in result.output


@pytest.mark.slow
def test_sweep_pathways_on_dask(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = CliRunner().invoke(app, [
        "sweep", "mengxi", "--grid", "pathway.load_growth_per_year=0.0,0.1",
        "--years", "2025-2026", "--scale", str(SCALE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "sweep.json").read_text())
    assert "pathway" in json.dumps(rows)


def test_years_are_checked_before_any_run() -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["compare", "mengxi", "mengxi", "--years", "2030-2025"])
    assert bad.exit_code == 2 and "--years" in bad.output
    both = runner.invoke(app, ["compare", "mengxi", "mengxi", "--years", "2025-2026",
                               "--strategy", "genco-1=markup"])
    assert both.exit_code == 2 and "--strategy" in both.output
