"""Batched clearing equals clearing each auction alone (one compiled call, no Python loop)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing import ClearingInputError, OrderBook, clear, clear_batch
from tests.clearing.conftest import tick_books


@settings(max_examples=100, deadline=None)
@given(st.lists(tick_books(max_orders=15), min_size=0, max_size=6),
       st.sampled_from(["midpoint", "supply", "demand"]),
       st.sampled_from(["uniform", "pay_as_bid"]),
       st.sampled_from(["pro_rata", "time"]))
def test_batch_equals_each_auction_alone(books, rule, pricing, priority):
    sides = np.concatenate([b[0] for b in books]) if books else np.zeros(0, np.int8)
    prices = np.concatenate([b[1] for b in books]) if books else np.zeros(0, np.int64)
    qtys = np.concatenate([b[2] for b in books]) if books else np.zeros(0, np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(b[0]) for b in books])]).astype(np.int64)
    big = OrderBook.from_arrays(np.arange(len(sides)), sides, prices / 100, qtys / 1000)
    out = clear_batch(big, offsets, pricing=pricing, price_rule=rule, priority=priority)
    assert out.price.shape == (len(books),)
    for k, (s, p, q) in enumerate(books):
        lo, hi = offsets[k], offsets[k + 1]
        # Sequence numbers carry over from the big book, so ties break the same way.
        one = OrderBook.from_arrays(np.arange(lo, hi), s, p / 100, q / 1000,
                                    sequence=np.arange(lo, hi))
        r = clear(one, pricing=pricing, price_rule=rule, priority=priority)
        assert out.traded[k] == (r.price is not None)
        if r.price is None:
            assert np.isnan(out.price[k])
        else:
            assert out.price[k] == r.price
        assert out.volume[k] == r.volume
        assert out.welfare[k] == pytest.approx(r.welfare, rel=1e-12, abs=1e-9)
        assert np.array_equal(out.accepted_ticks[lo:hi], r.accepted_ticks)
        assert np.array_equal(np.isnan(out.settlement_price[lo:hi]),
                              np.isnan(r.settlement_price))
        assert np.array_equal(out.settlement_price[lo:hi][~np.isnan(r.settlement_price)],
                              r.settlement_price[~np.isnan(r.settlement_price)])


def test_empty_auctions_and_bad_offsets():
    b = OrderBook.from_arrays([1, 2], [1, -1], [10.0, 20.0], [1.0, 1.0])
    out = clear_batch(b, [0, 0, 2, 2])
    assert list(out.traded) == [False, True, False]
    assert out.price[1] == 15.0
    for bad, fragment in (([0, 1], "end at the number of orders"),
                          ([1, 2], "start at 0"),
                          ([0, 2, 1, 2], "non-decreasing"),
                          ([[0, 2]], "one-dimensional")):
        with pytest.raises(ClearingInputError, match=fragment):
            clear_batch(b, bad)
