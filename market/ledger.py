"""The double-entry ledger: every payment of every market, between participants and the operator.

One payment is two legs in one period: the payer's leg is ``-amount`` and the payee's leg is
``+amount``. Amounts are int64 **fen** (0.01 yuan), rounded half-even once, at posting. Because
each payment adds ``+a`` and ``-a`` to the same period, every period sums to zero by
construction; :meth:`Ledger.balance` shows it.

Legs are kept in growable structured arrays (``LEG_DTYPE``) with names as int32 codes into
name tables, so a year of hourly settlement (hundreds of thousands of legs) is posted with
:meth:`Ledger.post_many` in a few array operations, without a Python loop per entry.

Example::

    ledger = Ledger()
    ledger.post("2025-01", "load_07", SYSTEM_OPERATOR, Category.COST_ALLOCATION, 1234.565)
    ledger.balance()                      # 0
    ledger.totals_by("participant")       # {"load_07": -123456, "system_operator": 123456}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

import numpy as np

from market.errors import LedgerError

#: The name of the system operator as a participant of the ledger.
SYSTEM_OPERATOR = "system_operator"

#: Largest single amount, fen (2**53, about 90 trillion yuan): every amount is exact in float64.
MAX_AMOUNT_FEN = 2**53
_MAX_SHOWN = 20


class Category(StrEnum):
    """What a payment is for."""

    ENERGY = "energy"
    CAPACITY_PAYMENT = "capacity_payment"
    PERFORMANCE_PENALTY = "performance_penalty"
    COMPENSATION = "compensation"
    DEDUCTION = "deduction"
    GREEN_PREMIUM = "green_premium"
    CERTIFICATE_SALE = "certificate_sale"
    COST_ALLOCATION = "cost_allocation"
    OBLIGATION_PENALTY = "obligation_penalty"
    STORAGE_COMPENSATION = "storage_compensation"


_CATEGORIES: tuple[Category, ...] = tuple(Category)
_CATEGORY_CODE = {c.value: i for i, c in enumerate(_CATEGORIES)}

#: One leg, as stored. Names are codes into the ledger's name tables; ``unit`` is -1 for none.
#: ``payment`` numbers the payments (both legs share it); ``amount_fen`` is signed: the payer's
#: leg is negative, the payee's positive.
LEG_DTYPE = np.dtype([("payment", "i8"), ("period", "i4"), ("participant", "i4"),
                      ("counterparty", "i4"), ("category", "i1"), ("amount_fen", "i8"),
                      ("memo", "i4"), ("unit", "i4")])

#: One leg, decoded (what :meth:`Ledger.entries` returns). Text fields are Python ``str``
#: objects (``unit`` is ``None`` when the payment names no unit); ``category`` is the value of
#: a :class:`Category`.
ENTRY_DTYPE = np.dtype([("period", "O"), ("participant", "O"), ("counterparty", "O"),
                        ("category", "O"), ("amount_fen", "i8"), ("memo", "O"), ("unit", "O")])

#: Keys :meth:`Ledger.totals_by` groups by.
TOTAL_KEYS = ("period", "participant", "counterparty", "category", "unit", "memo")

PAYMENT_FIELDS = ("period", "payer", "payee", "category", "amount_fen", "memo", "unit")


# --------------------------------------------------------------------- exact arithmetic

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


# --------------------------------------------------------------------- name tables

class _Names:
    """A name table: text -> int32 code, codes in first-seen order."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.code: dict[str, int] = {}
        self._decoded: np.ndarray | None = None

    def plan(self, values: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Codes for ``values`` (strings), numbering unseen names after the known ones.

        Returns (codes int32, new names in code order); nothing is stored until :meth:`commit`.
        """
        if values.shape[0] and (values == values[0]).all():  # one name: skip the sort
            uniq, inverse = values[:1], np.zeros(values.shape[0], dtype=np.intp)
        else:
            uniq, inverse = np.unique(values, return_inverse=True)
        codes_u = np.empty(uniq.shape[0], dtype=np.int32)
        new: list[str] = []
        for j, name in enumerate(uniq.tolist()):
            c = self.code.get(name)
            if c is None:
                c = len(self.names) + len(new)
                new.append(name)
            codes_u[j] = c
        return codes_u[inverse.reshape(-1)], new

    def commit(self, new: list[str]) -> None:
        for name in new:
            self.code[name] = len(self.names)
            self.names.append(name)
        if new:
            self._decoded = None

    def decode(self, codes: np.ndarray) -> np.ndarray:
        if self._decoded is None:
            self._decoded = np.array(self.names + [None], dtype=object)
        return self._decoded[codes]  # code -1 picks the trailing None


def _text_column(value: Any, n: int, name: str, problems: list[str], *,
                 optional: bool = False, allow_empty: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast a text argument to n rows; returns (values as a str array, present mask).

    A NumPy string array (dtype ``U``) is checked without a Python loop; object arrays are
    checked element by element (``None`` rows allowed only when ``optional``).
    """
    if value is None and optional:
        return np.full(n, "", dtype=str), np.zeros(n, dtype=bool)
    if isinstance(value, str):
        if not value and not allow_empty:
            problems.append(f"{name} must be a non-empty name")
        return np.full(n, value, dtype=object).astype(str), np.ones(n, dtype=bool)
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.shape[0] != n:
        problems.append(f"{name} must be a string or a 1-D array of {n} strings, "
                        f"got shape {arr.shape}")
        return np.full(n, "", dtype=str), np.zeros(n, dtype=bool)
    if arr.dtype.kind == "U":
        present = np.ones(n, dtype=bool)
        if not allow_empty:
            for i in np.flatnonzero(arr == "")[:_MAX_SHOWN]:
                problems.append(f"row {i}: {name} must be a non-empty string")
        return arr, present
    values = arr.tolist()
    present = np.array([v is not None for v in values], dtype=bool)
    ok = np.array([isinstance(v, str) and (allow_empty or bool(v)) for v in values], dtype=bool)
    if optional:
        ok |= ~present
    for i in np.flatnonzero(~ok)[:_MAX_SHOWN]:
        problems.append(f"row {i}: {name} {values[i]!r} must be a non-empty string")
    out = np.array([v if isinstance(v, str) else "" for v in values], dtype=object).astype(str)
    return out.reshape(n), present


def _category_column(value: Any, n: int, problems: list[str]) -> np.ndarray:
    """Category codes (int8, n); one category broadcasts. Looks up each distinct value once."""
    if isinstance(value, (str, Category)):
        arr = np.array([value], dtype=object)
    else:
        arr = np.asarray(value, dtype=object)
        if arr.ndim != 1 or arr.shape[0] != n:
            problems.append(f"category must be one category or a 1-D array of {n}, "
                            f"got shape {arr.shape}")
            return np.zeros(n, dtype=np.int8)
    # Category is a StrEnum: str() of a member is its value; other objects never match.
    text = np.array([v if isinstance(v, str) else repr(v) for v in arr.tolist()]
                    ) if arr.shape[0] < 64 else arr.astype(str)
    uniq, inverse = np.unique(text, return_inverse=True)
    codes_u = np.zeros(uniq.shape[0], dtype=np.int8)
    for j, key in enumerate(uniq.tolist()):
        c = _CATEGORY_CODE.get(key)
        if c is None:
            first = int(np.flatnonzero(inverse.reshape(-1) == j)[0])
            problems.append(f"row {first}: category {arr[first]!r} is not a ledger category "
                            f"(one of {', '.join(_CATEGORY_CODE)})")
        else:
            codes_u[j] = c
    codes = codes_u[inverse.reshape(-1)]
    return np.broadcast_to(codes, (n,)).copy() if codes.shape[0] == 1 else codes


def _length(*columns: Any) -> int:
    """Common length of the array arguments (scalars broadcast); 1 when all are scalars."""
    n = 1
    for c in columns:
        if c is None or isinstance(c, (str, Category, int, float, np.generic)):
            continue
        a = np.asarray(c, dtype=object)
        if a.ndim == 1 and a.shape[0] != 1:
            n = a.shape[0] if n == 1 else n  # other lengths are reported by the columns
    return n


# --------------------------------------------------------------------- the ledger

class Ledger:
    """Double-entry ledger of payments in int64 fen; every period sums to zero.

    ``post``/``post_many`` add payments; ``entries``/``columns``/``legs`` read them back;
    ``balance`` and ``totals_by`` sum them; ``to_records``/``from_records`` round-trip.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._legs = np.zeros(max(int(capacity), 2), dtype=LEG_DTYPE)
        self._n = 0
        self._payments = 0
        self._periods = _Names()
        self._parties = _Names()
        self._memos = _Names()
        self._units = _Names()

    # ----------------------------------------------------------------- sizes

    @property
    def n_entries(self) -> int:
        """Number of legs (twice the number of payments)."""
        return self._n

    @property
    def n_payments(self) -> int:
        """Number of payments posted (zero amounts are not posted)."""
        return self._payments

    def __len__(self) -> int:
        return self._n

    # ----------------------------------------------------------------- posting

    def post(self, period: str, payer: str, payee: str, category: Category | str,
             amount_yuan: float | int, memo: str = "", unit: str | None = None) -> None:
        """Record that ``payer`` pays ``payee`` ``amount_yuan`` (yuan, >= 0) in ``period``.

        The amount is rounded half-even to the fen once, here. A zero amount is skipped.
        Raises :class:`LedgerError` (nothing recorded) for NaN, infinite or negative amounts,
        an unknown category, empty names, or a payer paying itself.
        """
        if isinstance(amount_yuan, (list, tuple, np.ndarray)):
            raise LedgerError("post() takes one amount; use post_many() for arrays")
        self.post_many(period, payer, payee, category, amount_yuan, memo, unit)

    def post_fen(self, period: str, payer: str, payee: str, category: Category | str,
                 amount_fen: int, memo: str = "", unit: str | None = None) -> None:
        """Like :meth:`post` with an exact amount in fen (int >= 0)."""
        self.post_many(period, payer, payee, category, memo=memo, unit=unit,
                       amount_fen=amount_fen)

    def post_many(self, period: Any, payer: Any, payee: Any, category: Any,
                  amount_yuan: Any = None, memo: Any = "", unit: Any = None, *,
                  amount_fen: Any = None) -> int:
        """Post many payments at once; each argument is a scalar or a 1-D array of length n.

        Give the amounts either in yuan (``amount_yuan``, float or int, rounded half-even to the
        fen) or exactly in fen (``amount_fen``, int). ``unit`` may be ``None`` or hold ``None``
        rows. Everything is validated first and every problem is reported at once in one
        :class:`LedgerError`; a refused call records nothing. Zero amounts are skipped.
        Returns the number of payments recorded.
        """
        n, block, new = self._prepare(period, payer, payee, category, amount_yuan, memo, unit,
                                      amount_fen)
        if block is None:
            return 0
        for table, names in zip((self._periods, self._parties, self._memos, self._units), new,
                                strict=True):
            table.commit(names)
        m = block.shape[0] // 2
        block["payment"] = self._payments + np.repeat(np.arange(m, dtype=np.int64), 2)
        self._reserve(block.shape[0])
        self._legs[self._n:self._n + block.shape[0]] = block
        self._n += block.shape[0]
        self._payments += m
        return m

    def check_many(self, period: Any, payer: Any, payee: Any, category: Any,
                   amount_yuan: Any = None, memo: Any = "", unit: Any = None, *,
                   amount_fen: Any = None) -> None:
        """Validate what :meth:`post_many` would post, raising as it would; record nothing."""
        self._prepare(period, payer, payee, category, amount_yuan, memo, unit, amount_fen)

    def _prepare(self, period: Any, payer: Any, payee: Any, category: Any, amount_yuan: Any,
                 memo: Any, unit: Any, amount_fen: Any
                 ) -> tuple[int, np.ndarray | None, list[list[str]]]:
        if (amount_yuan is None) == (amount_fen is None):
            raise LedgerError("give the amount either in yuan (amount_yuan) or in fen "
                              "(amount_fen), exactly one of them")
        amount = amount_yuan if amount_fen is None else amount_fen
        n = _length(period, payer, payee, category, amount, memo, unit)
        problems: list[str] = []
        if amount_fen is None:
            fen, p = yuan_to_fen(amount_yuan)
        else:
            fen, p = _fen_column(amount_fen)
        problems += p
        if fen.shape[0] not in (1, n) and not p:
            problems.append(f"amount must be a scalar or an array of {n}, got {fen.shape[0]}")
        periods, _ = _text_column(period, n, "period", problems)
        payers, _ = _text_column(payer, n, "payer", problems)
        payees, _ = _text_column(payee, n, "payee", problems)
        memos, _ = _text_column("" if memo is None else memo, n, "memo", problems,
                                allow_empty=True)
        units, has_unit = _text_column(unit, n, "unit", problems, optional=True)
        cats = _category_column(category, n, problems)
        if not problems:
            same = np.flatnonzero(payers == payees)
            problems += [f"row {i}: {payers[i]!r} cannot pay itself" for i in same[:_MAX_SHOWN]]
        if problems:
            shown = "\n  ".join(problems[:_MAX_SHOWN])
            more = f"\n  ... and {len(problems) - _MAX_SHOWN} more" * (len(problems) > _MAX_SHOWN)
            raise LedgerError(f"ledger posting refused:\n  {shown}{more}")
        fen = np.broadcast_to(fen, (n,))
        keep = fen > 0
        if not keep.any():
            return n, None, [[], [], [], []]
        fen = fen[keep]
        m = fen.shape[0]
        pc, new_periods = self._periods.plan(periods[keep])
        party_codes, new_parties = self._parties.plan(np.concatenate([payers[keep], payees[keep]]))
        mc, new_memos = self._memos.plan(memos[keep])
        present = has_unit[keep]
        uc = np.full(m, -1, dtype=np.int32)
        new_units: list[str] = []
        if present.any():
            codes, new_units = self._units.plan(units[keep][present])
            uc[present] = codes
        payer_c, payee_c = party_codes[:m], party_codes[m:]
        block = np.zeros(2 * m, dtype=LEG_DTYPE)
        for legs, who, other, sign in ((block[0::2], payer_c, payee_c, -1),
                                       (block[1::2], payee_c, payer_c, 1)):
            legs["period"] = pc
            legs["participant"] = who
            legs["counterparty"] = other
            legs["category"] = cats[keep]
            legs["amount_fen"] = sign * fen
            legs["memo"] = mc
            legs["unit"] = uc
        return n, block, [new_periods, new_parties, new_memos, new_units]

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        if need <= self._legs.shape[0]:
            return
        grown = np.zeros(max(need, 2 * self._legs.shape[0]), dtype=LEG_DTYPE)
        grown[:self._n] = self._legs[:self._n]
        self._legs = grown

    # ----------------------------------------------------------------- reading

    def legs(self) -> np.ndarray:
        """A copy of the stored legs (``LEG_DTYPE``, names as codes; see :meth:`names`)."""
        return self._legs[:self._n].copy()

    def names(self) -> dict[str, list[str]]:
        """The name tables behind the codes of :meth:`legs` (period, party, memo, unit)."""
        return {"period": list(self._periods.names), "party": list(self._parties.names),
                "memo": list(self._memos.names), "unit": list(self._units.names)}

    def columns(self) -> dict[str, np.ndarray]:
        """Legs as decoded columns: text fields as object arrays, ``amount_fen`` int64 (n,)."""
        legs = self._legs[:self._n]
        cats = np.array([c.value for c in _CATEGORIES], dtype=object)
        return {
            "period": self._periods.decode(legs["period"]),
            "participant": self._parties.decode(legs["participant"]),
            "counterparty": self._parties.decode(legs["counterparty"]),
            "category": cats[legs["category"]],
            "amount_fen": legs["amount_fen"].copy(),
            "memo": self._memos.decode(legs["memo"]),
            "unit": self._units.decode(legs["unit"]),
        }

    def entries(self) -> np.ndarray:
        """Every leg as a structured array of ``ENTRY_DTYPE`` (n,), in posting order."""
        out = np.zeros(self._n, dtype=ENTRY_DTYPE)
        for key, col in self.columns().items():
            out[key] = col
        return out

    def entry_records(self) -> list[dict[str, Any]]:
        """Every leg as a dict (period, participant, counterparty, category, amount_fen, ...)."""
        cols = self.columns()
        keys = list(cols)
        lists = [cols[k].tolist() for k in keys]
        return [dict(zip(keys, row, strict=True)) for row in zip(*lists, strict=True)]

    def balance(self, period: str | None = None) -> int:
        """Sum of all legs (fen), of one period or of the whole ledger; always 0."""
        legs = self._legs[:self._n]
        if period is not None:
            code = self._periods.code.get(period)
            if code is None:
                return 0
            legs = legs[legs["period"] == code]
        return int(legs["amount_fen"].sum())

    def check_balanced(self) -> None:
        """Raise :class:`LedgerError` if any period does not sum to zero (it never should)."""
        off = {k: v for k, v in self.totals_by("period").items() if v != 0}
        if off:
            raise LedgerError(f"periods out of balance (fen): {off}")

    def totals_by(self, keys: str | Sequence[str] = "participant", *,
                  period: str | None = None, category: Category | str | None = None,
                  participant: str | None = None) -> dict[Any, int]:
        """Net amounts (fen, int) grouped by one key or a tuple of keys.

        Keys are among ``period, participant, counterparty, category, unit, memo``. A single
        key gives ``{value: fen}``, a sequence gives ``{(v1, v2, ...): fen}``. The sign is the
        participant's view: positive is money received. ``period``, ``category`` and
        ``participant`` filter the legs first. Categories are returned as their text value.
        """
        single = isinstance(keys, str)
        key_list = [keys] if isinstance(keys, str) else list(keys)
        unknown = [k for k in key_list if k not in TOTAL_KEYS]
        if unknown or not key_list:
            raise LedgerError(f"cannot total by {unknown or key_list}; keys are "
                              f"{', '.join(TOTAL_KEYS)}")
        legs = self._legs[:self._n]
        mask = np.ones(legs.shape[0], dtype=bool)
        if period is not None:
            mask &= legs["period"] == self._periods.code.get(period, -2)
        if participant is not None:
            mask &= legs["participant"] == self._parties.code.get(participant, -2)
        if category is not None:
            key = category.value if isinstance(category, Category) else category
            if key not in _CATEGORY_CODE:
                raise LedgerError(f"category {category!r} is not a ledger category")
            mask &= legs["category"] == _CATEGORY_CODE[key]
        legs = legs[mask]
        if legs.shape[0] == 0:
            return {}
        # Codes are small non-negative ints (unit -1 -> 0 after the shift): fold the key
        # columns into one int64 by mixed radix, so one 1-D unique groups them all.
        code_cols = [legs[k].astype(np.int64) + 1 for k in key_list]
        radix = [int(c.max()) + 1 for c in code_cols]
        if float(np.prod(np.array(radix, dtype=np.float64))) < 2.0**62:
            folded = np.zeros(legs.shape[0], dtype=np.int64)
            for c, r in zip(code_cols, radix, strict=True):
                folded = folded * r + c
            uniq_f, inverse = np.unique(folded, return_inverse=True)
            uniq = np.zeros((uniq_f.shape[0], len(key_list)), dtype=np.int64)
            for j in range(len(key_list) - 1, -1, -1):
                uniq_f, uniq[:, j] = np.divmod(uniq_f, radix[j])
        else:
            uniq, inverse = np.unique(np.stack(code_cols, axis=1), axis=0, return_inverse=True)
        uniq = uniq - 1
        sums = np.zeros(uniq.shape[0], dtype=np.int64)
        np.add.at(sums, inverse.reshape(-1), legs["amount_fen"])
        decoded = [self._decode_key(k, uniq[:, j]) for j, k in enumerate(key_list)]
        out: dict[Any, int] = {}
        for row in range(uniq.shape[0]):
            key_val = tuple(col[row] for col in decoded)
            out[key_val[0] if single else key_val] = int(sums[row])
        return out

    def _decode_key(self, key: str, codes: np.ndarray) -> list[Any]:
        if key == "category":
            return [_CATEGORIES[c].value for c in codes]
        table = {"period": self._periods, "participant": self._parties,
                 "counterparty": self._parties, "memo": self._memos, "unit": self._units}[key]
        return table.decode(codes).tolist()

    # ----------------------------------------------------------------- round trip

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per payment: period, payer, payee, category, amount_fen, memo, unit."""
        cols = self.columns()
        pay = slice(0, None, 2)
        out = []
        for row in zip(cols["period"][pay].tolist(), cols["participant"][pay].tolist(),
                       cols["counterparty"][pay].tolist(), cols["category"][pay].tolist(),
                       (-cols["amount_fen"][pay]).tolist(), cols["memo"][pay].tolist(),
                       cols["unit"][pay].tolist(), strict=True):
            out.append(dict(zip(PAYMENT_FIELDS, row, strict=True)))
        return out

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Ledger:
        """Rebuild a ledger from :meth:`to_records` output (validated as :meth:`post_many`)."""
        recs = list(records)
        problems = []
        for i, rec in enumerate(recs):
            missing = [f for f in PAYMENT_FIELDS if f not in rec and f not in ("memo", "unit")]
            extra = sorted(set(rec) - set(PAYMENT_FIELDS))
            if missing or extra:
                problems.append(f"record {i}: missing {missing}, unknown {extra}")
        if problems:
            raise LedgerError("ledger records refused:\n  " + "\n  ".join(problems[:_MAX_SHOWN]))
        ledger = cls(capacity=2 * len(recs) + 2)
        if not recs:
            return ledger

        def col(name: str, default: Any = None) -> np.ndarray:
            return np.array([r.get(name, default) for r in recs], dtype=object)

        ledger.post_many(col("period"), col("payer"), col("payee"), col("category"),
                         memo=col("memo", ""), unit=col("unit"), amount_fen=col("amount_fen"))
        return ledger
