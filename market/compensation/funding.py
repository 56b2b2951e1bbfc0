"""Who pays for the coal compensation, the ledger postings, and the one settlement of a run of
months that the game's compensation round and the simulated year both call.

Funding (:func:`fund_compensation`): each month's net total is charged to industrial and
commercial loads by their monthly MWh, or each unit's net to the renewable units it supports
by their monthly output (equal shares in a month they produced nothing). Postings
(:func:`post_compensation_year`): only money that moves -- ``compensation`` system operator ->
owner, the month's net (gross - offset - deduction, at least 0), and ``cost_allocation``
payer -> system operator. A unit-month whose payment is fully offset or deducted posts nothing;
its gross, offset, deduction due and deducted amounts are in :class:`CompensationYear` (and the
simulated year's ``failures.csv`` and ``monthly.csv``). Amounts in fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from market.compensation.calls import Calls
from market.compensation.scheme import (
    COMPENSATION,
    CompensationYear,
    compensate_year,
    count_failures,
)
from market.errors import CompensationInputError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.ledger.postings import Postings, split_fen
from market.rules import CompensationRules
from market.units import Fleet

COST_ALLOCATION = Category("cost_allocation")


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
    load_units: Sequence[str | None] | None = None,
) -> Funding:
    """Charges that pay for ``year``'s net compensation, exactly to the fen each month.

    * ``industrial_commercial_load``: ``load_ids`` (L,), ``load_mwh`` float64 (L, M) monthly
      MWh, ``industrial_commercial`` bool (L,) (None: every load given is one); each month's
      net total is split pro rata to the month's MWh of those loads (``load_units``: the
      ledger unit of each payer, default none).
    * ``supported_renewables``: ``renewable_mwh`` float64 (n_units, M) monthly output in fleet
      order; each unit's monthly net is split over the units it supports pro rata to their
      output that month (equal shares when they produced nothing).
    """
    if rules.funding == "industrial_commercial_load":
        return _fund_by_load(year, load_ids, load_mwh, industrial_commercial, load_units)
    return _fund_by_renewables(year, fleet, renewable_mwh)


def _fund_by_load(year: CompensationYear, load_ids: Sequence[str] | None,
                  load_mwh: np.ndarray | None, mask: np.ndarray | None,
                  load_units: Sequence[str | None] | None) -> Funding:
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
    named = [None] * len(ids) if load_units is None else list(load_units)
    payers, periods, fen = [], [], []
    units: list[str | None] = []
    for j, period in enumerate(year.periods):
        share = split_fen(int(year.net_fen[:, j].sum()), np.where(keep, mwh[:, j], 0.0),
                          f"compensation funding {period} by industrial/commercial MWh",
                          CompensationInputError)
        for k in np.flatnonzero(share):
            payers.append(ids[k])
            units.append(named[k])
            periods.append(period)
            fen.append(int(share[k]))
    return Funding(tuple(payers), tuple(units), tuple(periods), np.array(fen, dtype=np.int64))


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
    """Post the year, all or nothing: the net compensation (SO -> owner, zero rows skipped)
    and the funding (payer -> SO, ``cost_allocation``). Every period then sums to zero and the
    system operator nets zero when ``funding`` was made from ``year``."""
    batch = Postings()
    operator = [SYSTEM_OPERATOR] * len(year.unit_ids)
    units = year.unit_ids.tolist()
    for j, period in enumerate(year.periods):
        batch.add(period, operator, year.owners, COMPENSATION, year.net_fen[:, j],
                  "coal capacity compensation (net of offset and deductions)", units)
    for period in dict.fromkeys(funding.periods):
        rows = [r for r, p in enumerate(funding.periods) if p == period]
        batch.add(period, [funding.payers[r] for r in rows], [SYSTEM_OPERATOR] * len(rows),
                  COST_ALLOCATION, funding.amount_fen[rows], "coal capacity compensation funding",
                  [funding.units[r] for r in rows])
    batch.post(ledger)


def settle_compensation(
    ledger: Ledger, fleet: Fleet, rules: CompensationRules, calls: Calls,
    periods: Sequence[str], *, capacity_monthly_fen: np.ndarray | None = None,
    excluded: np.ndarray | None = None, load_ids: Sequence[str] | None = None,
    load_units: Sequence[str | None] | None = None, load_mwh: np.ndarray | None = None,
    industrial_commercial: np.ndarray | None = None, renewable_mwh: np.ndarray | None = None,
) -> tuple[CompensationYear, Funding]:
    """Count the failures of ``calls`` (month_index 0-based in ``periods``), compensate the
    months (:func:`~market.compensation.scheme.compensate_year`), fund and post them, all or
    nothing. Inputs as in :func:`compensate_year` and :func:`fund_compensation`."""
    failures = count_failures(fleet, calls.unit_ids.tolist(), calls.month_index,
                              calls.called_mw, calls.delivered_mw, n_months=len(periods))
    year = compensate_year(fleet, rules, failures, periods,
                           capacity_monthly_fen=capacity_monthly_fen, excluded=excluded)
    funding = fund_compensation(year, fleet, rules, load_ids=load_ids, load_mwh=load_mwh,
                                industrial_commercial=industrial_commercial,
                                renewable_mwh=renewable_mwh, load_units=load_units)
    post_compensation_year(ledger, year, funding)
    return year, funding
