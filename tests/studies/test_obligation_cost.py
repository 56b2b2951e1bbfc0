"""Capacity offers price in what the obligation costs (penalty risk, bonus forgone): worked out
by hand for one wind unit, and comparative statics of the penalty rate and the bonus on the
year's capacity step (scale 0.05, one seed)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.fleet import synthesize_fleet
from agents.inprocess.runner import availability, merit_order_forecast
from agents.profiles import year_profiles
from agents.strategies.assign import assign
from clearing.grid import KW_PER_MW
from market.capacity.auction import capacity_credits
from market.rules import MarketRules, load_preset
from studies.year.markets import obligation_cost, resolve_capacity
from studies.year.run import capacity_market

SEED, SCALE = 11, 0.05


def system(rules: MarketRules):
    ss = np.random.SeedSequence(SEED).spawn(3)
    synth = synthesize_fleet(rules, int(ss[0].generate_state(1)[0]), SCALE)
    profiles = year_profiles(synth, rules.meta.year, int(ss[1].generate_state(1)[0]))
    return ss, synth, profiles


def costs(rules: MarketRules):
    """The resolved rules, the fleet and each unit's obligation cost (yuan/kW·yr)."""
    _, synth, profiles = system(rules)
    avail, must = availability(synth, profiles, rules)
    forecast = merit_order_forecast(synth, profiles, rules, avail, must)
    resolved, _ = resolve_capacity(rules, synth, profiles, forecast, avail)
    year_rules = rules.model_copy(update={"capacity": resolved})
    return (year_rules, synth, forecast, avail,
            obligation_cost(year_rules, synth, profiles, forecast, avail))


def auction(rules: MarketRules):
    ss, synth, profiles = system(rules)
    groups = assign(None, synth.fleet.owners, synth.fleet.technologies, synth.n_loads,
                    defaults=rules.agents.strategies.params_by_name())
    rngs = {g.label: np.random.default_rng(c)
            for g, c in zip(groups, ss[2].spawn(len(groups)), strict=True)}
    _, _, res = capacity_market(rules, synth, profiles, groups, rngs)
    return synth, res


def test_a_wind_units_obligation_cost_is_its_expected_shortfall_at_the_penalty_rate():
    rules, synth, forecast, avail, cost = costs(load_preset("mengxi"))
    c = rules.capacity
    stress = forecast >= rules.energy.stress_price_threshold_yuan_per_mwh
    assert stress.sum() > 0
    credit = capacity_credits(synth.fleet, c)
    w = int(synth.wind_index[0])
    a = avail[stress, w] / synth.fleet.nameplate_mw[w]
    short = sum(max(1.0 - x / credit[w], 0.0) for x in a.tolist())
    expect = min(short * c.penalty_rate_yuan_per_mwh() / KW_PER_MW,
                 c.stop_loss_multiple * c.offer_cap_yuan_per_kw_yr)
    assert cost[w] == pytest.approx(expect, rel=1e-9)
    # a coal unit is credited with its availability: it expects to deliver what it owes
    assert np.all(cost[synth.coal_index] == pytest.approx(0.0, abs=1e-9))
    assert np.all(cost[synth.storage_index] == 0.0)


def test_a_higher_penalty_rate_raises_what_unreliable_units_ask_and_clears_less_of_them():
    base = load_preset("mengxi")
    harsh = base.with_overrides({"capacity.penalty_hours": 10.0})  # three times the rate
    *_, low = costs(base)
    *_, high = costs(harsh)
    assert np.all(high >= low - 1e-9) and high.sum() > low.sum()
    synth, res_low = auction(base)
    _, res_high = auction(harsh)
    renewables = np.concatenate([synth.wind_index, synth.solar_index])
    assert res_high.cleared_mw[renewables].sum() <= res_low.cleared_mw[renewables].sum()
    assert res_high.cleared_mw.sum() < res_low.cleared_mw.sum()


def test_a_bonus_makes_committing_cost_more_for_units_that_would_over_deliver():
    base = load_preset("mengxi")
    *_, off = costs(base)
    *_, on = costs(base.with_overrides({"capacity.performance_bonus": True}))
    assert np.all(on >= off - 1e-9)
    assert on.sum() > off.sum()
