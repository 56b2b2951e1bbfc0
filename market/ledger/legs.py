"""What a ledger leg is, and how posting arguments become legs.

A leg is one side of a payment, stored as a ``LEG_DTYPE`` record with its names (period,
participant, counterparty, memo, unit) as int32 codes into name tables (in first-seen order)
and its category as an int8 code of :class:`Category`. :func:`prepare_legs` checks everything a
posting gives, as scalars or 1-D arrays, reports every problem at once, and builds the legs
without a Python loop per payment. Everything public here is re-exported by
:mod:`market.ledger.book`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np

from market.errors import LedgerError
from market.ledger.fen import _fen_column, yuan_to_fen

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
    PERFORMANCE_BONUS = "performance_bonus"
    CONTRACT_DIFFERENCE = "contract_difference"
    MECHANISM_SETTLEMENT = "mechanism_settlement"
    MECHANISM_CHARGE = "mechanism_charge"


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


# --------------------------------------------------------------------- name tables

class NameTable:
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
        """Store the new names :meth:`plan` numbered (in code order)."""
        for name in new:
            self.code[name] = len(self.names)
            self.names.append(name)
        if new:
            self._decoded = None

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Names of int32 ``codes`` as an object array of the same shape (``None`` for -1)."""
        if self._decoded is None:
            self._decoded = np.array(self.names + [None], dtype=object)
        return self._decoded[codes]  # code -1 picks the trailing None


#: The name tables of a ledger, in the order :func:`prepare_legs` plans them and returns their
#: new names: periods, parties (payers and payees), memos, units.
NameTables = tuple[NameTable, NameTable, NameTable, NameTable]


# --------------------------------------------------------------------- posting arguments to legs

def prepare_legs(tables: NameTables, period: Any, payer: Any, payee: Any, category: Any,
                 amount_yuan: Any, memo: Any, unit: Any, amount_fen: Any
                 ) -> tuple[int, np.ndarray | None, list[list[str]]]:
    """Validate posting arguments (as :meth:`Ledger.post_many` takes them) and build the legs.

    Returns (n rows given, the legs ``LEG_DTYPE`` (2 m,) of the m non-zero payments in order,
    payer's leg first, with ``payment`` left 0 -- or ``None`` when every amount is zero --, and
    the new names of the period, party, memo and unit tables, to commit when the legs are
    stored). Raises one :class:`LedgerError` listing every problem; nothing is stored here.
    """
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
    period_t, party_t, memo_t, unit_t = tables
    pc, new_periods = period_t.plan(periods[keep])
    party_codes, new_parties = party_t.plan(np.concatenate([payers[keep], payees[keep]]))
    mc, new_memos = memo_t.plan(memos[keep])
    present = has_unit[keep]
    uc = np.full(m, -1, dtype=np.int32)
    new_units: list[str] = []
    if present.any():
        codes, new_units = unit_t.plan(units[keep][present])
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
