"""Shared generators of order books for the clearing tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def tick_books(draw, max_orders: int = 40, huge: bool = False):
    """(sides, price_ticks, qty_ticks) with heavy ties, one-sided books and negative prices.

    Prices come from a handful of levels (many ties) or a wide range; quantities are small or,
    with ``huge``, large enough that remaining x quantity overflows int64 in the pro-rata step.
    """
    n = draw(st.integers(0, max_orders))
    shape = draw(st.sampled_from(["mixed", "sells_only", "buys_only", "crossing", "apart"]))
    if shape == "sells_only":
        sides = [1] * n
    elif shape == "buys_only":
        sides = [-1] * n
    else:
        sides = draw(st.lists(st.sampled_from([1, -1]), min_size=n, max_size=n))
    tie_levels = draw(st.lists(st.integers(-5_000, 150_000), min_size=1, max_size=4))
    if draw(st.booleans()):
        prices = draw(st.lists(st.sampled_from(tie_levels), min_size=n, max_size=n))
    else:
        prices = draw(st.lists(st.integers(-5_000, 150_000), min_size=n, max_size=n))
    if shape == "crossing":  # every buy above every sell
        prices = [p % 1000 + (0 if s > 0 else 2000) for p, s in zip(prices, sides, strict=True)]
    elif shape == "apart":  # no buy reaches any sell
        prices = [p % 1000 + (2000 if s > 0 else 0) for p, s in zip(prices, sides, strict=True)]
    top = 10**15 if huge else 5_000
    qtys = draw(st.lists(st.integers(1, top), min_size=n, max_size=n))
    return (np.array(sides, dtype=np.int8), np.array(prices, dtype=np.int64),
            np.array(qtys, dtype=np.int64))


def random_book(rng: np.random.Generator, n: int, levels: int = 2_000):
    """A random book of n orders on ``levels`` price ticks (for large, non-hypothesis checks)."""
    sides = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    prices = rng.integers(0, levels, n).astype(np.int64)
    qtys = rng.integers(1, 100_000, n).astype(np.int64)
    return sides, prices, qtys
