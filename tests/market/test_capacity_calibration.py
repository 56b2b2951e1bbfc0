"""The calibrated capacity market's pieces in market/: accreditation measured on net load,
storage de-rated by duration, demand prices as multiples of Net CONE, resolved rules, and the
forecast of the uniform price."""

from __future__ import annotations

import numpy as np
import pytest

from market.capacity.accreditation import derive_credits, run_coverage, run_lengths, tight_hours
from market.capacity.auction import CapacityAuction, accredited_mw
from market.capacity.demand import demand_curve
from market.errors import RulesError
from market.rules import load_preset
from market.units import Fleet, Unit

MENGXI = load_preset("mengxi")


def test_tight_hours_are_the_highest_net_load_and_come_in_runs():
    net = np.array([5.0, 9.0, 9.5, 9.2, 1.0, 8.0, 9.9, 2.0])
    hours = tight_hours(net, 4)
    assert hours.tolist() == [1, 2, 3, 6]
    assert run_lengths(hours).tolist() == [3, 1]
    # a 2-hour store full at the start of each run covers 2 of the 3-hour run and the 1-hour run
    assert run_coverage(hours, 2.0) == pytest.approx(3 / 4)
    assert run_coverage(hours, 4.0) == 1.0 and run_coverage(hours, 0.0) == 0.0


def test_derived_credits_by_hand():
    """Net load peaks in hours 2, 3 (a 2-hour run) and 6. Wind gives 100, 0, 50 MW of 500 there:
    150 / 3 / 500 = 0.1; solar nothing; a 1-hour store covers 1 of the run's 2 hours and the
    single hour: 2 / 3; a 4-hour store all 3; coal out 5 % of the year: 0.95."""
    load = np.array([100.0, 200.0, 900.0, 950.0, 300.0, 200.0, 990.0, 100.0])
    wind = np.array([0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 50.0, 0.0])
    solar = np.zeros(8)
    net = load - wind - solar
    credits = derive_credits(net, 3, available_mw={"wind": wind, "solar": solar},
                             nameplate_mw={"wind": 500.0, "solar": 300.0},
                             storage_power_mw=np.array([100.0, 100.0]),
                             storage_energy_mwh=np.array([100.0, 400.0]),
                             outage_share={"coal_supercritical": 0.05})
    assert credits["wind"] == pytest.approx(0.1)
    assert credits["solar"] == 0.0
    assert credits["storage"] == pytest.approx((2 / 3 + 1.0) / 2)  # MW-weighted
    assert credits["coal_supercritical"] == pytest.approx(0.95)
    assert all(0.0 <= v <= 1.0 for v in credits.values())


def test_storage_is_derated_by_duration():
    """Runs of 1 to 6 hours: a longer store covers more of them, never above 1."""
    net = np.zeros(100)
    for start, length in ((2, 1), (10, 2), (20, 3), (30, 4), (40, 5), (50, 6)):
        net[start:start + length] = 10.0
    values = []
    for hours in (1.0, 2.0, 4.0, 8.0):
        c = derive_credits(net, 21, available_mw={}, nameplate_mw={},
                           storage_power_mw=np.array([100.0]),
                           storage_energy_mwh=np.array([100.0 * hours]))
        values.append(c["storage"])
    assert values == sorted(values) and values[-1] == 1.0 and values[0] == pytest.approx(6 / 21)
    assert all(0 <= v <= 1 for v in values)


def test_demand_prices_are_multiples_of_net_cone_so_the_curve_moves_with_it():
    base = MENGXI.capacity
    assert base.demand_curve()[1].tolist() == [495.0, 247.5, 0.0]  # 1.5, 0.75, 0 x 330
    low = base.resolved(net_cone_yuan_per_kw_yr=200.0)
    assert low.demand_curve()[1].tolist() == [300.0, 150.0, 0.0]
    assert low.penalty_rate_yuan_per_mwh() == pytest.approx(200_000 / 30)
    # quantities move with the requirement
    wider = MENGXI.with_overrides({"capacity.reserve_margin": 0.20}).capacity
    assert demand_curve(wider, 1000.0).quantity_mw.tolist() == [1164.0, 1236.0, 1320.0]
    # a point fixed in yuan keeps its price whatever Net CONE is
    fixed = MENGXI.with_overrides({"capacity.demand_points[0].price_yuan_per_kw_yr": 450})
    assert fixed.capacity.resolved(net_cone_yuan_per_kw_yr=100.0).demand_curve()[1].tolist() \
        == [450.0, 75.0, 0.0]


def test_a_point_without_a_price_is_refused_and_old_rule_sets_keep_their_hash():
    with pytest.raises(RulesError) as info:
        MENGXI.with_overrides({"capacity.demand_points": [{"requirement_fraction": 1.0},
                                                          {"requirement_fraction": 1.1,
                                                           "net_cone_multiple": 0.0}]})
    assert "capacity.demand_points[0].net_cone_multiple" in str(info.value)
    text = MENGXI.to_json()
    for name in ("accreditation_method", "net_cone_method", "gross_cone_yuan_per_kw_yr",
                 "reliability_standard_lole_hours"):
        assert name not in text  # new parameters at their defaults leave the JSON alone
    assert '"price_yuan_per_kw_yr": null' not in text


def test_resolved_rules_carry_the_derived_credits_into_accreditation():
    f = Fleet.from_units([Unit("w", "o", "wind", 500.0), Unit("s", "o", "storage", 400.0)])
    cap = MENGXI.capacity.resolved(capacity_credit={"wind": 0.2, "storage": 0.9, "nope": 1.0})
    assert accredited_mw(f, cap).tolist() == [100.0, 360.0]
    assert accredited_mw(f, MENGXI.capacity).tolist() == [50.0, 240.0]  # the fixed table
    assert cap.capacity_credit.solar == MENGXI.capacity.capacity_credit.solar


def test_forecast_uniform_price_clears_hypothetical_offers_and_leaves_the_auction_alone():
    """Two 900 MW coal units and a 240 MW store against a 2,000 MW peak (RR 2,300): at prices
    0 / 0 / 100 the supply is 2,040 MW, short of the curve's 2,231 MW first point: the price is
    the curve's top, 1.5 x 330 = 495."""
    f = Fleet.from_units([Unit("a", "o", "coal_ultra_supercritical", 1000.0),
                          Unit("b", "o", "coal_ultra_supercritical", 1000.0),
                          Unit("s", "o", "storage", 400.0)])
    auction = CapacityAuction(MENGXI.capacity, f, 2000.0)
    assert auction.forecast_uniform_price(np.array([0.0, 0.0, 100.0])) == 495.0
    assert len(auction.offers()) == 0
    # RR 1,725: the curve asks 1,776.75 + 120.75 x 147.5 / 247.5 = 1,848.7 MW at 100, more
    # than the coal's 1,800 at 0: the store is marginal and sets 100; at 200 the curve wants
    # 1,800.9 MW, so the price falls to where the curve meets the coal: 247.5 x (1 - 23.25 /
    # 120.75) = 199.84 (between the steps: the curve sets it)
    big = CapacityAuction(MENGXI.capacity, f, 1500.0)
    assert big.forecast_uniform_price(np.array([0.0, 0.0, 100.0])) == 100.0
    assert big.forecast_uniform_price(np.array([0.0, 0.0, 300.0])) == pytest.approx(199.84,
                                                                                    abs=0.01)
