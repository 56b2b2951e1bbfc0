"""Capacity-market money in the ledger: payments, penalties, and the cost charged to loads.

* ``capacity_payment``: system operator -> unit owner, the annual payment (optionally spread
  over several periods, split exactly to the fen);
* ``performance_penalty``: unit owner -> system operator;
* ``cost_allocation``: load -> system operator, the net cost (payments minus penalties) split
  across loads by their share of peak load (MW) or of energy (MWh), exactly to the fen.

Every amount is computed in int64 fen here and posted once, so what the ledger holds is what
the result says, to the fen, and every period sums to zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from market.capacity.auction import CapacityResult
from market.capacity.performance import PerformanceResult
from market.errors import CapacityInputError, MarketError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger, allocate_fen
from market.rules import CapacityRules

CAPACITY_PAYMENT = Category("capacity_payment")
PERFORMANCE_PENALTY = Category("performance_penalty")
COST_ALLOCATION = Category("cost_allocation")


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
    """``allocate_fen`` with a clear error when the weights cannot split anything."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or len(w) == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise error(f"{what}: weights must be a non-empty 1-D array of finite numbers >= 0")
    if total_fen == 0:
        return np.zeros(len(w), dtype=np.int64)
    if w.sum() <= 0:
        raise error(f"{what}: weights sum to zero, so {total_fen / 100:.2f} yuan cannot be "
                    "shared out")
    return np.asarray(allocate_fen(int(total_fen), w), dtype=np.int64)


def _batch(ledger: Ledger | Postings) -> tuple[Postings, Ledger | None]:
    """A Postings to add to, and the ledger to post it to now (None: the caller posts)."""
    if isinstance(ledger, Postings):
        return ledger, None
    return Postings(), ledger


def _done(batch: Postings, ledger: Ledger | None) -> None:
    if ledger is not None:
        batch.post(ledger)


def post_capacity_payments(ledger: Ledger | Postings, result: CapacityResult,
                           periods: str | Sequence[str]) -> None:
    """Pay each unit's annual capacity payment, system operator -> owner. With several
    ``periods`` (e.g. twelve months) each payment is split equally and exactly to the fen.
    ``ledger`` may be a :class:`Postings` to queue into instead of posting."""
    labels = [periods] if isinstance(periods, str) else list(periods)
    if not labels:
        raise CapacityInputError("post_capacity_payments needs at least one period")
    shares = np.ones(len(labels))
    per_period = np.array([split_fen(int(f), shares, "capacity payment")
                           for f in result.payment_fen], dtype=np.int64).reshape(-1, len(labels))
    payers = [SYSTEM_OPERATOR] * len(result.unit_ids)
    memo = f"capacity {result.delivery_year} ({result.format})"
    batch, now = _batch(ledger)
    for j, period in enumerate(labels):
        batch.add(period, payers, result.owners, CAPACITY_PAYMENT, per_period[:, j], memo,
                  result.unit_ids.tolist())
    _done(batch, now)


def post_performance_penalties(ledger: Ledger | Postings, performance: PerformanceResult,
                               period: str) -> None:
    """Charge each unit's (stop-loss-capped) penalty, owner -> system operator."""
    batch, now = _batch(ledger)
    batch.add(period, performance.owners, [SYSTEM_OPERATOR] * len(performance.unit_ids),
              PERFORMANCE_PENALTY, performance.penalty_fen,
              f"capacity performance, {performance.stress_hours} stress hours",
              performance.unit_ids.tolist())
    _done(batch, now)


def load_weights(rule: str, peak_mw: np.ndarray | None = None,
                 energy_mwh: np.ndarray | None = None) -> np.ndarray:
    """Weights of the cost-allocation rule: ``peak_share`` uses each load's peak (MW),
    ``energy_share`` its energy (MWh); float64 (n_loads,)."""
    if rule == "peak_share":
        chosen, name = peak_mw, "peak_mw"
    elif rule == "energy_share":
        chosen, name = energy_mwh, "energy_mwh"
    else:
        raise CapacityInputError(f"cost_allocation must be peak_share or energy_share, got "
                                 f"{rule!r}")
    if chosen is None:
        raise CapacityInputError(f"cost allocation by {rule} needs {name} per load")
    return np.asarray(chosen, dtype=np.float64)


def allocate_capacity_cost(ledger: Ledger | Postings, period: str, total_fen: int,
                           load_ids: Sequence[str], weights: np.ndarray) -> np.ndarray:
    """Charge ``total_fen`` to loads pro rata to ``weights`` (load -> system operator), exactly
    to the fen; returns int64 (n_loads,) fen charged. A negative total (penalties above
    payments) is refunded the same way, system operator -> load, and comes back negative."""
    if len(load_ids) != len(weights):
        raise CapacityInputError(f"{len(load_ids)} load ids but {len(weights)} weights")
    charged = split_fen(abs(int(total_fen)), weights, "capacity cost allocation")
    loads, operator = list(load_ids), [SYSTEM_OPERATOR] * len(load_ids)
    batch, now = _batch(ledger)
    if total_fen >= 0:
        batch.add(period, loads, operator, COST_ALLOCATION, charged, "capacity market cost")
    else:
        batch.add(period, operator, loads, COST_ALLOCATION, charged,
                  "capacity market penalties refunded")
        charged = -charged
    _done(batch, now)
    return charged


@dataclass(frozen=True)
class CapacitySettlement:
    """Totals of one settled delivery year, in fen."""

    payments_fen: int
    penalties_fen: int
    charged_to_loads_fen: int


def settle_capacity_year(
    ledger: Ledger, result: CapacityResult, rules: CapacityRules, period: str,
    load_ids: Sequence[str], *, peak_mw: np.ndarray | None = None,
    energy_mwh: np.ndarray | None = None, performance: PerformanceResult | None = None,
) -> CapacitySettlement:
    """Post a delivery year in ``period``: payments, penalties (if assessed), and the net cost
    (payments - penalties) charged to loads by ``rules.cost_allocation``, split by peak MW or
    energy MWh. All or nothing; the system operator ends the period at zero."""
    weights = load_weights(rules.cost_allocation, peak_mw, energy_mwh)
    penalties = 0 if performance is None else performance.total_penalty_fen
    net = result.total_payment_fen - penalties
    batch = Postings()
    post_capacity_payments(batch, result, period)
    if performance is not None:
        post_performance_penalties(batch, performance, period)
    charged = allocate_capacity_cost(batch, period, net, load_ids, weights)
    batch.post(ledger)
    return CapacitySettlement(result.total_payment_fen, penalties, int(charged.sum()))
