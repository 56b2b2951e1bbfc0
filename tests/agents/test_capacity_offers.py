"""Capacity offers that respond to the auction format: net going-forward cost worked by hand,
shading under pay-as-bid, exit at cost in the clock, and the older offers still selectable."""

from __future__ import annotations

import numpy as np
import pytest

from agents.observe import margin_per_kw_yr
from agents.strategies import get_strategy
from agents.strategies.base import CapacityObservation
from agents.strategies.capacity import (
    cost_capacity,
    markup_capacity,
    truthful_capacity,
    truthful_capacity_price,
)
from market.rules import load_preset

MENGXI = load_preset("mengxi")
PAY_AS_BID = load_preset("capacity-pay-as-bid")
CLOCK = load_preset("capacity-clock")
RNG = np.random.default_rng(0)


def obs(margin: np.ndarray, expected: float | None = None) -> CapacityObservation:
    """Two 1,000 MW ultra-supercritical coal units, credit 0.9 (900 MW accredited), going-forward
    cost 0.3 x 330 = 99 yuan/kW·yr of nameplate, and a 400 MW store (credit 0.6, 240 MW,
    going-forward cost 0.3 x 600 = 180)."""
    return CapacityObservation(
        "genco-1", np.array(["c1", "c2", "s1"]),
        np.array(["coal_ultra_supercritical", "coal_ultra_supercritical", "storage"]),
        np.array([900.0, 900.0, 240.0]), np.array([0.9, 0.9, 0.6]),
        np.array([99.0, 99.0, 180.0]), np.asarray(margin, dtype=float),
        np.array([True, True, False]), expected_price_yuan_per_kw_yr=expected)


def test_golden_net_going_forward_offer_of_one_unit():
    """A coal unit at 200 yuan/MWh facing a flat forecast of 210 yuan/MWh all year, out 5 % of
    the time: energy margin (210 - 200) x 8,760 h x 0.95 / 1,000 = 83.22 yuan/kW·yr of
    nameplate. Net going-forward cost (99 - 83.22) = 15.78 per nameplate kW; per accredited kW
    15.78 / 0.9 = 17.5333..., floored to the 0.01 grid: 17.53 yuan/kW·yr."""
    forecast = np.full(8760, 210.0)
    margin = margin_per_kw_yr(np.array(["coal_ultra_supercritical"]), np.array([200.0]),
                              np.array([1000.0]), np.zeros(1), forecast,
                              np.zeros((8760, 1)), 0.05, MENGXI)
    assert margin[0] == pytest.approx(83.22)
    o = obs(np.array([margin[0], 150.0, 0.0]))
    offers = truthful_capacity(o, MENGXI, RNG, {})
    # unit 2 earns more than it avoids: 0; the store has no margin: 180 / 0.6 = 300
    assert offers.price_yuan_per_kw_yr.tolist() == [17.53, 0.0, 300.0]
    assert offers.mw.tolist() == [900.0, 900.0, 240.0]


def test_pay_as_bid_shades_to_just_below_the_forecast_price_never_below_cost():
    o = obs(np.array([83.22, 150.0, 0.0]), expected=120.0)
    shaded = truthful_capacity(o, PAY_AS_BID, RNG, {}).price_yuan_per_kw_yr
    assert shaded.tolist() == [119.99, 119.99, 300.0]  # the store's cost is above the forecast
    # without a forecast the offer is the cost
    no_forecast = truthful_capacity(obs(np.array([83.22, 150.0, 0.0])), PAY_AS_BID, RNG, {})
    assert no_forecast.price_yuan_per_kw_yr.tolist() == [17.53, 0.0, 300.0]


def test_uniform_and_clock_offer_the_cost_whatever_the_forecast():
    o = obs(np.array([83.22, 150.0, 0.0]), expected=120.0)
    for rules in (MENGXI, CLOCK):
        assert truthful_capacity(o, rules, RNG, {}).price_yuan_per_kw_yr.tolist() == \
            [17.53, 0.0, 300.0]


def test_the_older_offers_stay_selectable():
    o = obs(np.array([83.22, 150.0, 0.0]), expected=120.0)
    assert cost_capacity(o, PAY_AS_BID, RNG, {}).price_yuan_per_kw_yr.tolist() == \
        truthful_capacity_price(o, PAY_AS_BID).tolist() == [17.53, 0.0, 300.0]
    marked = markup_capacity(o, PAY_AS_BID, RNG, {"markup": 0.0})
    assert marked.price_yuan_per_kw_yr.tolist() == [17.53, 0.0, 300.0]
    assert get_strategy("truthful").capacity is truthful_capacity
    assert get_strategy("markup").capacity is markup_capacity
