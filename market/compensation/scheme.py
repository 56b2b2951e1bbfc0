"""Capacity compensation of coal units that support renewable bases (Guofa [2023] No. 16 item 17,
on the pattern of NDRC/NEA notice 1501 of 2023).

Monthly, per eligible unit, in fen (0.01 yuan), computed once here and posted as computed:

* **gross** = fixed-cost standard x recovery ratio x declared maximum output / 12
  (yuan/kW·yr x kW / 12): 330 x 0.30 x 600,000 kW / 12 = 4,950,000 yuan for a 600 MW unit;
* **deduction** = gross x the deduction table's fraction for the month's failures (a failure is
  a call the unit did not deliver; :func:`count_failures` counts them from call records);
* **offset** (no double payment, when ``allow_double_payment`` is false): the capacity market
  pays first and in full; compensation only tops it up, so the offset is the month's share of
  the unit's capacity payment (the annual payment split in twelve, exactly) up to what is left
  after the deduction. A unit both compensated and cleared thus gets max(capacity payment,
  compensation after deduction) a month, never both;
* **net** = gross - deduction - offset >= 0.

Eligibility: coal registered as supporting renewable units (``supporting``) or all coal
(``all_coal``). A month with a 100 % deduction is a full loss; after the
``full_losses_to_end_eligibility``-th full loss of the year the unit is out from the next month
on (``lost_eligibility`` tells the caller to pass it in ``excluded`` in later years). With the
mechanism disabled nobody is eligible and every amount is zero.

Funding (:func:`fund_compensation`): each month's net total is charged to industrial and
commercial loads by their monthly MWh, or each unit's net to the renewable units it supports
by their monthly output (equal shares in a month they produced nothing). Ledger postings
(:func:`post_compensation_year`): ``compensation`` system operator -> owner (gross - offset),
``deduction`` owner -> system operator (the failure deduction, a separate entry so paid vs
deducted reads straight off ``Ledger.totals_by("category")``), ``cost_allocation``
payer -> system operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from market.capacity.settlement import Postings, split_fen
from market.errors import CompensationInputError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.rules import CompensationRules
from market.units import Fleet

COMPENSATION = Category("compensation")
DEDUCTION = Category("deduction")
COST_ALLOCATION = Category("cost_allocation")
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
    yuan = rules.monthly_payment_yuan_per_kw() * fleet.declared_max_mw * 1000.0
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
    * ``gross_fen``, ``deduction_fen``, ``offset_fen``, ``net_fen``: int64 fen,
      net = gross - deduction - offset;
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
    def paid_fen(self) -> np.ndarray:
        """int64 (n, M): what the ``compensation`` entries pay (gross - offset)."""
        return self.gross_fen - self.offset_fen

    def summary(self) -> dict[str, dict[str, float]]:
        """Per unit with any gross payment: yuan gross, deducted, offset and net over the year."""
        out = {}
        for i in np.flatnonzero(self.gross_fen.sum(axis=1) > 0):
            out[str(self.unit_ids[i])] = {
                name: float(getattr(self, f"{name}_fen")[i].sum()) / 100
                for name in ("gross", "deduction", "offset", "net")}
        return out


def _monthly_capacity_fen(capacity_payment_fen: np.ndarray | None, n: int,
                          m: int) -> np.ndarray:
    if capacity_payment_fen is None:
        return np.zeros((n, m), dtype=np.int64)
    pay = np.asarray(capacity_payment_fen)
    if pay.dtype.kind not in "iu" or np.any(pay < 0):
        raise CompensationInputError("capacity_payment_fen must be integer fen >= 0")
    if pay.shape == (n, m):
        return pay.astype(np.int64)
    if pay.shape == (n,) and m == MONTHS_PER_YEAR:
        twelfths = np.ones(MONTHS_PER_YEAR)
        return np.array([split_fen(int(p), twelfths, "capacity payment by month",
                                   CompensationInputError) for p in pay], dtype=np.int64)
    raise CompensationInputError(
        f"capacity_payment_fen must be annual per unit ({n},) for a 12-month year, or monthly "
        f"({n}, {m}); got shape {pay.shape}")


def compensate_year(
    fleet: Fleet, rules: CompensationRules, failures: np.ndarray, periods: Sequence[str], *,
    capacity_payment_fen: np.ndarray | None = None, excluded: np.ndarray | None = None,
) -> CompensationYear:
    """Compensation of one year for every unit.

    * ``failures``: int (n_units, M), failures per unit and month (:func:`count_failures`);
    * ``periods``: M ledger labels (:func:`month_periods`);
    * ``capacity_payment_fen``: int64 (n,) annual or (n, M) monthly capacity-market payments,
      used only when ``allow_double_payment`` is false;
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
    capacity = _monthly_capacity_fen(capacity_payment_fen, n, m)
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
    if not rules.allow_double_payment:
        offset = np.minimum(capacity, gross - deduction)
    return CompensationYear(
        periods=tuple(periods), unit_ids=fleet.unit_ids, owners=fleet.owners, eligible=eligible,
        failures=counts.astype(np.int64), fraction=np.where(eligible, fraction, 0.0),
        gross_fen=gross, deduction_fen=deduction, offset_fen=offset,
        net_fen=gross - deduction - offset, lost_eligibility=lost_from >= 0,
        lost_from_month=lost_from)


@dataclass(frozen=True, eq=False)
class Funding:
    """Who pays for the compensation: one row per payer, month (and supported unit).

    ``payers`` (participant ids), ``units`` (the renewable unit charged, or None for a load),
    ``periods`` and ``amount_fen`` (int64), all of length r.
    """

    payers: tuple[str, ...]
    units: tuple[str | None, ...]
    periods: tuple[str, ...]
    amount_fen: np.ndarray

    def by_payer(self) -> dict[str, int]:
        """Total fen charged per payer."""
        out: dict[str, int] = {}
        for who, fen in zip(self.payers, self.amount_fen.tolist(), strict=True):
            out[who] = out.get(who, 0) + fen
        return out


