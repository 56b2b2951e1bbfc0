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
