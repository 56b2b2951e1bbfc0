"""What a market designer reads (issue 14, item 1 and 2): every table as CSV and Parquet
holding the same rows, the hourly table adding up (energy cost = sum of price x served load),
emissions from tagged factors, and consumer cost per MWh by component."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from market.rules import load_preset
from studies.output.files import TABLES, write_outputs
from studies.year.run import YearResult, run_year


@pytest.fixture(scope="module")
def year() -> YearResult:
    return run_year(load_preset("mengxi"), 11, 0.03)


@pytest.fixture(scope="module")
def written(year: YearResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_outputs(year, tmp_path_factory.mktemp("year"))


def _cell(text: str, value: object) -> bool:
    """A CSV cell and the Parquet value it stands for, compared at the CSV's precision."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text == ""
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, (int, np.integer)):
        return int(text) == value
    if isinstance(value, float):  # the CSV keeps at least two decimals
        return abs(float(text) - value) <= 5e-3
    return text == str(value)


@pytest.mark.parametrize("name", TABLES)
def test_every_table_is_written_as_csv_and_parquet_with_the_same_rows(
        written: Path, name: str) -> None:
    table = pq.read_table(written / f"{name}.parquet").to_pydict()
    with (written / f"{name}.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(table)
    n = len(next(iter(table.values())))
    assert len(rows) - 1 == n
    if name in ("hourly", "units", "capacity_offers", "capacity_demand"):
        assert n > 0
    for k, col in enumerate(table):
        for r, value in enumerate(table[col]):
            assert _cell(rows[r + 1][k], value), (name, col, r, rows[r + 1][k], value)


def test_the_loads_energy_bill_is_price_times_served_load(year: YearResult) -> None:
    h = year.hourly
    price = np.nan_to_num(np.asarray(h["price_yuan_per_mwh"]))
    served = np.asarray(h["served_load_mw"])
    bill = float((price * served).sum())
    entries = int((year.ledger.columns()["category"] == "energy").sum())
    paid = year.summary["consumer_cost_yuan"]["energy"]
    assert bill > 0
    assert abs(paid - bill) <= 0.005 * entries + 1e-6, (paid, bill)
    # served load never exceeds demand (each load's bid is on the 0.001 MW grid)
    # (one tick of rounding per load at most; scale 1 has the most loads)
    loads = load_preset("mengxi").fleet.loads.count
    assert (served <= np.asarray(h["load_mw"]) + 1e-3 * loads).all()
    assert abs(year.summary["energy"]["served_load_mwh"] - served.sum()) < 1e-6
    assert year.summary["energy"]["unserved_mwh"] == pytest.approx(h["unserved_mw"].sum())


def test_emissions_and_cost_per_mwh_in_the_summary(year: YearResult) -> None:
    s = year.summary
    co2 = float(np.asarray(year.hourly["co2_t"]).sum())
    assert s["emissions"]["co2_t"] == pytest.approx(co2, abs=1e-3) and co2 > 0
    out = (s["energy"]["generation_excl_storage_mwh"] + s["energy"]["storage_discharge_mwh"])
    assert s["emissions"]["intensity_t_per_mwh"] == pytest.approx(co2 / out, abs=1e-4)
    # coal at 0.80-0.92 t/MWh, wind and solar at 0: the intensity is below coal's lowest
    assert 0 < s["emissions"]["intensity_t_per_mwh"] < 0.8
    per = s["consumer_cost_yuan_per_mwh"]
    served = s["energy"]["served_load_mwh"]
    assert set(per) == set(s["consumer_cost_yuan"]) and "total" in per
    for k, v in s["consumer_cost_yuan"].items():
        assert per[k] == pytest.approx(v / served, abs=1e-4)


@pytest.mark.slow
def test_a_dirtier_coal_class_raises_emissions_and_nothing_else() -> None:
    rules = load_preset("mengxi")
    base = run_year(rules, 11, 0.03)
    dirty = run_year(rules.with_overrides({"fleet.coal_supercritical.co2_t_per_mwh": 1.7}),
                     11, 0.03)
    assert dirty.summary["emissions"]["co2_t"] > base.summary["emissions"]["co2_t"]
    assert dirty.summary["energy"] == base.summary["energy"]


def test_summary_figures_are_rounded_to_their_meaning(year: YearResult) -> None:
    def walk(value: object, key: str = "") -> list[tuple[str, float]]:
        if isinstance(value, dict):
            return [x for k, v in value.items() for x in walk(v, str(k))]
        if isinstance(value, list):
            return [x for v in value for x in walk(v, key)]
        return [(key, value)] if isinstance(value, float) else []

    floats = walk(year.summary)
    assert len(floats) > 50
    for key, v in floats:
        if key.endswith("_yuan"):
            assert round(v, 2) == v, key
        assert v == 0.0 or abs(v) >= 1e-6, (key, v)  # no -4e-17 markups


def test_the_old_summary_keys_stay_beside_the_new_names(year: YearResult) -> None:
    e = year.summary["energy"]
    assert e["curtailed_mwh"] == e["unserved_mwh"]
    assert e["generation_mwh"] == e["generation_excl_storage_mwh"]


def test_the_storage_state_of_charge_follows_its_charge_and_discharge(year: YearResult) -> None:
    h = year.hourly
    soc = np.asarray(h["storage_soc_mwh"])
    charge, discharge = np.asarray(h["storage_charge_mw"]), np.asarray(h["storage_discharge_mw"])
    energy = load_preset("mengxi").fleet.storage.energy_mwh
    units = int((year.units["technology"] == "storage").sum())
    assert soc.shape == (8760,) and (soc >= -1e-6).all()
    assert (soc <= units * energy + 1e-6).all() and soc.max() > 0
    step = np.diff(soc)
    only_charge = (charge[1:] > 1.0) & (discharge[1:] == 0)
    only_discharge = (discharge[1:] > 1.0) & (charge[1:] == 0)
    assert only_charge.any() and only_discharge.any()
    assert (step[only_charge] > 0).all() and (step[only_discharge] < 0).all()
