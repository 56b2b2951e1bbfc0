"""The Mengxi capacity market: golden auctions worked by hand, penalties, settlement, properties.

Curve of the Mengxi preset (docs/DOMAIN.md section 3): points (0.97 RR, 495), (1.03 RR, 248),
(1.10 RR, 0) yuan/kW·yr, RR = peak x 1.15. With a 2,000 MW peak, RR = 2,300 MW and the points
are (2,231 MW, 495), (2,369 MW, 248), (2,530 MW, 0); between the first two the curve falls
247 yuan over 138 MW. Penalty rate = 330 x 1,000 / 30 = 11,000 yuan per MWh short (PJM's
Net CONE / 30 h, docs/DOMAIN.md section 3).

The presets give the curve's prices as multiples of Net CONE (1.5 / 0.75 / 0, so 495 / 247.5 / 0
at the fixed 330); the golden auctions here fix the points in yuan (495 / 248 / 0, a point's
``price_yuan_per_kw_yr``), the hand-worked numbers they were written with.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.capacity.auction import (
    AUCTION_FORMATS,
    CapacityAuction,
    accredited_mw,
    demand_curve,
)
from market.capacity.performance import assess_performance
from market.capacity.settlement import (
    allocate_capacity_cost,
    charge_performance,
    load_weights,
    settle_capacity,
)
from market.errors import CapacityInputError, CapacityOfferError, OfferAboveCapError
from market.ledger.book import SYSTEM_OPERATOR, Ledger
from market.rules import load_preset
from market.units import Fleet, Unit

#: The curve in yuan, as the preset gave it before its prices became multiples of Net CONE.
YUAN_POINTS = {"capacity.demand_points": [
    {"requirement_fraction": 0.97, "price_yuan_per_kw_yr": 495.0},
    {"requirement_fraction": 1.03, "price_yuan_per_kw_yr": 248.0},
    {"requirement_fraction": 1.10, "price_yuan_per_kw_yr": 0.0}]}
MENGXI = load_preset("mengxi").with_overrides(YUAN_POINTS).capacity
VERTICAL = load_preset("vertical-demand").capacity
PAY_AS_BID = load_preset("capacity-pay-as-bid").with_overrides(YUAN_POINTS).capacity
CLOCK = load_preset("capacity-clock").with_overrides(YUAN_POINTS).capacity
PEAK_MW = 2000.0


def fleet() -> Fleet:
    """Accredited: coal-a, coal-b 900 MW each (1,000 x 0.90), wind 50 (500 x 0.10), storage 240
    (400 x 0.60), new-coal 880 (1,000 x 0.88, not yet built: no must-offer)."""
    return Fleet.from_units([
        Unit("coal-a", "genco-a", "coal_ultra_supercritical", 1000.0),
        Unit("coal-b", "genco-b", "coal_ultra_supercritical", 1000.0),
        Unit("wind-1", "green-1", "wind", 500.0),
        Unit("bess-1", "store-1", "storage", 400.0),
        Unit("new-coal", "entrant", "coal_supercritical", 1000.0, existing=False),
    ])


def auction(rules=MENGXI, offers=()) -> CapacityAuction:
    a = CapacityAuction(rules, fleet(), PEAK_MW)
    for unit, mw, price in offers:
        a.submit(unit, mw, price)
    return a


#: coal-a sends nothing (must-offer: entered at 0); cumulative 900, 1,800, 1,850, 2,090 MW at
#: prices 0, 100, 150, 200; new-coal's 880 MW at 248 is marginal.
MARGINAL_OFFER_BOOK = [("coal-b", 900, 100), ("wind-1", 50, 150), ("bess-1", 240, 200),
                       ("new-coal", 880, 248)]


# ----------------------------------------------------------------------- accreditation, demand

def test_accreditation_by_technology():
    acc = accredited_mw(fleet(), MENGXI)
    assert acc.tolist() == [900.0, 900.0, 50.0, 240.0, 880.0]


def test_accreditation_override_and_missing_credit():
    f = Fleet.from_units([Unit("chp", "o", "coal_subcritical", 350.0),          # 0.85: 297.5
                          Unit("w", "o", "wind", 500.0, capacity_credit=0.41),  # PJM's ELCC
                          Unit("gas", "o", "gas_ccgt", 400.0, capacity_credit=0.89)])
    assert accredited_mw(f, MENGXI).tolist() == [297.5, 205.0, 356.0]
    g = Fleet.from_units([Unit("gas", "o", "gas_ccgt", 400.0)])
    with pytest.raises(CapacityInputError, match="gas.*override"):
        accredited_mw(g, MENGXI)


def test_demand_curve_points_from_the_requirement():
    d = demand_curve(MENGXI, PEAK_MW)
    assert d.requirement_mw == 2300.0
    assert d.quantity_mw.tolist() == [2231.0, 2369.0, 2530.0]
    assert d.price_at(2000.0) == 495.0
    assert d.price_at(2300.0) == pytest.approx(371.5)  # half-way: 495 - 247 / 2
    assert d.quantity_at(248.0) == pytest.approx(2369.0)
    v = demand_curve(VERTICAL, PEAK_MW)
    assert v.quantity_mw.tolist() == [2300.0, 2300.0]
    assert v.price_yuan_per_kw_yr.tolist() == [495.0, 0.0]


# --------------------------------------------------------------------------------- auctions

def test_registry_holds_the_three_formats():
    assert {"sealed_uniform", "pay_as_bid", "clock"} <= set(AUCTION_FORMATS)
    bad = MENGXI.model_copy(update={"format": "english"})
    with pytest.raises(CapacityInputError, match="unknown capacity auction format"):
        CapacityAuction(bad, fleet(), PEAK_MW)


def test_sloped_curve_marginal_offer_partly_accepted():
    # Demand at 248 yuan is 2,369 MW; 2,090 MW is offered below 248, so new-coal clears
    # 2,369 - 2,090 = 279 MW and sets the price at its own offer, 248 yuan/kW·yr.
    res = auction(offers=MARGINAL_OFFER_BOOK).clear()
    assert res.price_yuan_per_kw_yr == 248.0
    assert res.cleared_mw.tolist() == [900.0, 900.0, 50.0, 240.0, 279.0]
    # payment = MW x 1,000 x 248: 900 MW -> 223,200,000 yuan; 279 MW -> 69,192,000 yuan
    assert res.payment_yuan.tolist() == [223_200_000, 223_200_000, 12_400_000, 59_520_000,
                                         69_192_000]
    assert res.offers.imputed.tolist() == [False] * 4 + [True]  # coal-a's must-offer row


def test_sloped_curve_crossing_between_steps_sets_the_curve_price():
    # 2,300 MW offered at <= 120, the next step at 400: at 2,300 MW the curve is at
    # 495 - 247 x 69 / 138 = 371.50, between the steps, so that is the price.
    offers = [("coal-a", 900, 0), ("coal-b", 900, 50), ("bess-1", 240, 100),
              ("wind-1", 50, 100), ("new-coal", 210, 120), ("new-coal", 670, 400)]
    res = auction(offers=offers).clear()
    assert res.price_yuan_per_kw_yr == 371.5
    assert res.cleared_mw.tolist() == [900.0, 900.0, 50.0, 240.0, 210.0]
    assert res.payment_yuan[4] == 78_015_000  # 210 x 1,000 x 371.5


def test_vertical_demand_buys_the_requirement():
    # Vertical at 2,300 MW: new-coal's step at 300 crosses it, clearing 210 MW at 300.
    offers = [("coal-b", 900, 50), ("bess-1", 240, 100), ("wind-1", 50, 100),
              ("new-coal", 880, 300)]
    res = auction(VERTICAL, offers).clear()
    assert res.price_yuan_per_kw_yr == 300.0
    assert res.total_cleared_mw == 2300.0
    assert res.cleared_mw[4] == 210.0
    # without the entrant, supply (2,090 MW) falls short: everything clears at the cap, 495
    short = auction(VERTICAL, offers[:3]).clear()
    assert short.price_yuan_per_kw_yr == 495.0
    assert short.total_cleared_mw == 2090.0


def test_pay_as_bid_pays_each_its_own_offer():
    res = auction(PAY_AS_BID, MARGINAL_OFFER_BOOK).clear()
    assert res.cleared_mw.tolist() == [900.0, 900.0, 50.0, 240.0, 279.0]  # same quantities
    # coal-a (imputed at 0) gets nothing; coal-b 900 x 100,000; wind 50 x 150,000;
    # storage 240 x 200,000; new-coal 279 x 248,000
    assert res.payment_yuan.tolist() == [0, 90_000_000, 7_500_000, 48_000_000, 69_192_000]


@pytest.mark.slow
def test_descending_clock_matches_the_sealed_auction_and_logs_rounds():
    # From 495 down 5 a round: every offer is still in down to 248 (2,970 MW against at most
    # 2,369 demanded), so there is excess supply until the round from 250 to 245, where
    # new-coal exits at 248. The final price is its exit price, 248, and it keeps the 279 MW
    # demanded at 248 beyond the 2,090 MW priced below it: the sealed result. 50 rounds.
    res = auction(CLOCK, MARGINAL_OFFER_BOOK).clear()
    assert res.price_yuan_per_kw_yr == 248.0
    assert res.cleared_mw.tolist() == [900.0, 900.0, 50.0, 240.0, 279.0]
    log = res.round_log
    assert len(log) == 50
    assert (log["start_price"][-1], log["end_price"][-1]) == (250.0, 245.0)
    assert np.all(log["excess_supply_mw"][:-1] > 0) and log["excess_supply_mw"][-1] <= 0
    assert log["supply_end_mw"][-1] == 2090.0


def test_clock_refuses_exit_prices_above_its_start():
    low_start = CLOCK.model_copy(update={"clock_start_price_yuan_per_kw_yr": 400.0})
    a = auction(low_start)
    with pytest.raises(OfferAboveCapError, match="new-coal.*start price 400"):
        a.submit("new-coal", 100, 450)
    assert len(a.offers()) == 0


def test_must_offer_enters_the_unoffered_rest_of_existing_coal_at_zero():
    a = auction(offers=[("coal-a", 500, 100)])
    table = a.offers_with_must_offer()
    rows = {(int(u), float(mw), float(p), bool(i)) for u, mw, p, i in
            zip(table.unit, table.mw, table.price_yuan_per_kw_yr, table.imputed, strict=True)}
    assert rows == {(0, 500.0, 100.0, False), (0, 400.0, 0.0, True), (1, 900.0, 0.0, True)}
    free = MENGXI.model_copy(update={"must_offer_existing_coal": False})
    assert len(auction(free, [("coal-a", 500, 100)]).offers_with_must_offer()) == 1


def test_offer_above_cap_is_refused_naming_unit_and_cap():
    a = auction(offers=[("coal-b", 900, 100)])
    before = a.offers()
    with pytest.raises(OfferAboveCapError, match=r"new-coal.*495\.01.*offer cap 495"):
        a.submit("new-coal", 100, 495.01)
    assert a.offers().same_as(before)


def test_offers_beyond_accreditation_or_off_grid_are_refused():
    a = auction(offers=[("wind-1", 30, 10)])
    with pytest.raises(CapacityOfferError, match="above its accredited capacity 50"):
        a.submit("wind-1", 20.001, 10)
    with pytest.raises(CapacityOfferError, match="not in the fleet"):
        a.submit("ghost", 1, 1)
    with pytest.raises(CapacityOfferError, match="grid"):
        a.submit("wind-1", 1, 10.001)
    a.submit("wind-1", 20, 10)  # exactly up to 50 MW is fine
    a.withdraw("wind-1")
    assert len(a.offers()) == 0


@pytest.mark.parametrize("value", [1e308, -1e308, float("inf"), float("nan"), 10**400, 1e17])
def test_offers_beyond_any_grid_are_refused_without_overflow(value):
    """Neither a float too large for the grid nor an int too large for a float raises anything
    but the offer error (no OverflowError), for the price and for the MW alike."""
    a = auction(offers=[("wind-1", 30, 10)])
    with pytest.raises(CapacityOfferError, match="grid"):
        a.submit("wind-1", 1, value)
    with pytest.raises(CapacityOfferError, match="grid"):
        a.submit("wind-1", value, 10)
    assert len(a.offers()) == 1


# --------------------------------------------------------------------- performance, money

def test_penalty_rate_and_stop_loss():
    res = auction(offers=MARGINAL_OFFER_BOOK).clear()
    # coal-a owes 900 MW and delivers 800 in two of three stress hours: 200 MWh x 11,000
    # = 2,200,000 yuan. new-coal (279 MW, paid 69,192,000) delivers nothing in 30 stress
    # hours: 8,370 MWh x 11,000 = 92,070,000 yuan, capped at one year's payment.
    delivered = np.tile(res.cleared_mw[:, None], (1, 30))
    delivered[0, :2] = 800.0
    delivered[4, :] = 0.0
    perf = assess_performance(res, delivered, MENGXI)
    assert perf.rate_yuan_per_mwh == 11_000.0
    assert perf.shortfall_mwh[0] == 200.0
    assert perf.penalty_fen[0] == 2_200_000_00
    assert perf.uncapped_fen[4] == 92_070_000_00
    assert perf.penalty_fen[4] == 69_192_000_00 and perf.capped[4]
    assert perf.penalty_fen[[1, 2, 3]].sum() == 0


def test_obligation_scaled_by_the_hours_requirement_and_stress_mask():
    res = auction(offers=MARGINAL_OFFER_BOOK).clear()
    delivered = np.tile(res.cleared_mw[:, None] * 0.5, (1, 4))
    mask = np.array([True, False, True, False])
    half = assess_performance(res, delivered, MENGXI, stress_hours=mask,
                              hour_scale=np.array([0.5, 0.5]))
    assert half.total_penalty_fen == 0
    full = assess_performance(res, delivered, MENGXI, stress_hours=np.array([0]))
    assert full.shortfall_mwh[0] == 450.0  # 900 owed, 450 delivered, one hour


def test_settlement_posts_payments_penalties_and_allocates_net_cost_to_loads():
    res = auction(offers=MARGINAL_OFFER_BOOK).clear()
    delivered = np.tile(res.cleared_mw[:, None], (1, 2))
    delivered[0, :] = 800.0  # 200 MWh short: 2,200,000 yuan
    perf = assess_performance(res, delivered, MENGXI)
    ledger = Ledger()
    loads = ["load-1", "load-2", "load-3"]
    weights = load_weights(MENGXI.cost_allocation, peak_mw=np.array([1000.0, 600.0, 400.0]))
    months = list(range(1, 13))
    monthly = settle_capacity(ledger, res, [f"2025-{m:02d}" for m in months], months, loads,
                              weights)
    due, _ = charge_performance(ledger, perf, "2025-12", loads, weights)
    total = 587_512_000_00  # 223.2 + 223.2 + 12.4 + 59.52 + 69.192 million yuan
    assert monthly.sum() == total and due.sum() == 2_200_000_00
    by = ledger.totals_by("participant")
    assert by[SYSTEM_OPERATOR] == 0 and ledger.balance() == 0
    assert -sum(by[x] for x in loads) == total - 2_200_000_00
    # peak shares 1,000 : 600 : 400 of 585,312,000 yuan (each month split, exact to the fen)
    assert abs(by["load-1"] + 292_656_000_00) <= 12
    assert abs(by["load-2"] + 175_593_600_00) <= 12
    assert by["genco-a"] == 223_200_000_00 - 2_200_000_00
    pen = ledger.totals_by(("participant", "category"), category="performance_penalty")
    assert pen == {("genco-a", "performance_penalty"): -2_200_000_00,
                   (SYSTEM_OPERATOR, "performance_penalty"): 2_200_000_00}


def test_annual_payment_spread_over_months_exactly():
    # wind-1: 50 MW x 248,000 = 12,400,000 yuan = 1,240,000,000 fen; / 12 = 103,333,333.33:
    # four months get the spare fen (ties go to the earliest), and the year sums exactly.
    res = auction(offers=MARGINAL_OFFER_BOOK).clear()
    ledger = Ledger()
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    settle_capacity(ledger, res, months, list(range(1, 13)), ["load"], np.ones(1))
    wind = ledger.totals_by("period", participant="green-1")
    assert [wind[m] for m in months] == [103_333_334] * 4 + [103_333_333] * 8
    assert sum(wind.values()) == 12_400_000_00
    assert all(ledger.balance(m) == 0 for m in months)


def test_energy_share_allocation_exact_to_the_fen():
    ledger = Ledger()
    charged = allocate_capacity_cost(ledger, "2025", 100, ["a", "b", "c"],
                                     np.array([1.0, 1.0, 1.0]))
    assert charged.tolist() == [34, 33, 33]  # 100 fen / 3, the spare fen to the lowest index
    energy = MENGXI.model_copy(update={"cost_allocation": "energy_share"})
    res = auction(offers=MARGINAL_OFFER_BOOK).clear()
    with pytest.raises(CapacityInputError, match="energy_mwh"):
        load_weights(energy.cost_allocation, peak_mw=np.array([1.0]))
    assert res.total_payment_fen > 0


# ------------------------------------------------------------------------------- properties

technologies = st.sampled_from(["coal_ultra_supercritical", "coal_supercritical",
                                "coal_subcritical", "wind", "solar", "storage"])


#: Nameplates anywhere, and just below a 0.001 MW tick (where flooring with a tolerance could
#: lift accreditation above nameplate).
nameplates = st.one_of(st.floats(0.001, 5000.0),
                       st.integers(2, 5_000_000).map(lambda t: t / 1000 - 1e-10))


@st.composite
def fleets(draw):
    n = draw(st.integers(1, 8))
    units = []
    for i in range(n):
        override = draw(st.one_of(st.none(), st.floats(0.0, 1.0)))
        units.append(Unit(f"u{i}", f"o{i % 3}", draw(technologies),
                          draw(nameplates), capacity_credit=override,
                          existing=draw(st.booleans())))
    return Fleet.from_units(units)


@settings(max_examples=150, deadline=None)
@given(fleets())
def test_property_accreditation_never_exceeds_nameplate(f):
    acc = accredited_mw(f, MENGXI)
    assert np.all(acc <= f.nameplate_mw)
    assert np.all(acc >= 0)
    assert np.array_equal(np.round(acc, 3), acc)  # on the 0.001 MW grid
    credit = np.where(np.isnan(f.capacity_credit),
                      [MENGXI.capacity_credit[t] for t in f.technologies], f.capacity_credit)
    assert np.all(acc > f.nameplate_mw * credit - 0.001)  # floored by less than a tick


@st.composite
def offer_books(draw, f: Fleet):
    """Random offers within each unit's accredited MW, on the grids, below the cap."""
    acc = accredited_mw(f, MENGXI)
    offers = []
    for i, uid in enumerate(f.unit_ids.tolist()):
        left = int(round(acc[i] * 1000))
        for _ in range(draw(st.integers(0, 2))):
            if left <= 0:
                break
            mw_ticks = draw(st.integers(1, left))
            left -= mw_ticks
            offers.append((uid, mw_ticks / 1000, draw(st.integers(0, 49_500)) / 100))
    return offers


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_property_offer_above_cap_changes_nothing(data):
    f = data.draw(fleets())
    a = CapacityAuction(MENGXI, f, 1000.0)
    for uid, mw, price in data.draw(offer_books(f)):
        a.submit(uid, mw, price)
    before = a.offers()
    uid = data.draw(st.sampled_from(f.unit_ids.tolist()))
    price = data.draw(st.integers(49_501, 10**7)) / 100
    with pytest.raises(OfferAboveCapError, match=f"{uid}.*495"):
        a.submit(uid, 0.001, price)
    assert a.offers().same_as(before)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_property_ledger_sums_to_zero(data):
    f = data.draw(fleets())
    rules = data.draw(st.sampled_from([MENGXI, VERTICAL, PAY_AS_BID, CLOCK]))
    a = CapacityAuction(rules, f, data.draw(st.floats(1.0, 20_000.0)))
    for uid, mw, price in data.draw(offer_books(f)):
        a.submit(uid, mw, price)
    res = a.clear()
    assert np.all(res.cleared_mw <= res.accredited_mw + 1e-9)
    hours = data.draw(st.integers(1, 40))
    short = data.draw(st.floats(0.0, 1.0))
    perf = assess_performance(res, np.tile(res.cleared_mw[:, None] * short, (1, hours)), rules)
    assert np.all(perf.penalty_fen <= res.payment_fen)  # stop-loss multiple 1
    n_loads = data.draw(st.integers(1, 6))
    peaks = np.array(data.draw(st.lists(st.floats(0.1, 1e4), min_size=n_loads,
                                        max_size=n_loads)))
    ledger = Ledger()
    loads = [f"load{k}" for k in range(n_loads)]
    weights = load_weights(rules.cost_allocation, peak_mw=peaks)
    monthly = settle_capacity(ledger, res, ["2025-06"], [6], loads, weights)
    due, _ = charge_performance(ledger, perf, "2025-06", loads, weights)
    assert ledger.balance() == 0 and ledger.balance("2025-06") == 0
    assert ledger.totals_by("participant").get(SYSTEM_OPERATOR, 0) == 0
    charged = -sum(ledger.totals_by("participant").get(x, 0) for x in loads)
    assert charged == monthly[:, 5].sum() - due.sum()
