"""Bidding strategies: offers by hand, prices they lead to, and learning in a small duopoly.

The market cases are small uniform-price auctions cleared by
:func:`market.energy.auction.clear_energy`
with offers built from the strategies' arrays.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.strategies.assign import assign, parse_spec
from agents.strategies.base import (
    CapacityObservation,
    OfferObservation,
    Offers,
    get_strategy,
    strategy_names,
)
from agents.strategies.green import GreenBuyerObservation, GreenSellerObservation
from agents.strategies.learning import RothErevState, initial_state
from agents.strategies.storage import StorageObservation
from market.energy.auction import BUY, SELL, EnergyBids, clear_energy
from market.energy.storage import clip_schedule
from market.errors import StrategyError
from market.rules import load_preset

RULES = load_preset("mengxi")
RNG = np.random.default_rng(0)


def obs(cost, avail, must=None, forecast=None, state=None, owner="g"):
    avail = np.asarray(avail, dtype=float)
    h, u = avail.shape
    return OfferObservation(
        owner, np.arange(h), np.array([f"u{j}" for j in range(u)]), np.full(u, "coal_x"),
        np.asarray(cost, dtype=float), avail,
        np.zeros((h, u)) if must is None else np.asarray(must, dtype=float),
        np.zeros(h) if forecast is None else np.asarray(forecast, dtype=float), state)


def clear(offers: Offers, load_mw, rules=RULES):
    """Clear offers of units u0.. against inelastic load (MW per hour) at the cap."""
    q, p = offers.quantity_mw, offers.price_yuan_per_mwh
    h, u, b = q.shape
    hh, uu, bb = np.nonzero(q > 0)
    load = np.asarray(load_mw, dtype=float)
    hours = np.concatenate([hh, np.arange(h)])
    units = np.concatenate([np.array([f"u{j}" for j in uu], dtype=str), np.full(h, "")])
    who = np.concatenate([np.array([f"o{j}" for j in uu], dtype=str), np.full(h, "load")])
    side = np.concatenate([np.full(len(hh), SELL), np.full(h, BUY)])
    price = np.concatenate([p[hh, uu, bb], np.full(h, rules.energy.price_cap_yuan_per_mwh)])
    qty = np.concatenate([q[hh, uu, bb], load])
    bids = EnergyBids.from_arrays(hours, who, units, side, price, qty, rules=rules, n_hours=h)
    return clear_energy(bids, h, rules), bids


# --------------------------------------------------------------------- registry

def test_registry_names_every_role_and_refuses_unknown_names_and_parameters():
    assert {"truthful", "markup", "withholding", "learning"} <= set(strategy_names("generator"))
    assert strategy_names("storage") == ["storage_arbitrage", "storage_optimal"]
    assert "green_seller" in strategy_names("green_seller")
    assert "green_buyer" in strategy_names("green_buyer")
    with pytest.raises(StrategyError, match="unknown generator strategy 'bluff'"):
        get_strategy("bluff", "generator")
    with pytest.raises(StrategyError, match="unknown storage strategy 'truthful'"):
        get_strategy("truthful", "storage")
    with pytest.raises(StrategyError, match="no parameter.*mark_up.*markup"):
        parse_spec(("markup", {"mark_up": 0.1}))


def test_assignment_most_specific_key_wins_and_unusable_keys_are_refused():
    owners = np.array(["a", "a", "b", "b"])
    techs = np.array(["coal_supercritical", "storage", "coal_supercritical", "wind"])
    groups = assign({"a": "markup", "b:wind": ("withholding", {"share": 0.5}),
                     "coal": "learning"}, owners, techs, 2)
    got = {(g.owner, g.role, g.spec.name): g.members.tolist() for g in groups}
    assert got[("a", "generator", "markup")] == [0]          # owner beats technology
    assert got[("a", "storage", "storage_optimal")] == [1]  # owner key skips storage
    assert got[("b", "generator", "learning")] == [2]        # "coal" covers every coal class
    assert got[("b", "generator", "withholding")] == [3]
    assert got[("", "green_buyer", "green_buyer")] == [0, 1]
    assert len({g.label for g in groups}) == len(groups)
    with pytest.raises(StrategyError, match="matches no unit"):
        assign({"nobody": "truthful"}, owners, techs, 2)
    with pytest.raises(StrategyError, match="unknown strategy"):
        assign({"a": "bluff"}, owners, techs, 2)


# --------------------------------------------------------------------- offers by hand

def test_truthful_offers_must_run_at_the_floor_and_the_rest_at_cost():
    o = obs([210.0, 0.0], [[1000.0, 300.0], [0.0, 120.0]], must=[[350.0, 0.0], [0.0, 0.0]])
    out = get_strategy("truthful").offer(o, RULES, RNG, {})
    assert out.quantity_mw.tolist() == [[[350.0, 650.0], [0.0, 300.0]],
                                        [[0.0, 0.0], [0.0, 120.0]]]
    assert (out.price_yuan_per_mwh[:, :, 0] == -50.0).all()
    assert out.price_yuan_per_mwh[0, :, 1].tolist() == [210.0, 0.0]


def test_markup_is_a_share_of_cost_clipped_to_the_cap():
    o = obs([200.0, 1000.0], [[100.0, 100.0]])
    s = get_strategy("markup")
    out = s.offer(o, RULES, RNG, s.params({"markup": 0.6}))
    assert out.price_yuan_per_mwh[0, :, 1].tolist() == [320.0, 1500.0]


@settings(max_examples=100, deadline=None)
@given(share=st.floats(0, 1), threshold=st.floats(0, 400))
def test_withholding_holds_back_its_share_only_in_dear_hours(share, threshold):
    forecast = np.array([100.0, 250.0, 390.0])
    o = obs([200.0], [[500.0], [500.0], [500.0]], must=[[100.0]] * 3, forecast=forecast)
    s = get_strategy("withholding")
    out = s.offer(o, RULES, RNG, s.params({"share": share, "min_forecast_yuan_per_mwh": threshold}))
    offered = out.quantity_mw.sum(axis=2)[:, 0]
    dear = forecast >= threshold
    assert np.allclose(offered[~dear], 500.0)
    assert np.allclose(offered[dear], 100.0 + 400.0 * (1 - share))
    assert (out.quantity_mw[:, 0, 0] == 100.0).all()  # must-run is never withheld


def test_capacity_offers_price_the_net_going_forward_cost_per_accredited_kw():
    c = CapacityObservation("g", np.array(["a", "b"]), np.array(["coal_x", "wind"]),
                            np.array([900.0, 50.0]), np.array([0.9, 0.1]),
                            np.array([99.0, 120.0]), np.array([9.0, 200.0]),
                            np.array([True, False]))
    out = get_strategy("truthful").capacity(c, RULES, RNG, {})
    assert out.mw.tolist() == [900.0, 50.0]
    assert out.price_yuan_per_kw_yr.tolist() == [100.0, 0.0]  # (99 - 9) / 0.9; margin > cost
    w = get_strategy("withholding")
    assert w.capacity(c, RULES, RNG, w.params({"share": 0.25})).mw.tolist() == [675.0, 37.5]


# --------------------------------------------------------------------- prices they lead to

LOAD = [50.0, 150.0, 250.0, 290.0]
COSTS = [100.0, 200.0, 300.0]


def test_truthful_bidding_with_ample_supply_prices_energy_at_marginal_cost():
    o = obs(COSTS, np.full((4, 3), 100.0))
    result, _ = clear(get_strategy("truthful").offer(o, RULES, RNG, {}), LOAD)
    # the marginal unit is partly accepted, so the price is exactly its cost
    assert result.price.tolist() == [100.0, 200.0, 300.0, 300.0]
    assert result.curtailed_mwh.sum() == 0


def test_withholding_raises_prices_and_never_lowers_them():
    o = obs(COSTS, np.full((4, 3), 100.0))
    truthful, _ = clear(get_strategy("truthful").offer(o, RULES, RNG, {}), LOAD)
    s = get_strategy("withholding")
    held, _ = clear(s.offer(o, RULES, RNG, s.params({"share": 0.5})), LOAD)
    assert (held.price >= truthful.price).all()
    assert (held.price > truthful.price).any()
    # 50 MW offered per unit: 50 MW of load takes the 100-yuan block exactly (price range
    # 100..200, midpoint 150); 150 MW takes everything (300..cap, midpoint 900); beyond, the
    # load is curtailed at the cap.
    assert held.price.tolist() == [150.0, 900.0, 1500.0, 1500.0]
    assert held.curtailed_mwh.tolist() == [0.0, 0.0, 100.0, 140.0]


# --------------------------------------------------------------------- learning

def play(load_mw: float, my_cost: float, rival_cost: float, rounds: int, seed: int
         ) -> tuple[RothErevState, RothErevState]:
    """A learner (unit u0) against a truthful rival (u1), 100 MW each, ``rounds`` auctions
    of one hour with inelastic load; returns the learner's first and last state."""
    s = get_strategy("learning")
    params = s.params({"markups": (0.0, 0.1, 0.2, 0.5, 1.0, 2.0)})
    rng = np.random.default_rng(seed)
    state = first = initial_state(params)
    for _ in range(rounds):
        o = obs([my_cost, rival_cost], [[100.0, 100.0]], state=state)
        mine = s.offer(o, RULES, rng, params)
        rival = get_strategy("truthful").offer(o, RULES, rng, {})
        q = mine.quantity_mw.copy()
        p = mine.price_yuan_per_mwh.copy()
        p[:, 1] = rival.price_yuan_per_mwh[:, 1]
        result, bids = clear(Offers(q, p), [load_mw])
        acc = result.accepted_mw[(bids.unit_id == "u0") & (bids.side == SELL)].sum()
        state = s.learn(mine.state, acc * (result.price[0] - my_cost), params)
    return first, state


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pivotal_learner_learns_to_mark_up(seed):
    # 150 MW of load, two 100 MW units: the learner always sells; the dearer offer sets the
    # price, so every step up in markup pays more.
    first, last = play(150.0, 100.0, 100.0, 300, seed)
    assert last.rounds == 300
    assert last.expected_markup > first.expected_markup + 0.3
    assert int(np.argmax(last.probabilities)) == len(last.markups) - 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_learner_facing_a_cheaper_rival_price_learns_to_undercut(seed):
    # 50 MW of load; the rival offers at 100; the learner's cost is 80: a markup of 0.2 (96)
    # sells 50 MW at 96, any markup from 0.5 up sells nothing.
    first, last = play(50.0, 80.0, 100.0, 300, seed)
    assert last.expected_markup < first.expected_markup - 0.2
    assert last.markups[int(np.argmax(last.probabilities))] == 0.2


