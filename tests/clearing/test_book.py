"""Intake of order books: every problem reported at once, and exact round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings

from clearing import OrderBook, OrderBookError
from tests.clearing.conftest import tick_books


def test_from_arrays_reports_every_problem_with_its_row():
    with pytest.raises(OrderBookError) as err:
        OrderBook.from_arrays(
            ["a", "b", "c", "d", "e", "a"],
            [1, -1, 0, 1, -1, 1],
            [10.0, float("nan"), 5.0, 10.005, float("inf"), 3.0],
            [1.0, 1.0, 1.0, 0.0, -2.0, 1.0005],
        )
    reasons = [(p.row, p.reason) for p in err.value.problems]
    assert (1, "price is NaN") in reasons
    assert (2, "side 0 is not 'buy' or 'sell' (or -1/+1)") in reasons
    assert (3, "price 10.005 is not on the 0.01 tick grid") in reasons
    assert (3, "quantity 0.0 is zero; it must be > 0") in reasons
    assert (4, "price inf is infinite") in reasons
    assert (4, "quantity -2.0 is negative; it must be > 0") in reasons
    assert (5, "quantity 1.0005 is not on the 0.001 tick grid") in reasons
    assert (5, "duplicate id 'a' (first used on order 0)") in reasons
    assert len(reasons) == 8


def test_mismatched_lengths_are_refused():
    with pytest.raises(OrderBookError, match="prices must be a one-dimensional array"):
        OrderBook.from_arrays([1, 2], [1, -1], [1.0], [1.0, 1.0])


def test_caps_at_intake():
    with pytest.raises(OrderBookError, match="above the price cap 1500"):
        OrderBook.from_arrays([1], [-1], [1500.01], [1.0], price_cap=1500, price_floor=-50)


def test_csv_reports_file_line_and_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,side,price,quantity\n"
                    "a,buy,nan,1\n"
                    "b,hold,10,1\n"
                    "c,sell,10,zero\n"
                    "d,sell,10\n"
                    "a,sell,7,1\n")
    with pytest.raises(OrderBookError) as err:
        OrderBook.from_csv(path)
    text = str(err.value)
    assert f"{path} line 2: price is NaN" in text
    assert f"{path} line 3: side 'hold' is not 'buy' or 'sell'" in text
    assert f"{path} line 4: quantity 'zero' is not a number" in text
    assert f"{path} line 5: expected 4 fields" in text
    assert f"{path} line 6: duplicate id 'a' (first used on line 2)" in text
    assert "5 problems" in text


def test_csv_without_header_is_refused(tmp_path):
    path = tmp_path / "nohead.csv"
    path.write_text("a,buy,10,1\n")
    with pytest.raises(OrderBookError, match="must be the header 'id,side,price,quantity'"):
        OrderBook.from_csv(path)


def test_jsonl_reports_bad_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "side": "buy", "price": 5, "quantity": 1}\n'
                    "[1, 2]\n"
                    '{"id": 2, "side": "sell", "price": 4}\n'
                    "{oops\n")
    with pytest.raises(OrderBookError) as err:
        OrderBook.from_jsonl(path)
    text = str(err.value)
    assert "line 2: each line must be a JSON object" in text
    assert "line 3: missing quantity" in text
    assert "line 4: not valid JSON" in text


@settings(max_examples=100, deadline=None)
@given(tick_books())
def test_csv_round_trip(tmp_path_factory, book):
    sides, prices, qtys = book
    b = OrderBook.from_arrays([f"o{i}" for i in range(len(sides))], sides, prices / 100,
                              qtys / 1000)
    path = tmp_path_factory.mktemp("rt") / "book.csv"
    text = b.to_csv(path)
    again = OrderBook.from_csv(path)
    assert np.array_equal(again.sides, b.sides)
    assert np.array_equal(again.price_ticks, b.price_ticks)
    assert np.array_equal(again.quantity_ticks, b.quantity_ticks)
    assert list(again.ids) == list(b.ids)
    assert again.to_csv() == text  # CSV -> book -> CSV gives the same text


@settings(max_examples=100, deadline=None)
@given(tick_books())
def test_jsonl_round_trip(tmp_path_factory, book):
    sides, prices, qtys = book
    b = OrderBook.from_arrays(np.arange(len(sides)), sides, prices / 100, qtys / 1000)
    path = tmp_path_factory.mktemp("rt") / "book.jsonl"
    text = b.to_jsonl(path)
    again = OrderBook.from_jsonl(path)
    assert again.to_jsonl() == text
    assert np.array_equal(again.price_ticks, b.price_ticks)
    assert [json.loads(line)["id"] for line in text.splitlines()] == list(range(len(sides)))


def test_shipped_example_book_reads():
    from pathlib import Path

    b = OrderBook.from_csv(Path(__file__).parents[2] / "scenarios" / "books" / "example.csv")
    assert len(b) == 14
    assert set(b.sides.tolist()) == {1, -1}
