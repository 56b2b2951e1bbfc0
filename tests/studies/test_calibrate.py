"""The reserve-margin calibration: real simulated years at a small scale, the search's bracket,
comparative statics of the standard, and ``mengxi calibrate`` from the shell."""

from __future__ import annotations

import csv
import json
import tomllib

import pytest
from typer.testing import CliRunner

from api.cli import app
from market.errors import RulesError
from market.rules import load_preset
from studies.calibrate import calibrate_reserve_margin

SEED, SCALE = 20231005, 0.03
runner = CliRunner()


@pytest.fixture(scope="module")
def calibrated():
    return calibrate_reserve_margin(load_preset("mengxi"), SEED, SCALE, tolerance=0.02)


@pytest.mark.slow
def test_the_margin_found_meets_the_standard_and_a_tighter_system_does_not(calibrated):
    c = calibrated
    assert c.found is not None and c.bracketed
    assert c.found.lole_hours <= c.standard_lole_hours == 3.0
    above = [r for r in c.runs if r.peak_multiple > c.found.peak_multiple]
    assert above and all(r.lole_hours > 3.0 for r in above
                         if r.peak_multiple - c.found.peak_multiple <= c.tolerance + 1e-9)
    # the margin is the accredited fleet over the peak of that year
    assert c.found.reserve_margin == pytest.approx(
        c.found.accredited_mw / c.found.peak_mw - 1.0, abs=1e-5)
    assert c.rules.capacity.reserve_margin == pytest.approx(c.found.reserve_margin, abs=1e-4)
    # a heavier load is never more reliable in these runs
    ordered = sorted(c.runs, key=lambda r: r.peak_multiple)
    assert ordered[0].lole_hours <= ordered[-1].lole_hours


@pytest.mark.slow
def test_a_looser_standard_needs_a_smaller_margin(calibrated):
    loose = load_preset("mengxi").with_overrides(
        {"capacity.reliability_standard_lole_hours": 40.0})
    c = calibrate_reserve_margin(loose, SEED, SCALE, tolerance=0.02)
    assert c.found is not None
    assert c.found.reserve_margin < calibrated.found.reserve_margin
    assert c.found.lole_hours <= 40.0


def test_bad_search_settings_and_no_capacity_market_are_refused():
    rules = load_preset("mengxi")
    with pytest.raises(RulesError, match="tolerance"):
        calibrate_reserve_margin(rules, SEED, SCALE, tolerance=float("nan"))
    with pytest.raises(RulesError, match="max_runs"):
        calibrate_reserve_margin(rules, SEED, SCALE, max_runs=1)
    with pytest.raises(RulesError, match="capacity market on"):
        calibrate_reserve_margin(load_preset("no-capacity-market"), SEED, SCALE)


@pytest.mark.slow
def test_the_command_prints_the_search_and_writes_the_calibrated_rules(tmp_path):
    out = tmp_path / "cal"
    res = runner.invoke(app, ["calibrate", "mengxi", "--scale", str(SCALE), "--seed", str(SEED),
                              "--tolerance", "0.05", "--max-runs", "6", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "reserve margin that meets the standard" in res.output
    data = json.loads((out / "calibration.json").read_text())
    rows = list(csv.DictReader((out / "calibration.csv").open()))
    assert len(rows) == len(data["runs"]) <= 6
    toml = tomllib.loads((out / "calibrated.toml").read_text())
    assert toml["capacity"]["reserve_margin"] == pytest.approx(data["reserve_margin"], abs=1e-4)
    assert load_preset("mengxi").with_overrides(
        {"capacity.reserve_margin": toml["capacity"]["reserve_margin"]}).capacity.reserve_margin \
        == toml["capacity"]["reserve_margin"]


@pytest.mark.parametrize("args, message", [
    (["--tolerance", "0"], "--tolerance"),
    (["--max-runs", "1"], "--max-runs"),
    (["--seed", "-3"], "--seed"),
])
def test_the_command_refuses_bad_flags(args, message):
    res = runner.invoke(app, ["calibrate", "mengxi", *args])
    assert res.exit_code == 2
    assert message in res.output


def test_the_command_refuses_an_unknown_preset_and_rules_without_a_capacity_market():
    res = runner.invoke(app, ["calibrate", "no-such-preset"])
    assert res.exit_code == 2 and "no-such-preset" in res.output
    res = runner.invoke(app, ["calibrate", "no-capacity-market", "--scale", "0.03"])
    assert res.exit_code == 2 and "capacity market on" in res.output
