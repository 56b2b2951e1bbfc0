"""Forward capacity auctions of a pathway (``pathway.capacity_lead_years``) and the price lock
of new entry (``pathway.new_entry_price_lock_years``): studies/pathway/forward.py."""

from __future__ import annotations

import json

import pytest

from market.errors import MarketError
from market.rules import load_preset
from studies.pathway.forward import (
    Book,
    Commitment,
    auctioned,
    entry_offer,
    hold_auction,
    technology_payments,
)
from studies.pathway.rules import FleetState, unit_size_mw
from studies.pathway.run import run_pathway

#: A demand curve whose price is Net CONE for any quantity up to 10 x the requirement, so a
#: short auction clears at exactly the Net CONE the test gives.
FLAT_AT_NET_CONE = [{"requirement_fraction": 0.001, "net_cone_multiple": 1.0},
                    {"requirement_fraction": 10.0, "net_cone_multiple": 1.0}]
#: Only storage has a capacity credit: a small auction worked by hand.
CREDITS = {"coal_ultra_supercritical": 0.0, "coal_supercritical": 0.0, "coal_subcritical": 0.0,
           "wind": 0.0, "solar": 0.0, "storage": 0.5}


def forward_rules(lead: int = 3, lock: int = 3):
    return load_preset("mengxi").with_overrides({
        "pathway.capacity_lead_years": lead, "pathway.new_entry_price_lock_years": lock,
        "capacity.demand_points": FLAT_AT_NET_CONE})


def auction(rules, state, book, held_after, net_cone):
    # storage's margin (1,000 yuan/kW-yr) covers its annualised cost: it offers at 0
    return hold_auction(rules, state, book, held_after, 2025,
                        {"accreditation": CREDITS, "net_cone_yuan_per_kw_yr": net_cone},
                        margins=[{"storage": 1000.0}], capacity=[{"storage": 0.0}],
                        fixed_per_kw={"storage": 0.0})


def test_a_locked_new_unit_is_paid_its_clearing_price_in_each_locked_year():
    rules = forward_rules(lead=3, lock=3)
    state = FleetState.initial(rules, 2025)
    book = Book()
    size = unit_size_mw(rules, "storage")
    existing_mw = state.counts["storage"] * size * 0.5
    new_units = max(1, round(0.1 * state.counts["storage"]))
    # After 2025, for 2028: every offer clears at the curve's price, Net CONE = 300.
    first = auction(rules, state, book, 2025, 300.0)
    assert (first.price, first.built) == (300.0, {"storage": new_units})
    assert (2026, "storage", new_units) in state.pipeline  # built in 1 year, by 2028
    new_mw = new_units * size * 0.5
    # Later auctions clear lower (Net CONE 120, then 0); the units under construction keep
    # more candidates from offering, and are expected at 2029 and 2030 (locked, at 0).
    later = [auction(rules, state, book, 2026, 120.0), auction(rules, state, book, 2027, 0.0)]
    assert [(a.price, a.built) for a in later] == [(120.0, {}), (0.0, {})]
    assert [a.record["offered_mw"]["locked"] for a in later] == [new_mw, new_mw]
    locked: dict[int, list[float]] = {}
    for c in book.commitments:
        if c.locked:
            locked.setdefault(c.delivery_year, []).append(c.price)
    assert locked == {d: [300.0] * new_units for d in (2028, 2029, 2030)}
    # 2029 by hand: the new unit's MW at its locked 300, the existing MW at 2029's 120.
    paid = technology_payments(book, 2029, {"storage": existing_mw + new_mw})
    assert paid["storage"] == pytest.approx((new_mw * 300.0 + existing_mw * 120.0) * 1000.0)
    paid = technology_payments(book, 2030, {"storage": existing_mw + new_mw})
    assert paid["storage"] == pytest.approx(new_mw * 300.0 * 1000.0)
    assert book.locked_mw("storage", 2031) == 0.0  # the lock is over: the next auction's price


def test_without_a_lock_new_entry_is_paid_each_later_auctions_price():
    book = Book()
    book.add_entry("storage", 2028, 100.0, 300.0, 2025, lock_years=1)
    book.commitments.append(Commitment("storage", 2029, 100.0, 120.0, 2026))
    assert technology_payments(book, 2028, {"storage": 100.0}) == {"storage": 30_000_000.0}
    assert technology_payments(book, 2029, {"storage": 100.0}) == {"storage": 12_000_000.0}


