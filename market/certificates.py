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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from market.errors import CertificateError, CertificateInvariantError

#: Registry quantities are int64 ticks of 0.001 MWh.
TICKS_PER_MWH = 1000
#: Technologies that earn certificates by default.
ISSUING_TECHNOLOGIES = ("wind", "solar")
STORAGE = "storage"

HELD, RETIRED, EXPIRED = 0, 1, 2
UNSOLD, SOLD_BUNDLED, SOLD_UNBUNDLED = 0, 1, 2
MODES = {"bundled": SOLD_BUNDLED, "unbundled": SOLD_UNBUNDLED}
_NO_MONTH = -(2**30)
_MAX_SHOWN = 20

#: One issue: unit, first owner, vintage month index, certificate ids [first_id, first_id +
#: count), and its size in ticks (count x ticks per certificate).
BATCH_DTYPE = np.dtype([("batch", "i8"), ("unit", "i4"), ("owner", "i4"), ("vintage", "i4"),
                        ("first_id", "i8"), ("count", "i8"), ("ticks", "i8")])
#: Part of a batch with one owner and one state (HELD/RETIRED/EXPIRED); ``sold`` says whether
#: it has been sold (UNSOLD, SOLD_BUNDLED, SOLD_UNBUNDLED). ``vintage``/``unit`` copy the batch.
LOT_DTYPE = np.dtype([("batch", "i8"), ("owner", "i4"), ("state", "i1"), ("sold", "i1"),
                      ("ticks", "i8"), ("vintage", "i4"), ("unit", "i4")])
#: One piece of a sale: which batch, from whom to whom, how many ticks, how (``sold``), when.
TRANSFER_DTYPE = np.dtype([("trade", "i8"), ("batch", "i8"), ("seller", "i4"), ("buyer", "i4"),
                           ("ticks", "i8"), ("sold", "i1"), ("month", "i4")])
#: One piece of a retirement: owner, batch, ticks, compliance period (code), month.
RETIREMENT_DTYPE = np.dtype([("owner", "i4"), ("batch", "i8"), ("ticks", "i8"),
                             ("period", "i4"), ("month", "i4")])


# --------------------------------------------------------------------- months and quantities

def month_index(month: str | int | np.integer) -> int:
    """``"2025-01"`` -> 24300 (year * 12 + month - 1); an int is taken as an index already."""
    if isinstance(month, (int, np.integer)) and not isinstance(month, bool):
        return int(month)
    if isinstance(month, str):
        parts = month.strip().split("-")
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            year, mon = int(parts[0]), int(parts[1])
            if 1 <= mon <= 12:
                return year * 12 + mon - 1
    raise CertificateError(f"month {month!r} must be 'YYYY-MM' (e.g. '2025-01') or a month index")


def month_label(index: int) -> str:
    """24300 -> ``"2025-01"``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def mwh_to_ticks(quantity_mwh: Any, what: str = "quantity") -> int:
    """A quantity in MWh on the 0.001 MWh grid as ticks; refuse NaN, negative or off-grid."""
    if isinstance(quantity_mwh, bool):
        raise CertificateError(f"{what} {quantity_mwh!r} is not a number of MWh")
    if isinstance(quantity_mwh, (int, np.integer)):
        return int(quantity_mwh) * TICKS_PER_MWH
    try:
        q = float(quantity_mwh)
    except (TypeError, ValueError):
        raise CertificateError(f"{what} {quantity_mwh!r} is not a number of MWh") from None
    if not np.isfinite(q) or q < 0:
        raise CertificateError(f"{what} {q!r} MWh must be a finite number >= 0")
    ticks = round(q * TICKS_PER_MWH)
    if abs(q * TICKS_PER_MWH - ticks) > 1e-6 * max(1.0, abs(ticks) * 1e-3):
        raise CertificateError(f"{what} {q!r} MWh is not on the 0.001 MWh grid")
    return int(ticks)


def ticks_to_mwh(ticks: Any) -> Any:
    """Ticks (int or array) to MWh floats."""
    return np.asarray(ticks, dtype=np.float64) / TICKS_PER_MWH if not isinstance(
        ticks, (int, np.integer)) else int(ticks) / TICKS_PER_MWH


class _Growable:
    """A structured array that grows by doubling; ``rows`` is the filled part (a view)."""

    def __init__(self, dtype: np.dtype, capacity: int = 64) -> None:
        self._a = np.zeros(capacity, dtype=dtype)
        self.n = 0

    @property
    def rows(self) -> np.ndarray:
        return self._a[:self.n]

    def append(self, block: np.ndarray) -> None:
        need = self.n + block.shape[0]
        if need > self._a.shape[0]:
            grown = np.zeros(max(need, 2 * self._a.shape[0]), dtype=self._a.dtype)
            grown[:self.n] = self._a[:self.n]
            self._a = grown
        self._a[self.n:need] = block
        self.n = need

    def copy(self) -> _Growable:
        out = _Growable(self._a.dtype, max(self._a.shape[0], 1))
        out._a[:self.n] = self._a[:self.n]
        out.n = self.n
        return out


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


@dataclass
class RegistryReport:
    """Result of :meth:`CertificateRegistry.invariant_report`: problems (empty when sound) and
    totals in MWh (issued, held, retired, expired, sold_bundled, sold_unbundled)."""

    problems: list[str] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


class CertificateRegistry:
    """The certificate registry with a month clock.

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
        self._batches = _Growable(BATCH_DTYPE)
        self._lots = _Growable(LOT_DTYPE)
        self._transfers = _Growable(TRANSFER_DTYPE)
        self._retirements = _Growable(RETIREMENT_DTYPE)
        self._next_id = 1

    @classmethod
    def from_rules(cls, rules: Any, start_month: str | int) -> CertificateRegistry:
        """A registry with the validity, certificate size and storage rule of ``GreenRules``."""
        techs = ISSUING_TECHNOLOGIES + ((STORAGE,) if getattr(
            rules, "storage_earns_certificates", False) else ())
        per_cert = round(float(getattr(rules, "certificate_mwh", 1.0)) * TICKS_PER_MWH)
        return cls(start_month, int(rules.certificate_validity_months),
                   issuing_technologies=techs, ticks_per_certificate=per_cert)

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

    # ----------------------------------------------------------------- issue

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

    # ----------------------------------------------------------------- sale and retirement

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

    def snapshot(self) -> dict[str, Any]:
        """Everything the registry holds, copied (to compare states before and after)."""
        return {"month": self._month, "carry": self._carry.copy(), "last": self._last.copy(),
                "flows": self._flows.copy(), "batches": self.batches(), "lots": self.lots(),
                "transfers": self.transfers(), "retirements": self.retirements(),
                "units": list(self._unit_names), "owners": list(self._owner_names),
                "periods": list(self._period_names), "next_id": self._next_id}

    # ----------------------------------------------------------------- invariants

    def invariant_report(self) -> RegistryReport:
        """Check the books; every problem found is listed (an empty list means sound)."""
        return _report(self)

    def check_invariants(self) -> None:
        """Raise :class:`CertificateInvariantError` listing every broken invariant."""
        rep = self.invariant_report()
        if rep.problems:
            raise CertificateInvariantError("certificate registry out of balance:\n  "
                                            + "\n  ".join(rep.problems[:_MAX_SHOWN]))