def test_learning_state_round_trips_and_learn_without_a_draw_changes_nothing():
    s = get_strategy("learning")
    state = initial_state(s.params())
    assert s.learn(state, 1e9, s.params()) is state
    back = RothErevState.from_dict(state.to_dict())
    assert back.markups.tolist() == state.markups.tolist()
    assert back.propensity.tolist() == state.propensity.tolist()


# --------------------------------------------------------------------- storage and green

def test_storage_arbitrage_discharges_dear_hours_charges_cheap_ones_and_stays_feasible():
    forecast = np.array([300.0, 20.0, 25.0, 400.0, 380.0, 30.0])
    o = StorageObservation("g", np.arange(6), np.array(["s1"]), np.array([800.0]),
                           np.array([1600.0]), np.array([400.0]), forecast, np.zeros(0))
    s = get_strategy("storage_arbitrage")
    out = s.offer(o, RULES, RNG, s.params())
    assert out.desired_mw[:, 0].tolist() == [0.0, -400.0, -400.0, 400.0, 400.0, -400.0]
    dis, chg = clip_schedule(out.desired_mw, [800.0], [1600.0], [400.0], RULES)
    assert dis.sum() <= 800.0 + 1e-9 and chg.sum() * 0.85 <= 800.0 + 1e-6
    # never sells below the cost of buying back, never pays more than the energy is worth
    assert out.discharge_price_yuan_per_mwh[0, 0] >= 20.0 / 0.85
    assert out.charge_price_yuan_per_mwh[0, 0] <= 400.0 * 0.85


