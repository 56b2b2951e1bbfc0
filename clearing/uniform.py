"""Public wrappers of the uniform-price double auction: :func:`clear` (one auction) and
:func:`clear_batch` (many independent auctions, e.g. the 8,760 hours of a year, in one call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from clearing.book import OrderBook
from clearing.errors import ClearingInputError, OrderBookError, OrderProblem
from clearing.grid import from_ticks, to_ticks
from clearing.kernels import uniform as k

Pricing = Literal["uniform", "pay_as_bid"]
PriceRule = Literal["midpoint", "supply", "demand"]
Priority = Literal["pro_rata", "time"]

PRICE_RULES = {"midpoint": k.RULE_MIDPOINT, "supply": k.RULE_SUPPLY, "demand": k.RULE_DEMAND}
PRICINGS = ("uniform", "pay_as_bid")
PRIORITIES = ("pro_rata", "time")


@dataclass(frozen=True, eq=False)
class ClearingResult:
    """Outcome of one auction.

    * ``price``: clearing price (yuan per unit), ``None`` when nothing trades. It may fall
      half-way between two ticks when the midpoint rule splits an odd range.
    * ``price_range``: (lowest, highest) price satisfying the equilibrium conditions, or ``None``.
    * ``volume``: traded quantity (accepted supply = accepted demand, exactly).
    * ``welfare``: sum of buy price x accepted minus sum of sell price x accepted (yuan).
    * ``accepted``: float64 (n,), accepted quantity per order in input order.
    * ``settlement_price``: float64 (n,), the price each order is settled at: the clearing price
      (uniform) or its own limit price (pay-as-bid); NaN where nothing was accepted.
    * ``accepted_ticks``: int64 (n,), the exact accepted quantities in quantity ticks.
    """

    price: float | None
    price_range: tuple[float, float] | None
    volume: float
    welfare: float
    accepted: np.ndarray
    settlement_price: np.ndarray
    accepted_ticks: np.ndarray
    pricing: str = "uniform"
    price_rule: str = "midpoint"


def check_options(pricing: str, price_rule: str, priority: str) -> None:
    """Raise :class:`ClearingInputError` for an unknown option name."""
    if pricing not in PRICINGS:
        raise ClearingInputError(f"pricing must be one of {', '.join(PRICINGS)}; got {pricing!r}")
    if price_rule not in PRICE_RULES:
        raise ClearingInputError(
            f"price_rule must be one of {', '.join(PRICE_RULES)}; got {price_rule!r}")
    if priority not in PRIORITIES:
        raise ClearingInputError(
            f"priority must be one of {', '.join(PRIORITIES)}; got {priority!r}")


def limit_ticks(book_tick: float, price_cap: float | None,
                price_floor: float | None) -> tuple[int, int, bool, bool]:
    """Cap and floor as ticks of the book's grid; refuse off-grid or crossed limits."""
    cap_t = floor_t = 0
    for name, value in (("price_cap", price_cap), ("price_floor", price_floor)):
        if value is None:
            continue
        ticks, ok = to_ticks(np.array([value], dtype=np.float64), book_tick)
        if not ok[0]:
            raise ClearingInputError(
                f"{name} {value!r} must be a finite number on the {book_tick:g} tick grid")
        if name == "price_cap":
            cap_t = int(ticks[0])
        else:
            floor_t = int(ticks[0])
    if price_cap is not None and price_floor is not None and cap_t < floor_t:
        raise ClearingInputError(f"price_cap {price_cap} is below price_floor {price_floor}")
    return cap_t, floor_t, price_cap is not None, price_floor is not None


def book_limit_ticks(book: OrderBook, price_cap: float | None,
                     price_floor: float | None) -> tuple[int, int, bool, bool]:
    """:func:`limit_ticks` on the book's price grid, and refuse the book with
    :class:`OrderBookError` (every order priced above the cap or below the floor) if any is."""
    cap_t, floor_t, has_cap, has_floor = limit_ticks(book.price_tick, price_cap, price_floor)
    if len(book) and ((has_cap and int(book.price_ticks.max()) > cap_t)
                      or (has_floor and int(book.price_ticks.min()) < floor_t)):
        raise OrderBookError(book.limit_problems(price_cap, price_floor)
                             or [OrderProblem(None, "prices outside the limits")])
    return cap_t, floor_t, has_cap, has_floor


def clear(
    book: OrderBook,
    pricing: Pricing = "uniform",
    price_rule: PriceRule = "midpoint",
    price_cap: float | None = None,
    price_floor: float | None = None,
    *,
    priority: Priority = "pro_rata",
) -> ClearingResult:
    """Clear one uniform-price double auction (the contract of docs/CLEARING.md).

    Quantities maximise welfare, then traded volume; orders at the marginal price share the
    rest pro rata (``priority="time"``: by submission sequence). ``price_rule`` picks the
    midpoint, lowest (``supply``) or highest (``demand``) end of the equilibrium price range.
    Orders priced above ``price_cap`` or below ``price_floor`` (yuan per unit) are refused with
    :class:`OrderBookError`. ``pricing="pay_as_bid"`` settles accepted orders at their own
    limit price; the quantities are the same.
    """
    if not isinstance(book, OrderBook):
        raise ClearingInputError(f"clear() needs an OrderBook, got {type(book).__name__}")
    check_options(pricing, price_rule, priority)
    cap_t, floor_t, has_cap, has_floor = book_limit_ticks(book, price_cap, price_floor)
    status, volume_t, lo_t, hi_t, welfare_t, accepted_t = k.clear_uniform(
        book.sides, book.price_ticks, book.quantity_ticks, book.sequence, priority == "time")
    return decode_result(book, int(status), int(volume_t), int(lo_t), int(hi_t), float(welfare_t),
                         accepted_t, pricing, price_rule, cap_t, floor_t, has_cap, has_floor)