def test_a_forward_auction_buys_for_the_delivery_year_at_its_forecast_load():
    rules = forward_rules(lead=3, lock=1)
    state = FleetState.initial(rules, 2025)
    out = auction(rules, state, Book(), 2026, 200.0)
    assert out.record["delivery_year"] == 2029
    peak_2029 = rules.fleet.loads.peak_mw * 1.05 ** 4  # load growth 5 % a year from 2025
    assert out.record["requirement_mw"] == pytest.approx(peak_2029 * 1.15, abs=0.001)


def test_only_candidates_built_within_the_lead_offer():
    assert "coal_ultra_supercritical" not in auctioned(forward_rules(lead=2, lock=1))
    assert "coal_ultra_supercritical" in auctioned(forward_rules(lead=3, lock=1))
    assert auctioned(load_preset("mengxi")) == ()
    assert auctioned(load_preset("no-capacity-market").with_overrides(
        {"pathway.capacity_lead_years": 3})) == ()


def test_a_longer_lock_lowers_a_candidates_offer():
    # coal's annualised cost 414.7, expected margin 300 (no capacity revenue), credit 0.9
    offers = [entry_offer(414.7, 300.0, 0.0, 0.9, 0.07, 30, lock) for lock in (1, 3, 30)]
    assert offers[0] > offers[1] > offers[2]
    assert offers[2] == pytest.approx((414.7 - 300.0) / 0.9)  # whole life locked: net CONE
    # a candidate whose margin covers its cost offers below what it expects anyway
    assert entry_offer(414.7, 450.0, 20.0, 0.9, 0.07, 30, 3) < 20.0 / 0.9


def test_bad_forward_parameters_are_refused_naming_the_key():
    with pytest.raises(MarketError, match="pathway.new_entry_price_lock_years"):
        load_preset("mengxi").with_overrides({"pathway.new_entry_price_lock_years": 2})
    with pytest.raises(MarketError, match="pathway.capacity_lead_years"):
        load_preset("mengxi").with_overrides({"pathway.capacity_lead_years": "3"})


@pytest.fixture(scope="module")
def short_runs():
    """2025-2028 at scale 0.1 (the vrr curve keeps capacity prices positive): T-0 and T-1
    with locks of 1 and 4 years, same seed."""
    base = load_preset("vrr-gross-cone-floor")
    years = [2025, 2026, 2027, 2028]
    out = {}
    for name, lead, lock in (("t0", 0, 1), ("t1", 1, 1), ("t1_lock4", 1, 4)):
        rules = base.with_overrides({"pathway.capacity_lead_years": lead,
                                     "pathway.new_entry_price_lock_years": lock})
        out[name] = run_pathway(rules, years, seed=7, scale=0.1)
    return out


@pytest.mark.slow
def test_forward_runs_are_reproducible(short_runs):
    rules = load_preset("vrr-gross-cone-floor").with_overrides(
        {"pathway.capacity_lead_years": 1, "pathway.new_entry_price_lock_years": 4})
    again = run_pathway(rules, [2025, 2026, 2027, 2028], seed=7, scale=0.1)
    assert json.dumps(again.years, sort_keys=True) == json.dumps(
        short_runs["t1_lock4"].years, sort_keys=True)
    assert again.auctions == short_runs["t1_lock4"].auctions


@pytest.mark.slow
def test_forward_procurement_and_a_lock_on_entry_and_prices(short_runs):
    t0, t1, locked = short_runs["t0"], short_runs["t1"], short_runs["t1_lock4"]
    # the first year keeps its own auction: identical to T-0
    assert t1.years[0] == t0.years[0]
    assert [a["delivery_year"] for a in t1.auctions] == [2026, 2027, 2028]

    def firm_built(run):
        return sum(r["built_mw"][t] for r in run.years
                   for t in ("coal_ultra_supercritical", "storage"))

    # what the sandbox finds (see the closing note): a lock never builds less firm capacity
    # than no lock under forward procurement on the same seeds
    assert firm_built(locked) >= firm_built(t1)
