"""Capacity-market money in the ledger: payments, performance penalties, and the cost charged
to loads. Both the game's rounds and the simulated year settle through these functions.

* ``capacity_payment``: system operator -> unit owner, the annual payment split in twelve
  monthly payments exactly to the fen (:func:`market.ledger.postings.monthly_fen`);
* ``performance_penalty``: unit owner -> system operator;
* ``performance_bonus``: system operator -> unit owner, out of the penalties (when the rules'
  ``performance_bonus`` is on); a bonus revised down in the game comes back owner -> operator;
* ``cost_allocation``: load -> system operator, each month's payments split across loads by
  their share of peak load (MW) or of energy (MWh), exactly to the fen; penalties are refunded
  the same way (system operator -> load).

Loads are named by the caller: ``payers`` (who pays: a load id, or the load's owner) and
optionally ``units`` (the load id in the ledger's unit column).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from market.capacity.auction import CapacityResult
from market.capacity.performance import PerformanceResult
from market.errors import CapacityInputError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.ledger.postings import Postings, monthly_fen, split_fen

CAPACITY_PAYMENT = Category("capacity_payment")
PERFORMANCE_PENALTY = Category("performance_penalty")
PERFORMANCE_BONUS = Category("performance_bonus")
COST_ALLOCATION = Category("cost_allocation")
COST_MEMO = "capacity market cost"
REFUND_MEMO = "capacity market penalties refunded"


def _batch(ledger: Ledger | Postings) -> tuple[Postings, Ledger | None]:
    """A Postings to add to, and the ledger to post it to now (None: the caller posts)."""
    if isinstance(ledger, Postings):
        return ledger, None
    return Postings(), ledger


def _done(batch: Postings, ledger: Ledger | None) -> None:
    if ledger is not None:
        batch.post(ledger)


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
                           payers: Sequence[str], weights: np.ndarray,
                           units: Sequence[str | None] | None = None) -> np.ndarray:
    """Charge ``total_fen`` to loads pro rata to ``weights`` (payer -> system operator), exactly
    to the fen; returns int64 (n_loads,) fen charged. A negative total (penalties) is refunded
    the same way, system operator -> payer, and comes back negative."""
    if len(payers) != len(weights):
        raise CapacityInputError(f"{len(payers)} load payers but {len(weights)} weights")
    charged = split_fen(abs(int(total_fen)), weights, "capacity cost allocation")
    loads, operator = list(payers), [SYSTEM_OPERATOR] * len(payers)
    batch, now = _batch(ledger)
    if total_fen >= 0:
        batch.add(period, loads, operator, COST_ALLOCATION, charged, COST_MEMO, units)
    else:
        batch.add(period, operator, loads, COST_ALLOCATION, charged, REFUND_MEMO, units)
        charged = -charged
    _done(batch, now)
    return charged


def settle_capacity(ledger: Ledger | Postings, result: CapacityResult, periods: Sequence[str],
                    months: Sequence[int], payers: Sequence[str], weights: np.ndarray, *,
                    units: Sequence[str | None] | None = None,
                    by_month: bool = False) -> np.ndarray:
    """Pay the capacity of ``months`` (calendar months 1-12, one ledger label each in
    ``periods``) and charge each month's total to the loads; returns the int64 (n, 12)
    monthly payments (fen) of every unit. ``by_month`` posts month by month (payments, then
    their charge); otherwise every payment first, then every charge."""
    if len(periods) != len(months) or not periods:
        raise CapacityInputError("settle_capacity needs one ledger period per month paid")
    monthly = monthly_fen(result.payment_fen, "capacity payment")
    memo = f"capacity {result.delivery_year} ({result.format})"
    operator = [SYSTEM_OPERATOR] * len(result.unit_ids)
    units_paid = result.unit_ids.tolist()
    batch, now = _batch(ledger)

    def pay(period: str, m: int) -> None:
        batch.add(period, operator, result.owners, CAPACITY_PAYMENT, monthly[:, m - 1], memo,
                  units_paid)

    def charge(period: str, m: int) -> None:
        allocate_capacity_cost(batch, period, int(monthly[:, m - 1].sum()), payers, weights,
                               units)

    pairs = list(zip(periods, months, strict=True))
    if by_month:
        for period, m in pairs:
            pay(period, m)
            charge(period, m)
    else:
        for period, m in pairs:
            pay(period, m)
        for period, m in pairs:
            charge(period, m)
    _done(batch, now)
    return monthly


def charge_performance(ledger: Ledger | Postings, performance: PerformanceResult, period: str,
                       payers: Sequence[str], weights: np.ndarray, *,
                       units: Sequence[str | None] | None = None,
                       charged_fen: np.ndarray | None = None,
                       bonus_paid_fen: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Charge each unit's penalty not charged yet (``charged_fen``: int64 (n,) already paid,
    default none), owner -> system operator; pay each unit's bonus not paid yet
    (``bonus_paid_fen``, default none; a bonus revised down is taken back), operator -> owner;
    refund what is left to the loads by ``weights`` (charged to them if bonuses now paid
    exceed the penalties now charged, which the game's revisions can do). Returns the int64
    (n,) penalties charged now and the int64 (n,) bonus change paid now (negative: taken
    back)."""
    n = len(performance.unit_ids)
    due = performance.penalty_fen
    if charged_fen is not None:
        due = np.maximum(due - np.asarray(charged_fen, dtype=np.int64), 0)
    before = np.zeros(n, dtype=np.int64) if bonus_paid_fen is None \
        else np.asarray(bonus_paid_fen, dtype=np.int64)
    bonus = np.asarray(performance.bonus_fen, dtype=np.int64) - before
    owners, operator, ids = performance.owners, [SYSTEM_OPERATOR] * n, \
        performance.unit_ids.tolist()
    batch, now = _batch(ledger)
    batch.add(period, owners, operator, PERFORMANCE_PENALTY, due,
              f"capacity performance, {performance.stress_hours} stress hours", ids)
    if bonus.any():
        memo = (f"capacity performance bonus, {performance.bonus_rate_yuan_per_mwh:.2f} "
                "yuan/MWh of excess")
        batch.add(period, operator, owners, PERFORMANCE_BONUS, np.maximum(bonus, 0), memo, ids)
        batch.add(period, owners, operator, PERFORMANCE_BONUS, np.maximum(-bonus, 0),
                  "capacity performance bonus revised down", ids)
    allocate_capacity_cost(batch, period, int(bonus.sum()) - int(due.sum()), payers, weights,
                           units)
    _done(batch, now)
    return np.asarray(due, dtype=np.int64), bonus
