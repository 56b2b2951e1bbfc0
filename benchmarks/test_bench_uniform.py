"""Uniform clearing beside the sort floor, the plain-Python reference and the HiGHS LP.

Run: ``pytest benchmarks/test_bench_uniform.py --benchmark-only``. Each group is one book size,
so the table compares engines side by side in one run. Kernels are warmed before timing.
"""

from __future__ import annotations

import numpy as np
import pytest

from api.timing import lp_clear, random_book
from clearing import clear, clear_batch
from clearing.reference import reference_uniform

SIZES = [1_000, 10_000, 100_000, 1_000_000]
_BOOKS: dict[int, object] = {}


def book(n: int):
    if n not in _BOOKS:
        _BOOKS[n] = random_book(n, seed=n)
        clear(_BOOKS[n])  # warm: compilation (or the cache load) is never timed
    return _BOOKS[n]


@pytest.mark.parametrize("n", SIZES)
def test_clear(benchmark, n):
    b = book(n)
    benchmark.group = f"uniform {n:>9,} orders"
    result = benchmark(clear, b)
    assert result.volume > 0


@pytest.mark.parametrize("n", SIZES)
def test_sort_floor(benchmark, n):
    prices = book(n).prices
    benchmark.group = f"uniform {n:>9,} orders"
    benchmark(np.sort, prices)


@pytest.mark.parametrize("n", [1_000])
def test_python_reference(benchmark, n):
    b = book(n)
    args = (b.sides.tolist(), b.price_ticks.tolist(), b.quantity_ticks.tolist())
    benchmark.group = f"uniform {n:>9,} orders"
    vol, _, _ = benchmark.pedantic(reference_uniform, args=args, rounds=5, iterations=1)
    assert vol == clear(b).accepted_ticks[b.sides > 0].sum()


@pytest.mark.parametrize("n", [1_000, 10_000])
def test_highs_lp(benchmark, n):
    b = book(n)
    benchmark.group = f"uniform {n:>9,} orders"
    welfare = benchmark.pedantic(lp_clear, args=(b,), rounds=3, iterations=1)
    assert welfare == pytest.approx(clear(b).welfare, rel=1e-9)


def test_batched_year(benchmark):
    n = 8_760 * 300
    b = random_book(n, seed=8760)
    offsets = np.arange(0, n + 1, 300)
    clear_batch(b, offsets)
    benchmark.group = "batched 8,760 auctions x 300 orders"
    result = benchmark(clear_batch, b, offsets)
    assert result.traded.all()
