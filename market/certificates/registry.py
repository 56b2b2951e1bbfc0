"""The green certificate (GEC) registry: issue, transfer, retire, expire.

Certificates are issued monthly for the metered output of wind and solar units, one per whole
MWh, with the fraction carried to the unit's next month; independent storage earns none. Each
issue of one unit for one month is a **batch** with an id range of whole certificates, an owner
(the unit's owner), the generating unit and a vintage month.

Holdings are kept in **ticks of 0.001 MWh** (the quantity tick of the clearing core), so that
bundled green power, metered and traded to the 0.001 MWh, carries exactly its own green
attribute; unbundled certificates move in whole certificates only. A batch is split into
**lots** (part of a batch, one owner, one state) as it is traded, retired and expired.

Rules that keep the books honest:

* a certificate is **sold once** (the 2023 national rule that a GEC trades only once): with
  its MWh (bundled) or alone (unbundled), never both and never twice; what a buyer holds can be
  retired but not sold again;
* a certificate **expires** ``validity_months`` after its vintage month, by the registry's month
  clock (:meth:`CertificateRegistry.advance_to`); what was retired stays retired;
* for every owner and in total: issued + received - sent = held + retired + expired (and in
  total issued = held + retired + expired); :meth:`CertificateRegistry.invariant_report`.

Months are ``"YYYY-MM"`` strings or month indices (``year * 12 + month - 1``). Every refused
operation raises :class:`CertificateError` and changes nothing.

The registry is put together from small modules: the records, months and ticks
(:mod:`market.certificates.lots`), its books and clock (:mod:`market.certificates.books`),
issuing (:mod:`market.certificates.issue`), sale and retirement
(:mod:`market.certificates.sale`), the invariant report (:mod:`market.certificates.report`) and
its JSON form (:mod:`market.certificates.state`); everything public is re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from market.certificates.issue import IssueResult, RegistryIssue
from market.certificates.lots import (
    _MAX_SHOWN,
    BATCH_DTYPE,
    EXPIRED,
    HELD,
    ISSUING_TECHNOLOGIES,
    LOT_DTYPE,
    MODES,
    RETIRED,
    RETIREMENT_DTYPE,
    SOLD_BUNDLED,
    SOLD_UNBUNDLED,
    STORAGE,
    TICKS_PER_MWH,
    TRANSFER_DTYPE,
    UNSOLD,
    month_index,
    month_label,
    mwh_to_ticks,
    ticks_to_mwh,
)
from market.certificates.report import RegistryReport, registry_report
from market.certificates.sale import RegistrySales
from market.certificates.state import registry_from_dict, registry_to_dict
from market.errors import CertificateError, CertificateInvariantError

# Names defined in the certificates_* modules are part of this module's interface.
__all__ = ["BATCH_DTYPE", "EXPIRED", "HELD", "ISSUING_TECHNOLOGIES", "LOT_DTYPE", "MODES",
           "RETIRED", "RETIREMENT_DTYPE", "SOLD_BUNDLED", "SOLD_UNBUNDLED", "STORAGE",
           "TICKS_PER_MWH", "TRANSFER_DTYPE", "UNSOLD", "CertificateError",
           "CertificateInvariantError", "CertificateRegistry", "IssueResult", "RegistryReport",
           "month_index", "month_label", "mwh_to_ticks", "ticks_to_mwh"]


class CertificateRegistry(RegistryIssue, RegistrySales):
    """The certificate registry with a month clock.

    ``start_month`` sets the clock; ``validity_months`` (default 24) is how long a certificate
    stays valid; ``issuing_technologies`` name who earns certificates (wind and solar).
    """

    @classmethod
    def from_rules(cls, rules: Any, start_month: str | int) -> CertificateRegistry:
        """A registry with the validity, certificate size and storage rule of ``GreenRules``."""
        techs = ISSUING_TECHNOLOGIES + ((STORAGE,) if getattr(
            rules, "storage_earns_certificates", False) else ())
        per_cert = round(float(getattr(rules, "certificate_mwh", 1.0)) * TICKS_PER_MWH)
        return cls(start_month, int(rules.certificate_validity_months),
                   issuing_technologies=techs, ticks_per_certificate=per_cert)

    def owner_summary(self, owner: str) -> dict[str, float]:
        """MWh issued, received, sent, held, sellable, retired, expired for one owner."""
        c = self._owner_code.get(owner, -1)
        flows = self._flows[c] if c >= 0 else np.zeros(5, np.int64)
        lots = self._lots.rows
        mine = lots["owner"] == c
        out = dict(zip(("issued", "received", "sent", "retired_flow", "expired_flow"),
                       (int(v) / TICKS_PER_MWH for v in flows), strict=True))
        for name, state in (("held", HELD), ("retired", RETIRED), ("expired", EXPIRED)):
            out[name] = int(lots["ticks"][mine & (lots["state"] == state)].sum()) / TICKS_PER_MWH
        out["sellable"] = self.sellable_ticks(owner) / TICKS_PER_MWH
        del out["retired_flow"], out["expired_flow"]
        return out

    # ----------------------------------------------------------------- saving

    def to_dict(self) -> dict[str, Any]:
        """Everything the registry holds as a JSON-compatible dict (format
        ``"mengxi-certificates/1"``, described in :mod:`market.certificates.state`)."""
        return registry_to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CertificateRegistry:
        """Restore a registry exactly from :meth:`to_dict` output; it then behaves as the
        original would. Refuses a malformed dict (:class:`CertificateError`) or books that do
        not add up (:class:`CertificateInvariantError`), listing every problem."""
        return registry_from_dict(cls, d)

    # ----------------------------------------------------------------- invariants

    def invariant_report(self) -> RegistryReport:
        """Check the books; every problem found is listed (an empty list means sound)."""
        return registry_report(self)

    def check_invariants(self) -> None:
        """Raise :class:`CertificateInvariantError` listing every broken invariant."""
        rep = self.invariant_report()
        if rep.problems:
            raise CertificateInvariantError("certificate registry out of balance:\n  "
                                            + "\n  ".join(rep.problems[:_MAX_SHOWN]))
