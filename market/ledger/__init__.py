"""The ledger: double-entry payments in int64 fen, and the exact fen splits every market uses.

Entry points: :class:`Ledger` (post, totals, balance), :class:`Postings` (all-or-nothing
batches), :func:`split_fen` (pro rata to the fen), :func:`monthly_fen` (annual -> 12 months).

>>> monthly_fen([1_200_000_01])[0][:2].tolist()
[10000001, 10000000]
"""

from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.ledger.postings import Postings, monthly_fen, split_fen

__all__ = ["SYSTEM_OPERATOR", "Category", "Ledger", "Postings", "monthly_fen", "split_fen"]
