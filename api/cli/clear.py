"""``mengxi clear BOOK``: clear a neutral order-book file and print the result."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clearing import ClearingInputError, ClearingResult, OrderBook, OrderBookError, clear
from clearing.grid import PRICE_TICK, QUANTITY_TICK

EXIT_REFUSED = 2


class PricingOpt(StrEnum):
    uniform = "uniform"
    pay_as_bid = "pay_as_bid"


class PriceRuleOpt(StrEnum):
    midpoint = "midpoint"
    supply = "supply"
    demand = "demand"


class PriorityOpt(StrEnum):
    pro_rata = "pro_rata"
    time = "time"


def refuse(message: str) -> None:
    """Print a refusal to stderr and exit with status 2 (bad input, nothing done)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error:[/red] {message}")
    raise typer.Exit(EXIT_REFUSED)


def _finite(name: str, value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        refuse(f"{name} must be a finite number, got {value}")


def result_json(book: OrderBook, result: ClearingResult) -> dict[str, Any]:
    """The result as the neutral JSON object (NaN settlement prices become null)."""
    orders = []
    for rec, acc, settle in zip(book.records(), result.accepted, result.settlement_price,
                                strict=True):
        orders.append({**rec, "accepted": float(acc),
                       "settlement_price": None if math.isnan(settle) else float(settle)})
    return {"price": result.price, "volume": result.volume, "welfare": result.welfare,
            "price_range": None if result.price_range is None else list(result.price_range),
            "orders": orders}


def register(app: typer.Typer) -> None:
    """Add the ``clear`` command to the ``mengxi`` app."""

    @app.command("clear")
    def clear_command(
        book_path: Annotated[Path, typer.Argument(
            metavar="BOOK", help="Order book: CSV (id,side,price,quantity) or .jsonl.")],
        pricing: Annotated[PricingOpt, typer.Option(help="Settlement.")] = PricingOpt.uniform,
        price_rule: Annotated[PriceRuleOpt, typer.Option(
            help="Which end of the equilibrium price range.")] = PriceRuleOpt.midpoint,
        cap: Annotated[float | None, typer.Option(help="Price cap (yuan per unit).")] = None,
        floor: Annotated[float | None, typer.Option(help="Price floor (yuan per unit).")] = None,
        priority: Annotated[PriorityOpt, typer.Option(
            help="Sharing at the marginal price.")] = PriorityOpt.pro_rata,
        price_tick: Annotated[float, typer.Option(help="Price grid.")] = PRICE_TICK,
        quantity_tick: Annotated[float, typer.Option(help="Quantity grid.")] = QUANTITY_TICK,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        show: Annotated[int, typer.Option(help="Orders shown in the table (0: all).")] = 50,
    ) -> None:
        """Clear a uniform-price double auction from an order-book file."""
        _finite("--cap", cap)
        _finite("--floor", floor)
        if not book_path.is_file():
            refuse(f"{book_path}: no such file")
        try:
            book = OrderBook.read(book_path, price_tick=price_tick, quantity_tick=quantity_tick,
                                  price_cap=cap, price_floor=floor)
            result = clear(book, pricing=pricing.value, price_rule=price_rule.value,
                           price_cap=cap, price_floor=floor, priority=priority.value)
        except (OrderBookError, ClearingInputError) as err:
            refuse(str(err))
            return
        except (OSError, UnicodeDecodeError) as err:
            refuse(f"{book_path}: cannot read ({err})")
            return
        if as_json:
            sys.stdout.write(json.dumps(result_json(book, result)) + "\n")
            return
        print_table(book, result, show)


def print_table(book: OrderBook, result: ClearingResult, show: int) -> None:
    """A rich summary and the orders table."""
    console = Console(highlight=False)
    price = "no trade" if result.price is None else f"{result.price:,.4f}".rstrip("0").rstrip(".")
    console.print(f"[bold]price[/bold] {price}   [bold]volume[/bold] {result.volume:,.3f}   "
                  f"[bold]welfare[/bold] {result.welfare:,.2f}   "
                  f"[dim]{len(book)} orders, {result.pricing}, {result.price_rule}[/dim]")
    table = Table("id", "side", "price", "quantity", "accepted", "settlement price")
    n = len(book) if show <= 0 else min(show, len(book))
    prices, qtys = book.prices, book.quantities
    for i in range(n):
        settle = result.settlement_price[i]
        table.add_row(str(book.ids[i]), "sell" if book.sides[i] > 0 else "buy",
                      f"{prices[i]:.2f}", f"{qtys[i]:.3f}", f"{result.accepted[i]:.3f}",
                      "" if math.isnan(settle) else f"{settle:.4f}".rstrip("0").rstrip("."))
    console.print(table)
    if n < len(book):
        console.print(f"[dim]... {len(book) - n} more orders (--show 0 for all, --json)[/dim]")
