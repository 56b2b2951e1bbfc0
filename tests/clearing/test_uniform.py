"""The uniform-price double auction against its contract (docs/CLEARING.md).

Kernel vs the slow reference on generated books, vs a linear program solved by HiGHS, the
equilibrium conditions at the reported price, and golden books worked by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing import OrderBook, OrderBookError, clear
from clearing.errors import ClearingInputError
from clearing.kernels import uniform as kernel
from clearing.reference import reference_price_x2, reference_uniform
from clearing.reference.lp import lp_welfare
from tests.clearing.conftest import random_book, tick_books

INT64_MIN = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max


def book_of(sides, prices, qtys, ids=None):
    ids = list(range(len(sides))) if ids is None else ids
    return OrderBook.from_arrays(ids, sides, prices, qtys)


def run_kernel(sides, prices, qtys, time_priority=False, seq=None):
    seq = np.arange(len(sides), dtype=np.int64) if seq is None else seq
    status, vol, lo, hi, welfare, acc = kernel.clear_uniform(
        sides, prices, qtys, seq, time_priority)
    rng = None
    if status == kernel.STATUS_TRADE:
        rng = (None if lo == INT64_MIN else int(lo), None if hi == INT64_MAX else int(hi))
    return int(vol), rng, [int(a) for a in acc], float(welfare)


# ----------------------------------------------------------------------- vs the reference

@settings(max_examples=300, deadline=None)
@given(tick_books(), st.booleans())
def test_kernel_matches_reference(book, time_priority):
    sides, prices, qtys = book
    vol, rng, acc, _ = run_kernel(sides, prices, qtys, time_priority)
    ref_vol, ref_rng, ref_acc = reference_uniform(sides, prices, qtys, None, time_priority)
    assert vol == ref_vol
    assert acc == ref_acc
    assert rng == ref_rng


@settings(max_examples=150, deadline=None)
@given(tick_books(max_orders=25, huge=True))
def test_kernel_matches_reference_when_products_overflow_int64(book):
    # remaining x quantity exceeds 2**63 here: the exact long multiplication must take over.
    sides, prices, qtys = book
    vol, rng, acc, _ = run_kernel(sides, prices, qtys)
    ref_vol, ref_rng, ref_acc = reference_uniform(sides, prices, qtys)
    assert (vol, rng, acc) == (ref_vol, ref_rng, ref_acc)


@settings(max_examples=200, deadline=None)
@given(tick_books(), st.sampled_from(["midpoint", "supply", "demand"]),
       st.one_of(st.none(), st.integers(150_000, 160_000)),
       st.one_of(st.none(), st.integers(-6_000, -5_000)))
def test_public_price_matches_reference(book, rule, cap_t, floor_t):
    sides, prices, qtys = book
    b = OrderBook.from_arrays(np.arange(len(sides)), sides, prices / 100, qtys / 1000)
    cap = None if cap_t is None else cap_t / 100
    floor = None if floor_t is None else floor_t / 100
    r = clear(b, price_rule=rule, price_cap=cap, price_floor=floor)
    ref_vol, ref_rng, ref_acc = reference_uniform(sides, prices, qtys)
    if ref_vol == 0:
        assert r.price is None and r.volume == 0
        return
    x2 = reference_price_x2(ref_rng[0], ref_rng[1], rule, cap_t, floor_t)
    assert r.price == pytest.approx(x2 / 200, abs=1e-9)
    assert list(r.accepted_ticks) == ref_acc


# ----------------------------------------------------------------------- vs the LP

def check_equilibrium(sides, prices, qtys, accepted, price):
    """The competitive-equilibrium conditions of docs/CLEARING.md at ``price``."""
    for s, p, q, a in zip(sides, prices, qtys, accepted, strict=True):
        if s > 0 and p < price or s < 0 and p > price:
            assert a == q, "an order in the money must be fully accepted"
        if s > 0 and p > price or s < 0 and p < price:
            assert a == 0, "an order out of the money must get nothing"
        if 0 < a < q:
            assert p == price, "a partly accepted order is priced at the clearing price"


@settings(max_examples=200, deadline=None)
@given(tick_books(max_orders=30), st.sampled_from(["midpoint", "supply", "demand"]))
@pytest.mark.slow
def test_welfare_equals_lp_and_equilibrium_holds(book, rule):
    sides, prices, qtys = book
    b = OrderBook.from_arrays(np.arange(len(sides)), sides, prices / 100, qtys / 1000)
    r = clear(b, price_rule=rule)
    welfare, _dual = lp_welfare(sides, b.prices, b.quantities)
    assert r.welfare == pytest.approx(welfare, rel=1e-9, abs=1e-6)
    sold = int(r.accepted_ticks[sides > 0].sum())
    bought = int(r.accepted_ticks[sides < 0].sum())
    assert sold == bought == round(r.volume * 1000)
    if r.price is not None:
        check_equilibrium(sides, b.prices, qtys, r.accepted_ticks, r.price)
        lo, hi = r.price_range
        assert lo <= r.price <= hi
        check_equilibrium(sides, b.prices, qtys, r.accepted_ticks, lo)
        check_equilibrium(sides, b.prices, qtys, r.accepted_ticks, hi)


def test_large_random_book_against_lp_and_reference():
    rng = np.random.default_rng(7)
    sides, prices, qtys = random_book(rng, 3_000, levels=300)
    b = OrderBook.from_arrays(np.arange(3_000), sides, prices / 100, qtys / 1000)
    r = clear(b)
    welfare, dual = lp_welfare(sides, b.prices, b.quantities)
    assert r.welfare == pytest.approx(welfare, rel=1e-9)
    assert r.price_range[0] - 1e-9 <= dual <= r.price_range[1] + 1e-9
    vol, _, acc = reference_uniform(sides, prices, qtys)
    assert list(r.accepted_ticks) == acc


# ----------------------------------------------------------------------- invariances

@settings(max_examples=100, deadline=None)
@given(tick_books(), st.randoms(use_true_random=False))
def test_same_result_for_any_input_order(book, rnd):
    sides, prices, qtys = book
    n = len(sides)
    perm = list(range(n))
    rnd.shuffle(perm)
    perm = np.array(perm, dtype=np.int64)
    # Keep each order's submission sequence with it, so ties break the same way.
    seq = np.arange(n, dtype=np.int64)
    vol_a, rng_a, acc_a, w_a = run_kernel(sides, prices, qtys, seq=seq)
    vol_b, rng_b, acc_b, w_b = run_kernel(sides[perm], prices[perm], qtys[perm], seq=seq[perm])
    assert (vol_a, rng_a, w_a) == (vol_b, rng_b, w_b)
    assert [acc_a[i] for i in perm] == acc_b


def test_same_result_twice():
    rng = np.random.default_rng(3)
    sides, prices, qtys = random_book(rng, 5_000, levels=50)
    b = OrderBook.from_arrays(np.arange(5_000), sides, prices / 100, qtys / 1000)
    r1, r2 = clear(b), clear(b)
    assert r1.price == r2.price and r1.volume == r2.volume and r1.welfare == r2.welfare
    assert np.array_equal(r1.accepted_ticks, r2.accepted_ticks)


# ----------------------------------------------------------------------- golden books

def test_golden_vertical_segment_midpoint_decides():
    # Sell S1 100 MW at 20, sell S2 100 MW at 40; buy B1 100 MW at 50, buy B2 100 MW at 10.
    # 1. Merit order: supply 20 (100), 40 (100); demand 50 (100), 10 (100).
    # 2. Volume: min(S(<=p), D(>=p)) is 100 for any p in [20, 50]; it never exceeds 100
    #    (at p <= 10 supply is 0, above 50 demand is 0). Volume 100.
    # 3. Allocation: S1 and B1 fully accepted; S2 and B2 get nothing.
    # 4. Price range: accepted sell S1 needs p >= 20; rejected buy B2 needs p >= 10;
    #    rejected sell S2 needs p <= 40; accepted buy B1 needs p <= 50. So p in [20, 40]:
    #    the two curves overlap on a vertical segment at 100 MW.
    # 5. Midpoint (20 + 40) / 2 = 30; supply rule 20; demand rule 40.
    b = book_of([1, 1, -1, -1], [20, 40, 50, 10], [100, 100, 100, 100], ["S1", "S2", "B1", "B2"])
    r = clear(b)
    assert r.price == 30.0 and r.price_range == (20.0, 40.0)
    assert r.volume == 100.0
    assert list(r.accepted) == [100.0, 0.0, 100.0, 0.0]
    assert r.welfare == 50 * 100 - 20 * 100
    assert clear(b, price_rule="supply").price == 20.0
    assert clear(b, price_rule="demand").price == 40.0
    assert np.isnan(r.settlement_price[1]) and r.settlement_price[0] == 30.0


def test_golden_pro_rata_at_marginal_sell_price():
    # Sells S1 60 MW and S2 30 MW both at 10; buy B1 45 MW at 25.
    # Volume 45 (demand is short). Both sells sit at the marginal price 10 and share 45 MW
    # pro rata to 60:30 -> 30 and 15. S1, S2 partly accepted -> price exactly 10.
    b = book_of([1, 1, -1], [10, 10, 25], [60, 30, 45])
    r = clear(b)
    assert list(r.accepted) == [30.0, 15.0, 45.0]
    assert r.price == 10.0 and r.volume == 45.0
    # Time priority: S1 (earlier) fills first: 45 from S1, 0 from S2.
    t = clear(b, priority="time")
    assert list(t.accepted) == [45.0, 0.0, 45.0]


def test_golden_pro_rata_leftover_ticks_go_to_largest_remainder_then_earliest():
    # Three sells of 0.001 MW (1 tick) at 10 and a buy of 0.002 MW at 12.
    # Pro rata share 2 x 1/3 = 0.667 tick each: floors are 0, remainders equal (2/3 each);
    # the 2 leftover ticks go to the earliest two by sequence.
    b = book_of([1, 1, 1, -1], [10, 10, 10, 12], [0.001, 0.001, 0.001, 0.002])
    r = clear(b)
    assert list(r.accepted_ticks) == [1, 1, 0, 2]
    # Sells of 3 and 1 ticks sharing 2 ticks: exact shares 1.5 and 0.5 -> floors 1 and 0,
    # remainders equal (0.5) -> the earlier order takes the leftover tick.
    b2 = book_of([1, 1, -1], [10, 10, 12], [0.003, 0.001, 0.002])
    assert list(clear(b2).accepted_ticks) == [2, 0, 2]
    # Shares 1.6 and 0.4 of 2 ticks (4 and 1 ticks offered): floor 1 and 0, remainders
    # 0.6 > 0.4 -> the leftover tick goes to the first order.
    b3 = book_of([1, 1, -1], [10, 10, 12], [0.001, 0.004, 0.002])
    assert list(clear(b3).accepted_ticks) == [0, 2, 2]


def test_golden_marginal_buy_sets_price():
    # Sell S1 50 MW at 10; buys B1 20 MW at 30, B2 40 MW at 20.
    # Demand merit: 30 (20), 20 (40). Volume min(50, 60) = 50: B1 full 20, B2 30 of 40.
    # B2 partly accepted -> price = 20.
    r = clear(book_of([1, -1, -1], [10, 30, 20], [50, 20, 40]))
    assert list(r.accepted) == [50.0, 20.0, 30.0]
    assert r.price == 20.0


def test_golden_no_crossing_gives_no_price():
    # The cheapest sell (50) is above the best buy (40): nothing trades.
    r = clear(book_of([1, -1], [50, 40], [10, 10]))
    assert r.price is None and r.volume == 0.0 and r.welfare == 0.0
    assert list(r.accepted) == [0.0, 0.0]
    assert clear(book_of([1, 1], [5, 6], [1, 1])).price is None  # one-sided
    assert clear(book_of([], [], [])).price is None  # empty


def test_golden_equal_prices_trade_for_volume():
    # Sell 10 MW at 30 and buy 10 MW at 30: zero surplus, but volume-maximising -> trade 10.
    r = clear(book_of([1, -1], [30, 30], [10, 10]))
    assert r.volume == 10.0 and r.price == 30.0 and r.welfare == 0.0


def test_golden_inelastic_demand_at_cap_clears_at_cap_and_curtails():
    # Inelastic load of 100 MW bid at the cap 1,500; only 60 MW offered at 200.
    # Volume 60; the load is partly accepted (curtailed) -> price = its bid = the cap 1,500.
    r = clear(book_of([1, -1], [200, 1500], [60, 100]), price_cap=1500, price_floor=-50)
    assert r.volume == 60.0 and r.price == 1500.0


def test_golden_negative_prices():
    # Wind offers 100 MW at the floor -50; one buyer of 50 MW at -10. Wind partly accepted
    # -> price -50 (the floor).
    r = clear(book_of([1, -1], [-50, -10], [100, 50]), price_floor=-50)
    assert r.price == -50.0 and r.volume == 50.0


def test_golden_midpoint_between_ticks_is_exact():
    # Range [10.00, 10.01]: midpoint 10.005, half a tick (kept exact, not rounded).
    r = clear(book_of([1, 1, -1, -1], [10.00, 10.01, 20, 5], [1, 1, 1, 1]))
    assert r.price_range == (10.0, 10.01)
    assert r.price == pytest.approx(10.005, abs=1e-12)


def test_pay_as_bid_same_quantities_own_prices():
    b = book_of([1, 1, -1, -1], [20, 40, 50, 10], [100, 100, 100, 100])
    u = clear(b)
    p = clear(b, pricing="pay_as_bid")
    assert np.array_equal(u.accepted_ticks, p.accepted_ticks)
    assert p.settlement_price[0] == 20.0 and p.settlement_price[2] == 50.0
    assert np.isnan(p.settlement_price[1])


# ----------------------------------------------------------------------- refusals

def test_orders_outside_cap_and_floor_are_refused_before_clearing():
    b = book_of([1, -1, -1], [-60, 1600, 100], [1, 1, 1])
    with pytest.raises(OrderBookError) as err:
        clear(b, price_cap=1500, price_floor=-50)
    text = str(err.value)
    assert "order 0" in text and "below the price floor -50" in text
    assert "order 1" in text and "above the price cap 1500" in text
    assert len(err.value.problems) == 2


@pytest.mark.parametrize("kwargs, fragment", [
    ({"pricing": "discriminatory"}, "pricing must be one of"),
    ({"price_rule": "average"}, "price_rule must be one of"),
    ({"price_cap": 10.0, "price_floor": 20.0}, "below price_floor"),
    ({"price_cap": 10.001}, "tick grid"),
    ({"price_cap": float("nan")}, "finite"),
])
def test_bad_options_are_refused(kwargs, fragment):
    b = book_of([1, -1], [5, 6], [1, 1])
    with pytest.raises(ClearingInputError, match=fragment):
        clear(b, **kwargs)
