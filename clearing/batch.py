"""Batched uniform clearing: many independent auctions (e.g. 8,760 hours) in one call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clearing.book import OrderBook
from clearing.errors import ClearingInputError
from clearing.grid import from_ticks
from clearing.kernels import uniform as k
from clearing.uniform import PRICE_RULES, book_limit_ticks, check_options


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
