"""The capacity market of a simulated year, calibrated to that year: comparative statics on the
in-process engine at a small scale (the capacity step alone,
:func:`studies.year.run.capacity_market`, which the year runs before its energy year), and the
pinned summary outputs of a whole year.

Scale 0.05 with seed 11: the reference unit earns about 406 yuan/kW·yr, so Gross CONE 600 /
500 / 450 / 415 give Net CONE 194 / 94 / 44 / 9; the demand curve sets the price in each (on
its slope for the first two, at its top, 1.5 x Net CONE, for the others).
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.fleet import synthesize_fleet
from agents.inprocess.runner import availability
from agents.profiles import year_profiles
from agents.strategies.assign import assign
from market.rules import MarketRules, load_preset
from studies.year.markets import derived_accreditation
from studies.year.run import capacity_market, run_year

SEED, SCALE = 11, 0.05


def capacity(rules: MarketRules, seed: int = SEED, scale: float = SCALE):
    ss = np.random.SeedSequence(seed).spawn(3)
    synth = synthesize_fleet(rules, int(ss[0].generate_state(1)[0]), scale)
    profiles = year_profiles(synth, rules.meta.year, int(ss[1].generate_state(1)[0]))
    groups = assign(None, synth.fleet.owners, synth.fleet.technologies, synth.n_loads,
                    defaults=rules.agents.strategies.params_by_name())
    rngs = {g.label: np.random.default_rng(c)
            for g, c in zip(groups, ss[2].spawn(len(groups)), strict=True)}
    return capacity_market(rules, synth, profiles, groups, rngs)


def test_lower_net_cone_gives_a_lower_price_where_the_curve_sets_it():
    base = load_preset("mengxi")
    prices = []
    for gross in (600.0, 500.0, 450.0, 415.0):
        year_rules, cone, res = capacity(base.with_overrides(
            {"capacity.gross_cone_yuan_per_kw_yr": gross}))
        assert cone["net_cone"] == pytest.approx(max(gross - cone["reference_margin"], 0), abs=0.01)
        assert year_rules.capacity.net_cone_yuan_per_kw_yr == cone["net_cone"]
        assert res is not None and res.price_yuan_per_kw_yr is not None
        # the curve sets the price: it passes through the cleared quantity at that price
        assert res.demand.price_at(res.total_cleared_mw) == pytest.approx(
            res.price_yuan_per_kw_yr, abs=0.01)
        prices.append(res.price_yuan_per_kw_yr)
    assert prices == sorted(prices, reverse=True) and prices[0] > prices[-1] > 0
    # a fixed Net CONE moves the curve too (the complaint of issue 9: it changed nothing)
    fixed = [capacity(base.with_overrides({"capacity.net_cone_method": "fixed",
                                           "capacity.net_cone_yuan_per_kw_yr": cone}))[2]
             for cone in (330.0, 200.0)]
    assert fixed[0] is not None and fixed[1] is not None
    assert fixed[0].demand.price_yuan_per_kw_yr.tolist() == [495.0, 247.5, 0.0]
    assert fixed[1].demand.price_yuan_per_kw_yr.tolist() == [300.0, 150.0, 0.0]
    assert fixed[0].price_yuan_per_kw_yr > fixed[1].price_yuan_per_kw_yr  # type: ignore[operator]


def test_pay_as_bid_pays_within_40_percent_of_uniform():
    uniform = capacity(load_preset("mengxi"))[2]
    pab = capacity(load_preset("capacity-pay-as-bid"))[2]
    clock = capacity(load_preset("capacity-clock"))[2]
    assert uniform is not None and pab is not None and clock is not None
    u, p = uniform.total_payment_fen, pab.total_payment_fen
    assert u > 0 and 0.6 * u <= p <= 1.4 * u
    # the shaded offers sit just below the uniform price, never above it
    accepted = pab.accepted_mw > 0
    assert np.all(pab.settlement_price[accepted] <= uniform.price_yuan_per_kw_yr)
    # the clock exits at cost: the same price as the sealed uniform auction (to its 5-yuan step)
    assert abs(clock.price_yuan_per_kw_yr - uniform.price_yuan_per_kw_yr) <= 5.0


def test_more_wind_gives_lower_wind_accreditation():
    def wind_credit(count: int) -> float:
        rules = load_preset("mengxi").with_overrides({"fleet.wind.unit_count": count})
        ss = np.random.SeedSequence(SEED).spawn(3)
        synth = synthesize_fleet(rules, int(ss[0].generate_state(1)[0]), 0.2)
        profiles = year_profiles(synth, rules.meta.year, int(ss[1].generate_state(1)[0]))
        avail, _ = availability(synth, profiles, rules)
        credits = derived_accreditation(rules, synth, profiles, avail)
        assert all(0.0 <= v <= 1.0 for v in credits.values())
        return credits["wind"]

    few, many = wind_credit(40), wind_credit(160)
    assert many < few


def test_derived_and_fixed_accreditation():
    year_rules, _, res = capacity(load_preset("mengxi"))
    c = year_rules.capacity.capacity_credit
    assert {"wind", "solar", "storage"} <= set(c.keys())
    assert all(0.0 <= v <= 1.0 for v in c.values())
    assert c.solar < c.wind < c.storage <= 1.0  # evening peaks: solar is worth little
    fixed_rules = load_preset("mengxi").with_overrides({"capacity.accreditation_method": "fixed"})
    fixed = capacity(fixed_rules)[0].capacity.capacity_credit
    assert dict(fixed.items()) == dict(fixed_rules.capacity.capacity_credit.items())
    # a 2-hour store is worth less than a 4-hour one, an 8-hour one more (or as much)
    credit = {}
    for mwh in (800.0, 1600.0, 3200.0):
        r = load_preset("mengxi").with_overrides({"fleet.storage.energy_mwh": mwh})
        credit[mwh] = capacity(r)[0].capacity.capacity_credit.storage
    assert credit[800.0] < credit[1600.0] <= credit[3200.0]


def test_the_year_reports_the_resolved_capacity_market_and_reliability():
    year = run_year(load_preset("mengxi"), SEED, 0.03)
    cap, rel = year.summary["capacity"], year.summary["reliability"]
    assert set(cap["accreditation"]) >= {"wind", "solar", "storage"}
    assert all(0.0 <= v <= 1.0 for v in cap["accreditation"].values())
    assert cap["net_cone_yuan_per_kw_yr"] == pytest.approx(
        max(cap["gross_cone_yuan_per_kw_yr"] - cap["reference_margin_yuan_per_kw_yr"], 0.0),
        abs=0.011)
    assert [p[1] for p in cap["demand_curve"]] == pytest.approx(
        [1.5 * cap["net_cone_yuan_per_kw_yr"], 0.75 * cap["net_cone_yuan_per_kw_yr"], 0.0],
        abs=0.01)
    unserved = year.hourly["unserved_mw"]
    assert rel["lole_hours"] == int((unserved > 0.0005).sum())
    assert rel["eue_mwh"] == pytest.approx(float(unserved.sum()))
    assert rel["standard_lole_hours"] == 3.0
    assert rel["meets_standard"] == (rel["lole_hours"] <= 3.0)
    # the units table accredits as the auction did
    acc = year.units["accredited_mw"][year.units["technology"] == "storage"]
    nameplate = year.units["nameplate_mw"][year.units["technology"] == "storage"]
    assert acc == pytest.approx(np.floor(nameplate * cap["accreditation"]["storage"] * 1000
                                         + 1e-6) / 1000, abs=0.001)
