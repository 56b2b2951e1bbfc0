"""Bids of the hourly energy spot market: flat columns for many hours, validated at once.

A year of bids is millions of rows, so :class:`EnergyBids` holds one NumPy column per field and
no Python object per bid. Prices and quantities are converted to int64 ticks of the rules' grid
once, here, at intake (``rules.ticks``); the clearing core works on those ticks.

Each row is one price-quantity block for one hour:

* a **sell** (``side`` +1) offers generation (or storage discharge) from the unit ``unit_id``;
* a **buy** (``side`` -1) bids for energy: a load's block (``unit_id`` ''), or storage charging
  (``unit_id`` the storage unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clearing.book import from_ticks, to_ticks
from market.errors import EnergyBidError, EnergyInputError
from market.rules import MarketRules

SELL = 1
BUY = -1

_SIDE_WORDS = {"sell": SELL, "buy": BUY}


def _text(values: Any, n: int, name: str) -> np.ndarray:
    """A str column of length n (a scalar broadcasts); ``None`` rows become ''."""
    if values is None or isinstance(values, str):
        return np.full(n, "" if values is None else values, dtype=object).astype(str)
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise EnergyBidError([(None, f"{name} must be a string or a 1-D array of {n} strings, "
                                     f"got shape {arr.shape}")])
    if arr.dtype.kind == "U":
        return arr
    return np.array(["" if v is None else str(v) for v in arr.tolist()], dtype=str).reshape(n)


def _numbers(values: Any, n: int, name: str, problems: list[tuple[int | None, str]]
             ) -> tuple[np.ndarray, np.ndarray]:
    """A float64 column of length n and a mask of the rows that are numbers at all; the rows
    that are not (text, None, bool) are reported here and hold NaN."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise EnergyBidError([(None, f"{name} must be a 1-D array of {n} numbers, "
                                     f"got shape {arr.shape}")])
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64), np.ones(n, dtype=bool)
    out = np.full(n, np.nan)
    is_number = np.zeros(n, dtype=bool)
    for i, v in enumerate(arr.tolist()):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[i] = float(v)
            is_number[i] = True
        else:
            problems.append((i, f"{name} {v!r} is not a number"))
    return out, is_number


def _sides(values: Any, n: int, problems: list[tuple[int | None, str]]) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise EnergyBidError([(None, f"side must be a 1-D array of {n} values (+1 sell, -1 "
                                     f"buy), got shape {arr.shape}")])
    if arr.dtype.kind in "iuf":
        codes = np.where(arr == 1, SELL, np.where(arr == -1, BUY, 0)).astype(np.int8)
    else:
        codes = np.array([_SIDE_WORDS.get(str(v).strip().lower(), 0) if isinstance(v, str)
                          else (int(v) if v in (1, -1) and not isinstance(v, bool) else 0)
                          for v in arr.tolist()], dtype=np.int8).reshape(n)
    for row in np.flatnonzero(codes == 0):
        problems.append((int(row), f"side {arr[row]!r} is not +1 (sell) or -1 (buy)"))
    return codes


def _hours(values: Any, n: int, n_hours: int, problems: list[tuple[int | None, str]]
           ) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise EnergyBidError([(None, f"hour must be a 1-D array of {n} integers, "
                                     f"got shape {arr.shape}")])
    if arr.dtype.kind in "iu":
        hours = arr.astype(np.int64)
        whole = np.ones(n, dtype=bool)
    else:
        f, is_number = _numbers(arr, n, "hour", problems)
        whole = np.isfinite(f) & (f == np.floor(f))
        for row in np.flatnonzero(~whole & is_number):
            problems.append((int(row), f"hour {f[row]!r} is not a whole hour"))
        hours = np.where(whole, f, -1).astype(np.int64)
    out = whole & ((hours < 0) | (hours >= n_hours))
    for row in np.flatnonzero(out):
        problems.append((int(row), f"hour {int(hours[row])} is outside 0..{n_hours - 1}"))
    return hours


