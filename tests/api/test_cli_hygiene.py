"""Issue 14 item 5, the command line's hygiene: ``--out`` is checked before any work, boolean
options are plain flags in ``--help``, tables fit 80 columns without breaking a number, sums of
money print in million yuan, and a comparison with a zero baseline shows its absolute change."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer.main
from rich.console import Console
from typer.testing import CliRunner

import studies.compare
from api.cli import app
from api.cli import output as fmt
from api.cli.simulate import summary_table
from studies.compare import MetricDifference, relative_label

runner = CliRunner()

#: Every command that writes into --out, with arguments that would otherwise start its work.
#: The scenario does not exist: a refusal that names --out came before the rules were read.
WRITERS = [
    ["simulate", "no-such-preset"],
    ["compare", "no-such-preset", "no-such-preset"],
    ["sweep", "no-such-preset", "--grid", "capacity.net_cone_yuan_per_kw_yr=300,330"],
    ["calibrate", "no-such-preset"],
    ["pathway", "no-such-preset"],
    ["learn", "no-such-preset"],
]
IDS = [args[0] for args in WRITERS]


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --------------------------------------------------------------------- --out before any work

@pytest.mark.parametrize("args", WRITERS, ids=IDS)
def test_an_out_that_is_a_file_is_refused_at_once_in_one_line(args, tmp_path: Path):
    target = tmp_path / "results.csv"
    target.write_text("kept\n", encoding="utf-8")
    start = time.perf_counter()
    result = runner.invoke(app, [*args, "--out", str(target)])
    assert time.perf_counter() - start < 10
    assert result.exit_code == 2, result.output
    assert _lines(result.output) == [f"refused: --out {target} is a file; give a folder"]
    assert "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "kept\n"
    assert _files(tmp_path) == ["results.csv"]


@pytest.mark.parametrize("args", WRITERS, ids=IDS)
def test_an_out_folder_that_holds_files_needs_force(args, tmp_path: Path):
    (tmp_path / "earlier.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert _lines(result.output) == [
        f"refused: --out {tmp_path} is not empty; pass --force to write into it"]
    assert _files(tmp_path) == ["earlier.json"]


def test_an_out_under_a_file_is_refused(tmp_path: Path):
    (tmp_path / "a").write_text("", encoding="utf-8")
    result = runner.invoke(app, ["simulate", "mengxi", "--out", str(tmp_path / "a" / "b")])
    assert result.exit_code == 2
    assert _lines(result.output) == [f"refused: --out {tmp_path / 'a' / 'b'} lies under "
                                     f"{tmp_path / 'a'}, which is a file"]


@pytest.fixture
def fake_years(monkeypatch):
    """The year of ``compare`` replaced by a stand-in with a large consumer cost."""
    calls: list = []

    def run(rules, seed, scale=None):
        calls.append(seed)
        return SimpleNamespace(summary={
            "energy": {"avg_price_yuan_per_mwh": 251.23 + seed},
            "consumer_cost_yuan": {"total": 390_138_692_400.0 + 1e9 * seed},
            "green": {"certificates_issued": 135_357_800.0 + seed},
            "renewable_share": 0.0})

    monkeypatch.setattr(studies.compare, "_default_run", lambda: run)
    return calls


METRICS = ["--metric", "energy.avg_price_yuan_per_mwh", "--metric", "consumer_cost_yuan.total",
           "--metric", "green.certificates_issued", "--metric", "renewable_share"]


def test_force_writes_into_a_folder_that_holds_files(fake_years, tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["compare", "mengxi", "mengxi", "--seeds", "2", "--out",
                                 str(tmp_path), "--force", *METRICS])
    assert result.exit_code == 0, result.output
    assert fake_years == [0, 0, 1, 1]
    assert {"comparison.csv", "comparison.json", "comparison.png", "notes.txt"} <= set(
        _files(tmp_path))
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_empty_out_folder_needs_no_force(fake_years, tmp_path: Path):
    result = runner.invoke(app, ["compare", "mengxi", "mengxi", "--seeds", "2", "--out",
                                 str(tmp_path), *METRICS])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "comparison.csv").is_file()


def test_simulate_with_force_runs_the_year_into_a_used_folder(tmp_path: Path):
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    (tmp_path / "mine.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["simulate", "mengxi", "--seed", "3", "--scale", "0.01",
                                 "--out", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "summary.json").read_text())["seed"] == 3
    assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == "mine"


def test_scheduler_without_several_seeds_is_refused(tmp_path: Path):
    result = runner.invoke(app, ["simulate", "mengxi", "--scheduler", "local",
                                 "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "--seeds 2 or more" in result.output
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------- flags in --help

def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every command and group under ``command`` (typer's own click)."""
    found = [path]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            found += _commands(sub, (*path, name))
    return found


