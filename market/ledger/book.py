"""The double-entry ledger: every payment of every market, between participants and the operator.

One payment is two legs in one period: the payer's leg is ``-amount`` and the payee's leg is
``+amount``. Amounts are int64 **fen** (0.01 yuan), rounded half-even once, at posting. Because
each payment adds ``+a`` and ``-a`` to the same period, every period sums to zero by
construction; :meth:`Ledger.balance` shows it.

Legs are kept in growable structured arrays (``LEG_DTYPE``) with names as int32 codes into
name tables, so a year of hourly settlement (hundreds of thousands of legs) is posted with
:meth:`Ledger.post_many` in a few array operations, without a Python loop per entry.

The fen arithmetic (half-even rounding of yuan, :func:`allocate_fen`) is in
:mod:`market.ledger.fen`, the leg records and the checks of posting arguments in
:mod:`market.ledger.legs`; everything public there is re-exported here.

Example::

    ledger = Ledger()
    ledger.post("2025-01", "load_07", SYSTEM_OPERATOR, Category.COST_ALLOCATION, 1234.565)
    ledger.balance()                      # 0
    ledger.totals_by("participant")       # {"load_07": -123456, "system_operator": 123456}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from market.errors import LedgerError
from market.ledger.fen import MAX_AMOUNT_FEN, allocate_fen, round_half_even_div, yuan_to_fen
from market.ledger.legs import (
    _CATEGORIES,
    _CATEGORY_CODE,
    _MAX_SHOWN,
    ENTRY_DTYPE,
    LEG_DTYPE,
    PAYMENT_FIELDS,
    TOTAL_KEYS,
    Category,
    NameTable,
    prepare_legs,
)

# Names defined in the ledger_* modules are part of this module's interface.
__all__ = ["ENTRY_DTYPE", "LEG_DTYPE", "MAX_AMOUNT_FEN", "PAYMENT_FIELDS", "SYSTEM_OPERATOR",
           "TOTAL_KEYS", "Category", "Ledger", "LedgerError", "allocate_fen",
           "round_half_even_div", "yuan_to_fen"]

#: The name of the system operator as a participant of the ledger.
SYSTEM_OPERATOR = "system_operator"


class Ledger:
    """Double-entry ledger of payments in int64 fen; every period sums to zero.

    ``post``/``post_many`` add payments; ``entries``/``columns``/``legs`` read them back;
    ``balance`` and ``totals_by`` sum them; ``to_records``/``from_records`` round-trip.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._legs = np.zeros(max(int(capacity), 2), dtype=LEG_DTYPE)
        self._n = 0
        self._payments = 0
        self._periods = NameTable()
        self._parties = NameTable()
        self._memos = NameTable()
        self._units = NameTable()

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
        tables = (self._periods, self._parties, self._memos, self._units)
        return prepare_legs(tables, period, payer, payee, category, amount_yuan, memo, unit,
                            amount_fen)

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