def test_green_seller_goes_bundled_only_when_it_pays_and_buyer_covers_its_need():
    seller = get_strategy("green_seller_heuristic")
    o = GreenSellerObservation("g", 1, np.array(["w1", "w2"]), np.array([100.0, 7.5]),
                               20.0, 2.0)
    d = seller.offer(o, RULES, np.random.default_rng(1), seller.params())
    assert d.bundled_mwh.tolist() == [100.0, 7.5]
    assert ((d.bundled_premium_yuan_per_mwh >= 1) & (d.bundled_premium_yuan_per_mwh <= 50)).all()
    assert ((d.certificate_price_yuan >= 1) & (d.certificate_price_yuan <= 2.3)).all()
    cheap = GreenSellerObservation("g", 1, np.array(["w1"]), np.array([100.0]), 1.5, 2.0)
    assert seller.offer(cheap, RULES, RNG, seller.params()).bundled_mwh.tolist() == [0.0]
    buyer = get_strategy("green_buyer_heuristic")
    b = buyer.offer(GreenBuyerObservation(1, np.array(["l1", "l2"]), np.array([10.0, -3.0]),
                                          np.nan, np.nan), RULES, RNG, buyer.params())
    assert b.bundled_mwh.tolist() == [5.0, 0.0]
    assert b.certificate_price_yuan.tolist() == [50.0, 50.0]  # up to the shortfall penalty


