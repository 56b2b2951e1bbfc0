"""The descending-clock capacity auction against its rules (``clearing/kernels/clock.py``).

Kernel vs the round-by-round reference, the round log's own consistency, agreement with the
sealed-bid clearing (``price_rule="demand"``) and the cases where they differ by design.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing import OrderBookError
from clearing.capacity import clear_capacity
from clearing.clock import MAX_ROUNDS, ROUND_DTYPE, clear_clock
from clearing.errors import ClearingInputError
from clearing.kernels import clock as kernel
from clearing.reference import reference_clock
from tests.clearing.test_capacity import MENGXI, curve_arrays, markets


@st.composite
def clocks(draw, max_offers: int = 20, above_floor: bool = False, fine: bool = False):
    """(exit ticks, quantity ticks, curve, start, decrement, floor), all in ticks.

    The start is at or above every exit price (and sometimes below the curve's first price);
    the floor sometimes above some exit prices. ``fine``: decrements of one tick.
    """
    exits, qtys, curve = draw(markets(max_offers=max_offers))
    top = int(exits.max()) if len(exits) else 0
    if draw(st.booleans()):
        top = max(top, curve[0][1])
    start = top + draw(st.integers(0, 3_000))
    if above_floor:
        floor = min(draw(st.integers(-1_000, 0)), int(exits.min()) if len(exits) else 0)
    else:
        floor = draw(st.integers(-1_000, start))
    if fine:
        decrement = 1
    else:
        span = start - floor
        decrement = draw(st.integers(max(1, span // 300), max(1, min(3_000, span + 10))))
    return exits, qtys, curve, start, decrement, floor


def run_kernel(exits, qtys, curve, start, decrement, floor, time_priority=False, seq=None):
    seq = np.arange(len(exits), dtype=np.int64) if seq is None else seq
    cq, cp = curve_arrays(curve)
    final, volume, accepted, rounds = kernel.run_clock(
        exits, qtys, seq, cq, cp, start, decrement, floor, time_priority)
    price = int(final) if volume > 0 else None
    log = [tuple(int(v) for v in row) for row in rounds]
    return price, int(volume), [int(a) for a in accepted], log


def public(exits, qtys, curve, start, decrement, floor, **kwargs):
    ids = np.arange(len(exits))
    return clear_clock((ids, qtys / 1000, exits / 100), [(q / 1000, p / 100) for q, p in curve],
                       start_price=start / 100, decrement=decrement / 100,
                       floor_price=floor / 100, **kwargs)


# ----------------------------------------------------------------------- vs the reference

@settings(max_examples=200, deadline=None)
@given(clocks(), st.booleans())
def test_kernel_matches_reference(clock, time_priority):
    exits, qtys, curve, start, decrement, floor = clock
    got = run_kernel(exits, qtys, curve, start, decrement, floor, time_priority)
    want = reference_clock(exits, qtys, curve, start, decrement, floor, None, time_priority)
    assert got == want


# ----------------------------------------------------------------------- the round log

@settings(max_examples=150, deadline=None)
@given(clocks())
def test_round_log_is_consistent(clock):
    exits, qtys, curve, start, decrement, floor = clock
    r = public(exits, qtys, curve, start, decrement, floor)
    log = r.rounds
    assert log.dtype == ROUND_DTYPE
    starts = np.rint(log["start_price"] * 100).astype(np.int64)
    ends = np.rint(log["end_price"] * 100).astype(np.int64)
    total = int(qtys.sum())
    assert list(log["round"]) == list(range(1, len(log) + 1))
    if len(log) == 0:
        # No round: supply already fits demand at the start (or the clock starts at the floor).
        if r.price is not None:
            assert r.price == start / 100
        return
    assert starts[0] == start
    assert np.array_equal(starts[1:], ends[:-1]), "each round starts where the last ended"
    assert np.array_equal(ends, np.maximum(starts - decrement, floor)), "down by the decrement"
    assert round(log["supply_start_mw"][0] * 1000) == total
    assert np.array_equal(log["supply_start_mw"][1:], log["supply_end_mw"][:-1])
    assert np.allclose(log["excess_supply_mw"], log["supply_end_mw"] - log["demand_end_mw"],
                       atol=1e-9)
    assert (log["excess_supply_mw"][:-1] > 0).all(), "the clock goes on only with excess supply"
    assert log["excess_supply_mw"][-1] <= 0 or ends[-1] == floor
    assert (np.diff(log["supply_end_mw"]) <= 0).all() and (np.diff(log["demand_end_mw"]) >= 0).all()
    if r.price is not None:
        assert ends[-1] <= round(r.price * 100) <= starts[-1], "exit bids in the last round"
        assert r.cleared_mw <= log["demand_end_mw"][-1] + 1e-9 or ends[-1] == floor


# ----------------------------------------------------------------------- vs sealed bid

@settings(max_examples=150, deadline=None)
@given(st.one_of(clocks(above_floor=True), clocks(above_floor=True, fine=True)), st.booleans())
def test_agrees_with_sealed_bid_at_the_demand_end(clock, time_priority):
    # With the start at or above the curve's first price (or every offer's exit price, when
    # supply fits there), every exit price at or above the floor and something cleared, the
    # clock's final price and quantities equal sealed-bid clearing with price_rule="demand",
    # for any decrement, fine or coarse: the exit bids inside the last round make the price
    # exact. The highest sealed-bid price is the largest P with S(<P) <= D(P), which is what
    # the clock finds in the round where supply first fits.
    exits, qtys, curve, start, decrement, floor = clock
    priority = "time" if time_priority else "pro_rata"
    c = public(exits, qtys, curve, start, decrement, floor, priority=priority)
    book_ids = np.arange(len(exits))
    s = clear_capacity((book_ids, qtys / 1000, exits / 100),
                       [(q / 1000, p / 100) for q, p in curve],
                       price_rule="demand", priority=priority)
    if start < curve[0][1] and s.price is not None and s.price * 100 > start:
        # The documented difference: the clock cannot go above its start price.
        assert c.price == start / 100
        return
    assert c.price == s.price
    assert np.array_equal(c.accepted_ticks, s.accepted_ticks)
    assert c.cleared_mw == s.cleared_mw


def test_golden_differs_when_the_start_is_below_the_sealed_price():
    # One offer of 10,000 MW with exit price 100. Sealed bid: the curve is flat at 495 there,
    # price 495. A clock starting at 400: at 400 supply 10,000 MW fits the demand
    # 50,197.5 + 95 x 3,105 / 247 = 51,391.7 MW, so no round is run and the price is 400.
    offers = (["U1"], [10_000], [100])
    assert clear_capacity(offers, MENGXI, price_rule="demand").price == 495.0
    c = clear_clock(offers, MENGXI, start_price=400, decrement=10)
    assert c.price == 400.0 and c.cleared_mw == 10_000.0 and len(c.rounds) == 0


def test_golden_differs_when_the_clock_reaches_the_floor():
    # Vertical demand of 100 MW up to 50; A 80 MW exits at -10 (below the floor 0), B 80 MW at
    # 0. Start 50, decrement 10: supply 160 MW exceeds 100 MW in every round down to the floor.
    # The clock never reveals A's -10, so at the floor A and B are alike: 100 MW pro rata,
    # 50 each, price 0. Sealed bid knows A is cheaper: A 80 in full, B 20, price 0.
    offers = (["A", "B"], [80, 80], [-10, 0])
    c = clear_clock(offers, [(100, 50), (100, 0)], start_price=50, decrement=10)
    assert c.price == 0.0 and list(c.accepted) == [50.0, 50.0]
    assert list(c.rounds["end_price"]) == [40, 30, 20, 10, 0]
    assert list(c.rounds["excess_supply_mw"]) == [60.0] * 5
    s = clear_capacity(offers, [(100, 50), (100, 0)], price_rule="demand")
    assert s.price == 0.0 and list(s.accepted) == [80.0, 20.0]


# ----------------------------------------------------------------------- golden cases

def test_golden_mengxi_clock():
    # Mengxi curve (docs/DOMAIN.md): A (50,197.5 MW, 495), B (53,302.5, 248), C (56,925, 0).
    # Offers U1 30,000 MW exit 100, U2 20,000 exit 200, U3 10,000 exit 300. Start 495, step 50.
    # Demand at P on AB: 50,197.5 + (495 - P) x 3,105 / 247, floored to 0.001 MW.
    # Round 1: 495 -> 445: supply 60,000 -> 60,000; demand 50,826.042 (+628.5425...); excess
    #          9,173.958.
    # Round 2: 445 -> 395: demand 51,454.585; excess 8,545.415.
    # Round 3: 395 -> 345: demand 52,083.127; excess 7,916.873.
    # Round 4: 345 -> 295: U3 exits at 300; supply 50,000; demand 52,711.670; excess
    #          -2,711.670 <= 0: the last round.
    # Final price: the highest P in [295, 345] with supply staying in above P under D(P):
    # above 300 that supply is 60,000 > D; at 300 it is 50,000 <= D(300) = 52,648.815. So 300;
    # U3, exiting exactly at 300, gets 52,648.815 - 50,000 = 2,648.815 MW. Same as sealed bid.
    offers = (["U1", "U2", "U3"], [30_000, 20_000, 10_000], [100, 200, 300])
    c = clear_clock(offers, MENGXI, start_price=495, decrement=50)
    assert c.price == 300.0 and c.cleared_mw == 52_648.815
    assert list(c.accepted) == [30_000.0, 20_000.0, 2_648.815]
    log = c.rounds
    assert list(log["round"]) == [1, 2, 3, 4]
    assert list(log["start_price"]) == [495, 445, 395, 345]
    assert list(log["end_price"]) == [445, 395, 345, 295]
    assert list(log["supply_end_mw"]) == [60_000, 60_000, 60_000, 50_000]
    assert list(log["demand_end_mw"]) == [50_826.042, 51_454.585, 52_083.127, 52_711.670]
    assert list(log["excess_supply_mw"]) == pytest.approx([9_173.958, 8_545.415, 7_916.873,
                                                           -2_711.670], abs=1e-9)
    assert np.array_equal(c.accepted_ticks, clear_capacity(offers, MENGXI).accepted_ticks)
    assert list(c.settlement_price) == [300.0] * 3


def test_golden_exits_at_the_final_price_share_pro_rata():
    # Vertical demand 100 MW up to 90. A 60 MW exit 10; B 60 MW and C 30 MW exit 40.
    # Start 90, step 25: round 1 90 -> 65 (supply 150 > 100), round 2 65 -> 40 (B, C still in
    # at 40: 150 > 100), round 3 40 -> 15: B and C exit, supply 60 <= 100: last round.
    # Final price: above 40 the supply staying in is 150; at 40 it is 60 <= 100: price 40.
    # B and C share 100 - 60 = 40 MW pro rata to 60:30: 26.667 and 13.333 MW (the one tick
    # left over goes to the larger remainder: 26.6666 -> 26.667, 13.3333 -> 13.333).
    offers = (["A", "B", "C"], [60, 60, 30], [10, 40, 40])
    c = clear_clock(offers, [(100, 90), (100, 0)], start_price=90, decrement=25)
    assert c.price == 40.0 and list(c.accepted) == [60.0, 26.667, 13.333]
    assert list(c.rounds["end_price"]) == [65, 40, 15]
    t = clear_clock(offers, [(100, 90), (100, 0)], start_price=90, decrement=25, priority="time")
    assert list(t.accepted) == [60.0, 40.0, 0.0]


def test_golden_nothing_clears():
    # Every exit price above the curve's first price: demand is 0 wherever supply is in.
    c = clear_clock((["U1"], [10], [500]), MENGXI, start_price=600, decrement=50)
    assert c.price is None and c.cleared_mw == 0.0 and np.isnan(c.settlement_price).all()
    assert c.rounds["excess_supply_mw"][-1] <= 0
    assert clear_clock(([], [], []), MENGXI, start_price=495, decrement=5).price is None


# ----------------------------------------------------------------------- refusals

def test_exit_prices_above_the_start_are_refused_listing_each():
    with pytest.raises(OrderBookError) as err:
        clear_clock((["U1", "U2", "U3"], [1, 1, 1], [600, 100, 700]), MENGXI,
                    start_price=495, decrement=5)
    assert [p.row for p in err.value.problems] == [0, 2]
    assert "above the start price 495" in str(err.value)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"start_price": 495, "decrement": 0}, "decrement must be > 0"),
    ({"start_price": 495, "decrement": -5}, "decrement must be > 0"),
    ({"start_price": 495, "decrement": 0.001}, "grid"),
    ({"start_price": float("nan"), "decrement": 5}, "finite"),
    ({"start_price": 495, "decrement": 5, "floor_price": 500}, "above start_price"),
    ({"start_price": 495, "decrement": 0.01, "floor_price": -10**5}, "rounds"),
    ({"start_price": 495, "decrement": 5, "priority": "random"}, "priority must be one of"),
])
def test_bad_options_are_refused(kwargs, fragment):
    with pytest.raises(ClearingInputError, match=fragment):
        clear_clock((["U1"], [1], [1]), MENGXI, **kwargs)
    assert MAX_ROUNDS == 1_000_000
