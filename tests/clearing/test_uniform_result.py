"""``clear``'s result is what the eager decode of the kernel's outputs gave before the wrapper
was slimmed (scalars decoded in Python, per-order arrays on first read): the same floats,
bit for bit, for every pricing, price rule, priority, cap and floor, and on grids with and
without an integer inverse. The result stays immutable and survives copy and pickle."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing import OrderBook, clear
from clearing.grid import from_ticks
from clearing.kernels import uniform as k
from clearing.uniform import PRICE_RULES, book_limit_ticks
from tests.clearing.conftest import tick_books


def eager(book, pricing, price_rule, price_cap, price_floor, priority):
    """The decode as it was: every figure through clearing.grid.from_ticks and the kernel's
    pick_price_x2, all arrays at once."""
    cap_t, floor_t, has_cap, has_floor = book_limit_ticks(book, price_cap, price_floor)
    status, volume_t, lo_t, hi_t, welfare_t, acc_t = k.clear_uniform(
        book.sides, book.price_ticks, book.quantity_ticks, book.sequence, priority == "time")
    accepted = from_ticks(acc_t, book.quantity_tick)
    if status != k.STATUS_TRADE:
        return None, None, 0.0, 0.0, accepted, np.full(len(book), np.nan), acc_t
    args = (int(lo_t), int(hi_t))
    lims = (cap_t, floor_t, has_cap, has_floor)
    x2 = int(k.pick_price_x2(*args, PRICE_RULES[price_rule], *lims))
    price = float(from_ticks(x2, book.price_tick)) / 2.0
    lo2 = int(k.pick_price_x2(*args, k.RULE_SUPPLY, *lims))
    hi2 = int(k.pick_price_x2(*args, k.RULE_DEMAND, *lims))
    price_range = (float(from_ticks(lo2 // 2, book.price_tick)),
                   float(from_ticks(hi2 // 2, book.price_tick)))
    if pricing == "uniform":
        settle = np.where(acc_t > 0, price, np.nan)
    else:
        settle = np.where(acc_t > 0, book.prices, np.nan)
    volume = float(from_ticks(int(volume_t), book.quantity_tick))
    welfare = float(welfare_t) * book.price_tick * book.quantity_tick
    return price, price_range, volume, welfare, accepted, settle, acc_t


def same_float(a, b):
    return (a is None and b is None) or (a == b and type(a) is type(b) is float)


@settings(max_examples=300, deadline=None)
@given(tick_books(), st.sampled_from(["uniform", "pay_as_bid"]),
       st.sampled_from(["midpoint", "supply", "demand"]), st.sampled_from(["pro_rata", "time"]),
       st.sampled_from([(0.01, 0.001), (0.3, 0.001), (0.05, 0.1), (1.0, 1.0)]),
       st.one_of(st.none(), st.integers(-5_000, 160_000)),
       st.one_of(st.none(), st.integers(-6_000, 150_000)))
def test_result_is_the_eager_decode(book, pricing, rule, priority, ticks, cap_t, floor_t):
    sides, prices, qtys = book
    price_tick, qty_tick = ticks
    if cap_t is not None and prices.shape[0]:
        cap_t = max(cap_t, int(prices.max()))  # a cap the book meets
    if floor_t is not None and prices.shape[0]:
        floor_t = min(floor_t, int(prices.min()))
    cap = None if cap_t is None else float(from_ticks(cap_t, price_tick))
    floor = None if floor_t is None else float(from_ticks(floor_t, price_tick))
    if cap is not None and floor is not None and cap < floor:
        cap, floor = floor, cap
        if prices.shape[0] and (prices.max() > round(cap / price_tick)
                                or prices.min() < round(floor / price_tick)):
            cap = floor = None
    b = OrderBook.from_arrays(np.arange(sides.shape[0]), sides, from_ticks(prices, price_tick),
                              from_ticks(qtys, qty_tick), price_tick=price_tick,
                              quantity_tick=qty_tick)
    r = clear(b, pricing, rule, cap, floor, priority=priority)
    price, price_range, volume, welfare, accepted, settle, acc_t = eager(
        b, pricing, rule, cap, floor, priority)
    assert same_float(r.price, price)
    if price_range is None:
        assert r.price_range is None
    else:
        assert r.price_range is not None
        assert all(same_float(x, y) for x, y in zip(r.price_range, price_range, strict=True))
    assert same_float(r.volume, volume) and same_float(r.welfare, welfare)
    assert np.array_equal(r.accepted_ticks, acc_t)
    assert r.accepted.dtype == accepted.dtype and np.array_equal(r.accepted, accepted)
    assert r.settlement_price.dtype == np.float64
    assert np.array_equal(r.settlement_price, settle, equal_nan=True)
    assert (r.pricing, r.price_rule) == (pricing, rule)


def test_no_limit_fast_path_equals_the_kernel_on_big_books():
    rng = np.random.default_rng(7)
    for n in (2, 1_000, 50_000):
        sides = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
        b = OrderBook.from_arrays(np.arange(n), sides, rng.integers(-500, 150_000, n) / 100,
                                  rng.integers(1, 100_000, n) / 1000)
        for rule in ("midpoint", "supply", "demand"):
            r = clear(b, price_rule=rule)
            price, price_range, volume, welfare, accepted, settle, _ = eager(
                b, "uniform", rule, None, None, "pro_rata")
            assert (r.price, r.price_range, r.volume, r.welfare) == (
                price, price_range, volume, welfare)
            assert np.array_equal(r.accepted, accepted)
            assert np.array_equal(r.settlement_price, settle, equal_nan=True)


def test_result_is_immutable_and_decodes_once():
    b = OrderBook.from_arrays(["s1", "s2", "b1", "b2"], [1, 1, -1, -1],
                              [200.0, 280.0, 400.0, 250.0], [100.0, 100.0, 100.0, 100.0])
    r = clear(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.price = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.accepted = np.zeros(4)  # type: ignore[misc]
    with pytest.raises(ValueError):
        r.accepted_ticks[0] = 5  # read-only: the decoded arrays follow it
    assert r.accepted is r.accepted and r.settlement_price is r.settlement_price
    assert list(r.accepted) == [100.0, 0.0, 100.0, 0.0]
    assert "price=265.0" in repr(r)


@pytest.mark.parametrize("pricing", ["uniform", "pay_as_bid"])
def test_result_survives_copy_and_pickle(pricing):
    b = OrderBook.from_arrays([1, 2, 3, 4], [1, 1, -1, -1], [200.0, 280.0, 400.0, 250.0],
                              [100.0, 100.0, 150.0, 100.0])
    r = clear(b, pricing)
    for other in (copy.copy(r), copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert (other.price, other.price_range, other.volume, other.welfare, other.pricing) == (
            r.price, r.price_range, r.volume, r.welfare, r.pricing)
        assert np.array_equal(other.accepted, r.accepted)
        assert np.array_equal(other.settlement_price, r.settlement_price, equal_nan=True)
        assert np.array_equal(other.accepted_ticks, r.accepted_ticks)
    none = clear(OrderBook.from_arrays([1, 2], [1, -1], [300.0, 280.0], [1.0, 1.0]))
    assert none.price is None and np.isnan(pickle.loads(pickle.dumps(none)).settlement_price).all()
