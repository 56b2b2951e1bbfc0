"""The year settles contracts as differences when ``contracts.enabled`` (issue 10, item 2):
financial only (spot prices and dispatch unchanged, so a unit under a CfD still offers at its
marginal value), every flow in the ledger, a ``contracts`` component of the consumer cost,
and the coal difference equal to sum (strike - spot) x contracted MWh worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from market.rules import load_preset
from studies.year.contracts import coal_volumes_mw
from studies.year.run import YearResult, fleet_and_profiles, run_year

SEED, SCALE = 11, 0.03


@pytest.fixture(scope="module")
def pair() -> tuple[YearResult, YearResult]:
    rules = load_preset("mengxi")
    return (run_year(rules, SEED, SCALE),
            run_year(rules.with_overrides({"contracts.enabled": True}), SEED, SCALE))


def test_contracts_are_financial_the_spot_market_does_not_move(
        pair: tuple[YearResult, YearResult]) -> None:
    off, on = pair
    assert off.summary["contracts"] == {"enabled": False}
    assert on.summary["contracts"]["enabled"] is True
    np.testing.assert_array_equal(off.hourly["price_yuan_per_mwh"],
                                  on.hourly["price_yuan_per_mwh"])
    np.testing.assert_array_equal(off.units["energy_mwh"], on.units["energy_mwh"])
    assert off.summary["consumer_cost_yuan"]["contracts"] == 0.0
    assert on.ledger.balance() == 0


def test_the_coal_difference_is_strike_minus_spot_times_the_contracted_block(
        pair: tuple[YearResult, YearResult]) -> None:
    _, on = pair
    rules = load_preset("mengxi").with_overrides({"contracts.enabled": True})
    ss = np.random.SeedSequence(SEED).spawn(5)
    synth, profiles = fleet_and_profiles(rules, ss[0], ss[1], SCALE)
    volumes = coal_volumes_mw(rules, synth, profiles)
    price = np.nan_to_num(np.asarray(on.hourly["price_yuan_per_mwh"], dtype=np.float64))
    strike = rules.energy.coal_benchmark_price_yuan_per_mwh
    by_hand = float(((strike - price)[:, None] * volumes).sum())
    c = on.summary["contracts"]
    assert c["coal_strike_yuan_per_mwh"] == pytest.approx(strike)
    assert c["coal_contracted_mwh"] == pytest.approx(volumes.sum(), abs=1e-3)
    # one rounding to the fen per unit and month
    assert abs(c["coal_difference_yuan"] - by_hand) <= 0.01 * volumes.shape[1] * 12
    cols = on.ledger.columns()
    cat = cols["category"].astype(str)
    assert (cat == "contract_difference").any() and (cat == "mechanism_settlement").any()
    # what the loads pay for contracts: the coal difference plus the mechanism's charge
    cost = on.summary["consumer_cost_yuan"]
    assert cost["contracts"] == pytest.approx(
        c["coal_difference_yuan"] + c["mechanism_charge_yuan"], abs=0.01)
    assert cost["total"] == pytest.approx(sum(v for k, v in cost.items() if k != "total"),
                                          abs=0.05)
    # the mechanism's charge to loads is what the projects were paid, to the fen
    assert c["mechanism_charge_yuan"] == pytest.approx(c["mechanism_paid_yuan"], abs=0.01)
    # and the units table carries each unit's contract money
    coal = np.char.startswith(on.units["technology"].astype(str), "coal")
    assert float(on.units["contracts_yuan"][coal].sum()) == pytest.approx(
        c["coal_difference_yuan"], abs=0.01)


@pytest.mark.slow
def test_a_higher_strike_moves_money_from_loads_to_coal_and_nothing_else() -> None:
    rules = load_preset("mengxi").with_overrides({"contracts.enabled": True})
    base = run_year(rules, SEED, SCALE)
    high = run_year(rules.with_overrides({"contracts.coal_strike_float": 0.2}), SEED, SCALE)
    b, h = base.summary, high.summary
    assert h["contracts"]["coal_difference_yuan"] > b["contracts"]["coal_difference_yuan"]
    assert h["consumer_cost_yuan"]["contracts"] > b["consumer_cost_yuan"]["contracts"]
    assert h["energy"] == b["energy"]
    coal = np.char.startswith(base.units["technology"].astype(str), "coal")
    assert high.units["profit_yuan"][coal].sum() > base.units["profit_yuan"][coal].sum()
