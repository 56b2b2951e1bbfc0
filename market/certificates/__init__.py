"""The green certificate (GEC) registry: issue, transfer, retire, expire.

One certificate per whole MWh of metered wind and solar output, issued monthly to the unit's
owner (the fraction carries to the next month); sold once; retired against obligations;
expired after ``green.certificate_validity_months``. Holdings are kept in 0.001 MWh ticks.
Invariant, per owner and in total: issued + received - sent = held + retired + expired.

>>> from market.certificates import CertificateRegistry
>>> reg = CertificateRegistry("2025-01", 24)
>>> reg.register_unit("wind-1", "wind", "genco-1")
>>> reg.issue("2025-01", ["wind-1"], [10.6]).certificates.tolist()  # 0.6 MWh carried over
[[10]]
>>> int(reg.transfer("genco-1", "retailer-1", 4, "unbundled")["ticks"].sum())
4000
>>> reg.retire("retailer-1", 4, "2025")
4000
>>> summary = reg.owner_summary("genco-1")
>>> summary["issued"], summary["sent"], summary["held"]
(10.0, 4.0, 6.0)
>>> reg.invariant_report().ok
True
"""

from market.certificates.issue import IssueResult
from market.certificates.lots import (
    EXPIRED,
    HELD,
    ISSUING_TECHNOLOGIES,
    RETIRED,
    TICKS_PER_MWH,
    month_index,
    month_label,
    mwh_to_ticks,
    ticks_to_mwh,
)
from market.certificates.registry import CertificateRegistry
from market.certificates.report import RegistryReport

__all__ = [
    "EXPIRED",
    "HELD",
    "ISSUING_TECHNOLOGIES",
    "RETIRED",
    "TICKS_PER_MWH",
    "CertificateRegistry",
    "IssueResult",
    "RegistryReport",
    "month_index",
    "month_label",
    "mwh_to_ticks",
    "ticks_to_mwh",
]
