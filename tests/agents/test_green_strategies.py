"""The default green strategies: a certificate's value from the year's obligation, banking
inside validity, and arbitrage between bundled green power and certificates alone.

Hand-worked value: penalty 50 yuan/MWh, banking discount 0.9. With the market exactly
balanced (supply = obligation) p = 0.5 and V = 0.5 x 50 / (1 - 0.9 x 0.5) = 25 / 0.55 =
45.4545... -> 45.45 yuan on the 0.01 grid; the sellers' reservation 0.9 x V = 40.909... ->
40.91.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.strategies import get_strategy
from agents.strategies.green import (
    GreenBuyerObservation,
    GreenSellerObservation,
    certificate_value,
    shortfall_probability,
)
from market.errors import StrategyError
from market.rules import load_preset

RULES = load_preset("mengxi")
RNG = np.random.default_rng(0)
SELLER = get_strategy("green_seller")
BUYER = get_strategy("green_buyer")


def seller_obs(obligation: float, supply: float, *, premium: float = np.nan,
               bankable=(True, False)) -> GreenSellerObservation:
    return GreenSellerObservation("g", 3, np.array(["w1", "w2"]), np.array([40.0, 5.0]),
                                  premium, np.nan, expected_obligation_mwh=obligation,
                                  expected_supply_mwh=supply,
                                  forecast_mwh=np.array([100.0, 10.0]),
                                  bankable=np.array(bankable))


def buyer_obs(obligation: float, supply: float) -> GreenBuyerObservation:
    return GreenBuyerObservation(3, np.array(["l1", "l2"]), np.array([10.0, -3.0]), np.nan,
                                 np.nan, expected_obligation_mwh=obligation,
                                 expected_supply_mwh=supply)


def test_shortfall_probability_by_hand():
    assert shortfall_probability(100.0, 100.0, 0.1) == 0.5
    # one standard deviation short: Phi(1)
    assert shortfall_probability(110.0, 100.0, 0.1) == pytest.approx(
        0.5 * math.erfc(-1 / math.sqrt(2)))
    assert shortfall_probability(50.0, 100.0, 0.1) < 1e-6       # five sd long
    assert shortfall_probability(101.0, 100.0, 0.0) == 1.0       # no uncertainty: certain
    assert shortfall_probability(99.0, 100.0, 0.0) == 0.0
    assert shortfall_probability(0.0, 100.0, 0.1) == 0.0         # no obligation, no value


def test_certificate_value_with_and_without_banking():
    assert certificate_value(50.0, 0.5, 0.9) == pytest.approx(25 / 0.55)
    assert certificate_value(50.0, 0.5, 0.0) == 25.0             # no banking: p x penalty
    assert certificate_value(50.0, 1.0, 0.9) == 50.0             # surely short: the penalty
    assert certificate_value(50.0, 0.0, 0.9) == 0.0              # surely long: worthless


def test_seller_asks_the_banking_value_alone_and_the_full_value_bundled():
    d = SELLER.offer(seller_obs(1000.0, 1000.0), RULES, RNG, SELLER.params())
    assert d.bundled_premium_yuan_per_mwh.tolist() == [45.45, 45.45]
    # bankable: 0.9 x V; one that will have expired by next year's settlement: 0, any price
    assert d.certificate_price_yuan.tolist() == [40.91, 0.0]
    # bundled offered from the forecast of the month's output, not from certificates held
    assert d.bundled_mwh.tolist() == [100.0, 10.0]
    half = SELLER.offer(seller_obs(1000.0, 1000.0), RULES, RNG,
                        SELLER.params({"bundled_share": 0.25}))
    assert half.bundled_mwh.tolist() == [25.0, 2.5]


def test_seller_offers_bundled_only_when_the_expected_premium_covers_a_certificate_alone():
    # without the market view, V is last month's certificate price (here 30): a premium of 20
    # expected does not cover it, so nothing is offered bundled
    o = GreenSellerObservation("g", 3, np.array(["w1"]), np.array([40.0]), 20.0, 30.0)
    d = SELLER.offer(o, RULES, RNG, SELLER.params())
    assert d.bundled_mwh.tolist() == [0.0]
    assert d.certificate_price_yuan.tolist() == [27.0]  # 0.9 x 30
    o = GreenSellerObservation("g", 3, np.array(["w1"]), np.array([40.0]), 35.0, 30.0)
    d = SELLER.offer(o, RULES, RNG, SELLER.params())
    assert d.bundled_mwh.tolist() == [40.0] and d.bundled_premium_yuan_per_mwh.tolist() == [30.0]


def test_buyer_bids_the_value_for_certificates_and_value_plus_preference_bundled():
    b = BUYER.offer(buyer_obs(1000.0, 1000.0), RULES, RNG, BUYER.params())
    assert b.certificate_price_yuan.tolist() == [45.45, 45.45]
    assert b.bundled_premium_yuan_per_mwh.tolist() == [45.45, 45.45]
    assert b.bundled_mwh.tolist() == [5.0, 0.0]     # half of the need, none for no need
    keen = BUYER.offer(buyer_obs(1000.0, 1000.0), RULES, RNG,
                       BUYER.params({"green_preference_yuan_per_mwh": 5.0}))
    assert keen.bundled_premium_yuan_per_mwh.tolist() == [50.45, 50.45]
    assert keen.certificate_price_yuan.tolist() == [45.45, 45.45]


def test_bundled_ask_is_never_below_what_a_certificate_fetches_alone():
    """Sellers ask V bundled, buyers bid at most V alone: whatever clears, premium >= price."""
    for supply in (500.0, 900.0, 1000.0, 1100.0, 2000.0):
        d = SELLER.offer(seller_obs(1000.0, supply), RULES, RNG, SELLER.params())
        b = BUYER.offer(buyer_obs(1000.0, supply), RULES, RNG, BUYER.params())
        assert (d.bundled_premium_yuan_per_mwh >= b.certificate_price_yuan.max()).all()
        assert (d.certificate_price_yuan <= b.certificate_price_yuan.max()).all()


def test_value_rises_with_the_obligation():
    values = [BUYER.offer(buyer_obs(o, 1000.0), RULES, RNG, BUYER.params())
              .certificate_price_yuan[0] for o in (500.0, 950.0, 1000.0, 1050.0, 1500.0)]
    assert values == sorted(values) and values[0] == 0.0 and values[-1] == 50.0


def test_bad_parameters_are_refused_naming_them():
    with pytest.raises(StrategyError, match="banking_discount"):
        SELLER.offer(seller_obs(1.0, 1.0), RULES, RNG, {**SELLER.params(),
                                                        "banking_discount": 1.5})
    with pytest.raises(StrategyError, match="green_preference_yuan_per_mwh"):
        BUYER.offer(buyer_obs(1.0, 1.0), RULES, RNG, {**BUYER.params(),
                                                      "green_preference_yuan_per_mwh": -1})


def test_the_previous_rules_stay_selectable():
    assert get_strategy("green_seller_heuristic").role == "green_seller"
    assert get_strategy("green_buyer_heuristic").role == "green_buyer"


def test_no_strategy_bids_above_a_cap_the_rules_set():
    rules = RULES.with_overrides({"green.premium_cap_yuan_per_mwh": 30.0,
                                  "green.certificate_price_cap_yuan": 20.0})
    d = SELLER.offer(seller_obs(1000.0, 1000.0), rules, RNG, SELLER.params())
    b = BUYER.offer(buyer_obs(1000.0, 1000.0), rules, RNG, BUYER.params())
    assert d.bundled_premium_yuan_per_mwh.tolist() == [30.0, 30.0]
    assert d.certificate_price_yuan.tolist() == [20.0, 0.0]
    assert b.bundled_premium_yuan_per_mwh.tolist() == [30.0, 30.0]
    assert b.certificate_price_yuan.tolist() == [20.0, 20.0]
    old = get_strategy("green_buyer_heuristic")
    h = old.offer(buyer_obs(1000.0, 1000.0), rules, RNG, old.params())
    assert h.certificate_price_yuan.max() <= 20.0 and h.bundled_premium_yuan_per_mwh.max() <= 30