@pytest.mark.parametrize("path", _commands(typer.main.get_command(app)),
                         ids=lambda p: " ".join(p) or "mengxi")
def test_boolean_options_show_as_flags_in_help(path):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "BOOLEAN" not in result.output
    flags = [ln for ln in result.output.splitlines()
             if re.match(r"\s+--(help|json|force|poll|no-capacity)\b", ln)]
    assert flags
    for line in flags:
        assert re.match(r"\s+--[a-z-]+(\s*/\s*--[a-z-]+)?\s{2,}\S", line), line


# --------------------------------------------------------------------- tables at 80 columns

def test_the_compare_table_fits_80_columns_with_every_number_whole(fake_years):
    result = runner.invoke(app, ["compare", "mengxi", "mengxi", "--seeds", "3", *METRICS],
                           env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(ln) for ln in result.output.splitlines()) <= 80
    # means over seeds 0, 1, 2; the consumer cost (391,138,692,400 yuan) in million yuan
    for cell in ("252.23", "391,138.69", "135,357,801", "[0.00, 0.00]", "[0, 0]"):
        assert cell in result.output, cell
    assert "in million yuan" in result.output


def _summary(**over) -> dict:
    k = {"gross_yuan": 203_940_000_000.0, "offset_yuan": 3_940_000_000.0,
         "deducted_yuan": 1_234_567_890.0, "paid_yuan": 198_765_432_110.0,
         "deductions_due_yuan": 2_234_567_890.0, "failures": 1470}
    return {"rules_name": "mengxi-2026-variant", "seed": 20231005, "scale": 1.0, "hours": 8760,
            "energy": {"avg_price_yuan_per_mwh": 251.5, "stress_hours": 312,
                       "unserved_mwh": 123_456_789.0},
            "capacity": {"enabled": True, "clearing_price_yuan_per_kw_yr": 412.25,
                         "cleared_mw": 61_234.5, "penalties_yuan": 39_013_869_240.0},
            "compensation": k,
            "green": {"certificates_issued": 135_357_800.0, "certificates_retired": 68_219_300.0,
                      "avg_premium_yuan_per_mwh": 3.0},
            "renewable_share": 0.35, "consumer_cost_yuan": {"total": 390_138_692_400.0},
            "ledger": {"imbalance_yuan": 0.0}, **over}


def test_the_simulate_summary_fits_80_columns_in_million_yuan():
    console = Console(width=80, record=True)
    console.print(summary_table(_summary()))
    text = console.export_text()
    assert max(len(ln) for ln in text.splitlines()) <= 80
    for number in ("390,138.69", "39,013.87", "198,765.43", "203,940.00", "1,234.57",
                   "135,357,800", "123,456,789", "61,234"):
        assert number in text, number
    assert "yi yuan" not in text and "million yuan" in text


# --------------------------------------------------------------------- money and zero baselines

def test_money_is_in_million_yuan_and_a_small_sum_is_never_zero():
    assert fmt.money(2_039_400_000.0) == "2,039.40 million yuan"
    assert fmt.money(0.0) == "0.00 million yuan"
    assert fmt.money(4_900.0) == "0.0049 million yuan"
    assert fmt.money(None) == "\u2014"
    assert fmt.figure("consumer_cost_yuan.total", 860_036_544.0) == "860.04"
    assert fmt.figure("energy.avg_price_yuan_per_mwh", 257.5123) == "257.51"
    assert fmt.is_money("compensation.paid_yuan")
    assert not fmt.is_money("capacity.clearing_price_yuan_per_kw_yr")


def test_a_zero_baseline_shows_the_absolute_change_not_na():
    zero = MetricDifference("renewable_share", 3, 0.0, 0.25, 0.25, 0.01, 0.2252, 0.2748)
    assert relative_label(zero) == ("renewable_share (A = 0; B \u2212 A = 0.25, 95 % CI "
                                    "[0.2252, 0.2748])")
    same = MetricDifference("consumer_cost_yuan.capacity", 3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert "n/a" not in relative_label(same) and "B \u2212 A = 0" in relative_label(same)
    assert relative_label(MetricDifference("x", 3, 2.0, 3.0, 1.0, 0.1, 0.9, 1.1)) == "x"


def test_the_compare_plot_labels_a_zero_baseline_with_its_change(fake_years):
    from market.rules import load_preset

    rules = load_preset("mengxi")
    comparison = studies.compare.compare_rules(
        rules, rules, [0, 1], metrics=("renewable_share", "energy.avg_price_yuan_per_mwh"))
    figure = studies.compare.plot_comparison(comparison)
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert "renewable_share (A = 0; B \u2212 A = 0, 95 % CI [0, 0])" in labels
    assert "energy.avg_price_yuan_per_mwh" in labels
    assert not any("n/a" in label for label in labels)
