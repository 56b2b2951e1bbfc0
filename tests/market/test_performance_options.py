"""Capacity performance options (PJM's Capacity Performance): the balancing ratio and the bonus
to over-performers funded by the penalties, by hand on a small auction, in the ledger, and in the
simulated year (where the option changes who gets the penalty money and nothing else)."""

from __future__ import annotations

import numpy as np
import pytest

from market.capacity.auction import CapacityAuction
from market.capacity.performance import assess_performance, balancing_ratio, share_bonus
from market.capacity.settlement import charge_performance, load_weights
from market.errors import CapacityInputError
from market.ledger.book import SYSTEM_OPERATOR, Ledger
from market.rules import load_preset
from market.units import Fleet, Unit
from studies.year.run import run_year

YUAN_POINTS = {"capacity.demand_points": [
    {"requirement_fraction": 0.97, "price_yuan_per_kw_yr": 495.0},
    {"requirement_fraction": 1.03, "price_yuan_per_kw_yr": 248.0},
    {"requirement_fraction": 1.10, "price_yuan_per_kw_yr": 0.0}]}
BASE = load_preset("mengxi").with_overrides(YUAN_POINTS)
BONUS = BASE.with_overrides({"capacity.performance_bonus": True}).capacity
RATIO = BASE.with_overrides({"capacity.balancing_ratio": True}).capacity
RATE = BASE.capacity.penalty_rate_yuan_per_mwh()  # 330 x 1000 / 30 = 11,000 yuan/MWh


def cleared():
    """coal-a and coal-b 900 MW each cleared at the top of the curve (1,800 of a 2,300 MW
    requirement); wind-1 offers nothing, so it owes nothing."""
    fleet = Fleet.from_units([
        Unit("coal-a", "genco-a", "coal_ultra_supercritical", 1000.0),
        Unit("coal-b", "genco-b", "coal_ultra_supercritical", 1000.0),
        Unit("wind-1", "green-1", "wind", 500.0),
    ])
    a = CapacityAuction(BASE.capacity, fleet, 2000.0)
    a.submit("coal-a", 900, 0)
    a.submit("coal-b", 900, 0)
    return a.clear()


def test_balancing_ratio_is_need_over_commitment_capped_at_one():
    r = balancing_ratio(np.array([900.0, 1800.0, 2700.0, 0.0]), 1800.0)
    assert r.tolist() == [0.5, 1.0, 1.0, 0.0]
    assert balancing_ratio(np.array([5.0]), 0.0).tolist() == [1.0]
    with pytest.raises(CapacityInputError, match="needed_mw"):
        balancing_ratio(np.array([np.nan]), 10.0)


def test_balancing_ratio_lowers_what_a_unit_owes_in_a_slack_hour():
    res = cleared()
    delivered = np.array([[450.0], [900.0], [0.0]])  # coal-a delivers half in one stress hour
    scale = balancing_ratio(np.array([900.0]), float(res.cleared_mw.sum()))  # 900 of 1,800
    plain = assess_performance(res, delivered, BASE.capacity)
    ratio = assess_performance(res, delivered, RATIO, hour_scale=scale)
    assert plain.shortfall_mwh[0] == 450.0 and ratio.shortfall_mwh[0] == 0.0
    assert ratio.total_penalty_fen == 0 < plain.total_penalty_fen


def test_bonus_pays_the_excess_out_of_the_penalties_at_most_the_rate():
    res = cleared()
    # two stress hours: coal-a 100 MWh short in each; coal-b delivers its 900; the uncommitted
    # wind farm delivers 30 MW in each hour (60 MWh of excess, owing nothing)
    delivered = np.array([[800.0, 800.0], [900.0, 900.0], [30.0, 30.0]])
    perf = assess_performance(res, delivered, BONUS)
    assert perf.penalty_fen[0] == 200 * RATE * 100
    assert perf.excess_mwh.tolist() == [0.0, 0.0, 60.0]
    # the pot (2.2 M yuan) covers 60 MWh at the full rate (660,000 yuan)
    assert perf.bonus_fen.tolist() == [0, 0, 60 * RATE * 100]
    assert perf.bonus_rate_yuan_per_mwh == pytest.approx(RATE)
    assert perf.refund_fen == perf.total_penalty_fen - perf.total_bonus_fen
    off = assess_performance(res, delivered, BASE.capacity)
    assert off.total_bonus_fen == 0 and off.refund_fen == off.total_penalty_fen


