"""``mengxi clear``: the table, the JSON object, and refusals with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app

EXAMPLE = Path(__file__).parents[2] / "scenarios" / "books" / "example.csv"
runner = CliRunner()


def test_clear_prints_table():
    result = runner.invoke(app, ["clear", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "price 262" in result.output
    assert "coal-sc-01" in result.output


def test_clear_json_matches_the_neutral_format():
    result = runner.invoke(app, ["clear", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) >= {"price", "volume", "welfare", "orders"}
    assert out["price"] == 262.0 and out["volume"] == 1900.0
    first = out["orders"][0]
    assert set(first) == {"id", "side", "price", "quantity", "accepted", "settlement_price"}
    sold = sum(o["accepted"] for o in out["orders"] if o["side"] == "sell")
    bought = sum(o["accepted"] for o in out["orders"] if o["side"] == "buy")
    assert sold == bought == out["volume"]
    rejected = [o for o in out["orders"] if o["accepted"] == 0]
    assert rejected and all(o["settlement_price"] is None for o in rejected)


def test_clear_options(tmp_path):
    book = tmp_path / "v.csv"
    book.write_text("id,side,price,quantity\nS1,sell,20,100\nS2,sell,40,100\n"
                    "B1,buy,50,100\nB2,buy,10,100\n")
    for rule, price in (("midpoint", 30.0), ("supply", 20.0), ("demand", 40.0)):
        r = runner.invoke(app, ["clear", str(book), "--price-rule", rule, "--json"])
        assert json.loads(r.output)["price"] == price
    r = runner.invoke(app, ["clear", str(book), "--pricing", "pay_as_bid", "--json"])
    orders = json.loads(r.output)["orders"]
    assert orders[0]["settlement_price"] == 20.0 and orders[2]["settlement_price"] == 50.0


def test_bad_book_exits_2_with_every_problem(tmp_path):
    book = tmp_path / "bad.csv"
    book.write_text("id,side,price,quantity\na,buy,nan,1\nb,sell,10.001,1\nc,sell,10,-1\n")
    result = runner.invoke(app, ["clear", str(book)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    for line in ("line 2: price is NaN", "line 3: price 10.001 is not on the 0.01 tick grid",
                 "line 4: quantity -1.0 is negative"):
        assert line in result.output


def test_price_beyond_cap_and_missing_file_exit_2(tmp_path):
    result = runner.invoke(app, ["clear", str(EXAMPLE), "--cap", "300"])
    assert result.exit_code == 2 and "above the price cap 300" in result.output
    result = runner.invoke(app, ["clear", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["clear", str(EXAMPLE), "--cap", "nan"])
    assert result.exit_code == 2 and "finite" in result.output