# --------------------------------------------------------------------- parameters are rules

def test_built_in_defaults_are_the_rules_tables():
    tables = RULES.agents.strategies.params_by_name()
    for name, params in tables.items():
        assert get_strategy(name).defaults == params, name
    assert tables["learning"]["markups"] == (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


def test_a_runs_rules_set_the_defaults_and_its_mapping_still_overrides_them():
    rules = RULES.with_overrides({"agents.strategies.markup.markup": 0.5,
                                  "agents.strategies.storage_arbitrage.margin": 0.2})
    defaults = rules.agents.strategies.params_by_name()
    owners = np.array(["a", "b", "b"])
    techs = np.array(["coal_supercritical", "coal_supercritical", "storage"])
    groups = assign({"a": "markup", "b": ("markup", {"markup": 0.1}),
                     "storage": "storage_arbitrage"}, owners, techs, 0, defaults=defaults)
    params = {(g.owner, g.spec.name): g.spec.param_dict() for g in groups}
    assert params[("a", "markup")]["markup"] == 0.5       # the rules' default
    assert params[("b", "markup")]["markup"] == 0.1       # the run's own value wins
    assert params[("b", "storage_arbitrage")]["margin"] == 0.2
    without = {(g.owner, g.spec.name): g.spec.param_dict()
               for g in assign({"a": "markup"}, owners, techs, 0)}
    assert without[("a", "markup")]["markup"] == 0.2      # registered defaults otherwise
    with pytest.raises(StrategyError, match="no parameter"):
        parse_spec(("markup", {"mark_up": 0.1}), defaults=defaults)


def test_green_sellers_unbundled_ask_spread_is_a_parameter():
    seller = get_strategy("green_seller_heuristic")
    o = GreenSellerObservation("g", 1, np.array(["w1", "w2", "w3"]), np.full(3, 10.0),
                               20.0, 2.0)
    exact = seller.params({"certificate_ask_low": 1.0, "certificate_ask_high": 1.0})
    d = seller.offer(o, RULES, np.random.default_rng(3), exact)
    assert d.certificate_price_yuan.tolist() == [2.0, 2.0, 2.0]  # the expected price itself
    spread = seller.offer(o, RULES, np.random.default_rng(3), seller.params())
    assert len(set(spread.certificate_price_yuan.tolist())) > 1
    with pytest.raises(StrategyError, match="certificate_ask_low"):
        seller.offer(o, RULES, RNG, seller.params({"certificate_ask_low": 1.2}))
