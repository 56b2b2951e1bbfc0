"""``mengxi rules check/show/presets`` through Typer's CliRunner, on the ``mengxi`` app."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from market.rules import MarketRules, load_preset, preset_names

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["rules", *args])


BAD = """
extends = "mengxi"
[energy]
price_floor_yuan_per_mwh = 2000.0
[capacity]
net_cone_yuan_per_mwh = 330
demand_points = [
  { requirement_fraction = 0.97, price_yuan_per_kw_yr = 495 },
  { requirement_fraction = 1.03, price_yuan_per_kw_yr = 600 },
  { requirement_fraction = 1.10, price_yuan_per_kw_yr = nan },
]
[compensation]
recovery_ratio = 1.3
"""


def test_check_valid_file_prints_one_ok_line_with_name_and_hash(tmp_path: Path):
    path = tmp_path / "r.toml"
    path.write_text('extends = "mengxi-2026"\n[meta]\nname = "mine"\n', encoding="utf-8")
    result = run("check", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    sha = load_preset("mengxi-2026").with_overrides({"meta.name": "mine"}).sha256()
    assert lines[0].startswith("OK mine") and sha[:12] in lines[0]


@pytest.mark.parametrize("name", preset_names())
def test_check_accepts_every_preset_by_name(name):
    result = run("check", name)
    assert result.exit_code == 0, result.output
    assert load_preset(name).sha256()[:12] in result.output


def test_check_invalid_file_lists_every_problem_and_exits_2(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD, encoding="utf-8")
    result = run("check", str(path))
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    out = result.output
    assert "Traceback" not in out
    assert "5 problems" in out
    for key in (
        "energy.price_floor_yuan_per_mwh",
        "capacity.net_cone_yuan_per_mwh",
        "capacity.demand_points[1].price_yuan_per_kw_yr",
        "capacity.demand_points[2].price_yuan_per_kw_yr",
        "compensation.recovery_ratio",
    ):
        assert key in out
    assert "did you mean 'capacity.net_cone_yuan_per_kw_yr'" in out
    assert "OK" not in out


def test_check_unknown_preset_lists_presets_and_exits_2():
    result = run("check", "mengxi-1999")
    assert result.exit_code == 2
    assert "mengxi-2026" in result.output and "Traceback" not in result.output


def test_check_missing_file_exits_2(tmp_path: Path):
    result = run("check", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2 and "file not found" in result.output


def test_show_prints_resolved_toml_that_reads_back(tmp_path: Path):
    result = run("show", "capacity-clock")
    assert result.exit_code == 0, result.output
    rules = MarketRules.model_validate(tomllib.loads(result.output))
    assert rules == load_preset("capacity-clock")
    assert "[capacity.capacity_credit]" in result.output  # defaults filled, not only overrides


def test_show_json(tmp_path: Path):
    result = run("show", "deductions-shanghai", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert MarketRules.model_validate(data) == load_preset("deductions-shanghai")
    assert data["compensation"]["deductions"][-1] == {"failures": 5, "fraction": 1.0}


def test_show_and_check_with_overrides():
    result = run("show", "mengxi", "--json", "--set", "capacity.net_cone_yuan_per_kw_yr=300")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["capacity"]["net_cone_yuan_per_kw_yr"] == 300.0
    result = run("check", "mengxi", "--set", "compensation.recovery_ratio=2", "--set", "x.y=1")
    assert result.exit_code == 2
    assert "compensation.recovery_ratio" in result.output and "2 problems" in result.output
    assert "x.y" in result.output and "unknown key" in result.output
    result = run("check", "mengxi", "--set", "compensation.recovery_ratio=2")
    assert result.exit_code == 2 and "compensation.recovery_ratio" in result.output
    result = run("check", "mengxi", "--set", "novalue")
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_show_prints_the_resolved_capacity_curve_which_moves_with_net_cone():
    """The TOML ends with the capacity market a year would run: accreditation, Net CONE and
    the curve's points in MW and yuan/kW-yr (here at scale 0.05, where the requirement is
    2,250 x 1.15 = 2,587.5 MW). A fixed Net CONE of 200 puts the points at 300 / 150 / 0."""
    fixed = ("--set", 'capacity.net_cone_method="fixed"',
             "--set", "capacity.net_cone_yuan_per_kw_yr=200")
    result = run("show", "mengxi", "--scale", "0.05", *fixed)
    assert result.exit_code == 0, result.output
    tomllib.loads(result.output)  # still TOML: the curve is in comments
    tail = result.output.split("# resolved capacity market", 1)[1]
    assert "accreditation (derived): " in tail and "storage" in tail
    assert "Net CONE (fixed) = 200.00 yuan/kW-yr" in tail
    assert "2,509.875 MW     300.00 yuan/kW-yr" in tail  # 0.97 x 2,587.5
    assert "2,665.125 MW     150.00 yuan/kW-yr" in tail
    derived = run("show", "mengxi", "--scale", "0.05").output
    assert "Net CONE (derived) = Gross CONE 415 - reference energy margin" in derived
    assert "# resolved" not in run("show", "mengxi", "--no-capacity").output


def test_show_invalid_file_exits_2(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD, encoding="utf-8")
    result = run("show", str(path))
    assert result.exit_code == 2 and "compensation.recovery_ratio" in result.output


def test_presets_lists_all_with_descriptions():
    result = run("presets")
    assert result.exit_code == 0
    for name in preset_names():
        assert name in result.output
        assert load_preset(name).meta.description[:30] in result.output
