"""Issuing certificates: monthly, one per whole MWh of metered wind and solar output.

The fraction of a certificate's MWh is carried to the unit's next month; independent storage
earns none (unless the rules say so). Each issue of one unit for one month is a batch of whole
certificates with a run of certificate ids, held at first by the unit's owner as one lot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from market.certificates.books import RegistryBooks
from market.certificates.lots import (
    _MAX_SHOWN,
    BATCH_DTYPE,
    LOT_DTYPE,
    STORAGE,
    TICKS_PER_MWH,
    _names,
    _raise,
    month_index,
    month_label,
)
from market.errors import CertificateError


@dataclass(frozen=True)
class IssueResult:
    """What one call of :meth:`CertificateRegistry.issue_months` issued.

    ``certificates``: int64 (n_units, n_months), whole certificates issued; ``carry_mwh``:
    float64 (n_units,), the fraction of a certificate's MWh carried into the next month;
    ``batches``: int64 ids of the batches created (month-major, then unit order).
    """

    units: tuple[str, ...]
    months: tuple[str, ...]
    certificates: np.ndarray
    carry_mwh: np.ndarray
    batches: np.ndarray


class RegistryIssue(RegistryBooks):
    """Issuing, mixed into :class:`~market.certificates.registry.CertificateRegistry`."""

    def issue(self, month: str | int, units: Any, metered_mwh: Any) -> IssueResult:
        """Issue certificates for one month of metered output (MWh, one value per unit)."""
        q = np.atleast_1d(np.asarray(metered_mwh))
        if q.dtype == object:
            q = _floats(q)
        return self.issue_months([month], units, q.reshape(-1, 1))

    def issue_months(self, months: Sequence[str | int], units: Any,
                     metered_mwh: Any) -> IssueResult:
        """Issue certificates for many units and consecutive months at once (vectorised).

        ``metered_mwh``: float (n_units, n_months), metered output in MWh, read to the
        0.001 MWh meter resolution (rounded half-even). Months must be increasing, not after
        the clock, not yet expired, and after each unit's last issued month. Certificates
        are whole MWh; the fraction is carried to the unit's next month.
        """
        u = _names(units, "unit")
        ms = [month_index(m) for m in months]
        q = np.asarray(metered_mwh, dtype=np.float64) if not (
            isinstance(metered_mwh, np.ndarray) and metered_mwh.dtype == object) else None
        problems: list[str] = []
        if q is None or q.shape != (len(u), len(ms)):
            raise CertificateError(f"metered_mwh must be numbers of shape (units={len(u)}, "
                                   f"months={len(ms)}), got "
                                   f"{getattr(metered_mwh, 'shape', type(metered_mwh))}")
        if any(b <= a for a, b in zip(ms, ms[1:], strict=False)) or not ms:
            problems.append("months must be given in increasing order")
        for m in ms:
            if m > self._month:
                problems.append(f"month {month_label(m)} is after the clock "
                                f"({self.month_label}); advance the clock first")
            elif m + self.validity_months <= self._month:
                problems.append(f"month {month_label(m)} has already expired at "
                                f"{self.month_label}")
        if len(set(u)) != len(u):
            problems.append("each unit may appear once per call")
        codes = np.empty(len(u), dtype=np.int64)
        for i, name in enumerate(u):
            c = self._unit_code.get(name)
            if c is None:
                problems.append(f"unit {name!r} is not registered")
                continue
            codes[i] = c
            tech = self._unit_tech[c]
            if tech not in self.issuing_technologies:
                problems.append(_no_certificates(name, tech))
            elif ms and self._last[c] >= ms[0]:
                problems.append(f"unit {name!r} was already issued for "
                                f"{month_label(int(self._last[c]))}; months go forward only")
        bad = ~np.isfinite(q) | (q < 0) | (q > 1e12)
        for i, j in np.argwhere(bad)[:_MAX_SHOWN]:
            problems.append(f"metered output of {u[i]!r} in {month_label(ms[j])} is {q[i, j]!r}; "
                            "it must be a finite number of MWh >= 0")
        _raise(problems, "certificate issue refused")
        ticks = np.rint(q * TICKS_PER_MWH).astype(np.int64)
        per = self.ticks_per_certificate
        cum = self._carry[codes][:, None] + np.cumsum(ticks, axis=1)
        issued_through = cum // per
        certs = np.diff(issued_through, axis=1, prepend=0)
        carry = cum[:, -1] - issued_through[:, -1] * per
        self._carry[codes] = carry
        self._last[codes] = ms[-1]
        batch_ids = self._create_batches(codes, np.asarray(ms, dtype=np.int32), certs)
        return IssueResult(tuple(u), tuple(month_label(m) for m in ms), certs,
                           carry / TICKS_PER_MWH, batch_ids)

    def _create_batches(self, codes: np.ndarray, ms: np.ndarray, certs: np.ndarray) -> np.ndarray:
        count = certs.T.reshape(-1)  # month-major
        unit = np.tile(codes, ms.shape[0])
        vintage = np.repeat(ms, codes.shape[0])
        keep = count > 0
        count, unit, vintage = count[keep], unit[keep], vintage[keep]
        k = count.shape[0]
        block = np.zeros(k, dtype=BATCH_DTYPE)
        block["batch"] = self._batches.n + np.arange(k)
        block["unit"] = unit
        block["owner"] = self._unit_owner[unit]
        block["vintage"] = vintage
        block["first_id"] = self._next_id + np.cumsum(count) - count
        block["count"] = count
        block["ticks"] = count * self.ticks_per_certificate
        lots = np.zeros(k, dtype=LOT_DTYPE)
        for f in ("batch", "owner", "ticks", "vintage", "unit"):
            lots[f] = block[f]
        self._batches.append(block)
        self._lots.append(lots)
        np.add.at(self._flows[:, 0], block["owner"], block["ticks"])
        self._next_id += int(count.sum())
        return block["batch"].copy()

    def carry_mwh(self, unit: str) -> float:
        """MWh metered but not yet issued (less than one certificate), carried forward."""
        return int(self._carry[self._unit(unit)]) / TICKS_PER_MWH


def _no_certificates(unit: str, tech: str) -> str:
    if tech == STORAGE:
        return (f"unit {unit!r} is storage: storage shifts energy and earns no green "
                "certificates (none for independent storage)")
    return f"unit {unit!r} is {tech}; certificates are issued only for wind and solar output"


def _floats(values: np.ndarray) -> np.ndarray:
    try:
        return np.array([float(v) for v in values.tolist()], dtype=np.float64)
    except (TypeError, ValueError):
        raise CertificateError("metered output must be numbers of MWh") from None
