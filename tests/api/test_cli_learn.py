"""``mengxi learn`` (issue 15): a short CMA-ES run beats the opportunity-cost baseline in a
tight market, writes its policy and learning curve, and the policy plays as
``policy:PATH`` in a simulated year."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agents.learning.blocks import FEATURES, LinearPolicy, policy_strategy
from agents.strategies.assign import assign, parse_spec
from api.cli import app
from market.errors import StrategyError

#: A small tight market: the Mengxi preset with half its ultra-supercritical coal units.
TIGHT = """extends = "mengxi"

[meta]
name = "mengxi-tight"
description = "Less coal: half the ultra-supercritical units."

[fleet.coal_ultra_supercritical]
unit_count = 10
"""

#: What a short run must gain over the baseline's episode profit (fraction).
MARGIN = 0.10


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "tight.toml"
    path.write_text(TIGHT)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_learn_beats_baseline_in_a_tight_market(tight: Path, tmp_path: Path,
                                                seed: int) -> None:
    out = tmp_path / "learned"
    result = CliRunner().invoke(app, [
        "learn", str(tight), "--owner", "genco-1", "--steps", "300", "--seed", str(seed),
        "--scale", "0.05", "--start-day", "180", "--out", str(out)])
    assert result.exit_code == 0, result.output
    policy = json.loads((out / "policy.json").read_text())
    assert policy["owner"] == "genco-1" and policy["trainer"] == "cma"
    assert policy["learned_profit_yuan"] > (1 + MARGIN) * policy["baseline_profit_yuan"] > 0
    LinearPolicy.from_json(policy)
    rows = list(csv.DictReader((out / "curve.csv").open()))
    assert len(rows) >= 3
    best = [float(r["best_so_far_yuan"]) for r in rows]
    assert best == sorted(best) and best[-1] == pytest.approx(policy["learned_profit_yuan"],
                                                                abs=0.01)
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_policy_plays_in_a_year(tight: Path, tmp_path: Path) -> None:
    """A policy that offers the top block at the cap raises the year's prices."""
    from market.rules import load_rules
    from studies.year import run_year

    w = np.zeros((3, len(FEATURES)))
    w[:, 0] = [-1.0, -1.0, 1.0]
    path = tmp_path / "cap.json"
    path.write_text(json.dumps(LinearPolicy(w).to_json()))
    rules = load_rules(tight)
    base = run_year(rules, 0, 0.05)
    played = run_year(rules, 0, 0.05, strategies={"genco-1": f"policy:{path}"})
    assert played.summary["strategies"][f"genco-1/generator/policy:{path}"]["strategy"] == \
        f"policy:{path}"
    assert played.summary["energy"]["avg_price_yuan_per_mwh"] > \
        base.summary["energy"]["avg_price_yuan_per_mwh"]


def test_policy_strategy_registered(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(LinearPolicy(np.zeros((2, len(FEATURES)))).to_json()))
    spec = parse_spec(f"policy:{path}", "generator")
    assert spec.name == f"policy:{path}" and spec.strategy.role == "generator"
    groups = assign({"genco-1": f"policy:{path}"}, np.array(["genco-1", "genco-2"]),
                    np.array(["coal_supercritical", "coal_supercritical"]), 0)
    assert [g.spec.name for g in groups] == [f"policy:{path}", "opportunity_cost"]


def test_policy_files_refused_by_field(tmp_path: Path) -> None:
    with pytest.raises(StrategyError, match="not found"):
        policy_strategy(f"policy:{tmp_path / 'missing.json'}")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "linear_markup", "features": list(FEATURES),
                               "blocks": 2, "weights": [[1.0, 2.0]]}))
    with pytest.raises(StrategyError, match="'weights'"):
        policy_strategy(f"policy:{bad}")
    bad.write_text("{not json")
    with pytest.raises(StrategyError, match="not readable JSON"):
        LinearPolicy.load(bad)


def test_learn_refuses_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["learn", "mengxi", "--owner", "nobody", "--scale", "0.05"])
    assert result.exit_code == 2 and "agents must be distinct generator owners" in result.output
    result = runner.invoke(app, ["learn", "mengxi", "--scale", "0"])
    assert result.exit_code == 2 and "--scale" in result.output
    result = runner.invoke(app, ["learn", "mengxi", "--scale", "0.05", "--steps", "10",
                                 "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "steps must be at least" in result.output
    result = runner.invoke(app, ["learn", "no-such-preset"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_simulate_with_a_policy(tight: Path, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(LinearPolicy(np.zeros((3, len(FEATURES)))).to_json()))
    out = tmp_path / "year"
    result = CliRunner().invoke(app, ["simulate", str(tight), "--scale", "0.02", "--seed", "1",
                                      "--strategy", f"genco-1=policy:{path}", "--out",
                                      str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert f"genco-1/generator/policy:{path}" in summary["strategies"]


def test_simulate_strategy_option_refused() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["simulate", "mengxi", "--scale", "0.02", "--strategy",
                                 "genco-1"])
    assert result.exit_code == 2 and "KEY=NAME" in result.output
    result = runner.invoke(app, ["simulate", "mengxi", "--scale", "0.02", "--strategy",
                                 "genco-1=policy:/no/such/policy.json"])
    assert result.exit_code == 2 and "not found" in result.output


@pytest.mark.slow
def test_compare_a_policy_against_the_default_bidder(tight: Path, tmp_path: Path) -> None:
    """``mengxi compare A A --strategy-b genco-1=policy:PATH``: the same rules, B with the
    learned bidder; a policy that marks every block up by its bound moves the prices, and a
    bad item is refused with exit 2 before any year runs."""
    path = tmp_path / "p.json"
    high = np.zeros((3, len(FEATURES)))
    high[:, FEATURES.index("bias")] = 10.0
    path.write_text(json.dumps(LinearPolicy(high).to_json()))
    out = tmp_path / "cmp"
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(tight), str(tight), "--seeds", "2",
                                 "--scale", "0.02", "--strategy-b", f"genco-1=policy:{path}",
                                 "--metric", "energy.avg_price_yuan_per_mwh", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "comparison.json").read_text())
    row = next(r for r in data["metrics"] if r["metric"] == "energy.avg_price_yuan_per_mwh")
    assert row["mean_diff"] != 0.0
    assert data["a"]["strategies"] == {}
    assert data["b"]["strategies"] == {"genco-1": f"policy:{path}"}
    bad = runner.invoke(app, ["compare", "mengxi", "mengxi", "--strategy-b", "genco-1"])
    assert bad.exit_code == 2 and "--strategy-b must be KEY=NAME" in bad.output
