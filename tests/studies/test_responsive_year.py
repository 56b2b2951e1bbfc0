"""The simulated year with agents that respond to the rules (issue 9, item 1): the default
strategies are the responsive ones, and the year's storage discharge follows the discharge
compensation (it was the same 1.796 TWh at 0, 350 and 1,000 yuan/MWh before).

Scale 0.03, one seed: each run is a whole year.
"""

from __future__ import annotations

from market.rules import load_preset
from studies.year.run import run_year

SEED, SCALE = 11, 0.03


def _year(compensation: float):
    rules = load_preset("mengxi").with_overrides(
        {"energy.storage_discharge_compensation_yuan_per_mwh": compensation})
    return run_year(rules, SEED, SCALE)


def test_the_year_plays_the_responsive_strategies_and_storage_follows_its_compensation():
    paid, unpaid = _year(350.0), _year(0.0)
    names = {v["strategy"] for v in paid.summary["strategies"].values()}
    assert {"opportunity_cost", "storage_optimal"} <= names
    assert not {"truthful", "storage_arbitrage"} & names
    assert (unpaid.summary["energy"]["storage_discharge_mwh"]
            < paid.summary["energy"]["storage_discharge_mwh"])
    # wind and solar offer below zero by the certificate value: prices may go negative
    assert paid.summary["energy"]["min_price_yuan_per_mwh"] < 0
