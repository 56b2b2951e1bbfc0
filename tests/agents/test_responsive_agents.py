"""Agents that respond to the rules, on the in-process engine (``run_energy_year``) at a small
scale: comparative statics of the default strategies (``storage_optimal``,
``opportunity_cost``) and the one parameter for inelastic demand's bid.

Each case is a whole year of 8,760 hourly auctions at scale 0.05 (five storage units); the
runs are cached per set of rule overrides.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from agents.fleet import synthesize_fleet
from agents.http import observe as http_observe
from agents.inprocess import load_blocks, run_energy_year
from agents.inprocess.window import WindowClearing
from agents.profiles import year_profiles
from agents.strategies.assign import assign
from agents.strategies.base import OfferObservation, certificate_value, get_strategy
from market.errors import RulesError
from market.ledger.book import Ledger
from market.rules import load_preset

SCALE, SEED = 0.05, 7
ABUNDANT_WIND = (("fleet.wind.unit_count", 160),)


@cache
def year(overrides: tuple[tuple[str, Any], ...] = (), obligation: float = 0.0,
         strategies: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """The energy year of the preset with ``overrides``; storage committed for
    ``obligation`` x its power in the capacity auction."""
    rules = load_preset("mengxi").with_overrides(dict(overrides))
    synth = synthesize_fleet(rules, SEED, SCALE)
    profiles = year_profiles(synth, rules.meta.year, SEED + 1)
    groups = assign(dict(strategies) or None, synth.fleet.owners, synth.fleet.technologies,
                    synth.n_loads, defaults=rules.agents.strategies.params_by_name())
    rngs = {g.label: np.random.default_rng(0) for g in groups}
    cleared = np.zeros(len(synth.fleet))
    cleared[synth.storage_index] = obligation * synth.storage_power_mw
    y = run_energy_year(rules, synth, profiles, groups, rngs, Ledger(), capacity_mw=cleared)
    st = synth.storage_index
    forecast_stress = WindowClearing(rules, synth, profiles, groups, rngs).stress_forecast
    price = np.nan_to_num(y.price)
    load = profiles.system_load_mw
    return {"price": price, "discharge": y.dispatch_mw[:, st].sum(axis=1),
            "charge": y.charge_mw[:, st].sum(axis=1), "soc_after": y.soc_mwh[1:].sum(axis=1),
            "owed": obligation * float(synth.storage_power_mw.sum()),
            "forecast_stress": forecast_stress, "stress": y.stress,
            "mean_price": float((price * load).sum() / load.sum()), "rules": rules,
            "n_storage": len(st)}


def comp(value: float) -> tuple[tuple[str, Any], ...]:
    return (("energy.storage_discharge_compensation_yuan_per_mwh", value),)


def test_more_discharge_compensation_gives_strictly_more_discharge():
    total = [year(comp(c))["discharge"].sum() for c in (0.0, 350.0, 1000.0)]
    assert year(comp(0.0))["n_storage"] > 0
    assert total[0] < total[1] < total[2], total
    assert total[1] > 2 * total[0]  # compensation makes cycling pay at flat spreads


def test_without_compensation_storage_sells_dearer_than_the_mean_and_buys_cheaper():
    y = year(comp(0.0))
    dis, chg, price = y["discharge"], y["charge"], y["price"]
    assert dis.sum() > 0
    sold_at = float((dis * price).sum() / dis.sum())
    bought_at = float((chg * price).sum() / chg.sum())
    assert sold_at > y["mean_price"] > bought_at
    assert sold_at > float(price.mean())


def test_the_old_storage_strategy_stays_selectable_and_ignores_compensation():
    old = (("storage", "storage_arbitrage"),)
    a = year(comp(0.0), strategies=old)["discharge"].sum()
    b = year(comp(1000.0), strategies=old)["discharge"].sum()
    assert a == pytest.approx(b)


def test_owing_capacity_by_dispatch_storage_discharges_in_the_forecast_stress_hours():
    rules = (("capacity.performance_basis", "dispatched"),)
    free, owed = year(rules), year(rules, obligation=0.6)
    hours = owed["forecast_stress"]
    assert hours.sum() > 0
    in_free = int((free["discharge"][hours] > 0).sum())
    in_owed = int((owed["discharge"][hours] > 0).sum())
    assert in_owed >= 0.6 * hours.sum()
    assert in_owed > 1.2 * in_free


def test_owing_available_capacity_storage_keeps_the_charge_for_the_forecast_stress_hours():
    free, owed = year(), year(obligation=0.6)
    hours = owed["forecast_stress"]
    delivered = owed["discharge"] + owed["soc_after"]
    kept = int((delivered[hours] >= owed["owed"] - 1e-6).sum())
    kept_free = int(((free["discharge"] + free["soc_after"])[hours] >= owed["owed"] - 1e-6)
                    .sum())
    assert kept >= 0.75 * hours.sum()
    assert kept > kept_free
    assert owed["stress"].sum() < free["stress"].sum()  # its charge is spare capacity


def test_a_dearer_certificate_gives_lower_renewable_offers_and_negative_prices():
    low = year(ABUNDANT_WIND + (("green.certificate_price_yuan", 2.0),))
    high = year(ABUNDANT_WIND + (("green.certificate_price_yuan", 30.0),))
    for y in (low, high):
        assert (y["price"] < 0).sum() > 100  # wind sets negative prices when abundant
    assert low["price"].min() == pytest.approx(-2.0)
    assert high["price"].min() == pytest.approx(-30.0)
    old = year(ABUNDANT_WIND, strategies=(("wind", "truthful"), ("solar", "truthful")))
    assert old["price"].min() >= 0.0  # the old truthful offers never go below zero


def _offers(cert: float | None, rules):
    techs = np.array(["wind", "solar", "coal_supercritical"])
    o = OfferObservation("g", np.arange(2), np.array(["w", "s", "c"]), techs,
                         np.array([0.0, 0.0, 250.0]), np.full((2, 3), 100.0),
                         np.array([[0.0, 0.0, 30.0]] * 2), np.full(2, 300.0),
                         certificate_value_yuan_per_mwh=cert)
    return get_strategy("opportunity_cost").offer(o, rules, np.random.default_rng(0), {})


def test_renewables_offer_below_zero_by_the_certificate_value_down_to_the_floor():
    rules = load_preset("mengxi")
    belief = _offers(None, rules)
    assert certificate_value(rules) == pytest.approx(2.0)
    np.testing.assert_allclose(belief.price_yuan_per_mwh[:, :2, 1], -2.0)
    np.testing.assert_allclose(belief.price_yuan_per_mwh[:, 2, 1], 250.0)  # coal: its cost
    np.testing.assert_allclose(belief.price_yuan_per_mwh[:, 2, 0], -50.0)  # must-run
    dear = _offers(30.0, rules)
    np.testing.assert_allclose(dear.price_yuan_per_mwh[:, :2, 1], -30.0)
    floor = _offers(400.0, rules)
    np.testing.assert_allclose(floor.price_yuan_per_mwh[:, :2, 1], -50.0)
    # a bot's observation: the last cleared certificate price, per certificate_mwh
    half = rules.with_overrides({"green.certificate_mwh": 2.0})
    assert certificate_value(half, 30.0) == pytest.approx(15.0)
    assert certificate_value(half, float("nan")) == pytest.approx(1.0)


def test_one_inelastic_bid_for_every_driver():
    rules = load_preset("mengxi")
    assert rules.energy.inelastic_bid() == rules.energy.price_cap_yuan_per_mwh
    lower = rules.with_overrides({"energy.inelastic_bid_yuan_per_mwh": 1200.0})
    qty, price = load_blocks(np.array([[10.0]]), lower)
    assert price.tolist() == [[[120000, 100000]]]
    view = {"hours": [0], "loads": [{"load": "l1", "demand_mw": [10.0]}]}
    bids = http_observe.load_bids(view, lower)
    assert sorted(b["price"] for b in bids) == [1000.0, 1200.0]
    # the responsive block never bids above the inelastic one
    low = rules.with_overrides({"energy.inelastic_bid_yuan_per_mwh": 800.0})
    assert load_blocks(np.array([[10.0]]), low)[1].tolist() == [[[80000, 80000]]]
    with pytest.raises(RulesError, match="inelastic_bid_yuan_per_mwh"):
        rules.with_overrides({"energy.inelastic_bid_yuan_per_mwh": 2000.0})
