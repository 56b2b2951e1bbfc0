"""Selling and retiring certificates: a certificate is sold once, and retired at most once.

A sale moves never-sold certificates from their first owner to a buyer, bundled with their MWh
or unbundled in whole certificates, oldest vintage first; what a buyer holds can be retired but
not sold again. A retirement uses what an owner holds (oldest vintage first) against its
obligation for a compliance period. Every call is all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from market.certificates.books import RegistryBooks
from market.certificates.lots import (
    EXPIRED,
    HELD,
    MODES,
    RETIRED,
    RETIREMENT_DTYPE,
    TICKS_PER_MWH,
    TRANSFER_DTYPE,
    UNSOLD,
    _raise,
    _take,
    mwh_to_ticks,
)
from market.errors import CertificateError


class RegistrySales(RegistryBooks):
    """Sale and retirement, mixed into
    :class:`~market.certificates.registry.CertificateRegistry`."""

    def sellable_ticks(self, owner: str, unit: str | None = None) -> int:
        """Ticks ``owner`` holds that were never sold (only these may be sold), of ``unit``."""
        return int(self._lots.rows["ticks"][self._sellable(self._lots.rows, owner, unit)].sum())

    def held_ticks(self, owner: str) -> int:
        """Ticks ``owner`` holds and may retire (valid, not retired)."""
        c = self._owner_code.get(owner, -1)
        lots = self._lots.rows
        return int(lots["ticks"][(lots["owner"] == c) & (lots["state"] == HELD)].sum())

    def _sellable(self, lots: np.ndarray, owner: str, unit: str | None) -> np.ndarray:
        c = self._owner_code.get(owner, -1)
        mask = (lots["owner"] == c) & (lots["state"] == HELD) & (lots["sold"] == UNSOLD)
        if unit is not None:
            mask &= lots["unit"] == self._unit_code.get(unit, -1)
        return mask

    def transfer(self, seller: str, buyer: str, quantity_mwh: float | int, mode: str, *,
                 unit: str | None = None, trade: int = -1) -> np.ndarray:
        """Move ``quantity_mwh`` of never-sold certificates from ``seller`` to ``buyer`` as a
        sale (``mode`` ``"bundled"`` with its MWh, or ``"unbundled"`` in whole certificates),
        oldest vintage first, of ``unit`` only when given. Returns the transfer rows."""
        return self.transfer_many([seller], [buyer],
                                  np.array([mwh_to_ticks(quantity_mwh)], dtype=np.int64),
                                  [mode], units=[unit], trades=[trade])

    def transfer_many(self, sellers: Sequence[str], buyers: Sequence[str], ticks: np.ndarray,
                      modes: Sequence[str], *, units: Sequence[str | None] | None = None,
                      trades: Sequence[int] | None = None) -> np.ndarray:
        """Several sales at once, all or nothing (``ticks`` int64 > 0, 0.001 MWh each).

        Refused (nothing moves) when a seller holds too few never-sold certificates, when a
        request names expired or sold ones, an unknown unit, a seller that is the buyer, or an
        unbundled quantity that is not whole certificates. Returns ``TRANSFER_DTYPE`` rows.
        """
        n = len(sellers)
        ticks = np.asarray(ticks, dtype=np.int64).reshape(-1)
        units = list(units) if units is not None else [None] * n
        trades = list(trades) if trades is not None else [-1] * n
        problems: list[str] = []
        if not (len(buyers) == len(modes) == ticks.shape[0] == len(units) == len(trades) == n):
            raise CertificateError("sellers, buyers, ticks, modes, units and trades must have "
                                   "the same length")
        lots = self._lots.copy()
        flows = self._flows.copy()
        pending: dict[str, int] = {}
        pieces: list[np.ndarray] = []
        for i in range(n):
            s, b, t, mode, unit = sellers[i], buyers[i], int(ticks[i]), modes[i], units[i]
            why = self._sale_problem(s, b, t, mode, unit)
            if why:
                problems.append(f"sale {i}: {why}")
                continue
            rows = lots.rows
            mask = self._sellable(rows, s, unit)
            have = int(rows["ticks"][mask].sum())
            if have < t:
                problems.append(f"sale {i}: {self._shortage(rows, s, unit, have, t)}")
                continue
            b_code = self._owner_code.get(b, -1)
            if b_code < 0:  # a new owner: numbered now, named only if the whole call succeeds
                b_code = pending.setdefault(b, len(self._owner_names) + len(pending))
                if flows.shape[0] <= b_code:
                    flows = np.vstack([flows, np.zeros((1, 5), np.int64)])
            taken = _take(lots, mask, t, owner=b_code, state=HELD, sold=MODES[mode])
            s_code = self._owner_code[s]
            flows[s_code, 2] += t
            flows[b_code, 1] += t
            piece = np.zeros(taken.shape[0], dtype=TRANSFER_DTYPE)
            piece["trade"] = trades[i]
            piece["batch"] = lots.rows["batch"][taken[:, 0]]
            piece["seller"] = s_code
            piece["buyer"] = b_code
            piece["ticks"] = taken[:, 1]
            piece["sold"] = MODES[mode]
            piece["month"] = self._month
            pieces.append(piece)
        _raise(problems, "certificate transfer refused")
        for name in pending:  # in code order
            self._owner_code[name] = len(self._owner_names)
            self._owner_names.append(name)
        self._lots = lots
        self._flows = flows
        out = np.concatenate(pieces) if pieces else np.zeros(0, TRANSFER_DTYPE)
        self._transfers.append(out)
        return out

    def _sale_problem(self, seller: Any, buyer: Any, t: int, mode: Any,
                      unit: str | None) -> str | None:
        if not isinstance(seller, str) or not seller or not isinstance(buyer, str) or not buyer:
            return f"seller {seller!r} and buyer {buyer!r} must be non-empty names"
        if seller == buyer:
            return f"{seller!r} cannot sell certificates to itself"
        if mode not in MODES:
            return f"mode {mode!r} must be 'bundled' or 'unbundled'"
        if t <= 0:
            return f"quantity must be > 0 MWh, got {t / TICKS_PER_MWH} MWh"
        if mode == "unbundled" and t % self.ticks_per_certificate:
            return (f"unbundled certificates trade whole: {t / TICKS_PER_MWH} MWh is not a "
                    "whole number of certificates")
        if unit is not None and unit not in self._unit_code:
            return f"unit {unit!r} is not registered"
        return None

    def _shortage(self, rows: np.ndarray, seller: str, unit: str | None, have: int,
                  want: int) -> str:
        c = self._owner_code.get(seller, -1)
        mine = rows["owner"] == c
        if unit is not None:
            mine &= rows["unit"] == self._unit_code[unit]
        expired = int(rows["ticks"][mine & (rows["state"] == EXPIRED)].sum())
        resale = int(rows["ticks"][mine & (rows["state"] == HELD) & (rows["sold"] != UNSOLD)]
                     .sum())
        of = f" of unit {unit!r}" if unit is not None else ""
        msg = (f"{seller!r} holds {have / TICKS_PER_MWH:g} MWh of never-sold valid "
               f"certificates{of}, cannot sell {want / TICKS_PER_MWH:g} MWh")
        if expired:
            msg += f"; {expired / TICKS_PER_MWH:g} MWh of theirs have expired"
        if resale:
            msg += (f"; {resale / TICKS_PER_MWH:g} MWh were bought and cannot be sold again "
                    "(a certificate is sold once)")
        return msg

    def retire(self, owner: str, quantity_mwh: float | int, compliance_period: str) -> int:
        """Retire ``quantity_mwh`` of what ``owner`` holds against its obligation for
        ``compliance_period`` (oldest vintage first); refuse more than held. Returns ticks."""
        return int(self.retire_many([owner], np.array([mwh_to_ticks(quantity_mwh)]),
                                    compliance_period)[0])

    def retire_many(self, owners: Sequence[str], ticks: np.ndarray, compliance_period: str, *,
                    up_to_held: bool = False) -> np.ndarray:
        """Retire ticks for several owners, all or nothing; returns int64 ticks retired each.

        With ``up_to_held`` an owner holding less retires all it holds (no error).
        """
        ticks = np.asarray(ticks, dtype=np.int64).reshape(-1)
        if len(owners) != ticks.shape[0]:
            raise CertificateError("owners and ticks must have the same length")
        if not isinstance(compliance_period, str) or not compliance_period:
            raise CertificateError("compliance_period must be a non-empty name, e.g. '2025'")
        problems = []
        if len(set(owners)) != len(owners):
            problems.append("each owner may appear once per call")
        lots = self._lots.copy()
        flows = self._flows.copy()
        done = np.zeros(len(owners), dtype=np.int64)
        pieces = []
        for i, who in enumerate(owners):
            t = int(ticks[i])
            if not isinstance(who, str) or not who or t < 0:
                problems.append(f"retirement {i}: owner {who!r} / {t / TICKS_PER_MWH} MWh")
                continue
            c = self._owner_code.get(who, -1)
            rows = lots.rows
            mask = (rows["owner"] == c) & (rows["state"] == HELD)
            have = int(rows["ticks"][mask].sum())
            if have < t and not up_to_held:
                problems.append(f"{who!r} holds {have / TICKS_PER_MWH:g} MWh of valid "
                                f"certificates, cannot retire {t / TICKS_PER_MWH:g} MWh")
                continue
            t = min(t, have)
            if t == 0:
                continue
            taken = _take(lots, mask, t, owner=c, state=RETIRED, sold=None)
            flows[c, 3] += t
            done[i] = t
            piece = np.zeros(taken.shape[0], dtype=RETIREMENT_DTYPE)
            piece["owner"] = c
            piece["batch"] = lots.rows["batch"][taken[:, 0]]
            piece["ticks"] = taken[:, 1]
            piece["month"] = self._month
            pieces.append(piece)
        _raise(problems, "certificate retirement refused")
        period = self._periods.setdefault(compliance_period, len(self._period_names))
        if period == len(self._period_names):
            self._period_names.append(compliance_period)
        for p in pieces:
            p["period"] = period
            self._retirements.append(p)
        self._lots = lots
        self._flows = flows
        return done
