"""Capacity compensation of coal units that support renewable bases (Guofa [2023] No. 16 item 17,
on the pattern of NDRC/NEA notice 1501 of 2023).

Monthly, per eligible unit, in fen (0.01 yuan), computed once here and posted as computed:

* **gross** = fixed-cost standard x recovery ratio x declared maximum output / 12
  (yuan/kW·yr x kW / 12): 330 x 0.30 x 600,000 kW / 12 = 4,950,000 yuan for a 600 MW unit;
* **deduction** (due) = gross x the deduction table's fraction for the month's failures (a
  failure is a call the unit did not deliver; :func:`count_failures` counts them from call
  records): what the failures would take from the payment;
* **offset**, by ``compensation.offset``: ``"capacity_payment"`` (the default, no double
  payment) -- the capacity market pays first and in full, and its payment of the month (the
  annual payment split in twelve, exactly) replaces the compensation up to the gross;
  ``"none"`` -- no offset, the unit is paid in both;
* **net** = max(gross - offset - deduction, 0): the only money that moves. A unit both
  compensated and cleared thus gets max(capacity payment, compensation after deduction) a
  month, never both;
* **deducted** = gross - offset - net = min(deduction, gross - offset): what the failures
  actually cost the unit. When the offset already takes the whole gross, nothing is deducted
  (the deduction stays "due" on paper, in the failures log, but moves no money).

So gross = offset + deducted + net, every part >= 0.

Eligibility: coal registered as supporting renewable units (``supporting``) or all coal
(``all_coal``). A month with a 100 % deduction is a full loss; after the
``full_losses_to_end_eligibility``-th full loss of the year the unit is out from the next month
on (``lost_eligibility`` tells the caller to pass it in ``excluded`` in later years). With the
mechanism disabled nobody is eligible and every amount is zero.

Calls and failures: :mod:`market.compensation.calls`; funding and postings:
:mod:`market.compensation.funding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clearing.grid import KW_PER_MW
from market.errors import CompensationInputError
from market.ledger.book import Category
from market.rules import CompensationRules
from market.units import Fleet

COMPENSATION = Category("compensation")
MONTHS_PER_YEAR = 12


def month_periods(year: int) -> list[str]:
    """Ledger period labels of a year's months: ``["2025-01", ..., "2025-12"]``."""
    return [f"{year:04d}-{m:02d}" for m in range(1, MONTHS_PER_YEAR + 1)]


def eligible_units(fleet: Fleet, rules: CompensationRules) -> np.ndarray:
    """bool (n,): units the mechanism pays (before any loss of eligibility)."""
    if not rules.enabled:
        return np.zeros(len(fleet), dtype=bool)
    if rules.eligibility == "all_coal":
        return fleet.is_coal.copy()
    return fleet.is_coal & fleet.is_supporting


def monthly_payment_fen(fleet: Fleet, rules: CompensationRules) -> np.ndarray:
    """int64 (n,): undeducted monthly payment of every unit as if eligible, fen:
    yuan/kW·yr x recovery ratio x declared maximum MW x 1000 / 12 x 100."""
    yuan = rules.monthly_payment_yuan_per_kw() * fleet.declared_max_mw * KW_PER_MW
    return np.rint(yuan * 100.0).astype(np.int64)


def deduction_fractions(failures: np.ndarray, rules: CompensationRules) -> np.ndarray:
    """float64, shape of ``failures``: the share of a month's payment lost for that many
    failures (the table's row with the largest count <= failures; 0 below the first row)."""
    counts = np.asarray(failures)
    thresholds = np.array([row.failures for row in rules.deductions], dtype=np.int64)
    fractions = np.array([0.0] + [row.fraction for row in rules.deductions])
    return fractions[np.searchsorted(thresholds, counts, side="right")]


def count_failures(fleet: Fleet, unit_ids: Sequence[str], month_index: np.ndarray,
                   called_mw: np.ndarray, delivered_mw: np.ndarray, *,
                   n_months: int = MONTHS_PER_YEAR, tolerance_mw: float = 0.0) -> np.ndarray:
    """Failures per unit and month, int64 (n_units, n_months), from k call records.

    A call asks a unit for ``called_mw`` (capped at its declared maximum output: nobody is
    asked for more); it fails when ``delivered_mw`` < that - ``tolerance_mw``. ``month_index``
    is the 0-based month of each call (int, in [0, n_months)).
    """
    units = fleet.indices(unit_ids)
    month = np.asarray(month_index)
    called = np.asarray(called_mw, dtype=np.float64)
    delivered = np.asarray(delivered_mw, dtype=np.float64)
    k = len(units)
    if not (month.shape == called.shape == delivered.shape == (k,)):
        raise CompensationInputError(
            f"call records need one unit id, month_index, called_mw and delivered_mw per call; "
            f"got {k}, {month.shape}, {called.shape}, {delivered.shape}")
    if k and (month.dtype.kind not in "iu" or month.min() < 0 or month.max() >= n_months):
        raise CompensationInputError(f"month_index must be integers in [0, {n_months})")
    if not (np.all(np.isfinite(called)) and np.all(np.isfinite(delivered))
            and np.all(called >= 0) and np.all(delivered >= 0)):
        raise CompensationInputError("called_mw and delivered_mw must be finite and >= 0")
    asked = np.minimum(called, fleet.declared_max_mw[units])
    failed = delivered < asked - tolerance_mw
    out = np.zeros((len(fleet), n_months), dtype=np.int64)
    np.add.at(out, (units[failed], month[failed].astype(np.int64)), 1)
    return out


