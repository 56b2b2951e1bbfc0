"""The obligation step: retirement against the year's renewable consumption obligation.

Each participant owning obligated loads retires certificates for ``obligation_weight`` x their
demand (MWh) over the session's hours; a shortfall pays the rules' penalty (fen).
"""

from __future__ import annotations

from typing import Any, ClassVar

from clearing.jsonable import jsonable
from market.session.books import SessionBooks
from market.session.rounds.registry import Entries, Step, register
from market.session.setup import RoundSpec


class Obligation(Step):
    """The ``obligation`` step (see the module docstring)."""

    name: ClassVar[str] = "obligation"

    def clear(self, s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
        return _retire(s, spec)


def _retire(s: SessionBooks, spec: RoundSpec) -> dict[str, Any]:
    period = s.period(spec.month or 1)
    s.advance_registry(period)
    compliance = f"{s.rules.meta.year:04d}"
    consumption: dict[str, float] = {}
    for ld in s.loads:
        if ld.obligated:
            consumption[ld.participant] = consumption.get(ld.participant, 0.0) + sum(ld.demand_mw)
    names = list(consumption)
    if not names:
        return {"compliance_period": compliance, "period": period, "participants": []}
    out = s.green_market.settle_obligations(names, [consumption[p] for p in names], compliance,
                                            period)
    s.log_registry({"op": "retire", "owners": names, "ticks": jsonable(out.retired_ticks),
                    "period": compliance})
    return {"compliance_period": compliance, "period": period,
            "participants": [
                {"participant": p, "consumption_mwh": consumption[p],
                 "obligation_mwh": jsonable(out.obligation_mwh[k]),
                 "retired_mwh": jsonable(out.retired_mwh[k]),
                 "shortfall_mwh": jsonable(out.shortfall_mwh[k]),
                 "penalty_fen": int(out.penalty_fen[k])}
                for k, p in enumerate(names)]}


register(Obligation())
