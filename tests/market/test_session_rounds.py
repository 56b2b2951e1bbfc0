"""The session's round kinds and typed results, its bid intake at the edges of the number
line, load bids rounded to the nearest tick, and storage across rounds of one day.

The case is tests/market/test_session.py's (its fleet, loads and profiles)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agents.http.observe import load_bids
from agents.inprocess.bids import load_blocks
from clearing.grid import from_ticks
from market.errors import BidsRefused
from market.session import (
    CapacityRoundResult,
    EnergyRoundResult,
    GreenRoundResult,
    Load,
    RoundResult,
    RoundSpec,
    RoundStatus,
    Session,
    result_from_dict,
)
from market.session.rounds import kind_names, round_kind
from market.session.setup import KINDS
from tests.market.test_session import (
    MENGXI,
    fleet,
    new_session,
    play,
    play_round,
    profiles,
)


def test_every_kind_is_registered_once_by_its_name():
    assert sorted(kind_names()) == sorted(KINDS)
    assert all(round_kind(k).name == k for k in KINDS)
    with pytest.raises(KeyError, match="no round kind 'auction'"):
        round_kind("auction")


def test_results_are_typed_and_their_json_is_the_snapshot_s():
    s = play(new_session())
    saved = {r["round_id"]: r["result"] for r in s.to_dict()["rounds"]}
    for rid in s.round_ids():
        res = s.result(rid)
        assert isinstance(res, RoundResult) and res.kind == s.round(rid).spec.kind
        assert res.round_id == rid and res.status is RoundStatus.CLEARED
        assert json.dumps(res.to_dict()) == json.dumps(saved[rid])
        assert result_from_dict(res.to_dict()) == res
    cap = s.result("capacity")
    assert isinstance(cap, CapacityRoundResult)
    assert (cap.price, cap.volume) == (cap.price_yuan_per_kw_yr, cap.total_cleared_mw) == \
        (100.0, cap["total_cleared_mw"])
    energy = s.result("energy-01")
    assert isinstance(energy, EnergyRoundResult) and energy.price is None
    assert energy.hourly_price_yuan_per_mwh == energy.price_yuan_per_mwh
    assert energy.volume == pytest.approx(sum(v or 0.0 for v in energy.volume_mwh))
    green = s.result("green-01")
    assert isinstance(green, GreenRoundResult) and green.price == green.premium_yuan_per_mwh


def test_a_result_is_a_copy_and_frozen():
    s = new_session()
    res = play_round(s, "capacity")
    res.units.clear()
    assert s.result("capacity").units
    with pytest.raises(AttributeError):
        res.round_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("value", [1e308, -1e308, float("nan"), float("inf"), 10**400])
@pytest.mark.parametrize("field", ["price", "quantity"])
def test_a_huge_or_nan_number_is_refused_with_a_reason(value, field):
    s = new_session()
    play_round(s, "capacity")
    s.open_round("energy-01")
    bid = {"unit": "wind-1", "hour": 0, "price": 0, "quantity": 10, field: value}
    with pytest.raises(BidsRefused) as refused:
        s.submit_bids("green-a", "energy-01", [bid])
    ((index, reason),) = refused.value.problems
    assert index == 0 and field in reason and len(reason) < 300
    with pytest.raises(BidsRefused, match="hour"):
        s.submit_bids("green-a", "energy-01", [{**bid, "hour": 10**5000}])


@pytest.mark.parametrize("round_id", ["capacity", "green-01"])
def test_huge_numbers_are_refused_in_other_kinds_too(round_id):
    s = new_session()
    if round_id == "green-01":
        play_round(s, "capacity")
        play_round(s, "energy-01")
    s.open_round(round_id)
    for value in (1e308, float("nan"), 10**400):
        with pytest.raises(BidsRefused):
            s.submit_bids("green-a", round_id, [{"unit": "wind-1", "price": value,
                                                 "quantity": 10}])
        with pytest.raises(BidsRefused):
            s.submit_bids("green-a", round_id, [{"unit": "wind-1", "price": 1,
                                                 "quantity": value}])


def _one_load_session(demand: float) -> Session:
    s = Session(MENGXI, fleet(), [Load("ld", "buyer", (demand,) * 48)], profiles(),
                [RoundSpec("e", "energy", (0,))], seed=1)
    s.join("buyer")
    s.open_round("e")
    return s


def test_a_load_bids_up_to_its_demand_rounded_to_the_nearest_tick():
    s = _one_load_session(100.0006)
    assert s.submit_bids("buyer", "e", [{"unit": "ld", "side": "buy", "hour": 0,
                                         "price": 100, "quantity": 100.001}]) == 1
    with pytest.raises(BidsRefused, match="nearest tick, 100.001 MW"):
        s.submit_bids("buyer", "e", [{"unit": "ld", "side": "buy", "hour": 0, "price": 100,
                                      "quantity": 100.002}])


@pytest.mark.parametrize("demand", [100.0006, 100.0004, 250.0005, 0.0004, 73.123456])
def test_a_bot_bids_a_load_as_the_year_does_and_the_session_accepts_it(demand):
    rules = MENGXI
    view = {"hours": [0], "loads": [{"load": "ld", "demand_mw": [demand]}]}
    bot = load_bids(view, rules)
    qty, price = load_blocks(np.array([[demand]]), rules)
    qtick, ptick = float(rules.ticks.quantity_mw), float(rules.ticks.price_yuan)
    year = [(float(from_ticks(q, qtick)), float(from_ticks(p, ptick)))
            for q, p in zip(qty[0, 0].tolist(), price[0, 0].tolist(), strict=True) if q > 0]
    assert [(b["quantity"], b["price"]) for b in bot] == year
    s = _one_load_session(demand)
    if bot:
        assert s.submit_bids("buyer", "e", bot) == 1


def test_storage_daily_discharge_counts_across_rounds_of_the_same_day():
    """0.1 cycles a day of bess-1's 1,600 MWh: 160 MWh. 150 MWh discharged in the morning
    round leave 10 MWh for the afternoon round of the same day; the next day starts afresh.
    Every MWh discharged is compensated: 160 MWh x the rules' rate."""
    rules = MENGXI.with_overrides({"energy.storage_max_cycles_per_day": 0.1})
    plan = [RoundSpec("am", "energy", tuple(range(12))),
            RoundSpec("pm", "energy", tuple(range(12, 24))),
            RoundSpec("next", "energy", tuple(range(24, 36)))]
    s = new_session(rules, plan)
    sell = {"unit": "bess-1", "price": -50, "side": "sell"}
    for rid, hour, ok, refused in (("am", 0, 150, None), ("pm", 13, 10, 20),
                                   ("next", 25, 150, None)):
        s.open_round(rid)
        if refused is not None:
            with pytest.raises(BidsRefused, match=r"150 MWh it discharged that day.*<= 10 MWh"):
                s.submit_bids("store-a", rid, [{**sell, "hour": hour, "quantity": refused}])
        s.submit_bids("store-a", rid, [{**sell, "hour": hour, "quantity": ok}])
        s.close_gate(rid)
        s.clear_round(rid)
    assert s.daily_discharge_mwh()[s.fleet.index_of("bess-1"), :2].tolist() == [160.0, 150.0]
    paid = s.ledger.totals_by("participant", category="storage_compensation")
    rate = rules.energy.storage_discharge_compensation_yuan_per_mwh
    assert paid["store-a"] == round(310 * rate * 100)


def test_storage_starts_at_the_rules_state_of_charge():
    rules = MENGXI.with_overrides({"fleet.storage.initial_soc_fraction": 0.25})
    s = new_session(rules)
    assert s.storage_soc_start_fraction == 0.25
    assert s.storage_soc_mwh() == {"bess-1": 400.0}
    assert new_session(MENGXI).storage_soc_mwh() == {"bess-1": 800.0}
    assert Session.from_dict(s.to_dict()).storage_soc_mwh() == {"bess-1": 400.0}
