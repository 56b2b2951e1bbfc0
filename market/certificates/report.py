"""The registry's books checked: every broken invariant listed at once.

For every owner and in total: issued + received - sent = held + retired + expired; retired and
expired flows equal the retired and expired lots; the retirement log adds up; nothing is held
past its validity; and a certificate is sold once (what the sale log moved out of a batch equals
what its sold lots hold, never more than the batch, and only the batch's first owner sold).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from market.certificates.lots import (
    _MAX_SHOWN,
    EXPIRED,
    HELD,
    RETIRED,
    SOLD_BUNDLED,
    SOLD_UNBUNDLED,
    TICKS_PER_MWH,
    UNSOLD,
)

if TYPE_CHECKING:
    from market.certificates.books import RegistryBooks


@dataclass
class RegistryReport:
    """Result of :meth:`CertificateRegistry.invariant_report`: problems (empty when sound) and
    totals in MWh (issued, held, retired, expired, sold_bundled, sold_unbundled)."""

    problems: list[str] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def registry_report(reg: RegistryBooks) -> RegistryReport:
    """The invariant report of ``reg`` (:meth:`CertificateRegistry.invariant_report`)."""
    problems: list[str] = []
    lots = reg._lots.rows
    batches = reg._batches.rows
    tr = reg._transfers.rows
    owners = reg._owner_names
    n_owner = len(owners)
    if (lots["ticks"] <= 0).any():
        problems.append(f"{int((lots['ticks'] <= 0).sum())} lots hold zero or negative ticks")
    nb = batches.shape[0]
    lot_sum = np.zeros(nb, dtype=np.int64)
    np.add.at(lot_sum, lots["batch"], lots["ticks"])
    for b in np.flatnonzero(lot_sum != batches["ticks"])[:_MAX_SHOWN]:
        problems.append(f"batch {b}: lots hold {lot_sum[b]} ticks, issued {batches['ticks'][b]}")
    state_sum = np.zeros((n_owner, 3), dtype=np.int64)
    np.add.at(state_sum, (lots["owner"], lots["state"]), lots["ticks"])
    f = reg._flows
    lhs = f[:, 0] + f[:, 1] - f[:, 2]
    rhs = state_sum.sum(axis=1)
    for c in np.flatnonzero(lhs != rhs)[:_MAX_SHOWN]:
        problems.append(f"owner {owners[c]!r}: issued + received - sent = {lhs[c]} ticks but "
                        f"held + retired + expired = {rhs[c]}")
    for col, state, name in ((3, RETIRED, "retired"), (4, EXPIRED, "expired")):
        for c in np.flatnonzero(f[:, col] != state_sum[:, state])[:_MAX_SHOWN]:
            problems.append(f"owner {owners[c]!r}: {name} flow {f[c, col]} != {name} lots "
                            f"{state_sum[c, state]}")
    if int(f[:, 0].sum()) != int(batches["ticks"].sum()):
        problems.append("issued by owner does not add up to the batches issued")
    if int(f[:, 1].sum()) != int(f[:, 2].sum()):
        problems.append("certificates received and sent do not add up")
    ret = reg._retirements.rows
    ret_sum = np.zeros(n_owner, dtype=np.int64)
    np.add.at(ret_sum, ret["owner"], ret["ticks"])
    for c in np.flatnonzero(ret_sum != f[:, 3])[:_MAX_SHOWN]:
        problems.append(f"owner {owners[c]!r}: retirement log {ret_sum[c]} != retired {f[c, 3]}")
    stale = (lots["state"] == HELD) & (lots["vintage"] + reg.validity_months <= reg.month)
    if stale.any():
        problems.append(f"{int(stale.sum())} lots are held past their validity")
    # Sold once: what the sale log moved out of a batch equals what its sold lots hold, never
    # more than the batch; unsold lots stay with the batch's first owner; only it sold.
    sold_log = np.zeros(nb, dtype=np.int64)
    np.add.at(sold_log, tr["batch"], tr["ticks"])
    sold_lots = np.zeros(nb, dtype=np.int64)
    is_sold = lots["sold"] != UNSOLD
    np.add.at(sold_lots, lots["batch"][is_sold], lots["ticks"][is_sold])
    for b in np.flatnonzero((sold_log != sold_lots) | (sold_log > batches["ticks"]))[:_MAX_SHOWN]:
        problems.append(f"batch {b}: sold {sold_log[b]} ticks by the log, {sold_lots[b]} by its "
                        f"lots, of {batches['ticks'][b]} issued (sold twice?)")
    if nb:
        first_owner = batches["owner"][lots["batch"]]
        if ((~is_sold) & (lots["owner"] != first_owner)).any():
            problems.append("a never-sold lot left its batch's first owner")
        if tr.shape[0] and (tr["seller"] != batches["owner"][tr["batch"]]).any():
            problems.append("a certificate was sold by someone other than its first owner "
                            "(sold twice)")
    bundled = int(lots["ticks"][lots["sold"] == SOLD_BUNDLED].sum())
    unbundled = int(lots["ticks"][lots["sold"] == SOLD_UNBUNDLED].sum())
    totals = {"issued": int(batches["ticks"].sum()),
              "held": int(state_sum[:, HELD].sum()), "retired": int(state_sum[:, RETIRED].sum()),
              "expired": int(state_sum[:, EXPIRED].sum()), "sold_bundled": bundled,
              "sold_unbundled": unbundled}
    if totals["issued"] != totals["held"] + totals["retired"] + totals["expired"]:
        problems.append(f"issued {totals['issued']} != held + retired + expired "
                        f"{totals['held'] + totals['retired'] + totals['expired']} (ticks)")
    return RegistryReport(problems, {k: v / TICKS_PER_MWH for k, v in totals.items()})
