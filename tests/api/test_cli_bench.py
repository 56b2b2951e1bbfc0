"""``mengxi bench`` runs every case, reports medians, judges the targets from them and exits
non-zero when one is missed; ``--json`` puts one JSON object on stdout and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from api import timing
from api.cli import app
from api.cli import bench as cli_bench
from api.timing import Measurement


@pytest.mark.slow
def test_bench_json_reports_every_case_and_the_targets():
    result = CliRunner().invoke(app, ["bench", "--sizes", "1000", "--budget", "0.05",
                                      "--no-peers", "--json"])
    out = json.loads(result.stdout)  # stdout is the JSON and nothing else
    engines = {(r["case"], r["engine"]) for r in out["results"]}
    assert {("uniform", "from_arrays + clear"), ("uniform", "clear"),
            ("uniform", "np.sort (floor)"), ("batch", "clear_batch x300"),
            ("capacity", "clear_capacity"), ("continuous", "ContinuousBook.process")} <= engines
    assert all(r["median_s"] > 0 for r in out["results"])
    assert out["compile_seconds"]["clear"] > 0
    targets = {t["target"]: t["met"] for t in out["targets"]}
    public = next(r for r in out["results"] if r["engine"] == "from_arrays + clear")
    assert targets["from_arrays + clear, 1e3 orders <= 40 µs"] == (public["median_s"] <= 40e-6)
    assert result.exit_code == (1 if not all(targets.values()) else 0), result.output


@pytest.mark.slow
def test_bench_json_stdout_is_only_json_with_highs_in_a_real_process():
    """HiGHS writes its banner from C to file descriptor 1: a real process, the LP included."""
    res = subprocess.run([sys.executable, "-m", "api.cli", "bench", "--sizes", "1000",
                          "--budget", "0.05", "--json"], capture_output=True, text=True,
                         check=False)
    out = json.loads(res.stdout)
    assert ("uniform", "HiGHS LP") in {(r["case"], r["engine"]) for r in out["results"]}
    missed = [t["target"] for t in out["targets"] if not t["met"]]
    assert res.returncode == (1 if missed else 0)
    for target in missed:
        assert f"target missed: {target}" in " ".join(res.stderr.split())


def fake_results(public_1k: float, public_1m: float, sort_1m: float) -> list[Measurement]:
    def m(size: int, engine: str, t: float) -> Measurement:
        return Measurement("uniform", size, engine, t, 5)

    return [m(1_000, "from_arrays + clear", public_1k), m(1_000, "clear", 10e-6),
            m(1_000, "np.sort (floor)", 12e-6), m(1_000_000, "from_arrays + clear", public_1m),
            m(1_000_000, "clear", 20e-3), m(1_000_000, "np.sort (floor)", sort_1m),
            Measurement("batch", 8_760, "clear_batch x300", 0.06, 5)]


def test_targets_are_the_issues_and_judged_from_the_figures():
    mem = {"baseline_mb": 130.0, "peak_mb": 240.0, "book_and_clear_mb": 110.0}
    targets = cli_bench.check_targets(fake_results(30e-6, 40e-3, 50e-3), mem)
    met = {t["target"]: t["met"] for t in targets}
    assert met == {
        "from_arrays + clear, 1e3 orders <= 40 µs": True,
        "from_arrays + clear, 1e6 orders <= 1.0x np.sort of the prices": True,
        "1e6 orders <= 300 MB peak resident, whole process (import, arrays, from_arrays, "
        "clear, read results)": True,
        "clear on a built book, 1e3 orders <= 50 µs": True,
        "clear on a built book, 1e6 orders <= 2x np.sort": True,
        "batched year (8,760 x 300) <= 100 ms": True}
    missed = cli_bench.check_targets(fake_results(41e-6, 51e-3, 50e-3),
                                     {**mem, "peak_mb": 301.0})
    assert [t["met"] for t in missed[:3]] == [False, False, False]
    assert missed[1]["measured"].startswith("1.02x")
    assert missed[2]["measured"] == "301 MB"


@pytest.mark.parametrize("as_json", [False, True])
def test_bench_exits_non_zero_and_names_a_missed_target(monkeypatch, as_json):
    mem = {"baseline_mb": 130.0, "peak_mb": 240.0, "book_and_clear_mb": 110.0}
    monkeypatch.setattr(cli_bench, "run_cases", lambda *a: (
        {"clear": 1.0}, fake_results(45e-6, 40e-3, 50e-3), mem))
    args = ["bench", "--json"] if as_json else ["bench"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "target missed: from_arrays + clear, 1e3 orders <= 40 µs: measured 45.0 µs" in \
        " ".join(result.stderr.split())
    if as_json:
        out = json.loads(result.stdout)
        assert [t["met"] for t in out["targets"]].count(False) == 1
    monkeypatch.setattr(cli_bench, "run_cases", lambda *a: (
        {"clear": 1.0}, fake_results(25e-6, 40e-3, 50e-3), mem))
    assert CliRunner().invoke(app, args).exit_code == 0


def test_json_is_a_flag_in_help():
    text = CliRunner().invoke(app, ["bench", "--help"]).output
    line = next(ln for ln in text.splitlines() if "--json" in ln)
    assert "<bool>" not in line and "A flag" in line


def test_stdout_to_moves_c_level_writes(tmp_path, capfd):
    target = tmp_path / "out.txt"
    with timing.stdout_to(str(target)):
        os.write(1, b"banner from C\n")
    os.write(1, b"after\n")
    assert target.read_text() == "banner from C\n"
    assert capfd.readouterr().out == "after\n"


@pytest.mark.slow
def test_peak_memory_is_the_childs_own_not_its_parents():
    ballast = np.ones(50_000_000)  # 400 MB in this process; a forked child's ru_maxrss sees it
    mem = timing.peak_memory_mb(1_000)
    assert 0 < mem["baseline_mb"] < mem["peak_mb"] < 350
    del ballast


def test_bench_refuses_bad_sizes():
    result = CliRunner().invoke(app, ["bench", "--sizes", "ten"])
    assert result.exit_code == 2 and "--sizes must be positive integers" in result.output


def test_csv_target_is_judged_against_pyarrows_read_in_the_same_run():
    csv_ok = [Measurement("csv", 1_000_000, "from_csv + clear", 0.19, 3),
              Measurement("csv", 1_000_000, "pyarrow read_csv", 0.10, 3)]
    name = "CSV book of 1e6 orders read and cleared <= 2x pyarrow's read"
    met = {t["target"]: t for t in cli_bench.check_targets(csv_ok, None)}
    assert met[name]["met"] is True and met[name]["measured"].startswith("1.90x")
    csv_slow = [Measurement("csv", 1_000_000, "from_csv + clear", 0.21, 3), csv_ok[1]]
    assert {t["target"]: t["met"] for t in cli_bench.check_targets(csv_slow, None)}[name] \
        is False
    assert name not in {t["target"] for t in cli_bench.check_targets([], None)}


def test_measure_csv_reads_and_clears_the_file_beside_pyarrow():
    rows = timing.measure_csv(2_000, budget_s=0.05)
    assert [(r.case, r.engine) for r in rows] == [("csv", "from_csv + clear"),
                                                  ("csv", "pyarrow read_csv")]
    assert all(r.median_s is not None and r.median_s > 0 and r.runs >= 3 for r in rows)
