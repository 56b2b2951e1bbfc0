"""The continuous double auction: kernel vs the slow reference, golden cases, invariants.

Golden cases are worked by hand in the comments beside them, from the rule in docs/CLEARING.md:
"an order book with price-time priority, trades at the resting order's price, partial fills,
cancels".
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing.continuous import (
    ACCEPTED,
    ALREADY_CANCELLED,
    ALREADY_FILLED,
    CANCEL,
    DUPLICATE_ID,
    IOC,
    LIMIT,
    TRADE_DTYPE,
    UNKNOWN_ID,
    ContinuousBook,
    make_events,
)
from clearing.errors import OrderBookError
from clearing.kernels import continuous as k
from clearing.reference import ReferenceContinuousBook, reference_continuous

BUY, SELL = -1, 1
SETTINGS = settings(max_examples=150, deadline=None)

# Ids: a small pool so that duplicates and cancels of live, filled and unknown orders are
# common, plus int64 extremes and multiples of 2**32 that stress the hash of the id table.
SPECIAL_IDS = [-1, -(2**63), 2**63 - 1, 2**32, 2**33, 3 * 2**32, 7 * 2**40]
ids = st.one_of(st.integers(0, 40), st.integers(0, 40), st.sampled_from(SPECIAL_IDS))
add_kind = st.sampled_from([LIMIT, LIMIT, LIMIT, LIMIT, IOC])
# Eleven price ticks for ~60 orders: heavy ties, and most orders cross something.
tick_event = st.one_of(
    st.tuples(add_kind, ids, st.sampled_from([BUY, SELL]), st.integers(95, 105),
              st.integers(1, 6)),
    st.tuples(st.just(CANCEL), ids, st.just(0), st.just(0), st.just(0)),
)
tick_streams = st.lists(tick_event, max_size=80)
# Kernel-level streams also carry events the wrapper would refuse; the kernel must mark them
# INVALID and change nothing.
raw_event = st.one_of(
    tick_event,
    st.tuples(st.sampled_from([LIMIT, IOC, 7, -1]), ids, st.sampled_from([BUY, SELL, 0, 2]),
              st.integers(95, 105), st.integers(-2, 3)),
)
raw_streams = st.lists(raw_event, max_size=80)


def kernel_run(events, capacity=1, presize=True):
    """Run tick events through a ContinuousBook's kernel loop (no float intake).

    ``presize=False``: every array, the id table too, grows only when the kernel asks.
    """
    book = ContinuousBook(price_tick=1.0, quantity_tick=1.0, capacity=capacity)
    ev = np.array(events, dtype=np.int64).reshape(-1, 5)
    result = book._run(ev, presize=presize)
    return book, result


def trade_tuples(trades):
    return [(int(t["taker_id"]), int(t["maker_id"]), int(t["price_ticks"]),
             int(t["quantity_ticks"]), int(t["event"]), int(t["taker_side"])) for t in trades]


def order_tuples(orders):
    return [(int(o["order_id"]), int(o["side"]), int(o["price_ticks"]), int(o["quantity_ticks"]),
             int(o["sequence"])) for o in orders]


def float_events(stream):
    """Tick events as a float event batch on the default grid (0.01 yuan, 0.001 MW)."""
    if not stream:
        return make_events(np.zeros(0, np.int64), np.zeros(0, np.int64))
    kind, oid, side, price, qty = (list(c) for c in zip(*stream, strict=True))
    prices = [p / 100 if kd != CANCEL else math.nan for kd, p in zip(kind, price, strict=True)]
    qtys = [q / 1000 if kd != CANCEL else math.nan for kd, q in zip(kind, qty, strict=True)]
    return make_events(kind, np.array(oid, dtype=np.int64), side, prices, qtys)


def assert_same_book(book, ref):
    assert order_tuples(book.open_orders()) == ref.open_orders()
    bids = [o for o in ref.open_orders() if o[1] == BUY]
    asks = [o for o in ref.open_orders() if o[1] == SELL]
    scale = book.price_tick
    assert book.best_bid() == (None if not bids else pytest.approx(bids[0][2] * scale))
    assert book.best_ask() == (None if not asks else pytest.approx(asks[0][2] * scale))
    assert len(book) == len(bids) + len(asks)


# ------------------------------------------------------------------ kernel vs reference

@SETTINGS
@given(raw_streams, st.sampled_from([1, 2, 1024]), st.booleans())
def test_kernel_matches_reference_on_ticks(stream, capacity, presize):
    """Same statuses, same trades (ids, maker price, quantity, order), same resting book.

    ``capacity=1`` makes every array grow by doubling mid-batch (the kernel's resume path).
    """
    book, result = kernel_run(stream, capacity, presize)
    trades, statuses, open_orders = reference_continuous(stream)
    assert result.status.tolist() == statuses
    assert trade_tuples(result.trades) == trades
    assert order_tuples(book.open_orders()) == open_orders


@SETTINGS
@given(tick_streams)
def test_public_batch_matches_reference(stream):
    """Through the float intake (yuan, MW on the default grid) the result is the same."""
    book = ContinuousBook(capacity=2)
    result = book.process(float_events(stream))
    trades, statuses, open_orders = reference_continuous(stream)
    assert result.status.tolist() == statuses
    assert trade_tuples(result.trades) == trades
    assert order_tuples(book.open_orders()) == open_orders
    np.testing.assert_array_equal(result.trades["price"], result.trades["price_ticks"] / 100)
    np.testing.assert_array_equal(result.trades["quantity"],
                                  result.trades["quantity_ticks"] / 1000)


@SETTINGS
@given(tick_streams)
def test_event_by_event_matches_reference_and_never_crosses(stream):
    """One event per call gives the same book after every event, and the book is never crossed."""
    book = ContinuousBook(price_tick=1.0, quantity_tick=1.0, capacity=1)
    ref = ReferenceContinuousBook()
    for i, (kind, oid, side, price, qty) in enumerate(stream):
        result = book._run(np.array([[kind, oid, side, price, qty]], dtype=np.int64),
                           presize=False)
        status, made = ref.apply(kind, oid, side, price, qty, event=0)
        assert int(result.status[0]) == status, i
        assert trade_tuples(result.trades) == made
        assert_same_book(book, ref)
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            assert bid < ask


@SETTINGS
@given(tick_streams)
def test_depth_aggregates_open_orders(stream):
    book, _ = kernel_run(stream)
    depth = book.depth(levels=None)
    for side, levels in ((BUY, depth.bids), (SELL, depth.asks)):
        by_price = {}
        for o in book.open_orders():
            if o["side"] == side:
                n, q = by_price.get(float(o["price"]), (0, 0.0))
                by_price[float(o["price"])] = (n + 1, q + float(o["quantity"]))
        expect = sorted(by_price.items(), reverse=side == BUY)
        assert [(float(lv["price"]), int(lv["orders"]), float(lv["quantity"])) for lv in levels] \
            == [(p, n, q) for p, (n, q) in expect]
    assert len(book.depth(2).bids) == min(2, len(depth.bids))


# ------------------------------------------------------------------ conservation

@SETTINGS
@given(tick_streams)
def test_conservation(stream):
    """Every trade moves the same quantity out of a buy order and a sell order at a price both
    accept (the maker's); what an order traded plus what rests equals what it entered with."""
    book, result = kernel_run(stream)
    entered = {}  # id -> (side, price, qty) of accepted adds
    for (kind, oid, side, price, qty), status in zip(stream, result.status, strict=True):
        if kind != CANCEL and status == ACCEPTED:
            entered[oid] = (side, price, qty)
    traded = dict.fromkeys(entered, 0)
    bought = sold = 0
    for t in result.trades:
        taker, maker = entered[int(t["taker_id"])], entered[int(t["maker_id"])]
        assert taker[0] == int(t["taker_side"]) and maker[0] == -taker[0]
        assert int(t["price_ticks"]) == maker[1]
        buy, sell = (taker, maker) if taker[0] == BUY else (maker, taker)
        assert sell[1] <= int(t["price_ticks"]) <= buy[1]
        q = int(t["quantity_ticks"])
        assert q > 0
        traded[int(t["taker_id"])] += q
        traded[int(t["maker_id"])] += q
        bought += q
        sold += q
    assert sum(v for i, v in traded.items() if entered[i][0] == BUY) == bought
    assert sum(v for i, v in traded.items() if entered[i][0] == SELL) == sold
    resting = {int(o["order_id"]): int(o["quantity_ticks"]) for o in book.open_orders()}
    for oid, (_, _, qty) in entered.items():
        state = book.order_status(oid)
        if state == "filled":
            assert traded[oid] == qty and oid not in resting
        elif state == "live":
            assert traded[oid] + resting[oid] == qty and resting[oid] > 0
        else:
            assert state == "cancelled" and traded[oid] < qty and oid not in resting


# ------------------------------------------------------------------ golden scenarios

def make_book():
    return ContinuousBook(price_tick=0.01, quantity_tick=0.001)


def as_list(trades):
    return [(int(t["taker_id"]), int(t["maker_id"]), float(t["price"]), float(t["quantity"]))
            for t in trades]


def test_taker_sweeps_levels_at_resting_prices():
    # Asks: 1 MW @ 300 (id 1), 2 MW @ 301 (id 2), 3 MW @ 302 (id 3).
    # Buy 4 MW limit 305 (id 10): takes 1 @ 300, 2 @ 301, then 1 of the 3 @ 302 - each at the
    # resting order's price, never at 305. Left: id 3 with 2 MW @ 302; the buy is filled.
    book = make_book()
    for oid, price, qty in ((1, 300.0, 1.0), (2, 301.0, 2.0), (3, 302.0, 3.0)):
        assert len(book.submit(oid, "sell", price, qty)) == 0
    trades = book.submit(10, "buy", 305.0, 4.0)
    assert as_list(trades) == [(10, 1, 300.0, 1.0), (10, 2, 301.0, 2.0), (10, 3, 302.0, 1.0)]
    assert trades.dtype == TRADE_DTYPE and (trades["taker_side"] == BUY).all()
    assert book.best_ask() == 302.0 and book.best_bid() is None
    assert [(o["order_id"], o["quantity"]) for o in book.open_orders()] == [(3, 2.0)]
    assert book.order_status(10) == "filled" and book.order_status(1) == "filled"


def test_sell_taker_trades_at_the_higher_bid_prices():
    # Bids 1 MW @ 310 (id 1), 1 MW @ 305 (id 2). Sell 1.5 MW limit 300 (id 3): 1 @ 310, then
    # 0.5 @ 305; bid 2 keeps 0.5 MW.
    book = make_book()
    book.submit(1, "buy", 310.0, 1.0)
    book.submit(2, "buy", 305.0, 1.0)
    assert as_list(book.submit(3, "sell", 300.0, 1.5)) == [(3, 1, 310.0, 1.0), (3, 2, 305.0, 0.5)]
    assert book.depth().bids.tolist() == [(305.0, 0.5, 1)]


def test_partial_fill_leaves_the_remainder_resting():
    # Ask 5 MW @ 300 (id 1). Buy 8 MW limit 305 (id 2): 5 @ 300, and 3 MW rest as a bid @ 305
    # (at its own limit, not at 300).
    book = make_book()
    book.submit(1, "sell", 300.0, 5.0)
    assert as_list(book.submit(2, "buy", 305.0, 8.0)) == [(2, 1, 300.0, 5.0)]
    assert book.best_bid() == 305.0 and book.best_ask() is None
    assert book.open_orders()[["order_id", "side", "price", "quantity"]].tolist() == [
        (2, BUY, 305.0, 3.0)]
    assert book.order_status(2) == "live"


def test_time_priority_at_one_price():
    # Asks at 300: id 7 (2 MW) first, then id 5 (2 MW), then id 9 (2 MW). A better ask at 299
    # (id 8) comes last but goes first. Buy 4 MW @ 300: 1 @ 299 from id 8, 2 from id 7, 1 from
    # id 5; id 5 keeps 1 MW and stays ahead of id 9.
    book = make_book()
    for oid in (7, 5, 9):
        book.submit(oid, "sell", 300.0, 2.0)
    book.submit(8, "sell", 299.0, 1.0)
    assert as_list(book.submit(1, "buy", 300.0, 4.0)) == [
        (1, 8, 299.0, 1.0), (1, 7, 300.0, 2.0), (1, 5, 300.0, 1.0)]
    assert [(o["order_id"], o["quantity"]) for o in book.open_orders()] == [(5, 1.0), (9, 2.0)]
    assert book.depth().asks.tolist() == [(300.0, 3.0, 2)]


def test_cancel_then_no_fill():
    # Ask 1 MW @ 300 (id 1) cancelled; a buy @ 300 (id 2) then finds nothing and rests.
    book = make_book()
    book.submit(1, "sell", 300.0, 1.0)
    assert book.cancel(1) == 1.0
    assert len(book.submit(2, "buy", 300.0, 1.0)) == 0
    assert book.best_bid() == 300.0 and book.best_ask() is None
    assert book.order_status(1) == "cancelled"


def test_non_crossing_orders_rest():
    book = make_book()
    assert len(book.submit(1, "buy", 299.99, 1.0)) == 0
    assert len(book.submit(2, "sell", 300.0, 1.0)) == 0
    assert (book.best_bid(), book.best_ask()) == (299.99, 300.0)
    assert len(book) == 2


def test_immediate_or_cancel_never_rests():
    # Ask 1 MW @ 300 (id 1). IOC buy 3 MW @ 300 (id 2): 1 @ 300, the other 2 MW are cancelled.
    book = make_book()
    book.submit(1, "sell", 300.0, 1.0)
    assert as_list(book.submit(2, "buy", 300.0, 3.0, ioc=True)) == [(2, 1, 300.0, 1.0)]
    assert len(book) == 0 and book.order_status(2) == "cancelled"
    assert len(book.submit(3, "sell", 301.0, 1.0, ioc=True)) == 0
    assert len(book) == 0


def test_batch_status_codes():
    # 0: ask id 1 rests; 1: id 1 again -> duplicate; 2: buy id 2 fills id 1 completely;
    # 3: cancel 1 -> already filled; 4: cancel 3 -> unknown; 5: bid id 4 rests;
    # 6: cancel 4 -> accepted; 7: cancel 4 -> already cancelled; 8: reuse of id 4 -> duplicate.
    book = make_book()
    events = make_events(
        ["limit", "limit", "limit", "cancel", "cancel", "limit", "cancel", "cancel", "limit"],
        [1, 1, 2, 1, 3, 4, 4, 4, 4],
        ["sell", "buy", "buy", "buy", "buy", "buy", "buy", "buy", "buy"],
        [300.0, 300.0, 300.0, 0.0, 0.0, 290.0, 0.0, 0.0, 290.0],
        [1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    result = book.process(events)
    assert result.status.tolist() == [ACCEPTED, DUPLICATE_ID, ACCEPTED, ALREADY_FILLED,
                                      UNKNOWN_ID, ACCEPTED, ACCEPTED, ALREADY_CANCELLED,
                                      DUPLICATE_ID]
    assert as_list(result.trades) == [(2, 1, 300.0, 1.0)]
    assert result.trades["event"].tolist() == [2]
    assert len(book) == 0


def test_process_accepts_a_mapping_of_columns():
    book = make_book()
    result = book.process({"kind": np.array([0, 0]), "order_id": np.array([1, 2]),
                           "side": np.array([1, -1]), "price": np.array([10.0, 11.0]),
                           "quantity": np.array([1.0, 0.5])})
    assert as_list(result.trades) == [(2, 1, 10.0, 0.5)]


def test_many_cancels_compact_the_heap():
    # 1000 bids at 100..1099 ticks; cancel 900 of them below the top, so most of the heap is
    # dead: the heap is rebuilt and stays within twice the live orders (plus the slack).
    stream = [(LIMIT, i, BUY, 100 + i, 1) for i in range(1000)]
    stream += [(CANCEL, i, 0, 0, 0) for i in range(900)]
    stream += [(LIMIT, 5000, SELL, 0, 50)]
    book, result = kernel_run(stream)
    trades, statuses, open_orders = reference_continuous(stream)
    assert trade_tuples(result.trades) == trades and result.status.tolist() == statuses
    assert order_tuples(book.open_orders()) == open_orders
    size, live = int(book._meta[k.M_SIZE]), int(book._meta[k.M_LIVE])
    assert live == 50 and size <= 2 * live + 65


# ------------------------------------------------------------------ refused input

BAD_ORDERS = [
    ((10, "buy", math.nan, 1.0), "price is NaN"),
    ((10, "buy", math.inf, 1.0), "infinite"),
    ((10, "sell", -math.inf, 1.0), "infinite"),
    ((10, "buy", 300.005, 1.0), "not on the 0.01 tick grid"),
    ((10, "buy", 1600.0, 1.0), "above the price cap"),
    ((10, "sell", -60.0, 1.0), "below the price floor"),
    ((10, "buy", 300.0, 0.0), "is zero"),
    ((10, "buy", 300.0, -1.0), "is negative"),
    ((10, "buy", 300.0, 0.0005), "not on the 0.001 tick grid"),
    ((10, "buy", 300.0, math.nan), "not a finite number"),
    ((10, "hold", 300.0, 1.0), "side must be"),
    ((10, 0, 300.0, 1.0), "side must be"),
    ((1, "buy", 280.0, 1.0), "already resting"),
    ((2, "buy", 280.0, 1.0), "filled"),
    ((3, "sell", 320.0, 1.0), "cancelled"),
    ((1.5, "buy", 280.0, 1.0), "not an integer"),
    ((True, "buy", 280.0, 1.0), "not an integer"),
]


def seeded_book():
    """Ask id 1 rests (2 MW @ 310), id 2 was filled, id 3 was cancelled, bid id 4 rests."""
    book = ContinuousBook(price_cap=1500.0, price_floor=-50.0)
    book.submit(1, "sell", 310.0, 2.0)
    book.submit(2, "sell", 305.0, 1.0)
    book.submit(3, "sell", 320.0, 1.0)
    book.cancel(3)
    book.submit(5, "buy", 305.0, 1.0)
    book.submit(4, "buy", 300.0, 1.0)
    return book


def snapshot(book):
    return (book.open_orders().tolist(), book._meta.tolist(), book._table.tolist(),
            book._orders.tolist())


@pytest.mark.parametrize(("order", "reason"), BAD_ORDERS)
def test_refused_order_names_it_and_changes_nothing(order, reason):
    book = seeded_book()
    before = snapshot(book)
    with pytest.raises(OrderBookError, match=reason) as err:
        book.submit(*order)
    assert isinstance(err.value, ValueError)
    if not isinstance(order[0], float | bool):
        assert f"order id {order[0]}" in str(err.value)
    assert snapshot(book) == before


@pytest.mark.parametrize(("order_id", "reason"), [(99, "is unknown"), (2, "filled"),
                                                  (3, "cancelled"), ("x", "not an integer")])
def test_refused_cancel_changes_nothing(order_id, reason):
    book = seeded_book()
    before = snapshot(book)
    with pytest.raises(OrderBookError, match=reason):
        book.cancel(order_id)
    assert snapshot(book) == before


@SETTINGS
@given(tick_streams, st.integers(0, 80), st.sampled_from(BAD_ORDERS[:12]))
@pytest.mark.slow
def test_refused_batch_changes_nothing(stream, where, bad):
    """One malformed event anywhere in a batch refuses the whole batch; the book is as before,
    and goes on exactly as a book that never saw the batch."""
    book = seeded_book()
    twin = seeded_book()
    before = snapshot(book)
    events = float_events(stream)
    _, side, price, qty = bad[0]
    bad_event = make_events(LIMIT, 10**6, side, price, qty)
    where = min(where, len(events))
    batch = np.concatenate([events[:where], bad_event, events[where:]])
    with pytest.raises(OrderBookError, match=bad[1]) as err:
        book.process(batch)
    assert [p.row for p in err.value.problems] == [where]
    assert snapshot(book) == before
    a, b = book.process(events), twin.process(events)
    assert a.trades.tolist() == b.trades.tolist() and a.status.tolist() == b.status.tolist()
    assert snapshot(book) == snapshot(twin)


def test_refused_batch_lists_every_problem():
    book = make_book()
    events = make_events(["limit", "limit", "cancel", "limit"], [1, 2, 3, 4],
                         ["buy", "x", "buy", "sell"], [1.0, 2.0, math.nan, math.nan],
                         [1.0, 1.0, math.nan, -1.0])
    with pytest.raises(OrderBookError) as err:
        book.process(events)
    assert [p.row for p in err.value.problems] == [1, 3, 3]
    assert "order id 4" in str(err.value) and len(book) == 0


def test_bad_ids_and_columns_are_refused():
    book = make_book()
    with pytest.raises(OrderBookError, match="not an integer"):
        book.process({"kind": [0], "order_id": [1.5], "side": [1], "price": [1.0],
                      "quantity": [1.0]})
    with pytest.raises(OrderBookError, match="columns"):
        book.process({"order_id": [1]})
    with pytest.raises(OrderBookError, match="kind must be"):
        book.process(make_events(["market"], [1], ["buy"], [1.0], [1.0]))
    with pytest.raises(ValueError, match="levels"):
        book.depth(0)


def test_limits_and_ticks_are_checked_at_construction():
    with pytest.raises(ValueError, match="price_cap"):
        ContinuousBook(price_cap=10.005)
    with pytest.raises(ValueError, match="below"):
        ContinuousBook(price_cap=10.0, price_floor=20.0)
    with pytest.raises(ValueError, match="price_tick"):
        ContinuousBook(price_tick=0.0)


# ------------------------------------------------------------------ intake agreement

def grid_floats(ticks_per_unit):
    """Numbers on the grid, just off it, far off it, huge, and not finite."""
    on = st.integers(-(10**7), 10**7).map(lambda t: t / ticks_per_unit)
    nudged = st.tuples(on, st.sampled_from([1e-12, 1e-9, 1e-7, 3e-4, 0.3 / ticks_per_unit])).map(
        lambda a: a[0] + a[1])
    return st.one_of(on, on, nudged, st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from([0.0, -0.0, 1e17, -1e17, 2.0**62, 1e300]),
                     st.integers(-5, 5))


sides = st.sampled_from(["buy", "sell", " Buy", "SELL", -1, 1, 0, 2, "hold", np.int8(-1)])


@SETTINGS
@given(sides, grid_floats(100), grid_floats(1000), st.booleans())
def test_submit_fast_intake_agrees_with_batch_intake(side, price, qty, ioc):
    """``submit`` validates one order in plain Python; it accepts exactly what the batch intake
    accepts for plain numbers, with the same ticks."""
    book = ContinuousBook(price_cap=5000.0, price_floor=-5000.0)
    kind = IOC if ioc else LIMIT
    fast = book._encode_one(kind, 7, side, price, qty)
    slow, problems = book._encode(make_events(kind, 7, side, price, qty))
    assert (fast is None) == bool(problems)
    if fast is not None:
        np.testing.assert_array_equal(fast, slow)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from([LIMIT, LIMIT, IOC, CANCEL, 5]), st.integers(0, 30),
                          sides, grid_floats(100), grid_floats(1000)), max_size=30))
@pytest.mark.slow
def test_batch_is_refused_exactly_when_an_event_is_malformed(rows):
    """Either the batch is refused (problems name exactly the malformed rows, the book is
    unchanged) or it runs and the kernel never meets an event it must call INVALID."""
    book = seeded_book()
    before = snapshot(book)
    malformed = []
    for r, (kind, _, side, price, qty) in enumerate(rows):
        if kind == CANCEL:
            continue
        if kind not in (LIMIT, IOC) or book._encode_one(kind, 0, side, price, qty) is None:
            malformed.append(r)
    events = make_events(*zip(*rows, strict=True)) if rows else make_events([], [])
    if malformed:
        with pytest.raises(OrderBookError) as err:
            book.process(events)
        assert sorted({p.row for p in err.value.problems}) == malformed
        assert snapshot(book) == before
    else:
        result = book.process(events)
        assert (result.status != k.INVALID).all()
