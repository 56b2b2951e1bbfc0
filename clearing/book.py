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

from clearing.config import MAX_TOTAL_TICKS
from clearing.errors import OrderBookError, OrderProblem
from clearing.grid import PRICE_TICK, QUANTITY_TICK, decimals, from_ticks, to_ticks
from clearing.jsonable import jsonable
from clearing.kernels import csvscan as ks
from clearing.kernels import validate as kv

SELL = 1
BUY = -1
FIELDS = ("id", "side", "price", "quantity")
_SIDE_NAMES = {"sell": SELL, "buy": BUY}
#: Side arrays the intake kernel reads as they are; others are coded to -1/0/+1 first.
_KERNEL_SIDE_DTYPES = (np.dtype(np.int8), np.dtype(np.int64), np.dtype(np.float64))
#: Problem codes that make a row invalid (not checked against the cap and floor).
_INVALID = (kv.PROBLEM_PRICE_INF + kv.PROBLEM_PRICE_NAN
            + kv.PROBLEM_PRICE_GRID + kv.PROBLEM_QTY_NONFINITE + kv.PROBLEM_QTY_NONPOSITIVE
            + kv.PROBLEM_QTY_GRID)
_NO_CODES = np.zeros(0, dtype=np.uint16)
__all__ = ["BUY", "FIELDS", "SELL", "OrderBook", "from_ticks", "to_ticks"]
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
    * ``sequence``: int64 submission sequence, used by time priority and to break ties (by
      default the input order, a read-only view shared between books).
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
        ``quantity_tick`` grid; a price or quantity of ``None`` or ``""`` is refused as
        missing. ``lines`` (file line per row) and ``source`` (file name) only make the
        messages point into a file.
        """
        return _intake(cls, ids, sides, prices, quantities, False, sequence=sequence,
                       price_tick=price_tick, quantity_tick=quantity_tick, price_cap=price_cap,
                       price_floor=price_floor, source=source, lines=lines)

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
        # a missing price or quantity is reported above, once, as "missing ..."
        return _build_or_refuse(problems, lambda: _intake(
            cls, ids_arr, np.array(sides, dtype=object), np.array(prices, dtype=object),
            np.array(qtys, dtype=object), False, missing_reported=True, source=source,
            lines=line_numbers, **kwargs))

    @classmethod
    def from_csv(cls, path: str | Path, **kwargs: Any) -> OrderBook:
        """Read the neutral CSV format (header ``id,side,price,quantity``)."""
        path = Path(path)
        book = _plain_csv(cls, path, kwargs)
        if book is not None:
            return book
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

def _intake(
    cls: type[OrderBook],
    ids: Sequence[Any] | np.ndarray,
    sides: Sequence[Any] | np.ndarray,
    prices: Sequence[float] | np.ndarray,
    quantities: Sequence[float] | np.ndarray,
    unique_ids: bool,
    *,
    sequence: Sequence[int] | np.ndarray | None = None,
    price_tick: float = PRICE_TICK,
    quantity_tick: float = QUANTITY_TICK,
    price_cap: float | None = None,
    price_floor: float | None = None,
    source: str | None = None,
    lines: Sequence[int] | np.ndarray | None = None,
    missing_reported: bool = False,
) -> OrderBook:
    """:meth:`OrderBook.from_arrays`; ``unique_ids`` when the caller has already checked the
    ids (the CSV scan); ``missing_reported`` when it has already reported a price or quantity
    of ``None`` or ``""`` as missing (:meth:`OrderBook.from_records`)."""
    price_tick = _check_tick("price_tick", price_tick)
    quantity_tick = _check_tick("quantity_tick", quantity_tick)
    ids_a = np.asarray(ids)
    n = ids_a.shape[0] if ids_a.ndim == 1 else -1
    sides_a = np.asarray(sides)
    prices_a = np.asarray(prices)
    qtys_a = np.asarray(quantities)
    seq_a = None if sequence is None else np.asarray(sequence)
    for name, arr in (("ids", ids_a), ("sides", sides_a), ("prices", prices_a),
                      ("quantities", qtys_a), ("sequence", seq_a)):
        if arr is not None and (arr.ndim != 1 or arr.shape[0] != n):
            raise OrderBookError([OrderProblem(None, (
                f"{name} must be a one-dimensional array as long as ids ({max(n, 0)}), "
                f"got shape {arr.shape}"))])

    # Non-numeric columns are converted in Python (their "not a number" problems kept
    # aside); numeric ones go to the kernel as they are.
    early: list[tuple[int | None, str]] = []
    price_f, price_num = _floats(prices_a, "price", early, not missing_reported)
    qty_f, qty_num = _floats(qtys_a, "quantity", early, not missing_reported)
    if sides_a.dtype in _KERNEL_SIDE_DTYPES:
        side_in = np.ascontiguousarray(sides_a)
    else:
        side_in = _side_codes(sides_a)
    limits: list[tuple[int | None, str]] = []
    cap_rows, floor_rows, in_kernel = _limit_scalars(price_cap, price_floor, limits)
    args = (side_in, price_f, qty_f, price_tick, quantity_tick, cap_rows and in_kernel,
            float(price_cap) if cap_rows else 0.0,  # type: ignore[arg-type]
            floor_rows and in_kernel,
            float(price_floor) if floor_rows else 0.0)  # type: ignore[arg-type]
    n_bad, total_status, side_codes, price_ticks, qty_ticks = kv.validate_rows(*args)
    python_limits = (cap_rows or floor_rows) and not in_kernel
    codes = kv.problem_codes(*args) if n_bad or early or python_limits else _NO_CODES
    if python_limits:  # limits NumPy compares, not as floats
        valid = (codes & _INVALID) == 0
        _limit_problems(price_f, valid, price_cap, price_floor,
                        lambda row, reason: limits.append((row, reason)))
    unique = n == 0 or unique_ids or _ids_unique(ids_a)
    if sequence is None:
        seq = _input_order(n)
        seq_unique = True
    else:
        seq = np.asarray(seq_a).astype(np.int64)
        seq_unique = bool(kv.unique_ints(seq))

    if codes.shape[0] or not unique or not seq_unique or limits:
        problems = _decode_problems(
            sides_a, price_f, price_num, qty_f, qty_num, codes, early, limits, ids_a,
            unique, seq_unique, price_tick, quantity_tick, price_cap, price_floor, source,
            lines)
        if problems:
            raise OrderBookError(problems)
    if total_status != kv.TOTAL_OK and (
            int(qty_ticks.sum(dtype=np.float64)) >= MAX_TOTAL_TICKS):
        raise OrderBookError([OrderProblem(
            None, "total quantity of the book is too large for the tick grid",
            source=source)])
    return cls(ids_a, side_codes, price_ticks, qty_ticks, seq, price_tick, quantity_tick)



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


_ARANGE = np.arange(0, dtype=np.int64)
#: Largest default sequence kept for sharing (32 MB); longer books get their own.
_ARANGE_MAX = 1 << 22


def _input_order(n: int) -> np.ndarray:
    """The default sequence 0..n-1 (int64): a read-only view of one shared array, so that a
    large book does not fill (and fault in) a fresh one each time."""
    global _ARANGE
    if n > _ARANGE_MAX:
        return np.arange(n, dtype=np.int64)
    whole = _ARANGE
    if whole.shape[0] < n:
        whole = np.arange(min(max(n, 2 * whole.shape[0], 1024), _ARANGE_MAX), dtype=np.int64)
        whole.flags.writeable = False
        _ARANGE = whole
    return whole[:n]


#: From this many rows on, the compiled reader makes its ids through Arrow (pyarrow, a
#: dependency for Parquet, imported only then): about 3x faster than NumPy's two conversions
#: at 1e6 rows, and not worth the import for a small file.
ARROW_IDS_MIN_ROWS = 50_000


def _span_ids(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The ids buf[start[i]:end[i]] (printable ASCII, checked by the scanner) as an object
    array of str, as the line reader gives them, without slicing the text once per row:
    through an Arrow string array for a large file, else gathered into a fixed-width array
    (no NUL, so nothing is stripped) and converted by NumPy."""
    n = start.shape[0]
    if n >= ARROW_IDS_MIN_ROWS:
        try:
            import pyarrow as pa
        except ImportError:  # the NumPy way below
            pa = None
        if pa is not None:
            data, offsets = ks.contiguous_spans(buf, start, end)
            strings = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets),
                                                       pa.py_buffer(data))
            return np.asarray(strings.to_numpy(zero_copy_only=False), dtype=object)
    width = max(1, int((end - start).max(initial=1)))
    return ks.gather_spans(buf, start, end, width).view(f"S{width}").ravel() \
        .astype(f"U{width}").astype(object)