def fund_compensation(
    year: CompensationYear, fleet: Fleet, rules: CompensationRules, *,
    load_ids: Sequence[str] | None = None, load_mwh: np.ndarray | None = None,
    industrial_commercial: np.ndarray | None = None, renewable_mwh: np.ndarray | None = None,
) -> Funding:
    """Charges that pay for ``year``'s net compensation, exactly to the fen each month.

    * ``industrial_commercial_load``: ``load_ids`` (L,), ``load_mwh`` float64 (L, M) monthly
      MWh, ``industrial_commercial`` bool (L,) (None: every load given is one); each month's
      net total is split pro rata to the month's MWh of those loads.
    * ``supported_renewables``: ``renewable_mwh`` float64 (n_units, M) monthly output in fleet
      order; each unit's monthly net is split over the units it supports pro rata to their
      output that month (equal shares when they produced nothing).
    """
    if rules.funding == "industrial_commercial_load":
        return _fund_by_load(year, load_ids, load_mwh, industrial_commercial)
    return _fund_by_renewables(year, fleet, renewable_mwh)


def _fund_by_load(year: CompensationYear, load_ids: Sequence[str] | None,
                  load_mwh: np.ndarray | None, mask: np.ndarray | None) -> Funding:
    m = len(year.periods)
    if load_ids is None or load_mwh is None:
        raise CompensationInputError("funding by industrial and commercial load needs load_ids "
                                     "and load_mwh (n_loads, months)")
    ids = list(load_ids)
    mwh = np.asarray(load_mwh, dtype=np.float64)
    if mwh.shape != (len(ids), m):
        raise CompensationInputError(f"load_mwh must have shape ({len(ids)}, {m}), got "
                                     f"{mwh.shape}")
    keep = np.ones(len(ids), bool) if mask is None else np.asarray(mask, dtype=bool)
    if keep.shape != (len(ids),):
        raise CompensationInputError(f"industrial_commercial must be a bool mask of {len(ids)}")
    payers, periods, fen = [], [], []
    for j, period in enumerate(year.periods):
        share = split_fen(int(year.net_fen[:, j].sum()), np.where(keep, mwh[:, j], 0.0),
                          f"compensation funding {period} by industrial/commercial MWh",
                          CompensationInputError)
        for k in np.flatnonzero(share):
            payers.append(ids[k])
            periods.append(period)
            fen.append(int(share[k]))
    return Funding(tuple(payers), (None,) * len(payers), tuple(periods),
                   np.array(fen, dtype=np.int64))


def _fund_by_renewables(year: CompensationYear, fleet: Fleet,
                        renewable_mwh: np.ndarray | None) -> Funding:
    n, m = len(fleet), len(year.periods)
    if renewable_mwh is None:
        raise CompensationInputError("funding by supported renewables needs renewable_mwh "
                                     "(n_units, months)")
    out_mwh = np.asarray(renewable_mwh, dtype=np.float64)
    if out_mwh.shape != (n, m):
        raise CompensationInputError(f"renewable_mwh must have shape ({n}, {m}), got "
                                     f"{out_mwh.shape}")
    payers: list[str] = []
    units: list[str | None] = []
    periods, fen = [], []
    for i in np.flatnonzero(year.net_fen.sum(axis=1) > 0):
        supported = fleet.supported_units[i]
        if not supported:
            raise CompensationInputError(
                f"unit {fleet.unit_ids[i]!r} is compensated but supports no renewable unit, so "
                "funding by supported renewables has nobody to charge; use funding = "
                "industrial_commercial_load")
        idx = fleet.indices(supported)
        for j, period in enumerate(year.periods):
            w = out_mwh[idx, j]
            share = split_fen(int(year.net_fen[i, j]), w if w.sum() > 0 else np.ones(len(idx)),
                              f"compensation funding {period}", CompensationInputError)
            for k in np.flatnonzero(share):
                payers.append(str(fleet.owners[idx[k]]))
                units.append(str(fleet.unit_ids[idx[k]]))
                periods.append(period)
                fen.append(int(share[k]))
    return Funding(tuple(payers), tuple(units), tuple(periods), np.array(fen, dtype=np.int64))


def post_compensation_year(ledger: Ledger, year: CompensationYear, funding: Funding) -> None:
    """Post the year, all or nothing: compensation (SO -> owner), deduction (owner -> SO),
    funding (payer -> SO, ``cost_allocation``). Every period then sums to zero and the system
    operator nets zero when ``funding`` was made from ``year``."""
    batch = Postings()
    operator = [SYSTEM_OPERATOR] * len(year.unit_ids)
    units = year.unit_ids.tolist()
    for j, period in enumerate(year.periods):
        batch.add(period, operator, year.owners, COMPENSATION, year.paid_fen[:, j],
                  "coal capacity compensation (net of capacity-market offset)", units)
        batch.add(period, year.owners, operator, DEDUCTION, year.deduction_fen[:, j],
                  "coal capacity compensation: deduction for failures", units)
    for period in dict.fromkeys(funding.periods):
        rows = [r for r, p in enumerate(funding.periods) if p == period]
        batch.add(period, [funding.payers[r] for r in rows], [SYSTEM_OPERATOR] * len(rows),
                  COST_ALLOCATION, funding.amount_fen[rows], "coal capacity compensation funding",
                  [funding.units[r] for r in rows])
    batch.post(ledger)
