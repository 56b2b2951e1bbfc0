"""Capacity clearing (sloped demand) and the descending clock beside the sort floor.

Run: ``pytest benchmarks/test_bench_capacity.py --benchmark-only``. Each group is one book size,
so the table compares side by side in one run. Kernels are warmed before timing.

Books: offers priced uniformly on 0-600 yuan/kW·yr (60,000 ticks of 0.01), 0.001-2 MW each,
so n offers hold about n MW; the Mengxi-shaped curve (495 / 248 / 0 at 0.97 / 1.03 / 1.10 of
the requirement) is scaled to a requirement of half the offered MW, so the curve crosses the
supply mid-range. The clock starts at 600 and falls by 0.01 (one tick) per round.
"""

from __future__ import annotations

import numpy as np
import pytest

from clearing import OrderBook
from clearing.capacity import DemandCurve, clear_capacity
from clearing.clock import clear_clock
from clearing.kernels import capacity as capacity_kernel
from clearing.kernels import clock as clock_kernel

SIZES = [100_000, 1_000_000]
_CASES: dict[int, tuple[OrderBook, DemandCurve]] = {}


def case(n: int) -> tuple[OrderBook, DemandCurve]:
    if n not in _CASES:
        rng = np.random.default_rng(n)
        prices = rng.integers(0, 60_001, n) / 100
        mw = rng.integers(1, 2_001, n) / 1000
        book = OrderBook.from_arrays(np.arange(n), np.ones(n, dtype=np.int8), prices, mw)
        rr = round(float(mw.sum()) / 2)
        curve = DemandCurve.from_points([(rr * 0.97, 495.0), (rr * 1.03, 248.0),
                                         (rr * 1.10, 0.0)])
        # warm: compilation (or the cache load) is never timed
        clear_capacity(book, curve)
        clear_clock(book, curve, start_price=600, decrement=0.01)
        _CASES[n] = (book, curve)
    return _CASES[n]


@pytest.mark.parametrize("n", SIZES)
def test_capacity_kernel(benchmark, n):
    book, curve = case(n)
    cq, cp = curve.ticks(book.price_tick, book.quantity_tick)
    benchmark.group = f"capacity {n:>9,} offers"
    out = benchmark(capacity_kernel.clear_capacity, book.price_ticks, book.quantity_ticks,
                    book.sequence, cq, cp, False, 0)
    assert out[0] == capacity_kernel.STATUS_TRADE


@pytest.mark.parametrize("n", SIZES)
def test_clear_capacity(benchmark, n):
    book, curve = case(n)
    benchmark.group = f"capacity {n:>9,} offers"
    result = benchmark(clear_capacity, book, curve)
    assert 200 < result.price < 400


@pytest.mark.parametrize("n", SIZES)
def test_clock_one_tick_rounds(benchmark, n):
    book, curve = case(n)
    benchmark.group = f"capacity {n:>9,} offers"
    result = benchmark(clear_clock, book, curve, start_price=600, decrement=0.01)
    assert result.price == clear_capacity(book, curve, price_rule="demand").price


@pytest.mark.parametrize("n", SIZES)
def test_clock_kernel(benchmark, n):
    book, curve = case(n)
    cq, cp = curve.ticks(book.price_tick, book.quantity_tick)
    benchmark.group = f"capacity {n:>9,} offers"
    benchmark(clock_kernel.run_clock, book.price_ticks, book.quantity_ticks, book.sequence,
              cq, cp, 60_000, 1, 0, False)


@pytest.mark.parametrize("n", SIZES)
def test_sort_floor_price_ticks(benchmark, n):
    book, _ = case(n)
    benchmark.group = f"capacity {n:>9,} offers"
    benchmark(np.sort, book.price_ticks)


@pytest.mark.parametrize("n", SIZES)
def test_sort_floor_prices(benchmark, n):
    book, _ = case(n)
    prices = book.prices
    benchmark.group = f"capacity {n:>9,} offers"
    benchmark(np.sort, prices)
