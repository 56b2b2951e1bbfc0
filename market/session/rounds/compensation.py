"""The compensation step: a month's coal capacity compensation.

A failure is a test call (``call_hours``, and the month's stress hours found by energy
rounds) in which the unit's available MW is below its declared maximum (the rules'
``compensation.failure_basis`` decides how failures are counted). The capacity payment of the
month offsets the compensation (no double payment); a unit with
``full_losses_to_end_eligibility`` full losses in the year is paid no more. Amounts are fen.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from clearing.jsonable import jsonable
from market.compensation.calls import call_records
from market.compensation.funding import settle_compensation
from market.compensation.scheme import eligible_units
from market.session.books import SessionBooks
from market.session.rounds.registry import Entries, Step, register
from market.session.setup import RoundSpec


class Compensation(Step):
    """The ``compensation`` step (see the module docstring)."""

    name: ClassVar[str] = "compensation"

    def clear(self, s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
        return _compensate(s, spec)


def _compensate(s: SessionBooks, spec: RoundSpec) -> dict[str, Any]:
    month = spec.month or 1
    period = s.period(month)
    fleet, rules = s.fleet, s.rules.compensation
    hours = np.array(s.hours_of_month(month), dtype=np.int64)
    idx = np.flatnonzero(eligible_units(fleet, rules))
    stress = np.isin(hours, sorted(s.stress_hours()))
    tests = np.isin(hours, s.profiles.call_hours)
    calls = call_records(
        rules.failure_basis, fleet.unit_ids[idx], fleet.declared_max_mw[idx],
        sold_mw=s.sold_mw()[np.ix_(idx, hours)].T, offered_mw=s.offered_mw()[np.ix_(idx, hours)].T,
        available_mw=s.available[np.ix_(idx, hours)].T, stress=stress,
        month_index=np.zeros(len(hours), dtype=np.int64), day_of_hour=hours // 24,
        test_hours=tests)
    loads = s.loads
    year, funding = settle_compensation(
        s.ledger, fleet, rules, calls, [period],
        capacity_monthly_fen=s.capacity_monthly_fen(month)[:, None],
        excluded=s.compensation_excluded(), load_ids=[ld.participant for ld in loads],
        load_mwh=np.array([[sum(ld.demand_mw[h] for h in hours)] for ld in loads]),
        industrial_commercial=np.array([ld.industrial_commercial for ld in loads]),
        renewable_mwh=s.metered_mw()[:, hours].sum(axis=1)[:, None])
    call_hours = hours[tests | stress] if rules.failure_basis == "hourly_available" else \
        hours[(s.sold_mw()[np.ix_(idx, hours)] > 0).any(axis=0) | stress]
    coal = np.flatnonzero(fleet.is_coal)
    units = [{"unit": str(fleet.unit_ids[i]), "owner": str(fleet.owners[i]),
              "eligible": bool(year.eligible[i, 0]), "failures": int(year.failures[i, 0]),
              "fraction": jsonable(year.fraction[i, 0]), "gross_fen": int(year.gross_fen[i, 0]),
              "deduction_fen": int(year.deduction_fen[i, 0]),
              "offset_fen": int(year.offset_fen[i, 0]), "net_fen": int(year.net_fen[i, 0])}
             for i in coal]
    return {"period": period, "call_hours": jsonable(call_hours),
            "units": units,
            "funding": [{"payer": p, "unit": u, "amount_fen": int(f)} for p, u, f in
                        zip(funding.payers, funding.units, funding.amount_fen, strict=True)]}


register(Compensation())
