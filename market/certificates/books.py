"""The registry's books and clock: state, units and owners, and reading them back.

:class:`RegistryBooks` holds everything a :class:`~market.certificates.registry.CertificateRegistry`
knows and the operations every other part needs (the month clock with expiry, registering
units, reading copies of the records); issuing (:mod:`market.certificates.issue`) and sale and
retirement (:mod:`market.certificates.sale`) build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from market.certificates.lots import (
    _NO_MONTH,
    BATCH_DTYPE,
    EXPIRED,
    HELD,
    ISSUING_TECHNOLOGIES,
    LOT_DTYPE,
    RETIREMENT_DTYPE,
    TICKS_PER_MWH,
    TRANSFER_DTYPE,
    Growable,
    _names,
    _raise,
    month_index,
    month_label,
)
from market.errors import CertificateError


class RegistryBooks:
    """The state of a certificate registry with a month clock.

    ``start_month`` sets the clock; ``validity_months`` (default 24) is how long a certificate
    stays valid; ``issuing_technologies`` name who earns certificates (wind and solar).
    """

    def __init__(self, start_month: str | int, validity_months: int = 24, *,
                 issuing_technologies: Sequence[str] = ISSUING_TECHNOLOGIES,
                 ticks_per_certificate: int = TICKS_PER_MWH) -> None:
        if isinstance(validity_months, bool) or not isinstance(validity_months, int) \
                or validity_months < 1:
            raise CertificateError(f"validity_months must be a whole number >= 1, "
                                   f"got {validity_months!r}")
        if int(ticks_per_certificate) < 1:
            raise CertificateError("ticks_per_certificate must be >= 1")
        self.validity_months = validity_months
        self.issuing_technologies = tuple(issuing_technologies)
        self.ticks_per_certificate = int(ticks_per_certificate)
        self._month = month_index(start_month)
        self._unit_code: dict[str, int] = {}
        self._unit_names: list[str] = []
        self._unit_tech: list[str] = []
        self._unit_owner = np.zeros(0, dtype=np.int32)
        self._carry = np.zeros(0, dtype=np.int64)
        self._last = np.zeros(0, dtype=np.int32)
        self._owner_code: dict[str, int] = {}
        self._owner_names: list[str] = []
        # Flows by owner code, ticks: issued, received, sent, retired, expired.
        self._flows = np.zeros((0, 5), dtype=np.int64)
        self._periods: dict[str, int] = {}
        self._period_names: list[str] = []
        self._batches = Growable(BATCH_DTYPE)
        self._lots = Growable(LOT_DTYPE)
        self._transfers = Growable(TRANSFER_DTYPE)
        self._retirements = Growable(RETIREMENT_DTYPE)
        self._next_id = 1

    # ----------------------------------------------------------------- clock

    @property
    def month(self) -> int:
        """The registry's current month (index)."""
        return self._month

    @property
    def month_label(self) -> str:
        return month_label(self._month)

    def advance_to(self, month: str | int) -> int:
        """Move the clock forward to ``month`` and expire what is past validity; returns the
        ticks expired. A certificate of vintage ``v`` is valid through month
        ``v + validity_months - 1``."""
        m = month_index(month)
        if m < self._month:
            raise CertificateError(f"the clock is at {month_label(self._month)}; it cannot go "
                                   f"back to {month_label(m)}")
        self._month = m
        lots = self._lots.rows
        due = (lots["state"] == HELD) & (lots["vintage"] + self.validity_months <= m)
        if not due.any():
            return 0
        lots["state"][due] = EXPIRED
        np.add.at(self._flows[:, 4], lots["owner"][due], lots["ticks"][due])
        return int(lots["ticks"][due].sum())

    # ----------------------------------------------------------------- participants

    def register_units(self, units: Any, technologies: Any, owners: Any) -> None:
        """Register generating units with their technology and owner (scalars or arrays)."""
        u = _names(units, "unit")
        n = len(u)
        t = _names(technologies, "technology", n)
        o = _names(owners, "owner", n)
        problems = [f"unit {x!r} is already registered" for x in u if x in self._unit_code]
        if len(set(u)) != n:
            problems.append("units must be unique")
        _raise(problems, "unit registration refused")
        codes = self._owner_codes(o)
        for name, tech in zip(u, t, strict=True):
            self._unit_code[name] = len(self._unit_names)
            self._unit_names.append(name)
            self._unit_tech.append(tech)
        self._unit_owner = np.concatenate([self._unit_owner, codes])
        self._carry = np.concatenate([self._carry, np.zeros(n, np.int64)])
        self._last = np.concatenate([self._last, np.full(n, _NO_MONTH, np.int32)])

    def register_unit(self, unit: str, technology: str, owner: str) -> None:
        self.register_units([unit], [technology], [owner])

    def _owner_codes(self, owners: Sequence[str]) -> np.ndarray:
        out = np.empty(len(owners), dtype=np.int32)
        for i, name in enumerate(owners):
            c = self._owner_code.get(name)
            if c is None:
                c = len(self._owner_names)
                self._owner_code[name] = c
                self._owner_names.append(name)
            out[i] = c
        if len(self._owner_names) > self._flows.shape[0]:
            grown = np.zeros((len(self._owner_names), 5), dtype=np.int64)
            grown[:self._flows.shape[0]] = self._flows
            self._flows = grown
        return out

    def unit_owner(self, unit: str) -> str:
        return self._owner_names[self._unit_owner[self._unit(unit)]]

    def _unit(self, unit: str) -> int:
        c = self._unit_code.get(unit)
        if c is None:
            raise CertificateError(f"unit {unit!r} is not registered")
        return c

    # ----------------------------------------------------------------- reading

    def batches(self) -> np.ndarray:
        """Copy of the batches (``BATCH_DTYPE``); unit and owner are codes (see ``names``)."""
        return self._batches.rows.copy()

    def lots(self) -> np.ndarray:
        """Copy of the lots (``LOT_DTYPE``)."""
        return self._lots.rows.copy()

    def transfers(self) -> np.ndarray:
        return self._transfers.rows.copy()

    def retirements(self) -> np.ndarray:
        return self._retirements.rows.copy()

    def names(self) -> dict[str, list[str]]:
        return {"unit": list(self._unit_names), "owner": list(self._owner_names),
                "period": list(self._period_names)}

    def snapshot(self) -> dict[str, Any]:
        """Everything the registry holds, copied (to compare states before and after)."""
        return {"month": self._month, "carry": self._carry.copy(), "last": self._last.copy(),
                "flows": self._flows.copy(), "batches": self.batches(), "lots": self.lots(),
                "transfers": self.transfers(), "retirements": self.retirements(),
                "units": list(self._unit_names), "owners": list(self._owner_names),
                "periods": list(self._period_names), "next_id": self._next_id}
