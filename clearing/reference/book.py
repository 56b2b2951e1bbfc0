"""The order-book validation as it was before the fused kernel (clearing/kernels/validate.py):
plain NumPy passes and Python loops over problem rows. Slow; kept for tests and benchmarks only,
as the reference that :meth:`clearing.OrderBook.from_arrays` must accept and refuse exactly as.
It re-states what the kernel replaced (sides, numbers, grid, totals); the message helpers the
two paths share (tick check, duplicate ids, price limits, problem order) come from
:mod:`clearing.book`.

>>> ids, sides, pt, qt, seq = reference_book([7, 8], [1, -1], [200.0, 300.5], [1.5, 2.0])
>>> pt.tolist(), qt.tolist(), sides.tolist()
([20000, 30050], [1500, 2000], [1, -1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clearing.book import _check_tick, _duplicates, _limit_problems, _problem_order
from clearing.config import MAX_ABS_PRICE_TICKS, MAX_TOTAL_TICKS
from clearing.errors import OrderBookError, OrderProblem
from clearing.grid import PRICE_TICK, QUANTITY_TICK, to_ticks
from clearing.jsonable import jsonable

SELL = 1
BUY = -1
_SIDE_NAMES = {"sell": SELL, "buy": BUY}


def reference_book(
    ids: Sequence[Any] | np.ndarray,
    sides: Sequence[Any] | np.ndarray,
    prices: Sequence[float] | np.ndarray,
    quantities: Sequence[float] | np.ndarray,
    *,
    sequence: Sequence[int] | np.ndarray | None = None,
    price_tick: float = PRICE_TICK,
    quantity_tick: float = QUANTITY_TICK,
    price_cap: float | None = None,
    price_floor: float | None = None,
    source: str | None = None,
    lines: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of the book (ids, int8 sides, price ticks, quantity ticks, sequence), or
    :class:`OrderBookError` with every problem, as ``OrderBook.from_arrays`` decided before
    the fused validation."""
    price_tick = _check_tick("price_tick", price_tick)
    quantity_tick = _check_tick("quantity_tick", quantity_tick)
    ids_a = np.asarray(ids)
    n = ids_a.shape[0] if ids_a.ndim == 1 else -1
    problems: list[OrderProblem] = []
    line_of = None if lines is None else np.asarray(lines)

    def problem(row: int | None, reason: str) -> None:
        line = None if (line_of is None or row is None) else int(line_of[row])
        problems.append(OrderProblem(row, reason, line=line, source=source))

    arrays = {"ids": ids_a, "sides": np.asarray(sides), "prices": np.asarray(prices),
              "quantities": np.asarray(quantities)}
    if sequence is not None:
        arrays["sequence"] = np.asarray(sequence)
    for name, arr in arrays.items():
        if arr.ndim != 1 or arr.shape[0] != n:
            raise OrderBookError([OrderProblem(None, (
                f"{name} must be a one-dimensional array as long as ids ({max(n, 0)}), "
                f"got shape {arr.shape}"))])

    side_codes = _side_codes(arrays["sides"])
    for row in np.flatnonzero(side_codes == 0):
        side = jsonable(arrays["sides"][row])
        problem(int(row), f"side {side!r} is not 'buy' or 'sell' (or -1/+1)")

    price_f = _as_float(arrays["prices"], "price", problem)
    qty_f = _as_float(arrays["quantities"], "quantity", problem)

    bad_price = ~np.isfinite(price_f)
    for row in np.flatnonzero(bad_price & ~np.isnan(price_f)):
        problem(int(row), f"price {price_f[row]} is infinite")
    for row in np.flatnonzero(np.isnan(price_f) & _numeric_mask(arrays["prices"])):
        problem(int(row), "price is NaN")
    price_ticks, price_ok = to_ticks(price_f, price_tick)
    for row in np.flatnonzero(~price_ok & ~bad_price):
        value = float(price_f[row])
        problem(int(row), f"price {value!r} is not on the {price_tick:g} tick grid")
    too_far = price_ok & (np.abs(price_ticks) > MAX_ABS_PRICE_TICKS)
    for row in np.flatnonzero(too_far):
        problem(int(row), f"price {float(price_f[row])!r} is too large in magnitude")

    bad_qty = ~np.isfinite(qty_f)
    for row in np.flatnonzero(bad_qty & _numeric_mask(arrays["quantities"])):
        problem(int(row), f"quantity {qty_f[row]} is not a finite number")
    nonpos = ~bad_qty & (qty_f <= 0)
    for row in np.flatnonzero(nonpos):
        kind = "zero" if qty_f[row] == 0 else "negative"
        problem(int(row), f"quantity {float(qty_f[row])!r} is {kind}; it must be > 0")
    qty_ticks, qty_ok = to_ticks(qty_f, quantity_tick)
    for row in np.flatnonzero(~qty_ok & ~bad_qty & ~nonpos):
        value = float(qty_f[row])
        problem(int(row), f"quantity {value!r} is not on the {quantity_tick:g} tick grid")

    def where(row: int) -> str:
        return f"order {row}" if line_of is None else f"line {int(line_of[row])}"

    if n > 0:
        _duplicates(ids_a, problem, where)
    if sequence is None:
        seq = np.arange(n, dtype=np.int64)
    else:
        seq = np.asarray(arrays["sequence"]).astype(np.int64)
        if np.unique(seq).shape[0] != n:
            problem(None, "sequence numbers must be unique")

    valid = price_ok & qty_ok & ~nonpos
    if price_cap is not None or price_floor is not None:
        _limit_problems(price_f, valid, price_cap, price_floor, problem)
    if not problems and int(qty_ticks.sum(dtype=np.float64)) >= MAX_TOTAL_TICKS:
        problem(None, "total quantity of the book is too large for the tick grid")
    if problems:
        raise OrderBookError(sorted(problems, key=_problem_order))
    return ids_a, side_codes.astype(np.int8), price_ticks, qty_ticks, seq


def _side_codes(sides: np.ndarray) -> np.ndarray:
    out = np.zeros(sides.shape[0], dtype=np.int64)
    if sides.dtype.kind in "iu":
        out[sides == 1] = SELL
        out[sides == -1] = BUY
        return out
    if sides.dtype.kind == "f":
        out[sides == 1.0] = SELL
        out[sides == -1.0] = BUY
        return out
    for i, s in enumerate(sides):
        if isinstance(s, str):
            out[i] = _SIDE_NAMES.get(s.strip().lower(), 0)
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s in (1, -1):
            out[i] = int(s)
    return out


def _numeric_mask(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "iuf":
        return np.ones(values.shape[0], dtype=bool)
    return np.array([_to_float(v) is not None for v in values], dtype=bool)


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _as_float(values: np.ndarray, name: str, problem: Any) -> np.ndarray:
    if values.dtype.kind in "iuf":
        return values.astype(np.float64)
    out = np.full(values.shape[0], np.nan)
    for i, v in enumerate(values):
        f = _to_float(v)
        if f is None:
            if v is not None and v != "":
                problem(i, f"{name} {v!r} is not a number")
        else:
            out[i] = f
    return out
