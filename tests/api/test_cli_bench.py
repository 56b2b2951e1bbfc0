"""``mengxi bench`` runs every case, reports medians and judges the targets from them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.mark.slow
def test_bench_json_reports_every_case_and_the_targets():
    result = CliRunner().invoke(app, ["bench", "--sizes", "1000", "--budget", "0.05",
                                      "--no-peers", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    engines = {(r["case"], r["engine"]) for r in out["results"]}
    assert {("uniform", "clear"), ("uniform", "np.sort (floor)"),
            ("batch", "clear_batch x300"), ("capacity", "clear_capacity"),
            ("continuous", "ContinuousBook.process")} <= engines
    assert all(r["median_s"] > 0 for r in out["results"])
    assert out["compile_seconds"]["clear"] > 0
    targets = {t["target"]: t["met"] for t in out["targets"]}
    uniform_1k = next(r for r in out["results"] if r["engine"] == "clear")
    assert targets["1e3 orders <= 50 µs per clear"] == (uniform_1k["median_s"] <= 50e-6)


def test_bench_refuses_bad_sizes():
    result = CliRunner().invoke(app, ["bench", "--sizes", "ten"])
    assert result.exit_code == 2 and "--sizes must be positive integers" in result.output