def _plain_csv(cls: type[OrderBook], path: Path, kwargs: dict[str, Any]) -> OrderBook | None:
    """The book of a plainly written CSV file, scanned by the compiled reader; None when the
    file is anything else or the book is refused: then the caller reads it line by line, as
    before, and reports every problem with its line."""
    if "source" in kwargs or "lines" in kwargs:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    status, start, end, sides, prices, qtys = ks.scan_csv(buf, ks.HEADER, ks.POW10)
    if status != ks.SCAN_OK or not ks.unique_spans(buf, start, end):
        return None
    ids = _span_ids(buf, start, end)
    try:
        return _intake(cls, ids, sides, prices, qtys, True, source=str(path), **kwargs)
    except Exception:  # noqa: BLE001 - refused or bad arguments: the slow way says why
        return None


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


def _floats(values: np.ndarray, name: str, early: list[tuple[int | None, str]],
            report_missing: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """float64 values (contiguous, for the kernel) and, for a non-numeric column, which rows
    hold a number; rows that hold something else are NaN, reported in ``early`` as not a
    number, or (None or empty) as missing unless ``report_missing`` is False."""
    if values.dtype.kind in "iuf":
        return np.ascontiguousarray(values, dtype=np.float64), None
    out = np.full(values.shape[0], np.nan)
    numeric = np.zeros(values.shape[0], dtype=bool)
    for i, v in enumerate(values):
        f = _to_float(v)
        if f is None:
            if v is not None and v != "":
                early.append((i, f"{name} {v!r} is not a number"))
            elif report_missing:
                early.append((i, f"missing {name}"))
        else:
            out[i] = f
            numeric[i] = True
    return out, numeric


def _ids_unique(ids: np.ndarray) -> bool:
    """True when the ids are surely unique; False when they may not be (the caller then lists
    duplicates as before, with :func:`_duplicates`). Integer ids: the compiled check; strings
    (and object arrays of str and int): a Python set, which agrees with ``np.unique`` there."""
    kind = ids.dtype.kind
    if kind in "iu":
        if kind == "u" and ids.dtype.itemsize == 8:  # the same bits are the same id
            values = np.ascontiguousarray(ids, dtype=np.uint64).view(np.int64)
        else:
            values = np.ascontiguousarray(ids, dtype=np.int64)
        return bool(kv.unique_ints(values))
    if kind in "US":
        return len(set(ids.tolist())) == ids.shape[0]
    if kind == "O":
        items = ids.tolist()
        if {type(v) for v in items} <= {str, int}:
            return len(set(items)) == len(items)
    return False


def _limit_scalars(cap: Any, floor: Any,
                   out: list[tuple[int | None, str]]) -> tuple[bool, bool, bool]:
    """Check the cap and floor themselves (problems into ``out``, as before). Returns whether
    rows are to be checked against the cap and the floor, and whether the kernel can do it
    (plain numbers, compared as float64 exactly as NumPy compares them)."""
    if cap is None and floor is None:
        return False, False, True
    if cap is not None and not math.isfinite(cap):
        out.append((None, f"price cap {cap} is not a finite number"))
        return False, False, True
    if floor is not None and not math.isfinite(floor):
        out.append((None, f"price floor {floor} is not a finite number"))
        return False, False, True
    if cap is not None and floor is not None and cap < floor:
        out.append((None, f"price cap {cap} is below price floor {floor}"))
        return False, False, True
    plain = all(v is None or isinstance(v, (int, float, np.integer, np.floating))
                for v in (cap, floor))
    return cap is not None, floor is not None, plain


def _decode_problems(
    sides: np.ndarray, price_f: np.ndarray, price_num: np.ndarray | None, qty_f: np.ndarray,
    qty_num: np.ndarray | None, codes: np.ndarray, early: list[tuple[int | None, str]],
    limits: list[tuple[int | None, str]], ids: np.ndarray, unique: bool, seq_unique: bool,
    price_tick: float, quantity_tick: float, price_cap: Any, price_floor: Any,
    source: str | None, lines: Sequence[int] | np.ndarray | None,
) -> list[OrderProblem]:
    """The messages of a refused book, from the kernel's problem codes of the rows that have
    one: each problem in the order the checks list them, then all sorted by row (or line)."""
    line_of = None if lines is None else np.asarray(lines)
    problems: list[OrderProblem] = []

    def problem(row: int | None, reason: str) -> None:
        line = None if (line_of is None or row is None) else int(line_of[row])
        problems.append(OrderProblem(row, reason, line=line, source=source))

    def where(row: int) -> str:
        return f"order {row}" if line_of is None else f"line {int(line_of[row])}"

    bad = np.flatnonzero(codes)
    bad_codes = codes[bad]

    def rows(bit: int, numeric: np.ndarray | None = None) -> list[int]:
        hit = bad[(bad_codes & bit) != 0]
        if numeric is not None:
            hit = hit[numeric[hit]]
        return [int(r) for r in hit]

    for row in rows(kv.PROBLEM_SIDE):
        problem(row, f"side {jsonable(sides[row])!r} is not 'buy' or 'sell' (or -1/+1)")
    for row_or_none, reason in early:
        problem(row_or_none, reason)
    for row in rows(kv.PROBLEM_PRICE_INF):
        problem(row, f"price {price_f[row]} is infinite")
    for row in rows(kv.PROBLEM_PRICE_NAN, price_num):
        problem(row, "price is NaN")
    for row in rows(kv.PROBLEM_PRICE_GRID):
        problem(row, f"price {float(price_f[row])!r} is not on the {price_tick:g} tick grid")
    for row in rows(kv.PROBLEM_PRICE_TOO_LARGE):
        problem(row, f"price {float(price_f[row])!r} is too large in magnitude")
    for row in rows(kv.PROBLEM_QTY_NONFINITE, qty_num):
        problem(row, f"quantity {qty_f[row]} is not a finite number")
    for row in rows(kv.PROBLEM_QTY_NONPOSITIVE):
        kind = "zero" if qty_f[row] == 0 else "negative"
        problem(row, f"quantity {float(qty_f[row])!r} is {kind}; it must be > 0")
    for row in rows(kv.PROBLEM_QTY_GRID):
        problem(row, f"quantity {float(qty_f[row])!r} is not on the {quantity_tick:g} tick grid")
    if not unique and ids.shape[0] > 0:
        _duplicates(ids, problem, where)
    if not seq_unique:
        problem(None, "sequence numbers must be unique")
    for row_or_none, reason in limits:
        problem(row_or_none, reason)
    for row in rows(kv.PROBLEM_ABOVE_CAP):
        problem(row, f"price {price_f[row]:g} is above the price cap {price_cap:g}")
    for row in rows(kv.PROBLEM_BELOW_FLOOR):
        problem(row, f"price {price_f[row]:g} is below the price floor {price_floor:g}")
    return sorted(problems, key=_problem_order)


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
