"""Output files of a simulated year: every file written, exact ledger text, deterministic
formats, and round trips back to the result's numbers."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from market.rules import load_preset
from studies.output.files import FILES, csv_text, fen_text, json_text, write_outputs
from studies.year.run import YearResult, run_year


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[YearResult, Path]:
    result = run_year(load_preset("mengxi"), 21, 0.02)
    out = tmp_path_factory.mktemp("year")
    write_outputs(result, out)
    return result, out


def test_every_file_of_the_contract_is_written(written):
    _, out = written
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_summary_json_is_sorted_indented_and_null_for_nan(written):
    result, out = written
    text = (out / "summary.json").read_text()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2) + "\n"
    assert data["seed"] == 21 and data["ledger"]["imbalance_yuan"] == 0
    assert json_text({"b": float("nan"), "a": np.float64(1.5), "c": np.arange(2)}) == \
        '{\n  "a": 1.5,\n  "b": null,\n  "c": [\n    0,\n    1\n  ]\n}\n'


def test_ledger_csv_has_one_exact_row_per_entry_summing_to_zero(written):
    result, out = written
    with (out / "ledger.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["period", "participant", "counterparty", "category",
                             "amount_yuan", "memo", "unit"]
    assert len(rows) == result.ledger.n_entries
    assert sum(Decimal(r["amount_yuan"]) for r in rows) == 0
    fen = result.ledger.columns()["amount_fen"]
    assert [int(Decimal(r["amount_yuan"]) * 100) for r in rows] == fen.tolist()
    table = pq.read_table(out / "ledger.parquet")
    assert table.column_names == list(rows[0])
    assert table.num_rows == len(rows)
    assert np.allclose(table.column("amount_yuan").to_numpy(), fen / 100.0)


def test_hourly_parquet_round_trips(written):
    result, out = written
    table = pq.read_table(out / "hourly.parquet")
    assert table.column_names == list(result.hourly)
    for name, values in result.hourly.items():
        back = table.column(name).to_numpy()
        assert np.array_equal(back, values, equal_nan=values.dtype.kind == "f"), name


def test_csv_tables_match_the_result(written):
    result, out = written
    with (out / "units.csv").open(newline="") as f:
        units = list(csv.DictReader(f))
    assert [r["unit_id"] for r in units] == result.units["unit_id"].tolist()
    assert [float(r["profit_yuan"]) for r in units] == pytest.approx(
        result.units["profit_yuan"].tolist(), abs=0.006)
    with (out / "monthly.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 12
    with (out / "failures.csv").open(newline="") as f:
        fails = list(csv.DictReader(f))
    assert sum(int(r["failures"]) for r in fails) == int(result.failures["failures"].sum())
    cap = json.loads((out / "capacity.json").read_text())
    assert cap["price"] == result.capacity["price"]
    assert cap["offers"]["unit_id"] == result.capacity["offers"]["unit_id"].tolist()


def test_fixed_formats():
    assert fen_text(np.array([0, 5, -5, 123456, -100])) == ["0.00", "0.05", "-0.05",
                                                             "1234.56", "-1.00"]
    text = csv_text({"a_yuan": np.array([1.005, -0.0]), "b_mw": np.array([np.nan, 2.0]),
                     "p_yuan_per_mwh": np.array([1.0, 2.5]), "ok": np.array([True, False]),
                     "n": np.array([1, 2]), "x": np.array([0.5, 1 / 3]),
                     "s": np.array(["a,b", "c"])})
    assert text.splitlines() == ["a_yuan,b_mw,p_yuan_per_mwh,ok,n,x,s",
                                 '1.00,,1.0000,true,1,0.500000,"a,b"',
                                 "0.00,2.000,2.5000,false,2,0.333333,c"]


def test_no_capacity_market_writes_null(tmp_path):
    result = run_year(load_preset("no-capacity-market"), 1, 0.01)
    write_outputs(result, tmp_path)
    assert (tmp_path / "capacity.json").read_text() == "null\n"
