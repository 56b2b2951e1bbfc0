"""Sloped-demand capacity clearing: :class:`DemandCurve` and :func:`clear_capacity`.

Units: offer and curve prices in yuan/kW·yr, quantities in MW of accredited capacity. One
MW·(yuan/kW·yr) is 1,000 yuan a year, so welfare is reported in yuan/yr.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clearing.book import SELL, OrderBook
from clearing.config import MAX_ABS_PRICE_TICKS, MAX_TOTAL_TICKS
from clearing.errors import ClearingInputError, OrderBookError, OrderProblem
from clearing.grid import KW_PER_MW, from_ticks, to_ticks
from clearing.kernels import capacity as k
from clearing.uniform import (
    PRICE_RULES,
    PriceRule,
    Pricing,
    Priority,
    book_limit_ticks,
    check_options,
)

Offers = OrderBook | tuple[Any, Any, Any]


@dataclass(frozen=True, eq=False)
class DemandCurve:
    """A piecewise-linear, non-increasing demand curve for accredited capacity.

    ``mw`` and ``price`` are float64 arrays of shape (m,), m >= 1: the points in MW and
    yuan/kW·yr, MW non-decreasing, price non-increasing. Equal MW make a vertical piece, equal
    prices a flat one. Left of the first point the curve is flat at the first price; right of
    the last point there is no demand. Build it with :meth:`from_points`.
    """

    mw: np.ndarray
    price: np.ndarray

    @classmethod
    def from_points(cls, points: Sequence[tuple[float, float]]) -> DemandCurve:
        """Validate ``[(MW, yuan/kW·yr), ...]``; raise :class:`ClearingInputError` listing
        every problem (non-finite, negative MW, MW decreasing, price increasing, a repeated
        point, no point)."""
        try:
            pts = [tuple(p) for p in points]
        except TypeError:
            raise ClearingInputError(
                "a demand curve is a sequence of (MW, price) pairs") from None
        if not pts:
            raise ClearingInputError("a demand curve needs at least one point")
        problems = []
        for j, pt in enumerate(pts):
            if len(pt) != 2 or not all(_is_number(v) for v in pt):
                problems.append(f"point {j} {pt!r} is not a (MW, price) pair of numbers")
            elif not all(math.isfinite(float(v)) for v in pt):
                problems.append(f"point {j} {pt!r} is not finite")
            elif float(pt[0]) < 0:
                problems.append(f"point {j} has negative MW {pt[0]!r}")
        if problems:
            raise ClearingInputError("demand curve refused:\n  " + "\n  ".join(problems))
        mw = np.array([float(p[0]) for p in pts], dtype=np.float64)
        price = np.array([float(p[1]) for p in pts], dtype=np.float64)
        for j in range(1, len(pts)):
            if mw[j] < mw[j - 1]:
                problems.append(f"point {j} MW {mw[j]:g} is below the previous {mw[j - 1]:g}")
            if price[j] > price[j - 1]:
                problems.append(
                    f"point {j} price {price[j]:g} is above the previous {price[j - 1]:g}")
            if mw[j] == mw[j - 1] and price[j] == price[j - 1]:
                problems.append(f"point {j} repeats point {j - 1}")
        if problems:
            raise ClearingInputError("demand curve refused:\n  " + "\n  ".join(problems))
        mw.setflags(write=False)
        price.setflags(write=False)
        return cls(mw, price)

    @classmethod
    def vertical(cls, requirement_mw: float, price: float) -> DemandCurve:
        """A vertical requirement: ``requirement_mw`` at any price up to ``price``."""
        return cls.from_points([(requirement_mw, price), (requirement_mw, 0.0)])

    def points(self) -> list[tuple[float, float]]:
        """The points as (MW, yuan/kW·yr) tuples."""
        return [(float(q), float(p)) for q, p in zip(self.mw, self.price, strict=True)]

    def ticks(self, price_tick: float, quantity_tick: float) -> tuple[np.ndarray, np.ndarray]:
        """(quantity ticks, price ticks), int64 (m,); refuse points off the grids."""
        cq, ok_q = to_ticks(self.mw, quantity_tick)
        cp, ok_p = to_ticks(self.price, price_tick)
        problems = []
        for j in np.flatnonzero(~ok_q | (cq > MAX_TOTAL_TICKS)):
            problems.append(f"point {j} MW {self.mw[j]!r} is not on the {quantity_tick:g} grid "
                            "(round it, e.g. round(mw, 3))")
        for j in np.flatnonzero(~ok_p | (np.abs(cp) > MAX_ABS_PRICE_TICKS)):
            problems.append(f"point {j} price {self.price[j]!r} is not on the {price_tick:g} "
                            "grid (round it, e.g. round(price, 2))")
        if problems:
            raise ClearingInputError("demand curve refused:\n  " + "\n  ".join(problems))
        return np.ascontiguousarray(cq), np.ascontiguousarray(cp)


@dataclass(frozen=True, eq=False)
class CapacityResult:
    """Outcome of one capacity auction.

    * ``price``: clearing price, yuan/kW·yr; ``None`` when nothing clears. Half a tick when the
      midpoint rule splits an odd range.
    * ``price_range``: (lowest, highest) clearing price allowed by the offers and the curve, on
      the price tick grid (a single curve price between two ticks is floored).
    * ``cleared_mw``: accepted capacity, MW.
    * ``welfare``: area under the demand curve up to ``cleared_mw`` minus the offers' cost of
      their accepted MW, yuan/yr.
    * ``accepted``: float64 (n,), accepted MW per offer in input order.
    * ``settlement_price``: float64 (n,), yuan/kW·yr: the clearing price (uniform) or the
      offer's own price (pay-as-bid); NaN where nothing was accepted.
    * ``accepted_ticks``: int64 (n,), exact accepted quantity in quantity ticks.
    """

    price: float | None
    price_range: tuple[float, float] | None
    cleared_mw: float
    welfare: float
    accepted: np.ndarray
    settlement_price: np.ndarray
    accepted_ticks: np.ndarray
    pricing: str = "uniform"
    price_rule: str = "midpoint"


def offer_book(offers: Offers) -> OrderBook:
    """An :class:`OrderBook` of offers only: the book itself, or one built from
    ``(ids, mw, prices)`` (MW > 0 on the 0.001 grid, yuan/kW·yr on the 0.01 grid)."""
    if isinstance(offers, OrderBook):
        book = offers
    elif isinstance(offers, tuple) and len(offers) == 3:
        ids, mw, prices = offers
        ids = np.asarray(ids)
        book = OrderBook.from_arrays(ids, np.full(ids.shape[0] if ids.ndim == 1 else 0, SELL),
                                     prices, mw)
    else:
        raise ClearingInputError(
            "offers must be an OrderBook or a tuple (ids, mw, prices), "
            f"got {type(offers).__name__}")
    buys = np.flatnonzero(book.sides != SELL)
    if buys.shape[0]:
        raise OrderBookError([OrderProblem(int(i), "is a buy order; a capacity auction takes "
                                           "offers (side sell) only") for i in buys])
    return book


def as_curve(curve: DemandCurve | Sequence[tuple[float, float]]) -> DemandCurve:
    """The curve itself, or one built from points by :meth:`DemandCurve.from_points`."""
    return curve if isinstance(curve, DemandCurve) else DemandCurve.from_points(curve)


def clear_capacity(
    offers: Offers,
    curve: DemandCurve | Sequence[tuple[float, float]],
    *,
    pricing: Pricing = "uniform",
    price_rule: PriceRule = "midpoint",
    offer_cap: float | None = None,
    priority: Priority = "pro_rata",
) -> CapacityResult:
    """Clear capacity offers against a sloped demand curve (docs/CLEARING.md, "Other kernels").

    ``offers``: an :class:`OrderBook` whose orders are all sells (price yuan/kW·yr, quantity
    accredited MW), or ``(ids, mw, prices)``. ``curve``: a :class:`DemandCurve` or its points.

    The cleared MW maximise the area under the curve minus the offer cost, then the cleared MW.
    Where the curve crosses an offer's step, the offers at that price are partly accepted and
    set the price; the crossing MW is floored to the quantity tick (0.001 MW), so they may get
    up to one tick less than the exact crossing. Where the curve passes between two steps the
    price is the curve's price there, floored to the price tick (0.01); where a vertical piece
    of the curve overlaps a supply gap (or the curve ends on a vertical piece of supply),
    ``price_rule`` picks the midpoint, lowest (``supply``) or highest (``demand``) price.
    Offers at the marginal price share pro rata with largest-remainder rounding, ties to the
    earlier sequence (``priority="time"``: by sequence). Offers priced above ``offer_cap``
    (yuan/kW·yr) are refused with :class:`OrderBookError` listing each. ``pricing="pay_as_bid"``
    settles each accepted offer at its own price; the quantities are the same.
    """
    book = offer_book(offers)
    curve = as_curve(curve)
    check_options(pricing, price_rule, priority)
    book_limit_ticks(book, offer_cap, None)
    cq, cp = curve.ticks(book.price_tick, book.quantity_tick)
    status, volume_t, lo_t, hi_t, x2, welfare_t, accepted_t = k.clear_capacity(
        book.price_ticks, book.quantity_ticks, book.sequence, cq, cp, priority == "time",
        PRICE_RULES[price_rule])
    accepted = from_ticks(accepted_t, book.quantity_tick)
    assert isinstance(accepted, np.ndarray)
    if status != k.STATUS_TRADE:
        return CapacityResult(None, None, 0.0, 0.0, accepted, np.full(len(book), np.nan),
                              accepted_t, pricing, price_rule)
    price = float(from_ticks(int(x2), book.price_tick)) / 2.0
    price_range = (float(from_ticks(int(lo_t), book.price_tick)),
                   float(from_ticks(int(hi_t), book.price_tick)))
    own = book.prices if pricing == "pay_as_bid" else price
    settle = np.where(accepted_t > 0, own, np.nan)
    welfare = float(welfare_t) * book.price_tick * book.quantity_tick * KW_PER_MW
    cleared = float(from_ticks(int(volume_t), book.quantity_tick))
    return CapacityResult(price, price_range, cleared, welfare, accepted, settle, accepted_t,
                          pricing, price_rule)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