def decode_result(book: OrderBook, status: int, volume_t: int, lo_t: int, hi_t: int,
                  welfare_t: float, accepted_t: np.ndarray, pricing: str, price_rule: str,
                  cap_t: int, floor_t: int, has_cap: bool, has_floor: bool) -> ClearingResult:
    """Turn kernel outputs (ticks) into a :class:`ClearingResult` (yuan, MW)."""
    accepted = from_ticks(accepted_t, book.quantity_tick)
    assert isinstance(accepted, np.ndarray)
    if status != k.STATUS_TRADE:
        return ClearingResult(None, None, 0.0, 0.0, accepted, np.full(len(book), np.nan),
                              accepted_t, pricing, price_rule)
    x2 = int(k.pick_price_x2(lo_t, hi_t, PRICE_RULES[price_rule], cap_t, floor_t,
                             has_cap, has_floor))
    price = float(from_ticks(x2, book.price_tick)) / 2.0
    lo2 = int(k.pick_price_x2(lo_t, hi_t, k.RULE_SUPPLY, cap_t, floor_t, has_cap, has_floor))
    hi2 = int(k.pick_price_x2(lo_t, hi_t, k.RULE_DEMAND, cap_t, floor_t, has_cap, has_floor))
    price_range = (float(from_ticks(lo2 // 2, book.price_tick)),
                   float(from_ticks(hi2 // 2, book.price_tick)))
    if pricing == "uniform":
        settle = np.where(accepted_t > 0, price, np.nan)
    else:
        settle = np.where(accepted_t > 0, book.prices, np.nan)
    volume = float(from_ticks(volume_t, book.quantity_tick))
    welfare = welfare_t * book.price_tick * book.quantity_tick
    return ClearingResult(price, price_range, volume, welfare, accepted, settle, accepted_t,
                          pricing, price_rule)


# --------------------------------------------------------------------- batched

@dataclass(frozen=True, eq=False)
class BatchResult:
    """Outcome of many auctions; per-auction arrays have shape (n_auctions,).

    * ``price``: float64 clearing price (yuan per unit), NaN where nothing traded;
    * ``traded``: bool, whether the auction traded;
    * ``volume``, ``welfare``: float64;
    * ``accepted``: float64 (n_orders,), per order in input order;
    * ``settlement_price``: float64 (n_orders,), NaN where not accepted;
    * ``accepted_ticks``: int64 (n_orders,).
    """

    price: np.ndarray
    traded: np.ndarray
    volume: np.ndarray
    welfare: np.ndarray
    accepted: np.ndarray
    settlement_price: np.ndarray
    accepted_ticks: np.ndarray


def auction_of_orders(offsets: np.ndarray) -> np.ndarray:
    """The auction index of every order, int64 (n_orders,), from the offsets array."""
    offsets = np.asarray(offsets, dtype=np.int64)
    return np.repeat(np.arange(offsets.shape[0] - 1, dtype=np.int64), np.diff(offsets))


def check_offsets(offsets: np.ndarray | list[int], n_orders: int) -> np.ndarray:
    """Validate an offsets array: int, starts at 0, non-decreasing, ends at ``n_orders``."""
    arr = np.asarray(offsets)
    if arr.ndim != 1 or arr.shape[0] < 1 or arr.dtype.kind not in "iu":
        raise ClearingInputError(
            "offsets must be a one-dimensional integer array of length n_auctions + 1")
    arr = arr.astype(np.int64)
    if arr[0] != 0 or arr[-1] != n_orders:
        raise ClearingInputError(
            f"offsets must start at 0 and end at the number of orders ({n_orders}); "
            f"got {int(arr[0])} ... {int(arr[-1])}")
    bad = np.flatnonzero(np.diff(arr) < 0)
    if bad.shape[0]:
        raise ClearingInputError(
            f"offsets must be non-decreasing; auction {int(bad[0])} ends before it starts")
    return np.ascontiguousarray(arr)


def clear_batch(
    book: OrderBook,
    offsets: np.ndarray | list[int],
    pricing: str = "uniform",
    price_rule: str = "midpoint",
    price_cap: float | None = None,
    price_floor: float | None = None,
    *,
    priority: str = "pro_rata",
) -> BatchResult:
    """Clear auction k on the orders ``offsets[k]:offsets[k+1]`` of ``book``, for every k.

    One compiled call for all auctions, no Python loop over them. Same contract and options as
    :func:`clearing.clear`, applied to each auction on its own. Order ids need only be unique
    within the book.
    """
    check_options(pricing, price_rule, priority)
    offs = check_offsets(offsets, len(book))
    cap_t, floor_t, has_cap, has_floor = book_limit_ticks(book, price_cap, price_floor)
    status, vol_t, x2, _lo, _hi, welfare_t, acc_t = k.clear_batched(
        book.sides, book.price_ticks, book.quantity_ticks, book.sequence, offs,
        priority == "time", PRICE_RULES[price_rule], cap_t, floor_t, has_cap, has_floor)
    traded = status == k.STATUS_TRADE
    price = np.where(traded, np.asarray(from_ticks(x2, book.price_tick)) / 2.0, np.nan)
    accepted = np.asarray(from_ticks(acc_t, book.quantity_tick))
    if pricing == "uniform":
        settle = np.where(acc_t > 0, price[auction_of_orders(offs)], np.nan)
    else:
        settle = np.where(acc_t > 0, book.prices, np.nan)
    return BatchResult(price, traded, np.asarray(from_ticks(vol_t, book.quantity_tick)),
                       welfare_t * book.price_tick * book.quantity_tick, accepted, settle, acc_t)
