"""A price or quantity of ``None`` or ``""`` is refused as missing by ``OrderBook.from_arrays``,
row by row, as the file readers refuse an empty cell; the file readers still say it once."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearing import OrderBook, OrderBookError, clear
from clearing.reference.book import reference_book
from tests.clearing.test_book_fused import outcome, raw_books


def problems(build) -> list[tuple[int | None, str, int | None, str | None]]:
    with pytest.raises(OrderBookError) as err:
        build()
    return [(p.row, p.reason, p.line, p.source) for p in err.value.problems]


@pytest.mark.parametrize("missing", [None, ""])
def test_missing_price_or_quantity_is_refused_per_row(missing):
    ids = [1, 2, 3, 4]
    sides = [1, -1, 1, -1]
    prices = np.array([10.0, missing, 12.0, missing], dtype=object)
    qtys = np.array([1.0, 2.0, missing, missing], dtype=object)
    got = problems(lambda: OrderBook.from_arrays(ids, sides, prices, qtys))
    assert got == [(1, "missing price", None, None), (2, "missing quantity", None, None),
                   (3, "missing price", None, None), (3, "missing quantity", None, None)]


def test_missing_is_never_tick_zero():
    """Before: a book of one sell with price None cleared as if priced 0."""
    with pytest.raises(OrderBookError, match="order 0: missing price"):
        OrderBook.from_arrays([1, 2], [1, -1], [None, 5.0], [1.0, 1.0])
    with pytest.raises(OrderBookError, match="order 1: missing quantity"):
        OrderBook.from_arrays(["a", "b"], ["sell", "buy"], ["1", "2"], ["1", ""])
    book = OrderBook.from_arrays([1, 2], [1, -1], [0.0, 5.0], [1.0, 1.0])  # a real zero is fine
    assert clear(book).volume == 1.0


def test_missing_with_file_lines_and_other_problems():
    ids = np.array(["a", "b", "c"], dtype=object)
    sides = np.array(["buy", "hold", "sell"], dtype=object)
    prices = np.array(["", "x", "10.005"], dtype=object)
    qtys = np.array(["1", None, "-2"], dtype=object)
    got = problems(lambda: OrderBook.from_arrays(ids, sides, prices, qtys, lines=[2, 4, 7],
                                                 source="f.csv"))
    assert got == [
        (0, "missing price", 2, "f.csv"),
        (1, "side 'hold' is not 'buy' or 'sell' (or -1/+1)", 4, "f.csv"),
        (1, "price 'x' is not a number", 4, "f.csv"),
        (1, "missing quantity", 4, "f.csv"),
        (2, "price 10.005 is not on the 0.01 tick grid", 7, "f.csv"),
        (2, "quantity -2.0 is negative; it must be > 0", 7, "f.csv"),
    ]


def test_file_readers_say_missing_once(tmp_path):
    csv_path = tmp_path / "book.csv"
    csv_path.write_text("id,side,price,quantity\na,buy,,1\nb,sell,5,\nc,sell,6,1\n")
    assert problems(lambda: OrderBook.from_csv(csv_path)) == [
        (None, "missing price", 2, str(csv_path)), (None, "missing quantity", 3, str(csv_path))]
    jl = tmp_path / "book.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in (
        {"id": 1, "side": "buy", "price": None, "quantity": 1},
        {"id": 2, "side": "sell", "price": 4, "quantity": ""})) + "\n")
    assert problems(lambda: OrderBook.from_jsonl(jl)) == [
        (None, "missing price", 1, str(jl)), (None, "missing quantity", 2, str(jl))]
    recs = [{"id": 1, "side": "buy", "price": None, "quantity": 1}]
    assert problems(lambda: OrderBook.from_records(recs)) == [(None, "missing price", 1, None)]


@st.composite
def books_with_missing(draw):
    """A book of tests/clearing/test_book_fused.py with some price and quantity cells made
    None or empty (the columns then hold Python objects)."""
    ids, sides, prices, qtys, kwargs = draw(raw_books())
    n = ids.shape[0]
    out = []
    for col in (prices, qtys):
        obj = np.empty(n, dtype=object)
        obj[:] = col.tolist()
        for i in draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n)):
            obj[i] = draw(st.sampled_from([None, ""]))
        out.append(obj)
    return ids, sides, out[0], out[1], kwargs


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, str) and v == "")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books_with_missing())
def test_missing_cells_add_exactly_their_problems_to_the_old_path(book):
    """The problems are the old path's (clearing.reference.book) plus one "missing price" or
    "missing quantity" per such cell, in row (or line) order; with none, the same outcome."""
    ids, sides, prices, qtys, kwargs = book
    new = outcome(lambda: OrderBook.from_arrays(ids, sides, prices, qtys, **kwargs))
    old = outcome(lambda: reference_book(ids, sides, prices, qtys, **kwargs))
    lines = kwargs.get("lines")
    source = kwargs.get("source")
    missing = [(i, f"missing {name}", None if lines is None else lines[i], source)
               for i in range(ids.shape[0])
               for name, col in (("price", prices), ("quantity", qtys)) if _is_missing(col[i])]
    if not missing:
        assert new == old
        return
    if old[0] == "raised":
        assert new[0] == "raised"
        return
    assert new[0] == "refused"
    # the old path may also have refused the total; the new one stops at the rows first
    old_problems = [p for p in old[1] if "total quantity" not in p[1]] if old[0] == "refused" \
        else []
    assert sorted(map(repr, new[1])) == sorted(map(repr, old_problems + missing))
    keys = [(p[2] if p[2] is not None else (p[0] if p[0] is not None else -1)) for p in new[1]]
    assert keys == sorted(keys)