# --------------------------------------------------------------------- helpers

def _take(lots: _Growable, mask: np.ndarray, t: int, *, owner: int, state: int,
          sold: int | None) -> np.ndarray:
    """Move ``t`` ticks of the masked lots (oldest vintage, then batch, first) to ``owner`` /
    ``state`` / ``sold``; split the last lot. Returns int64 (k, 2): (lot index, ticks taken).
    Assumes the masked lots hold at least ``t``."""
    rows = lots.rows
    idx = np.flatnonzero(mask)
    idx = idx[np.lexsort((idx, rows["batch"][idx], rows["vintage"][idx]))]
    cum = np.cumsum(rows["ticks"][idx])
    k = int(np.searchsorted(cum, t, side="left"))  # lots idx[:k] whole, idx[k] partly or whole
    whole = idx[:k + 1] if cum[k] == t else idx[:k]
    out = [np.stack([whole, rows["ticks"][whole]], axis=1)]
    rows["owner"][whole] = owner
    rows["state"][whole] = state
    if sold is not None:
        rows["sold"][whole] = sold
    if cum[k] != t:
        j = int(idx[k])
        part = t - (int(cum[k - 1]) if k > 0 else 0)
        new = rows[j:j + 1].copy()
        rows["ticks"][j] -= part
        new["ticks"] = part
        new["owner"] = owner
        new["state"] = state
        if sold is not None:
            new["sold"] = sold
        lots.append(new)
        out.append(np.array([[lots.n - 1, part]], dtype=np.int64))
    return np.concatenate(out).astype(np.int64)


def _report(reg: CertificateRegistry) -> RegistryReport:
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


def _no_certificates(unit: str, tech: str) -> str:
    if tech == STORAGE:
        return (f"unit {unit!r} is storage: storage shifts energy and earns no green "
                "certificates (none for independent storage)")
    return f"unit {unit!r} is {tech}; certificates are issued only for wind and solar output"


def _names(values: Any, what: str, n: int | None = None) -> list[str]:
    if isinstance(values, str):
        out = [values] * (1 if n is None else n)
    else:
        out = list(np.asarray(values, dtype=object).reshape(-1).tolist())
    if n is not None and len(out) != n:
        raise CertificateError(f"{what}s must be one name or {n} names, got {len(out)}")
    bad = [v for v in out if not isinstance(v, str) or not v]
    if bad:
        raise CertificateError(f"every {what} must be a non-empty name, got {bad[:5]!r}")
    return out


def _floats(values: np.ndarray) -> np.ndarray:
    try:
        return np.array([float(v) for v in values.tolist()], dtype=np.float64)
    except (TypeError, ValueError):
        raise CertificateError("metered output must be numbers of MWh") from None


def _raise(problems: list[str], title: str) -> None:
    if problems:
        shown = "\n  ".join(problems[:_MAX_SHOWN])
        more = f"\n  ... and {len(problems) - _MAX_SHOWN} more" * (len(problems) > _MAX_SHOWN)
        raise CertificateError(f"{title}:\n  {shown}{more}")
