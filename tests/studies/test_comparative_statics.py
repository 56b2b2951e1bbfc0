"""Comparative statics of the whole simulated year (issue 9's acceptance list): raise one
incentive or one quantity, and what it rewards or causes must move the right way.

Each test runs whole years at scale 0.03 on one seed, with the same weather for both runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from market.rules import load_preset
from studies.year.run import run_year

SEED, SCALE = 11, 0.03


def _year(overrides: dict):
    return run_year(load_preset("mengxi").with_overrides(overrides), SEED, SCALE)


@pytest.mark.slow
def test_more_wind_lowers_the_price_raises_curtailment_and_gives_negative_hours():
    base, windy = _year({}), _year({"fleet.wind.unit_count": 2 * load_preset(
        "mengxi").fleet.wind.unit_count})
    b, w = base.summary["energy"], windy.summary["energy"]
    assert w["avg_price_yuan_per_mwh"] < b["avg_price_yuan_per_mwh"]
    assert w["renewable_curtailed_mwh"] > b["renewable_curtailed_mwh"]
    negative = int((windy.hourly["price_yuan_per_mwh"] < 0).sum())
    assert negative > int((base.hourly["price_yuan_per_mwh"] < 0).sum())
    assert negative > 0
    assert (windy.summary["capacity"]["accreditation"]["wind"]
            < base.summary["capacity"]["accreditation"]["wind"])


def _scarcity_revenue(year, threshold: float) -> float:
    """Energy revenue of generators in the hours priced at or above ``threshold``, yuan."""
    h = year.hourly
    gen = h["coal_mw"] + h["wind_mw"] + h["solar_mw"] + h["storage_discharge_mw"]
    dear = h["price_yuan_per_mwh"] >= threshold
    return float((h["price_yuan_per_mwh"] * gen)[dear].sum())


@pytest.mark.slow
def test_a_higher_energy_price_cap_pays_more_scarcity_revenue():
    low, high = _year({}), _year({"energy.price_cap_yuan_per_mwh": 3000.0})
    threshold = load_preset("mengxi").energy.stress_price_threshold_yuan_per_mwh
    assert high.summary["energy"]["max_price_yuan_per_mwh"] \
        > low.summary["energy"]["max_price_yuan_per_mwh"]
    assert _scarcity_revenue(high, threshold) > _scarcity_revenue(low, threshold) > 0
    assert np.all(high.hourly["price_yuan_per_mwh"] <= 3000.0)
