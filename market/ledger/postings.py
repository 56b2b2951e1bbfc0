"""Payments gathered and posted together, and the exact fen splits every market uses.

* :class:`Postings`: batches of payments, each checked before any is posted (all or nothing);
* :func:`split_fen`: a total in fen shared pro rata to weights, exactly (largest remainder);
* :func:`monthly_fen`: annual payments (fen) split in equal monthly parts, exactly: the one
  annual-to-monthly split of the capacity market and of the compensation's offset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from market.errors import CapacityInputError, MarketError
from market.ledger.book import Category, Ledger
from market.ledger.fen import allocate_fen

MONTHS_PER_YEAR = 12


class Postings:
    """Payments gathered first and posted together: every batch is checked with
    ``Ledger.check_many`` before any is posted, so a refused settlement records nothing."""

    def __init__(self) -> None:
        self._batches: list[dict] = []

    def add(self, period: str, payers: Sequence[str] | np.ndarray,
            payees: Sequence[str] | np.ndarray,
            category: Category, amount_fen: np.ndarray, memo: str,
            units: Sequence[str | None] | None = None) -> None:
        """Queue one payment per row (int64 fen >= 0; zero rows are skipped by the ledger)."""
        fen = np.asarray(amount_fen, dtype=np.int64)
        if fen.size == 0:
            return
        self._batches.append(dict(
            period=period, payer=np.asarray(payers, dtype=object),
            payee=np.asarray(payees, dtype=object), category=category, amount_fen=fen,
            memo=memo, unit=None if units is None else np.asarray(units, dtype=object)))

    def post(self, ledger: Ledger) -> None:
        """Check every queued batch, then post them all."""
        for batch in self._batches:
            ledger.check_many(**batch)
        for batch in self._batches:
            ledger.post_many(**batch)
        self._batches.clear()


def split_fen(total_fen: int, weights: np.ndarray, what: str,
              error: type[MarketError] = CapacityInputError) -> np.ndarray:
    """``total_fen`` shared pro rata to ``weights``, int64 fen summing to the total exactly;
    ``error`` (with ``what`` in its message) when the weights cannot split anything."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or len(w) == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise error(f"{what}: weights must be a non-empty 1-D array of finite numbers >= 0")
    if total_fen == 0:
        return np.zeros(len(w), dtype=np.int64)
    if w.sum() <= 0:
        raise error(f"{what}: weights sum to zero, so {total_fen / 100:.2f} yuan cannot be "
                    "shared out")
    return np.asarray(allocate_fen(int(total_fen), w), dtype=np.int64)


def monthly_fen(annual_fen: np.ndarray | Sequence[int], what: str = "payment by month",
                error: type[MarketError] = CapacityInputError) -> np.ndarray:
    """int64 (n, 12): each annual amount (fen) split in twelve equal parts, exactly."""
    twelfths = np.ones(MONTHS_PER_YEAR)
    annual = np.asarray(annual_fen)
    out = [split_fen(int(f), twelfths, what, error) for f in annual.reshape(-1)]
    return np.array(out, dtype=np.int64).reshape(len(out), MONTHS_PER_YEAR)
