"""``studies.seeds`` and ``mengxi simulate --seeds N``: one rule set over several seeds, each
headline figure's mean and 95 % t interval, written byte for byte the same for the same seeds."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import studies.seeds
from api.cli import app
from market.errors import StudyInputError
from market.rules import load_preset
from studies.seeds import FIGURES, SeedRecord, run_seeds, spread, write_seeds

runner = CliRunner()


def make_stand_in():
    """A year's summary whose figures are simple functions of the seed (a closure, so that
    Dask ships it by value)."""
    def year(rules, seed, scale, strategies=None) -> dict:
        summary: dict = {}
        for i, path in enumerate(FIGURES):
            node = summary
            *parents, leaf = path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = float(seed * (i + 1))
        summary["capacity"]["clearing_price_yuan_per_kw_yr"] = None  # no capacity market
        return summary
    return year


stand_in = make_stand_in()


def test_three_seeds_give_three_records_in_seed_order():
    records = run_seeds(load_preset("mengxi"), [5, 6, 7], 0.02, year=stand_in)
    assert [r.seed for r in records] == [5, 6, 7]
    assert records[1].figures["energy.avg_price_yuan_per_mwh"] == 6.0


def test_the_interval_is_students_t_of_the_mean():
    records = [SeedRecord(s, {p: float(v) for p in FIGURES}) for s, v in ((0, 1), (1, 2), (2, 3))]
    s = spread(records)["consumer_cost_yuan.total"]
    half = 4.302652729749464 / math.sqrt(3)  # t(0.975, 2) x sd 1 / sqrt(3)
    assert s["n"] == 3 and s["mean"] == 2.0
    assert s["low"] == pytest.approx(2.0 - half, rel=1e-12)
    assert s["high"] == pytest.approx(2.0 + half, rel=1e-12)


def test_a_figure_null_in_every_seed_has_no_mean_and_one_seed_no_interval():
    records = run_seeds(load_preset("mengxi"), [3], None, year=stand_in)
    s = spread(records)
    assert s["capacity.clearing_price_yuan_per_kw_yr"] == {"mean": None, "low": None,
                                                           "high": None, "n": 0}
    assert s["energy.stress_hours"] == {"mean": 6.0, "low": None, "high": None, "n": 1}


@pytest.mark.parametrize(("seeds", "message"), [
    ([], "no seeds"), ([1, 1], "seeds repeat"), ([-1, 0], "seeds must be >= 0")])
def test_bad_seeds_are_refused(seeds, message):
    with pytest.raises(StudyInputError, match=message):
        run_seeds(load_preset("mengxi"), seeds, 0.02, year=stand_in)


def test_the_same_records_write_the_same_bytes(tmp_path: Path):
    rules = load_preset("mengxi")
    for name in ("a", "b"):
        write_seeds(tmp_path / name, rules, 0.02,
                    run_seeds(rules, [1, 2, 3], 0.02, year=stand_in))
    for file in ("seeds.json", "seeds.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    data = json.loads((tmp_path / "a" / "seeds.json").read_text(encoding="utf-8"))
    assert data["seeds"] == [1, 2, 3] and len(data["records"]) == 3
    assert set(data["spread"]) == set(FIGURES)
    rows = list(csv.DictReader((tmp_path / "a" / "seeds.csv").open(encoding="utf-8")))
    assert [r["seed"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["capacity.clearing_price_yuan_per_kw_yr"] == ""


def test_simulate_seeds_prints_the_spread_and_writes_both_files(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(studies.seeds, "year_summary", stand_in)
    out = tmp_path / "spread"
    result = runner.invoke(app, ["simulate", "mengxi", "--seeds", "2", "--seed", "10",
                                 "--scale", "0.02", "--out", str(out)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "seeds 10..11" in result.output and "95 % interval" in result.output
    assert "consumer cost, million yuan" in result.output
    assert {p.name for p in out.iterdir()} == {"seeds.json", "seeds.csv", "seeds.html"}
    page = (out / "seeds.html").read_text(encoding="utf-8")
    assert 'id="spread-table"' in page and "95 % interval" in page
    assert "energy price, load-weighted" in page and "million yuan" in page
    data = json.loads((out / "seeds.json").read_text(encoding="utf-8"))
    assert data["seeds"] == [10, 11] and data["scale"] == 0.02


@pytest.mark.slow
def test_real_years_spread_over_three_seeds_the_same_every_time(tmp_path: Path):
    rules = load_preset("mengxi")
    texts = []
    for name in ("first", "again"):
        records = run_seeds(rules, [1, 2, 3], 0.02)
        assert len(records) == 3
        for path, s in spread(records).items():
            if s["n"] >= 2:
                assert s["low"] <= s["mean"] <= s["high"], path
        texts.append(write_seeds(tmp_path / name, rules, 0.02, records)["json"].read_bytes())
    assert texts[0] == texts[1]
    prices = [r.figures["energy.avg_price_yuan_per_mwh"] for r in records]
    assert len(set(prices)) == 3  # the seeds are different years


@pytest.mark.slow
def test_simulate_seeds_two_real_years(tmp_path: Path):
    out = tmp_path / "two"
    result = runner.invoke(app, ["simulate", "mengxi", "--seeds", "2", "--seed", "4",
                                 "--scale", "0.02", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "seeds.csv").open(encoding="utf-8")))
    assert [r["seed"] for r in rows] == ["4", "5"]
    data = json.loads((out / "seeds.json").read_text(encoding="utf-8"))
    price = data["spread"]["energy.avg_price_yuan_per_mwh"]
    assert price["n"] == 2 and price["low"] <= price["mean"] <= price["high"]


@pytest.mark.slow
def test_seeds_on_a_local_dask_cluster_match_the_seeds_in_process():
    rules = load_preset("mengxi")
    here = run_seeds(rules, [1, 2, 3], 0.02, year=stand_in)
    on_dask = run_seeds(rules, [1, 2, 3], 0.02, year=stand_in, scheduler="local")
    assert on_dask == here
