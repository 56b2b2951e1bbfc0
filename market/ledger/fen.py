"""Money in fen: exact half-even rounding of yuan, and exact pro-rata splits.

Amounts in the ledger are int64 **fen** (0.01 yuan). A float amount in yuan is rounded
half-even as the decimal it is written as (``1.005`` yuan is 100 fen, ``2.675`` is 268), once,
at posting (:func:`yuan_to_fen`). A total is shared pro rata to weights to the fen, by largest
remainder, so the shares add up exactly (:func:`allocate_fen`). Everything here is re-exported
by :mod:`market.ledger.book`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from market.errors import LedgerError

#: Largest single amount, fen (2**53, about 90 trillion yuan): every amount is exact in float64.
MAX_AMOUNT_FEN = 2**53


def round_half_even_div(num: np.ndarray | int, den: int) -> np.ndarray:
    """``num / den`` rounded half to even, exactly, for int64 ``num`` >= 0 and ``den`` > 0."""
    num = np.asarray(num, dtype=np.int64)
    q, r = np.divmod(num, np.int64(den))
    twice = 2 * r
    up = (twice > den) | ((twice == den) & (q % 2 == 1))
    return q + up.astype(np.int64)


def allocate_fen(total_fen: int, weights: np.ndarray | Sequence[float]) -> np.ndarray:
    """Split ``total_fen`` exactly pro rata to ``weights`` (largest remainder).

    Each share gets the floor of ``total * w_i / sum(w)``; the fen left over go one each to the
    largest remainders, ties to the lower index. The result (int64, same length as
    ``weights``) sums to ``total_fen`` exactly. Weights are non-negative finite numbers (MWh,
    MW, ...); float weights are used at their exact binary value, so the split does not depend
    on rounding. A negative total is split as its absolute value and negated.
    """
    total = _as_int(total_fen, "total_fen")
    w = np.asarray(weights)
    if w.ndim != 1:
        raise LedgerError(f"weights must be one-dimensional, got shape {w.shape}")
    if w.dtype.kind == "b" or w.dtype.kind not in "iuf":
        raise LedgerError(f"weights must be numbers, got dtype {w.dtype}")
    if w.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    else:
        bad = np.flatnonzero(w < 0)
    if bad.size:
        i = int(bad[0])
        raise LedgerError(f"weight {w[i]!r} at index {i} must be a finite number >= 0 "
                          f"({bad.size} bad weight{'s' * (bad.size != 1)})")
    n = w.shape[0]
    if total == 0:
        return np.zeros(n, dtype=np.int64)
    if n == 0 or not np.any(w > 0):
        raise LedgerError(f"cannot allocate {total} fen: the weights sum to zero")
    sign = -1 if total < 0 else 1
    total = abs(total)
    ints = _exact_integers(w)
    if isinstance(ints, np.ndarray) and ints.dtype == np.int64:
        wsum = int(ints.sum())
        if total * max(wsum, 1) < 2**63:
            prod = ints * np.int64(total)
            base, rem = np.divmod(prod, np.int64(wsum))
            return sign * _hand_out(base, rem, total)
    objs = np.array([int(v) for v in ints], dtype=object)
    wsum = int(sum(objs.tolist()))
    prod = objs * total
    base = prod // wsum
    rem = prod % wsum
    # Remainders are < wsum; rank them exactly with Python ints, ties to the lower index.
    order = sorted(range(n), key=lambda i: (-rem[i], i))
    out = np.array([int(b) for b in base], dtype=np.int64)
    left = total - int(out.sum())
    out[order[:left]] += 1
    return sign * out


def _hand_out(base: np.ndarray, rem: np.ndarray, total: int) -> np.ndarray:
    left = total - int(base.sum())
    if left > 0:
        order = np.lexsort((np.arange(rem.shape[0]), -rem))
        base = base.copy()
        base[order[:left]] += 1
    return base.astype(np.int64)


def _exact_integers(w: np.ndarray) -> np.ndarray | list[int]:
    """Integers proportional to ``w`` exactly (int64 array when they fit, else Python ints)."""
    if w.dtype.kind in "iu":
        if w.size == 0 or int(w.max()) < 2**62 // max(w.size, 1):
            return w.astype(np.int64)
        return [int(v) for v in w]
    if np.all(w == np.floor(w)) and (w.size == 0 or float(w.max()) * w.size < 2**62):
        return w.astype(np.int64)
    ratios = [Fraction(float(v)) for v in w]
    den = max(r.denominator for r in ratios)  # powers of two: the largest is a common multiple
    return [r.numerator * (den // r.denominator) for r in ratios]


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise LedgerError(f"{name} must be an integer number of fen, got {value!r}")
    return int(value)


def yuan_to_fen(amount_yuan: Any) -> tuple[np.ndarray, list[str]]:
    """Convert amounts in yuan to int64 fen, half-even; returns (fen, problems).

    Integers convert exactly; a float is rounded half-even as the decimal it is written as
    (its shortest ``repr``), so ``1.005`` yuan is 100 fen and ``2.675`` is 268, although their
    binary values lie just below. Problems name the row: NaN, infinite, negative, too large,
    or not a number.
    """
    a = np.atleast_1d(np.asarray(amount_yuan))
    problems: list[str] = []
    if a.ndim != 1:
        return np.zeros(0, np.int64), [f"amount must be a scalar or 1-D array, got {a.shape}"]
    if a.dtype.kind in "iu":
        big = np.flatnonzero(np.abs(a.astype(np.float64)) * 100 > MAX_AMOUNT_FEN)
        neg = np.flatnonzero(a < 0)
        problems += [f"row {i}: amount {a[i]} yuan is negative" for i in neg]
        problems += [f"row {i}: amount {a[i]} yuan is too large" for i in big]
        if problems:
            return np.zeros(a.shape[0], np.int64), problems
        return a.astype(np.int64) * np.int64(100), problems
    if a.dtype.kind != "f":
        try:
            a = _floats_of(a)
        except (TypeError, ValueError) as exc:
            return np.zeros(a.shape[0], np.int64), [str(exc)]
    a = a.astype(np.float64)
    for i in np.flatnonzero(np.isnan(a)):
        problems.append(f"row {i}: amount is NaN")
    for i in np.flatnonzero(np.isinf(a)):
        problems.append(f"row {i}: amount {a[i]} is infinite")
    for i in np.flatnonzero(a < 0):
        problems.append(f"row {i}: amount {a[i]!r} yuan is negative; post it the other way round")
    for i in np.flatnonzero(np.isfinite(a) & (np.abs(a) * 100 > MAX_AMOUNT_FEN)):
        problems.append(f"row {i}: amount {a[i]!r} yuan is too large (limit 2**53 fen)")
    if problems:
        return np.zeros(a.shape[0], np.int64), problems
    scaled = a * 100.0
    fen = np.rint(scaled)
    # Only a value within float error of a half fen can round differently from its decimal;
    # those few are rounded from the decimal they were written as, exactly.
    near = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) <= 4 * np.spacing(np.abs(scaled))
    for i in np.flatnonzero(near):
        fen[i] = int((Decimal(repr(float(a[i]))) * 100).quantize(Decimal(1), ROUND_HALF_EVEN))
    return fen.astype(np.int64), problems


def _floats_of(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape[0], dtype=np.float64)
    for i, v in enumerate(a.tolist()):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"row {i}: amount {v!r} is not a number")
        if isinstance(v, int):
            if v < 0:
                raise ValueError(f"row {i}: amount {v} yuan is negative")
            if v * 100 > MAX_AMOUNT_FEN:
                raise ValueError(f"row {i}: amount {v} yuan is too large")
        out[i] = float(v)
    return out


def _fen_column(amount_fen: Any) -> tuple[np.ndarray, list[str]]:
    """Exact amounts in fen (ints >= 0, scalar or 1-D) as int64; returns (fen, problems)."""
    a = np.atleast_1d(np.asarray(amount_fen))
    if a.ndim != 1:
        return np.zeros(0, np.int64), [f"amount_fen must be a scalar or 1-D array, got {a.shape}"]
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "O" and all(isinstance(v, (int, np.integer))
                                       and not isinstance(v, bool) for v in a.tolist()):
            if any(abs(int(v)) > MAX_AMOUNT_FEN for v in a.tolist()):
                return np.zeros(0, np.int64), ["amount_fen too large (limit 2**53)"]
            a = np.array([int(v) for v in a.tolist()], dtype=np.int64)
        else:
            return np.zeros(0, np.int64), [f"amount_fen must be integers, got dtype {a.dtype}"]
    problems = [f"row {i}: amount_fen {a[i]} is negative" for i in np.flatnonzero(a < 0)]
    problems += [f"row {i}: amount_fen {a[i]} is too large (limit 2**53)"
                 for i in np.flatnonzero(a > MAX_AMOUNT_FEN)]
    return a.astype(np.int64), problems