@dataclass(frozen=True, eq=False)
class EnergyBids:
    """Energy bids for ``n_hours`` hours; every column has one row per bid (n,).

    * ``hour``: int64, 0 .. n_hours - 1;
    * ``participant``: str, who pays or is paid;
    * ``unit_id``: str, the offering unit ('' for a load's block);
    * ``side``: int8, +1 sell / -1 buy;
    * ``price_yuan_per_mwh``: float64, on the price tick grid, within [floor, cap];
    * ``quantity_mw``: float64, > 0, on the quantity tick grid (MW for one hour = MWh);
    * ``price_ticks``, ``quantity_ticks``: the same as int64 ticks of ``price_tick`` (yuan/MWh)
      and ``quantity_tick`` (MW).

    Build with :meth:`from_arrays` (validates) or :meth:`concat`.
    """

    hour: np.ndarray
    participant: np.ndarray
    unit_id: np.ndarray
    side: np.ndarray
    price_yuan_per_mwh: np.ndarray
    quantity_mw: np.ndarray
    price_ticks: np.ndarray
    quantity_ticks: np.ndarray
    n_hours: int
    price_tick: float
    quantity_tick: float

    def __post_init__(self) -> None:
        for name in ("hour", "participant", "unit_id", "side", "price_yuan_per_mwh",
                     "quantity_mw", "price_ticks", "quantity_ticks"):
            getattr(self, name).setflags(write=False)  # bids are sealed once validated

    def __len__(self) -> int:
        return int(self.hour.shape[0])

    @classmethod
    def from_arrays(
        cls,
        hour: Sequence[int] | np.ndarray,
        participant: Sequence[str] | np.ndarray | str,
        unit_id: Sequence[str] | np.ndarray | str | None,
        side: Sequence[int] | np.ndarray,
        price_yuan_per_mwh: Sequence[float] | np.ndarray,
        quantity_mw: Sequence[float] | np.ndarray,
        *,
        rules: MarketRules,
        n_hours: int,
    ) -> EnergyBids:
        """Validate columns against ``rules`` and build the bids.

        ``participant`` and ``unit_id`` may be one string for every row. Every problem of every
        row is reported at once in one :class:`EnergyBidError` (row index and reason): an hour
        outside ``0 .. n_hours - 1``, a side other than +1/-1, a NaN or infinite price or
        quantity, a quantity <= 0, a price or quantity off the tick grid, a price above the cap
        or below the floor (``rules.energy``), an empty participant, a sell naming no unit.
        """
        n_hours = _check_n_hours(n_hours)
        n = np.asarray(hour).shape[0] if np.ndim(hour) == 1 else -1
        if n < 0:
            raise EnergyBidError([(None, f"hour must be a 1-D array, got shape "
                                         f"{np.shape(hour)}")])
        problems: list[tuple[int | None, str]] = []
        hours = _hours(hour, n, n_hours, problems)
        parts = _text(participant, n, "participant")
        units = _text(unit_id, n, "unit_id")
        sides = _sides(side, n, problems)
        price, p_num = _numbers(price_yuan_per_mwh, n, "price_yuan_per_mwh", problems)
        qty, q_num = _numbers(quantity_mw, n, "quantity_mw", problems)
        price_t, qty_t = _check_values(price, qty, p_num, q_num, rules, problems)
        for row in np.flatnonzero(parts == ""):
            problems.append((int(row), "participant is empty"))
        for row in np.flatnonzero((sides == SELL) & (units == "")):
            problems.append((int(row), "a sell offer must name its unit (unit_id is empty)"))
        if problems:
            problems.sort(key=lambda p: -1 if p[0] is None else p[0])
            raise EnergyBidError(problems)
        return cls._build(hours, parts, units, sides, price_t, qty_t, n_hours, rules)

    @classmethod
    def _build(cls, hours: np.ndarray, parts: np.ndarray, units: np.ndarray, sides: np.ndarray,
               price_t: np.ndarray, qty_t: np.ndarray, n_hours: int,
               rules: MarketRules) -> EnergyBids:
        pt, qt = float(rules.ticks.price_yuan), float(rules.ticks.quantity_mw)
        return cls(hours.astype(np.int64), parts, units, sides.astype(np.int8),
                   np.asarray(from_ticks(price_t, pt)), np.asarray(from_ticks(qty_t, qt)),
                   price_t.astype(np.int64), qty_t.astype(np.int64), n_hours, pt, qt)

    @classmethod
    def empty(cls, n_hours: int, rules: MarketRules) -> EnergyBids:
        """No bids for ``n_hours`` hours."""
        z = np.zeros(0, dtype=np.int64)
        return cls._build(z, np.zeros(0, dtype=str), np.zeros(0, dtype=str),
                          np.zeros(0, dtype=np.int8), z, z, _check_n_hours(n_hours), rules)

    @classmethod
    def concat(cls, parts: Sequence[EnergyBids]) -> EnergyBids:
        """Rows of ``parts`` one after the other; all must cover the same hours and ticks."""
        parts = list(parts)
        if not parts:
            raise EnergyInputError("concat needs at least one EnergyBids (it fixes n_hours)")
        first = parts[0]
        for k, p in enumerate(parts):
            if not isinstance(p, EnergyBids):
                raise EnergyInputError(f"part {k} is a {type(p).__name__}, not EnergyBids")
            if (p.n_hours, p.price_tick, p.quantity_tick) != (
                    first.n_hours, first.price_tick, first.quantity_tick):
                raise EnergyInputError(
                    f"part {k} covers {p.n_hours} hours on ticks ({p.price_tick:g}, "
                    f"{p.quantity_tick:g}); part 0 covers {first.n_hours} hours on "
                    f"({first.price_tick:g}, {first.quantity_tick:g})")

        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(p, name) for p in parts])

        return cls(cat("hour"), cat("participant"), cat("unit_id"), cat("side"),
                   cat("price_yuan_per_mwh"), cat("quantity_mw"), cat("price_ticks"),
                   cat("quantity_ticks"), first.n_hours, first.price_tick, first.quantity_tick)

    def limit_problems(self, rules: MarketRules) -> list[tuple[int | None, str]]:
        """Rows priced outside ``rules.energy``'s [floor, cap] or off its ticks (re-checked
        when bids built under one rule set are cleared under another)."""
        problems: list[tuple[int | None, str]] = []
        if (self.price_tick, self.quantity_tick) != (float(rules.ticks.price_yuan),
                                                     float(rules.ticks.quantity_mw)):
            return [(None, f"bids are on ticks ({self.price_tick:g} yuan, "
                           f"{self.quantity_tick:g} MW), the rules on "
                           f"({rules.ticks.price_yuan:g}, {rules.ticks.quantity_mw:g})")]
        _limit_rows(self.price_yuan_per_mwh, np.ones(len(self), dtype=bool), rules, problems)
        return problems


