"""The hourly energy spot market: golden hours worked by hand, batched = hour by hour, refusals,
settlement in the ledger, bids built from arrays as the year builds them, and a year in one
call.

Golden hours use the Mengxi preset (docs/DOMAIN.md section 2: offer cap 1,500 and floor
-50 yuan/MWh [S]; section 7: coal at 200-340 yuan/MWh, wind at 0 or down to -50, loads'
value of lost load = the cap). Prices follow the uniform-price contract of docs/CLEARING.md
(section 2): a partly accepted order is priced exactly at the clearing price; a range of
equilibrium prices gives its midpoint (European day-ahead coupling, docs/DOMAIN.md section 2);
where curves do not cross, the market clears at the cap and curtails (same source).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.observe import load_block_prices, load_block_ticks, ticks_down
from clearing import OrderBook, clear
from clearing.grid import from_ticks
from market.energy.auction import (
    BUY,
    SELL,
    EnergyBids,
    clear_energy,
    hourly_totals,
    settle_energy,
)
from market.errors import EnergyBidError, EnergyInputError, MarketError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.rules import load_preset

RULES = load_preset("mengxi")
CAP, FLOOR = 1500.0, -50.0

# ------------------------------------------------------------------ golden hours, by hand
# Hour 0, merit order. wind 300 @ 0, coal-a 400 @ 200, coal-b 400 @ 260, coal-c 400 @ 340;
#   inelastic load 900 @ 1,500. Stack: 300, 700, 1,100 MW at 0, 200, 260: coal-b is marginal,
#   partly accepted (200 of 400 MW), so the price is its cost, 260 yuan/MWh. Load pays
#   900 x 260 = 234,000 yuan; wind gets 78,000, coal-a 104,000, coal-b 52,000.
# Hour 1, scarcity. Same 1,500 MW of supply; load 1,800 @ 1,500. All supply runs; the load is
#   partly accepted, so the price is its bid, the cap 1,500; 300 MWh curtailed; stress hour.
# Hour 2, surplus wind at 0. wind 1,000 @ 0, coal-a 400 @ 200; load 600. Wind is marginal
#   (600 of 1,000): price 0; coal idle.
# Hour 3, surplus wind at the floor. wind-a 1,000 and wind-b 500 @ -50; load 600. Both
#   marginal, pro rata 400 and 200; price -50: the wind pays 50 x 600 = 30,000 yuan, the load
#   is paid 30,000.
# Hour 4, load and no supply at all: priced at the cap (documented choice), 500 MWh curtailed,
#   stress, nothing traded.
# Hour 5, no bids: price NaN, no stress.
# Hour 6, supply meets demand on a step. wind 300 @ 0, coal-a 400 @ 200, coal-b 400 @ 260;
#   load 700. Wind and coal-a fully accepted, coal-b not: any price in [200, 260] is an
#   equilibrium; the midpoint is 230 (the "supply" rule gives 200).
GOLDEN = [  # (hour, participant, unit, side, price, MW)
    (0, "genco-w", "wind-a", SELL, 0.0, 300.0),
    (0, "genco-1", "coal-a", SELL, 200.0, 400.0),
    (0, "genco-2", "coal-b", SELL, 260.0, 400.0),
    (0, "genco-3", "coal-c", SELL, 340.0, 400.0),
    (0, "load-1", "", BUY, CAP, 900.0),
    (1, "genco-w", "wind-a", SELL, 0.0, 300.0),
    (1, "genco-1", "coal-a", SELL, 200.0, 400.0),
    (1, "genco-2", "coal-b", SELL, 260.0, 400.0),
    (1, "genco-3", "coal-c", SELL, 340.0, 400.0),
    (1, "load-1", "", BUY, CAP, 1800.0),
    (2, "genco-w", "wind-a", SELL, 0.0, 1000.0),
    (2, "genco-1", "coal-a", SELL, 200.0, 400.0),
    (2, "load-1", "", BUY, CAP, 600.0),
    (3, "genco-w", "wind-a", SELL, FLOOR, 1000.0),
    (3, "genco-w", "wind-b", SELL, FLOOR, 500.0),
    (3, "load-1", "", BUY, CAP, 600.0),
    (4, "load-1", "", BUY, CAP, 500.0),
    (6, "genco-w", "wind-a", SELL, 0.0, 300.0),
    (6, "genco-1", "coal-a", SELL, 200.0, 400.0),
    (6, "genco-2", "coal-b", SELL, 260.0, 400.0),
    (6, "load-1", "", BUY, CAP, 700.0),
]
N_GOLDEN_HOURS = 7


def golden_bids(rows=GOLDEN, order=None) -> EnergyBids:
    rows = list(rows) if order is None else [rows[i] for i in order]
    cols = list(zip(*rows, strict=True))
    return EnergyBids.from_arrays(*cols, rules=RULES, n_hours=N_GOLDEN_HOURS)


def test_golden_hours_by_hand():
    res = clear_energy(golden_bids(), N_GOLDEN_HOURS, RULES)
    np.testing.assert_array_equal(res.price[[0, 1, 2, 3, 4, 6]],
                                  [260.0, CAP, 0.0, FLOOR, CAP, 230.0])
    assert np.isnan(res.price[5])
    np.testing.assert_array_equal(res.volume_mwh, [900, 1500, 600, 600, 0, 0, 700])
    np.testing.assert_array_equal(res.curtailed_mwh, [0, 300, 0, 0, 500, 0, 0])
    np.testing.assert_array_equal(res.stress, [False, True, False, False, True, False, False])
    np.testing.assert_array_equal(res.traded, [True, True, True, True, False, False, True])
    np.testing.assert_array_equal(res.accepted_mw, [
        300, 400, 200, 0, 900,  # hour 0: coal-b marginal
        300, 400, 400, 400, 1500,  # hour 1: all supply, load curtailed
        600, 0, 600,  # hour 2
        400, 200, 600,  # hour 3: pro rata 1,000 : 500
        0,  # hour 4
        300, 400, 0, 700])  # hour 6
    assert res.settlement_price[3] != res.settlement_price[3]  # coal-c idle: NaN
    assert res.settlement_price[2] == 260.0
    assert list(res.stress_hours) == [1, 4]


def test_price_rule_supply_takes_the_low_end_of_the_range():
    res = clear_energy(golden_bids(), N_GOLDEN_HOURS, RULES, price_rule="supply")
    assert res.price[6] == 200.0
    assert res.price[0] == 260.0  # a partly accepted order pins the price whatever the rule


def test_row_order_does_not_matter_and_results_come_back_in_input_order():
    rng = np.random.default_rng(7)
    perm = rng.permutation(len(GOLDEN))
    ref = clear_energy(golden_bids(), N_GOLDEN_HOURS, RULES)
    res = clear_energy(golden_bids(order=perm), N_GOLDEN_HOURS, RULES)
    np.testing.assert_array_equal(res.price, ref.price)
    np.testing.assert_array_equal(res.accepted_mw, ref.accepted_mw[perm])


def test_reserve_margin_makes_a_stress_hour():
    # Hour 0 load 900 MW: (1,500 - 900) / 900 = 0.67 is no stress; (940 - 900) / 900 = 0.044
    # is below the 5 % of the rules. Hour 1's load is 1,500 served + 300 curtailed = 1,800.
    avail = np.array([940.0, 1500.0, 5000.0, 5000.0, 0.0, 0.0, 1500.0])
    res = clear_energy(golden_bids(), N_GOLDEN_HOURS, RULES, available_mw=avail)
    assert res.reserve_margin[0] == pytest.approx(40 / 900)
    assert res.reserve_margin[1] == pytest.approx((1500 - 1800) / 1800)
    assert res.reserve_margin[5] == np.inf  # no load
    np.testing.assert_array_equal(res.stress, [True, True, False, False, True, False, False])
    avail[0] = 1500.0
    assert not clear_energy(golden_bids(), N_GOLDEN_HOURS, RULES, available_mw=avail).stress[0]
    with pytest.raises(EnergyInputError, match="available_mw"):
        clear_energy(golden_bids(), N_GOLDEN_HOURS, RULES, available_mw=avail[:3])


# ------------------------------------------------------------------ settlement, by hand

def test_golden_settlement_in_the_ledger():
    bids = golden_bids()
    res = clear_energy(bids, N_GOLDEN_HOURS, RULES)
    ledger = Ledger()
    periods = ["2025-01"] * 3 + ["2025-02"] * 4
    out = settle_energy(res, bids, ledger, periods)
    jan = ledger.totals_by("participant", period="2025-01", category=Category.ENERGY)
    # January = hours 0-2. load: 900 x 260 + 1,500 x 1,500 + 600 x 0.
    assert jan["load-1"] == -(234_000 + 2_250_000) * 100
    assert jan["genco-1"] == (104_000 + 400 * 1500) * 100
    assert jan["genco-2"] == (52_000 + 400 * 1500) * 100
    assert jan["genco-3"] == 400 * 1500 * 100
    assert jan["genco-w"] == (78_000 + 300 * 1500) * 100
    feb = ledger.totals_by(("participant", "unit"), period="2025-02")
    # Hour 3 at -50: the wind pays, the load is paid; hour 6 at 230.
    assert feb[("genco-w", "wind-a")] == (-400 * 50 + 300 * 230) * 100
    assert feb[("genco-w", "wind-b")] == -200 * 50 * 100
    assert feb[("genco-1", "coal-a")] == 400 * 230 * 100
    assert feb[("load-1", None)] == (600 * 50 - 700 * 230) * 100
    assert ledger.balance("2025-01") == 0 and ledger.balance("2025-02") == 0
    assert out.system_operator_energy_fen == 0  # whole yuan amounts: no rounding at all
    # Each buyer pays the operator, the operator pays each seller, in every category leg.
    for rec in ledger.to_records():
        assert SYSTEM_OPERATOR in (rec["payer"], rec["payee"])
        assert rec["category"] == "energy" and rec["amount_fen"] > 0


def test_settlement_refuses_mismatched_inputs_and_posts_nothing():
    bids = golden_bids()
    res = clear_energy(bids, N_GOLDEN_HOURS, RULES)
    ledger = Ledger()
    with pytest.raises(EnergyInputError, match="period_of_hour"):
        settle_energy(res, bids, ledger, ["2025-01"] * 3)
    other = golden_bids(GOLDEN[:5])
    with pytest.raises(EnergyInputError, match="rows"):
        settle_energy(res, other, ledger, "2025-01")
    with pytest.raises(EnergyInputError, match="positive MWh"):
        settle_energy(res, bids, ledger, "2025-01", storage_energy_mwh={"wind-a": 0.0})
    assert ledger.n_payments == 0


# ------------------------------------------------------------------ refusals

def test_refused_bids_list_every_bad_row_with_its_reason():
    rows = [  # hour, participant, unit, side, price, quantity
        (0, "g", "u", SELL, 100.0, 10.0),  # 0 fine
        (0, "g", "u", SELL, np.nan, 10.0),  # 1
        (0, "g", "u", SELL, np.inf, 10.0),  # 2
        (0, "g", "u", SELL, 100.0, 0.0),  # 3
        (0, "g", "u", SELL, 100.0, -5.0),  # 4
        (0, "g", "u", SELL, 100.005, 10.0),  # 5 off the 0.01 grid
        (0, "g", "u", SELL, 1500.01, 10.0),  # 6 above the cap
        (0, "l", "", BUY, -50.01, 10.0),  # 7 below the floor
        (24, "l", "", BUY, 100.0, 10.0),  # 8 hour out of range
        (-1, "l", "", BUY, 100.0, 10.0),  # 9
        (0, "l", "", 0, 100.0, 10.0),  # 10 no side
        (0, "l", "", BUY, 100.0, 1.0005),  # 11 off the 0.001 MW grid
        (0, "g", "", SELL, 100.0, 10.0),  # 12 a sell without a unit
        (0, "", "", BUY, 100.0, 10.0),  # 13 nobody
        (0, "g", "u", SELL, 100.0, np.nan),  # 14
    ]
    cols = list(zip(*rows, strict=True))
    with pytest.raises(EnergyBidError) as info:
        EnergyBids.from_arrays(*cols, rules=RULES, n_hours=24)
    err = info.value
    assert isinstance(err, MarketError) and isinstance(err, ValueError)
    assert err.rows == list(range(1, 15))
    reasons = dict(err.problems)
    expected = {1: "NaN", 2: "infinite", 3: "> 0", 4: "> 0", 5: "grid", 6: "above the cap",
                7: "below the floor", 8: "outside 0..23", 9: "outside 0..23", 10: "side",
                11: "grid", 12: "unit", 13: "participant", 14: "quantity is NaN"}
    for row, word in expected.items():
        assert word in reasons[row], (row, reasons[row])
    assert "row 6: price 1500.01 is above the cap 1500" in str(err)


def test_bids_outside_the_clearing_rules_are_refused_and_nothing_is_cleared():
    wide = RULES.model_copy(update={"energy": RULES.energy.model_copy(
        update={"price_cap_yuan_per_mwh": 3000.0})})
    bids = EnergyBids.from_arrays([0, 0, 1], ["g", "l", "l"], ["u", "", ""], [SELL, BUY, BUY],
                                  [100.0, 2000.0, 1500.0], [5.0, 5.0, 5.0], rules=wide,
                                  n_hours=2)
    with pytest.raises(EnergyBidError) as info:
        clear_energy(bids, 2, RULES)
    assert info.value.rows == [1]
    with pytest.raises(EnergyInputError, match="cover 2 hours"):
        clear_energy(bids, 3, wide)


def test_shape_problems_and_concat():
    with pytest.raises(EnergyBidError, match="price_yuan_per_mwh must be a 1-D array of 2"):
        EnergyBids.from_arrays([0, 1], "g", "u", [1, 1], [1.0], [1.0, 1.0], rules=RULES,
                               n_hours=2)
    with pytest.raises(EnergyInputError, match="n_hours"):
        EnergyBids.from_arrays([0], "g", "u", [1], [1.0], [1.0], rules=RULES, n_hours=0)
    a = EnergyBids.from_arrays([0], "g", "u", [1], [1.0], [1.0], rules=RULES, n_hours=2)
    b = EnergyBids.from_arrays([1], "l", None, ["buy"], [9.0], [2.0], rules=RULES, n_hours=2)
    both = EnergyBids.concat([a, b])
    assert list(both.hour) == [0, 1] and list(both.side) == [SELL, BUY]
    assert list(both.unit_id) == ["u", ""] and list(both.quantity_ticks) == [1000, 2000]
    with pytest.raises(EnergyInputError, match="covers 3 hours"):
        EnergyBids.concat([a, EnergyBids.empty(3, RULES)])
    assert len(EnergyBids.concat([EnergyBids.empty(2, RULES), a])) == 1
    with pytest.raises(ValueError, match="read-only"):
        a.price_yuan_per_mwh[0] = 2.0  # sealed once validated
    with pytest.raises(EnergyInputError, match="price_rule"):
        clear_energy(a, 2, RULES, price_rule="lowest")


# ------------------------------------------------------------------ batched = one hour at a time

PRICES = st.sampled_from([FLOOR, -10.0, 0.0, 0.01, 199.99, 200.0, 260.0, 340.0, 999.5, CAP])


@st.composite
def random_bids(draw, max_hours=6, max_rows=40):
    n_hours = draw(st.integers(1, max_hours))
    n = draw(st.integers(0, max_rows))
    hour = draw(st.lists(st.integers(0, n_hours - 1), min_size=n, max_size=n))
    side = draw(st.lists(st.sampled_from([SELL, BUY]), min_size=n, max_size=n))
    price = draw(st.lists(PRICES, min_size=n, max_size=n))
    qty = draw(st.lists(st.integers(1, 5000), min_size=n, max_size=n))
    who = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    units = [f"{w}-{s}" if s == SELL else "" for w, s in zip(who, side, strict=True)]
    bids = EnergyBids.from_arrays(hour, who, units, side, price, np.array(qty) / 1000.0,
                                  rules=RULES, n_hours=n_hours)
    return bids, n_hours


@settings(max_examples=150, deadline=None)
@given(random_bids())
@pytest.mark.slow
def test_batched_equals_each_hour_cleared_alone(case):
    bids, n_hours = case
    res = clear_energy(bids, n_hours, RULES)
    for h in range(n_hours):
        rows = np.flatnonzero(bids.hour == h)
        if rows.shape[0] == 0:
            assert np.isnan(res.price[h]) and res.volume_mwh[h] == 0
            continue
        book = OrderBook.from_arrays(rows, bids.side[rows], bids.price_yuan_per_mwh[rows],
                                     bids.quantity_mw[rows], price_cap=CAP, price_floor=FLOOR)
        one = clear(book, price_cap=CAP, price_floor=FLOOR)
        np.testing.assert_array_equal(res.accepted_ticks[rows], one.accepted_ticks)
        assert res.volume_mwh[h] == one.volume
        if one.price is not None:
            assert res.price[h] == one.price
            np.testing.assert_array_equal(res.settlement_price[rows], one.settlement_price)
        elif ((bids.side[rows] == BUY) & (bids.price_yuan_per_mwh[rows] == CAP)).any():
            assert res.price[h] == CAP  # load at the cap, no supply: the scarcity price
        else:
            assert np.isnan(res.price[h])
    sells = hourly_totals(bids, res, SELL)
    np.testing.assert_array_equal(sells, hourly_totals(bids, res, BUY))
    np.testing.assert_array_equal(sells, res.volume_mwh)


@settings(max_examples=150, deadline=None)
@given(random_bids(), st.integers(1, 3))
@pytest.mark.slow
def test_ledger_balances_and_the_operator_keeps_only_fen_rounding(case, n_periods):
    bids, n_hours = case
    res = clear_energy(bids, n_hours, RULES)
    periods = [f"2025-{1 + h * n_periods // n_hours:02d}" for h in range(n_hours)]
    ledger = Ledger()
    out = settle_energy(res, bids, ledger, periods)
    for p in set(periods):
        assert ledger.balance(p) == 0
    so = ledger.totals_by("participant", category=Category.ENERGY).get(SYSTEM_OPERATOR, 0)
    assert so == out.system_operator_energy_fen
    # At most half a fen per rounded amount, counting amounts that rounded to zero and were
    # not posted (hypothesis found a case of tiny payments where that matters).
    assert out.energy_payments <= out.energy_amounts
    assert 2 * abs(so) <= out.energy_amounts
    # Each payment is the exact amount, rounded once: recompute with fractions.
    exact: dict[tuple, Fraction] = {}
    for i in np.flatnonzero(res.accepted_ticks > 0):
        key = (periods[bids.hour[i]], bids.participant[i], bids.unit_id[i], bids.side[i])
        yuan = (Fraction(int(res.price_half_ticks[bids.hour[i]]), 200)
                * Fraction(int(res.accepted_ticks[i]), 1000) * int(bids.side[i]))
        exact[key] = exact.get(key, Fraction(0)) + yuan
    want: dict[tuple, int] = {}
    for (period, who, unit, _side), yuan in exact.items():
        key = (period, who, unit or None)
        want[key] = want.get(key, 0) + round(yuan * 100)  # round(Fraction): half to even
    got = ledger.totals_by(("period", "participant", "unit"), category=Category.ENERGY)
    for key, fen in want.items():
        assert got.get(key, 0) == fen


# ------------------------------------------------------------------ bids from arrays

def block_bids(qty_ticks: np.ndarray, price: np.ndarray | float, participants: list[str],
               units: list[str], side: int, n_hours: int) -> EnergyBids:
    """EnergyBids of (H, U, B) quantity ticks at prices (broadcast to them), laid out as the
    year's runner lays its rows (:func:`agents.inprocess.bids.rows_from_blocks`): hour-major,
    then column, then block, zero quantities dropped."""
    q = np.asarray(qty_ticks, dtype=np.int64)
    q = q[:, :, None] if q.ndim == 2 else q
    p = np.broadcast_to(np.asarray(price, dtype=np.float64), q.shape)
    hh, uu, bb = np.nonzero(q > 0)
    return EnergyBids.from_arrays(
        hh, np.asarray(participants)[uu], np.asarray(units)[uu], np.full(hh.size, side),
        p[hh, uu, bb], from_ticks(q[hh, uu, bb], float(RULES.ticks.quantity_mw)),
        rules=RULES, n_hours=n_hours)


def test_bids_built_from_arrays_clear_together():
    qtick = float(RULES.ticks.quantity_mw)
    load = block_bids(load_block_ticks(np.array([[1000.0]]), 0.0, qtick),
                      load_block_prices(CAP, 600.0), ["l"], [""], BUY, 1)
    wind = block_bids(ticks_down(np.array([[400.0004]]), qtick), 0.0, ["g"], ["w"], SELL, 1)
    coal = block_bids(ticks_down(np.array([[800.0]]), qtick), 300.0, ["h"], ["c"], SELL, 1)
    assert list(wind.quantity_mw) == [400.0]  # available output down to the grid
    bids = EnergyBids.concat([load, wind, coal])
    res = clear_energy(bids, 1, RULES)
    assert res.price[0] == 300.0 and res.volume_mwh[0] == 1000.0


# ------------------------------------------------------------------ a year in one call

def test_a_year_of_hours_clears_in_one_call_and_settles_to_zero():
    rng = np.random.default_rng(2025)
    n_hours = 8760
    hod = np.arange(n_hours) % 24
    base = 30_000 + 8_000 * np.sin((hod - 8) / 24 * 2 * np.pi)
    load = np.maximum(base[:, None] / 20 * rng.uniform(0.9, 1.1, (n_hours, 20)), 0)
    wind = rng.uniform(0, 400, (n_hours, 30))
    sun = np.clip(np.sin((hod - 6) / 12 * np.pi), 0, None)[:, None]
    solar = sun * rng.uniform(300, 500, (n_hours, 10))
    coal_cost = rng.uniform(200, 340, 40).round(2)
    qtick = float(RULES.ticks.quantity_mw)
    loads = [f"load-{i}" for i in range(20)]
    bids = EnergyBids.concat([
        block_bids(load_block_ticks(load, 0.05, qtick), load_block_prices(CAP, 600.0), loads,
                   [""] * 20, BUY, n_hours),
        block_bids(ticks_down(wind, qtick), 0.0, ["green"] * 30,
                   [f"wind-{i}" for i in range(30)], SELL, n_hours),
        block_bids(ticks_down(solar, qtick), 0.0, ["sun"] * 10,
                   [f"solar-{i}" for i in range(10)], SELL, n_hours),
        block_bids(ticks_down(np.full((n_hours, 40), 700.0), qtick), coal_cost[None, :, None],
                   [f"genco-{i % 8}" for i in range(40)], [f"coal-{i}" for i in range(40)],
                   SELL, n_hours),
    ])
    assert len(bids) > 80 * n_hours
    res = clear_energy(bids, n_hours, RULES)
    for arr in (res.price, res.volume_mwh, res.curtailed_mwh, res.stress):
        assert arr.shape == (n_hours,)
    assert res.accepted_mw.shape == (len(bids),)
    assert res.traded.all() and np.isfinite(res.price).all()
    assert ((res.price >= FLOOR) & (res.price <= CAP)).all()
    np.testing.assert_array_equal(hourly_totals(bids, res, SELL), res.volume_mwh)
    np.testing.assert_array_equal(hourly_totals(bids, res, BUY), res.volume_mwh)
    months = np.array([f"2025-{1 + min(h // 730, 11):02d}" for h in range(n_hours)])
    ledger = Ledger()
    out = settle_energy(res, bids, ledger, months)
    assert all(v == 0 for v in ledger.totals_by("period").values())
    assert len(ledger.totals_by("period")) == 12
    assert 2 * abs(out.system_operator_energy_fen) <= out.energy_payments


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(-2**40, 2**40)), max_size=200),
       st.sampled_from([41, 10**9]))
def test_payments_summed_by_key_as_unique_and_add_at(rows: list[tuple[int, int]],
                                                     n_keys: int) -> None:
    """The settlement's grouping counts into a dense table when the key range is small and
    sorts otherwise (``n_keys`` 10**9): either way the keys and exact sums are those of
    ``np.unique`` + ``np.add.at``."""
    from market.energy.settlement import _sum_by_key

    key = np.array([k for k, _ in rows], dtype=np.int64)
    money = np.array([m for _, m in rows], dtype=np.int64)
    keys, sums = _sum_by_key(key, money, n_keys)
    want_keys, inverse = np.unique(key, return_inverse=True)
    want = np.zeros(want_keys.shape[0], dtype=np.int64)
    np.add.at(want, inverse.reshape(-1), money)
    assert keys.tolist() == want_keys.tolist()
    assert sums.tolist() == want.tolist()
