"""The issuance step: certificates for a month's metered wind and solar output.

Output is metered as dispatched in hours an energy round cleared and as available in the
others; certificates are whole MWh, and what is short of one is carried to the next issue.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from clearing.jsonable import jsonable
from market.session.books import SessionBooks
from market.session.rounds.registry import Entries, Step, register
from market.session.setup import RoundSpec


class Issuance(Step):
    """The ``issuance`` step (see the module docstring)."""

    name: ClassVar[str] = "issuance"

    def clear(self, s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
        return _issue(s, spec)


def _issue(s: SessionBooks, spec: RoundSpec) -> dict[str, Any]:
    month = spec.month or 1
    period = s.period(month)
    s.advance_registry(period)
    issuing = s.registry.issuing_technologies
    idx = [i for i, t in enumerate(s.fleet.technologies.tolist()) if t in issuing]
    hours = s.hours_of_month(month)
    metered = s.metered_mw()[np.ix_(idx, hours)].sum(axis=1) if idx else np.zeros(0)
    units = [str(s.fleet.unit_ids[i]) for i in idx]
    certificates: list[int] = []
    carry: list[float] = []
    if units:
        mwh = [float(v) for v in metered]
        out = s.registry.issue(period, units, mwh)
        s.log_registry({"op": "issue", "month": period, "units": units, "metered_mwh": mwh})
        certificates = [int(c) for c in out.certificates[:, 0]]
        carry = [float(c) for c in out.carry_mwh]
    return {"period": period,
            "units": [{"unit": u, "metered_mwh": jsonable(metered[k]),
                       "certificates": certificates[k], "carry_mwh": carry[k]}
                      for k, u in enumerate(units)]}


register(Issuance())