def test_bonus_is_shared_pro_rata_when_the_penalties_are_short():
    bonus, rate = share_bonus(1_000_01, np.array([1.0, 2.0, 0.0]), RATE)
    assert int(bonus.sum()) == 1_000_01 and bonus[2] == 0
    assert abs(int(bonus[1]) - 2 * int(bonus[0])) <= 2
    assert rate == pytest.approx(1000.01 / 3)
    assert share_bonus(0, np.array([1.0]), RATE)[0].tolist() == [0]
    assert share_bonus(100, np.array([0.0]), RATE)[0].tolist() == [0]


def test_the_ledger_splits_penalties_into_bonuses_and_the_refund_to_loads():
    res = cleared()
    delivered = np.array([[800.0, 800.0], [900.0, 900.0], [30.0, 30.0]])
    perf = assess_performance(res, delivered, BONUS)
    ledger = Ledger()
    loads = ["load-1", "load-2"]
    weights = load_weights("peak_share", peak_mw=np.array([1500.0, 500.0]))
    due, bonus = charge_performance(ledger, perf, "2025-12", loads, weights)
    by = ledger.totals_by("participant")
    assert by["genco-a"] == -int(due.sum()) == -perf.total_penalty_fen
    assert by["green-1"] == int(bonus.sum()) == perf.total_bonus_fen > 0
    assert by["load-1"] + by["load-2"] == perf.refund_fen
    assert by[SYSTEM_OPERATOR] == 0 and ledger.balance() == 0
    assert ledger.totals_by("category")["performance_bonus"] == 0  # both legs of each payment
    # a later revision takes back what is no longer due, and the loads get it back
    smaller = assess_performance(res, np.array([[800.0, 800.0], [900.0, 900.0], [10.0, 10.0]]),
                                 BONUS)
    due2, change = charge_performance(ledger, smaller, "2025-12", loads, weights,
                                      charged_fen=due, bonus_paid_fen=bonus)
    assert due2.sum() == 0 and change.sum() == smaller.total_bonus_fen - perf.total_bonus_fen < 0
    assert ledger.totals_by("participant")["green-1"] == smaller.total_bonus_fen
    assert ledger.balance() == 0


@pytest.mark.slow
def test_in_the_year_the_bonus_moves_penalty_money_from_loads_to_over_performers():
    """The same seed with and without the bonus: the same year, the same penalties; the bonus
    is paid out of them, and what the loads get back falls by exactly as much."""
    rules = load_preset("mengxi").with_overrides({"energy.price_cap_yuan_per_mwh": 1500.0})
    off = run_year(rules, 11, 0.03)
    on = run_year(rules.with_overrides({"capacity.performance_bonus": True}), 11, 0.03)
    c_off, c_on = off.summary["capacity"], on.summary["capacity"]
    assert c_on["penalties_yuan"] == c_off["penalties_yuan"]
    assert c_off["bonus_yuan"] == 0.0
    if c_on["penalties_yuan"] > 0:
        assert 0.0 < c_on["bonus_yuan"] <= c_on["penalties_yuan"]
        paid_units = on.units["performance_bonus_yuan"]
        assert paid_units.sum() == pytest.approx(c_on["bonus_yuan"], abs=0.01)
        cost_off = off.summary["consumer_cost_yuan"]["capacity"]
        cost_on = on.summary["consumer_cost_yuan"]["capacity"]
        assert cost_on - cost_off == pytest.approx(c_on["bonus_yuan"], abs=0.02)
    assert on.ledger.balance() == 0
