"""The order book: validated orders as int64 ticks, and the neutral file format.

The neutral format is CSV with the header ``id,side,price,quantity`` (``side`` is ``buy`` or
``sell``), or JSON lines with the same keys. Any engine can read the same file; that is how the
sandbox is compared with peers.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clearing.config import MAX_ABS_PRICE_TICKS, MAX_TOTAL_TICKS
from clearing.errors import OrderBookError, OrderProblem
from clearing.grid import PRICE_TICK, QUANTITY_TICK, decimals, from_ticks, to_ticks
from clearing.jsonable import jsonable

SELL = 1
BUY = -1
FIELDS = ("id", "side", "price", "quantity")
_SIDE_NAMES = {"sell": SELL, "buy": BUY}
def _check_tick(name: str, tick: float) -> float:
    tick = float(tick)
    if not math.isfinite(tick) or tick <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {tick!r}")
    return tick



@dataclass(frozen=True, eq=False)
class OrderBook:
    """Validated orders of one auction.

    Arrays, all of length n and in input order:

    * ``ids``: the caller's order ids (any scalar dtype), unique;
    * ``sides``: int8, +1 sell (supply), -1 buy (demand);
    * ``price_ticks``: int64 limit prices in units of ``price_tick`` (yuan/MWh by default);
    * ``quantity_ticks``: int64 quantities > 0 in units of ``quantity_tick`` (MW by default);
    * ``sequence``: int64 submission sequence, used by time priority and to break ties.
    """

    ids: np.ndarray
    sides: np.ndarray
    price_ticks: np.ndarray
    quantity_ticks: np.ndarray
    sequence: np.ndarray
    price_tick: float = PRICE_TICK
    quantity_tick: float = QUANTITY_TICK

    def __len__(self) -> int:
        return int(self.sides.shape[0])

    @property
    def prices(self) -> np.ndarray:
        """Limit prices as float64 (yuan per unit)."""
        return from_ticks(self.price_ticks, self.price_tick)  # type: ignore[return-value]

    @property
    def quantities(self) -> np.ndarray:
        """Quantities as float64."""
        return from_ticks(self.quantity_ticks, self.quantity_tick)  # type: ignore[return-value]

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_arrays(
        cls,
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
    ) -> OrderBook:
        """Validate arrays and build a book; raise :class:`OrderBookError` with every problem.

        ``sides`` holds +1 (sell) / -1 (buy), or the strings ``"sell"`` / ``"buy"``. ``prices``
        are yuan per unit on the ``price_tick`` grid, ``quantities`` > 0 on the
        ``quantity_tick`` grid. ``lines`` (file line per row) and ``source`` (file name) only
        make the messages point into a file.
        """
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
        return cls(ids_a, side_codes.astype(np.int8), price_ticks, qty_ticks, seq,
                   price_tick, quantity_tick)

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        source: str | None = None,
        first_line: int = 1,
        lines: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> OrderBook:
        """Build a book from mappings with the keys ``id, side, price, quantity``.

        Missing keys and unknown keys are reported with the line they are on.
        """
        ids: list[Any] = []
        sides: list[Any] = []
        prices: list[Any] = []
        qtys: list[Any] = []
        line_numbers: list[int] = []
        problems: list[OrderProblem] = []
        for k, rec in enumerate(records):
            line = lines[k] if lines is not None else first_line + k
            missing = [f for f in FIELDS if f not in rec or rec[f] in (None, "")]
            extra = sorted(set(rec) - set(FIELDS))
            if missing:
                problems.append(OrderProblem(None, f"missing {', '.join(missing)}", line, source))
            if extra:
                problems.append(OrderProblem(None, f"unknown field(s) {', '.join(map(str, extra))}",
                                             line, source))
            ids.append(rec.get("id"))
            sides.append(rec.get("side"))
            prices.append(rec.get("price"))
            qtys.append(rec.get("quantity"))
            line_numbers.append(line)
        ids_arr = _ids_array(ids)
        return _build_or_refuse(problems, lambda: cls.from_arrays(
            ids_arr, np.array(sides, dtype=object), np.array(prices, dtype=object),
            np.array(qtys, dtype=object), source=source, lines=line_numbers, **kwargs))

    @classmethod
    def from_csv(cls, path: str | Path, **kwargs: Any) -> OrderBook:
        """Read the neutral CSV format (header ``id,side,price,quantity``)."""
        path = Path(path)
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or [h.strip() for h in header] != list(FIELDS):
                got = "an empty file" if header is None else ",".join(header)
                raise OrderBookError([OrderProblem(None, (
                    f"the first line must be the header 'id,side,price,quantity', got {got!r}"),
                    1, str(path))])
            records = []
            lines = []
            problems = []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                line = reader.line_num
                if len(row) != len(FIELDS):
                    problems.append(OrderProblem(None, (
                        f"expected 4 fields (id,side,price,quantity), got {len(row)}"),
                        line, str(path)))
                    continue
                records.append(dict(zip(FIELDS, (c.strip() for c in row), strict=True)))
                lines.append(line)
        return _build_or_refuse(problems, lambda: cls.from_records(
            records, source=str(path), lines=lines, **kwargs))

    @classmethod
    def from_jsonl(cls, path: str | Path, **kwargs: Any) -> OrderBook:
        """Read JSON lines, one object with ``id, side, price, quantity`` per line."""
        path = Path(path)
        records = []
        lines = []
        problems = []
        with path.open(encoding="utf-8") as fh:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    rec = json.loads(text)
                except json.JSONDecodeError as exc:
                    problems.append(OrderProblem(None, f"not valid JSON ({exc.msg})", number,
                                                 str(path)))
                    continue
                if not isinstance(rec, dict):
                    problems.append(OrderProblem(None, "each line must be a JSON object", number,
                                                 str(path)))
                    continue
                records.append(rec)
                lines.append(number)
        return _build_or_refuse(problems, lambda: cls.from_records(
            records, source=str(path), lines=lines, **kwargs))

    @classmethod
    def read(cls, path: str | Path, **kwargs: Any) -> OrderBook:
        """Read a book by its suffix: ``.jsonl``/``.ndjson`` as JSON lines, anything else as CSV."""
        suffix = Path(path).suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            return cls.from_jsonl(path, **kwargs)
        return cls.from_csv(path, **kwargs)

    # ----------------------------------------------------------------- serialisation

    def records(self) -> list[dict[str, Any]]:
        """Orders as dicts in input order; prices and quantities exactly on their grids."""
        prices = self.prices
        qtys = self.quantities
        out = []
        for i in range(len(self)):
            out.append({
                "id": jsonable(self.ids[i]),
                "side": "sell" if self.sides[i] == SELL else "buy",
                "price": float(prices[i]),
                "quantity": float(qtys[i]),
            })
        return out

    def to_csv(self, path: str | Path | None = None) -> str:
        """Write the neutral CSV; returns the text (and writes it when ``path`` is given)."""
        pd = decimals(self.price_tick)
        qd = decimals(self.quantity_tick)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FIELDS)
        for rec in self.records():
            writer.writerow([rec["id"], rec["side"], f"{rec['price']:.{pd}f}",
                             f"{rec['quantity']:.{qd}f}"])
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_jsonl(self, path: str | Path | None = None) -> str:
        """Write JSON lines; returns the text (and writes it when ``path`` is given)."""
        text = "".join(json.dumps(rec, separators=(",", ":")) + "\n" for rec in self.records())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def limit_problems(
        self, price_cap: float | None, price_floor: float | None
    ) -> list[OrderProblem]:
        """Orders priced above ``price_cap`` or below ``price_floor`` (yuan per unit)."""
        out: list[OrderProblem] = []

        def problem(row: int | None, reason: str) -> None:
            out.append(OrderProblem(row, reason))

        _limit_problems(self.prices, np.ones(len(self), bool), price_cap, price_floor, problem)
        return out


# --------------------------------------------------------------------- helpers

def _problem_order(p: OrderProblem) -> tuple[int, int]:
    key = p.line if p.line is not None else (p.row if p.row is not None else -1)
    return (key, 0)


def _build_or_refuse(problems: list[OrderProblem], build: Callable[[], OrderBook]) -> OrderBook:
    """The book ``build()`` returns, unless an earlier step (reading the file, checking the
    records) found ``problems``: then refuse with those and all ``build`` raises, at once, in
    line order. ``build`` runs either way so that every problem is reported."""
    try:
        book = build()
    except OrderBookError as err:
        raise OrderBookError(sorted(problems + err.problems, key=_problem_order)) from None
    if problems:
        raise OrderBookError(sorted(problems, key=_problem_order))
    return book


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


def _duplicates(ids: np.ndarray, problem: Any, where: Any) -> None:
    if ids.dtype.kind in "iu":  # the common case: one sorted copy, no inverse unless needed
        ordered = np.sort(ids)
        if not (ordered[1:] == ordered[:-1]).any():
            return
    try:
        uniq, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    except TypeError:
        keys = [repr(v) for v in ids]
        uniq, inverse, counts = np.unique(np.array(keys), return_inverse=True, return_counts=True)
    if uniq.shape[0] == ids.shape[0]:
        return
    dup = counts[inverse] > 1
    first: dict[Any, int] = {}
    for row in np.flatnonzero(dup):
        key = int(inverse[row])
        if key in first:
            dup = jsonable(ids[row])
            problem(int(row), f"duplicate id {dup!r} (first used on {where(first[key])})")
        else:
            first[key] = int(row)


def _limit_problems(prices: np.ndarray, valid: np.ndarray, cap: float | None,
                    floor: float | None, problem: Any) -> list[OrderProblem]:
    if cap is not None and not math.isfinite(cap):
        problem(None, f"price cap {cap} is not a finite number")
        return []
    if floor is not None and not math.isfinite(floor):
        problem(None, f"price floor {floor} is not a finite number")
        return []
    if cap is not None and floor is not None and cap < floor:
        problem(None, f"price cap {cap} is below price floor {floor}")
        return []
    if cap is not None:
        for row in np.flatnonzero(valid & (prices > cap)):
            problem(int(row), f"price {prices[row]:g} is above the price cap {cap:g}")
    if floor is not None:
        for row in np.flatnonzero(valid & (prices < floor)):
            problem(int(row), f"price {prices[row]:g} is below the price floor {floor:g}")
    return []


def _ids_array(ids: list[Any]) -> np.ndarray:
    if ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return np.array(ids, dtype=np.int64)
    return np.array([("" if i is None else str(i)) for i in ids], dtype=object)