@dataclass(frozen=True, eq=False)
class CompensationYear:
    """A year (M months) of compensation, arrays (n_units, M) in fleet order unless noted.

    * ``eligible``: bool, paid in that month; ``failures`` int64; ``fraction`` float64;
    * ``gross_fen``, ``deduction_fen`` (due by the table), ``offset_fen``, ``net_fen``: int64
      fen, net = max(gross - offset - deduction, 0) (see the module docstring);
      :attr:`deducted_fen` = gross - offset - net;
    * ``lost_eligibility``: bool (n,); ``lost_from_month``: int64 (n,), first 0-based month
      without eligibility (M when the last month was the limit-th full loss), -1 if kept.
    """

    periods: tuple[str, ...]
    unit_ids: np.ndarray
    owners: np.ndarray
    eligible: np.ndarray
    failures: np.ndarray
    fraction: np.ndarray
    gross_fen: np.ndarray
    deduction_fen: np.ndarray
    offset_fen: np.ndarray
    net_fen: np.ndarray
    lost_eligibility: np.ndarray
    lost_from_month: np.ndarray

    @property
    def deducted_fen(self) -> np.ndarray:
        """int64 (n, M): what the failures took from the payment, gross - offset - net
        (at most the deduction due; 0 where the offset took the whole gross)."""
        return self.gross_fen - self.offset_fen - self.net_fen

    @property
    def paid_fen(self) -> np.ndarray:
        """int64 (n, M): what the ``compensation`` entries pay, the net (the only posting)."""
        return self.net_fen

    def summary(self) -> dict[str, dict[str, float]]:
        """Per unit with any gross payment: yuan gross, deduction (due), offset, deducted and
        net over the year."""
        out = {}
        for i in np.flatnonzero(self.gross_fen.sum(axis=1) > 0):
            out[str(self.unit_ids[i])] = {
                name: float(getattr(self, f"{name}_fen")[i].sum()) / 100
                for name in ("gross", "deduction", "offset", "deducted", "net")}
        return out


def _monthly_capacity_fen(capacity_monthly_fen: np.ndarray | None, n: int,
                          m: int) -> np.ndarray:
    if capacity_monthly_fen is None:
        return np.zeros((n, m), dtype=np.int64)
    pay = np.asarray(capacity_monthly_fen)
    if pay.dtype.kind not in "iu" or np.any(pay < 0):
        raise CompensationInputError("capacity_monthly_fen must be integer fen >= 0")
    if pay.shape != (n, m):
        raise CompensationInputError(
            f"capacity_monthly_fen must be monthly per unit ({n}, {m}) (see "
            f"market.ledger.postings.monthly_fen); got shape {pay.shape}")
    return pay.astype(np.int64)


def compensate_year(
    fleet: Fleet, rules: CompensationRules, failures: np.ndarray, periods: Sequence[str], *,
    capacity_monthly_fen: np.ndarray | None = None, excluded: np.ndarray | None = None,
) -> CompensationYear:
    """Compensation of one year for every unit.

    * ``failures``: int (n_units, M), failures per unit and month (:func:`count_failures`);
    * ``periods``: M ledger labels (:func:`month_periods`);
    * ``capacity_monthly_fen``: int64 (n, M) capacity-market payments of those months, used
      only when ``offset`` is ``"capacity_payment"``;
    * ``excluded``: bool (n,), units that lost eligibility in an earlier year.
    """
    n, m = len(fleet), len(periods)
    counts = np.asarray(failures)
    if counts.shape != (n, m) or counts.dtype.kind not in "iu" or np.any(counts < 0):
        raise CompensationInputError(
            f"failures must be integer counts >= 0 of shape (n_units={n}, months={m}), got "
            f"shape {counts.shape} dtype {counts.dtype}")
    out = np.zeros(n, dtype=bool) if excluded is None else np.asarray(excluded, dtype=bool)
    if out.shape != (n,):
        raise CompensationInputError(f"excluded must be a bool mask of {n} units")
    capacity = _monthly_capacity_fen(capacity_monthly_fen, n, m)
    fraction = deduction_fractions(counts, rules)
    full = fraction >= 1.0
    eligible = np.repeat((eligible_units(fleet, rules) & ~out)[:, None], m, axis=1)
    # Only full losses in months still eligible count; the limit-th shuts the months after it.
    count = np.zeros(n, dtype=np.int64)
    lost_from = np.full(n, -1, dtype=np.int64)
    limit = rules.full_losses_to_end_eligibility
    for j in range(m):
        eligible[:, j] &= count < limit
        count += eligible[:, j] & full[:, j]
        lost_from[(count >= limit) & (lost_from < 0)] = j + 1
    gross = np.where(eligible, monthly_payment_fen(fleet, rules)[:, None], 0)
    deduction = np.rint(gross * fraction).astype(np.int64)
    offset = np.zeros((n, m), dtype=np.int64)
    if rules.offset == "capacity_payment":
        offset = np.minimum(capacity, gross)
    return CompensationYear(
        periods=tuple(periods), unit_ids=fleet.unit_ids, owners=fleet.owners, eligible=eligible,
        failures=counts.astype(np.int64), fraction=np.where(eligible, fraction, 0.0),
        gross_fen=gross, deduction_fen=deduction, offset_fen=offset,
        net_fen=np.maximum(gross - offset - deduction, 0), lost_eligibility=lost_from >= 0,
        lost_from_month=lost_from)
