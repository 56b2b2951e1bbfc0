"""The descending-clock capacity auction: :func:`clear_clock` and its round log.

Units: prices in yuan/kW·yr, quantities in MW of accredited capacity. The rules, precisely, are
in ``clearing/kernels/clock.py``; in short: the clock falls from ``start_price`` by ``decrement``
per
round, never below ``floor_price``; an offer stays in while the price is at or above its exit
price; the first round that ends with supply <= demand is the last, and the exit prices inside
it set the final price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clearing.capacity import DemandCurve, Offers, as_curve, offer_book
from clearing.errors import ClearingInputError, OrderBookError, OrderProblem
from clearing.grid import from_ticks, to_ticks
from clearing.kernels import clock as k
from clearing.uniform import PRIORITIES, Priority

#: Fixed layout of the round log, one row per round; prices yuan/kW·yr, quantities MW.
ROUND_DTYPE = np.dtype([
    ("round", np.int64),
    ("start_price", np.float64),
    ("end_price", np.float64),
    ("supply_start_mw", np.float64),
    ("supply_end_mw", np.float64),
    ("demand_end_mw", np.float64),
    ("excess_supply_mw", np.float64),
])

_LOG_COLUMNS = ("start_price", "end_price", "supply_start_mw", "supply_end_mw", "demand_end_mw",
                "excess_supply_mw")

#: The most rounds a clock may need ((start - floor) / decrement); the log holds one row each.
MAX_ROUNDS = 1_000_000


@dataclass(frozen=True, eq=False)
class ClockResult:
    """Outcome of a descending-clock auction.

    * ``price``: final price, yuan/kW·yr; ``None`` when nothing clears.
    * ``cleared_mw``: accepted capacity, MW.
    * ``accepted``: float64 (n,), accepted MW per offer in input order.
    * ``settlement_price``: float64 (n,), the final price where accepted, NaN elsewhere.
    * ``accepted_ticks``: int64 (n,), exact accepted quantity in quantity ticks.
    * ``rounds``: structured array of :data:`ROUND_DTYPE`, one row per round run (empty when
      supply already fits demand at the start price). Excess supply is positive in every round
      but the last; the last has excess <= 0 unless the clock stopped at the floor.
    """

    price: float | None
    cleared_mw: float
    accepted: np.ndarray
    settlement_price: np.ndarray
    accepted_ticks: np.ndarray
    rounds: np.ndarray


def clear_clock(
    offers: Offers,
    curve: DemandCurve | Sequence[tuple[float, float]],
    *,
    start_price: float,
    decrement: float,
    floor_price: float = 0.0,
    priority: Priority = "pro_rata",
) -> ClockResult:
    """Run a descending clock on offers with exit prices against a demand curve.

    ``offers``: an :class:`OrderBook` of sells or ``(ids, mw, exit_prices)``; an offer's price
    is its exit price (yuan/kW·yr), the lowest price at which it stays in. Supply at price P is
    the MW of offers with exit price <= P; demand at P is the largest MW at which the curve's
    price is >= P, floored to the quantity tick. ``start_price``, ``decrement`` (> 0) and
    ``floor_price`` (<= start) are yuan/kW·yr on the book's price grid. Exit prices above the
    start price are refused (:class:`OrderBookError`, listing each); exit prices below the
    floor count as the floor, since the clock never gets there.

    The final price P* is the highest price in the last round at which the offers with exit
    prices strictly below P* fit under the demand at P*; they are accepted in full, and the
    offers exiting exactly at P* share what is left pro rata (``priority="time"``: by
    sequence).
    With ``start_price`` at or above the curve's first price, every exit price at or above the
    floor, and something cleared, the result equals sealed-bid
    ``clear_capacity(..., price_rule="demand")`` for any decrement: exit bids make the price
    exact inside a round. It differs when the start price is below the sealed-bid price (the
    clock stops at the start), and when it ends at the floor while some exit price is below the
    floor (the clock never learns those prices, so every offer still in shares pro rata).
    """
    book = offer_book(offers)
    curve = as_curve(curve)
    if priority not in PRIORITIES:
        raise ClearingInputError(
            f"priority must be one of {', '.join(PRIORITIES)}; got {priority!r}")
    tick = book.price_tick
    start_t, dec_t, floor_t = (_price_ticks(name, value, tick) for name, value in (
        ("start_price", start_price), ("decrement", decrement), ("floor_price", floor_price)))
    if dec_t <= 0:
        raise ClearingInputError(f"decrement must be > 0, got {decrement!r}")
    if floor_t > start_t:
        raise ClearingInputError(f"floor_price {floor_price} is above start_price {start_price}")
    if (start_t - floor_t + dec_t - 1) // dec_t > MAX_ROUNDS:
        raise ClearingInputError(
            f"the clock would need more than {MAX_ROUNDS:,} rounds from {start_price} to "
            f"{floor_price}; use a larger decrement")
    if len(book) and int(book.price_ticks.max()) > start_t:
        prices = book.prices
        above = np.flatnonzero(book.price_ticks > start_t)
        raise OrderBookError([OrderProblem(int(i), (
            f"exit price {prices[i]:g} is above the start price {start_price:g}; "
            "it would never be in the auction")) for i in above])
    cq, cp = curve.ticks(tick, book.quantity_tick)
    final_t, volume_t, accepted_t, rounds_t = k.run_clock(
        book.price_ticks, book.quantity_ticks, book.sequence, cq, cp, start_t, dec_t, floor_t,
        priority == "time")
    accepted = from_ticks(accepted_t, book.quantity_tick)
    assert isinstance(accepted, np.ndarray)
    price = float(from_ticks(int(final_t), tick)) if volume_t > 0 else None
    settle = np.where(accepted_t > 0, np.nan if price is None else price, np.nan)
    rounds = np.zeros(rounds_t.shape[0], dtype=ROUND_DTYPE)
    rounds["round"] = rounds_t[:, 0]
    for col, name in enumerate(_LOG_COLUMNS, start=1):
        t = tick if col <= 2 else book.quantity_tick
        rounds[name] = from_ticks(rounds_t[:, col], t)
    return ClockResult(price, float(from_ticks(int(volume_t), book.quantity_tick)), accepted,
                       settle, accepted_t, rounds)


def _price_ticks(name: str, value: float, tick: float) -> int:
    ticks, ok = to_ticks(np.array([value], dtype=np.float64), tick)
    if not ok[0]:
        raise ClearingInputError(f"{name} {value!r} must be a finite number on the {tick:g} grid")
    return int(ticks[0])