def _check_n_hours(n_hours: Any) -> int:
    if isinstance(n_hours, bool) or not isinstance(n_hours, (int, np.integer)) or n_hours < 1:
        raise EnergyInputError(f"n_hours must be a positive integer, got {n_hours!r}")
    return int(n_hours)


def _check_values(price: np.ndarray, qty: np.ndarray, p_num: np.ndarray, q_num: np.ndarray,
                  rules: MarketRules, problems: list[tuple[int | None, str]]
                  ) -> tuple[np.ndarray, np.ndarray]:
    pt, qt = float(rules.ticks.price_yuan), float(rules.ticks.quantity_mw)
    for row in np.flatnonzero(np.isnan(price) & p_num):
        problems.append((int(row), "price is NaN"))
    for row in np.flatnonzero(np.isinf(price)):
        problems.append((int(row), f"price {price[row]} is infinite"))
    price_t, price_ok = to_ticks(price, pt)
    finite_p = np.isfinite(price)
    for row in np.flatnonzero(finite_p & ~price_ok):
        problems.append((int(row), f"price {price[row]!r} is not on the {pt:g} yuan/MWh grid"))
    _limit_rows(price, finite_p, rules, problems)
    for row in np.flatnonzero(np.isnan(qty) & q_num):
        problems.append((int(row), "quantity is NaN"))
    for row in np.flatnonzero(np.isinf(qty)):
        problems.append((int(row), f"quantity {qty[row]} is infinite"))
    finite_q = np.isfinite(qty)
    for row in np.flatnonzero(finite_q & (qty <= 0)):
        problems.append((int(row), f"quantity {qty[row]!r} MW must be > 0"))
    qty_t, qty_ok = to_ticks(qty, qt)
    for row in np.flatnonzero(finite_q & (qty > 0) & ~qty_ok):
        problems.append((int(row), f"quantity {qty[row]!r} is not on the {qt:g} MW grid"))
    return price_t, qty_t


def _limit_rows(price: np.ndarray, valid: np.ndarray, rules: MarketRules,
                problems: list[tuple[int | None, str]]) -> None:
    cap = float(rules.energy.price_cap_yuan_per_mwh)
    floor = float(rules.energy.price_floor_yuan_per_mwh)
    for row in np.flatnonzero(valid & (price > cap)):
        problems.append((int(row), f"price {price[row]:g} is above the cap {cap:g} yuan/MWh"))
    for row in np.flatnonzero(valid & (price < floor)):
        problems.append((int(row), f"price {price[row]:g} is below the floor {floor:g} yuan/MWh"))
