"""``mengxi simulate`` through Typer's CliRunner, on the ``mengxi`` app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from studies.output.files import FILES

runner = CliRunner()


def test_simulate_a_preset_writes_outputs_and_prints_the_summary(tmp_path: Path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["simulate", "mengxi", "--seed", "3", "--scale", "0.01",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "energy price, load-weighted" in res.output and "ledger imbalance" in res.output
    assert set(FILES) <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["scale"] == 0.01
    assert summary["rules_name"] == "mengxi"


@pytest.mark.slow
def test_simulate_a_toml_file_defaults_the_seed_and_the_output_folder(tmp_path: Path,
                                                                      monkeypatch):
    variant = tmp_path / "my-variant.toml"
    variant.write_text('extends = "mengxi"\n[meta]\nname = "mine"\nseed = 99\n'
                       "[capacity]\nenabled = false\n")
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["simulate", str(variant), "--scale", "0.01"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "my-variant-seed99" / "summary.json").read_text())
    assert summary["seed"] == 99 and summary["capacity"]["enabled"] is False
    assert "no capacity market" in res.output


@pytest.mark.parametrize("args, message", [
    (["simulate", "atlantis"], "no preset named 'atlantis'"),
    (["simulate", "missing.toml"], "file not found"),
    (["simulate", "mengxi", "--seed", "-4"], "--seed must be an integer >= 0"),
    (["simulate", "mengxi", "--scale", "0"], "--scale must be a number > 0"),
    (["simulate", "mengxi", "--scale", "nan"], "--scale must be a number > 0"),
])
def test_bad_scenarios_and_flags_exit_2_with_a_message_and_no_traceback(args, message,
                                                                        tmp_path):
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "x").exists()


def test_a_bad_rules_file_lists_its_problems(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "mengxi"\n[capacity]\nnet_cone = 5\n')
    res = runner.invoke(app, ["simulate", str(bad), "--scale", "0.01"])
    assert res.exit_code == 2
    assert "net_cone" in res.output and "Traceback" not in res.output


def _table_text(summary: dict) -> dict[str, str]:
    from rich.console import Console

    from api.cli.simulate import summary_table
    console = Console(width=200, record=True)
    console.print(summary_table(summary))
    rows = [line.split("│") for line in console.export_text().splitlines() if "│" in line]
    return {r[1].strip(): r[2].strip() for r in rows if len(r) == 4}


def _summary(**compensation) -> dict:
    k = {"gross_yuan": 0.0, "offset_yuan": 0.0, "deducted_yuan": 0.0, "paid_yuan": 0.0,
         "deductions_due_yuan": 0.0, "failures": 0, **compensation}
    return {"rules_name": "mengxi", "seed": 1, "scale": 1.0, "hours": 8760,
            "energy": {"avg_price_yuan_per_mwh": 250.0, "stress_hours": 3, "unserved_mwh": 0.0},
            "capacity": {"enabled": True, "clearing_price_yuan_per_kw_yr": 400.0,
                         "cleared_mw": 1.0, "penalties_yuan": 0.0},
            "compensation": k,
            "green": {"certificates_issued": 1.0, "certificates_retired": 1.0,
                      "avg_premium_yuan_per_mwh": 3.0},
            "renewable_share": 0.35, "consumer_cost_yuan": {"total": 1.0},
            "ledger": {"imbalance_yuan": 0.0}}


def test_the_compensation_lines_show_net_amounts_not_would_be_deductions():
    # Issue 9 item 3: fully offset by capacity payments, 147 failures whose deductions were
    # due (39.6 M) but moved no money: the table says 0 paid and 0 deducted.
    text = _table_text(_summary(gross_yuan=2_039_400_000.0, offset_yuan=2_039_400_000.0,
                                deductions_due_yuan=39_600_000.0, failures=147))
    assert text["compensation paid (net)"] == ("0.00 million yuan (gross 2,039.40, 2,039.40 "
                                               "offset by capacity payments)")
    assert text["compensation deducted"] == ("0.00 million yuan (147 failures; 39.60 due, "
                                             "already offset)")
    # offset = "none": the deductions are money not paid, and the lines say so
    text = _table_text(_summary(gross_yuan=99_000_000.0, deducted_yuan=4_950_000.0,
                                paid_yuan=94_050_000.0, deductions_due_yuan=4_950_000.0,
                                failures=4))
    assert text["compensation paid (net)"] == "94.05 million yuan"
    assert text["compensation deducted"] == "4.95 million yuan (4 failures)"
