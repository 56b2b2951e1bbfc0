"""The records of the certificate registry: months, ticks, batches, lots, sales, retirements.

Quantities are int64 ticks of 0.001 MWh (:data:`TICKS_PER_MWH`); months are ``"YYYY-MM"`` or
month indices (``year * 12 + month - 1``). The registry keeps its records in structured arrays
of fixed dtypes (``BATCH_DTYPE``, ``LOT_DTYPE``, ``TRANSFER_DTYPE``, ``RETIREMENT_DTYPE``) that
grow by doubling (:class:`Growable`); :func:`_take` moves ticks out of lots, oldest vintage
first, splitting the last lot it touches. Everything public here is re-exported by
:mod:`market.certificates.registry`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clearing.grid import MAX_EXACT_TICKS, QUANTITY_TICK, on_grid
from market.errors import CertificateError

#: Registry quantities are int64 ticks of the clearing core's quantity tick (0.001 MWh), so
#: 1 / QUANTITY_TICK = 1000 ticks make one MWh.
TICKS_PER_MWH: int = round(1 / QUANTITY_TICK)
#: Technologies that earn certificates by default.
ISSUING_TECHNOLOGIES = ("wind", "solar")
STORAGE = "storage"

HELD, RETIRED, EXPIRED = 0, 1, 2
UNSOLD, SOLD_BUNDLED, SOLD_UNBUNDLED = 0, 1, 2
MODES = {"bundled": SOLD_BUNDLED, "unbundled": SOLD_UNBUNDLED}
_NO_MONTH = -(2**30)  # a unit's last issued month before its first issue
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
    """A quantity in MWh on the 0.001 MWh grid as ticks; refuse NaN, negative, off-grid (as
    :func:`clearing.grid.on_grid` decides) or too large (:data:`~clearing.grid.MAX_EXACT_TICKS`
    ticks or more, an int included). Never raises anything but :class:`CertificateError`."""
    if isinstance(quantity_mwh, bool):
        raise CertificateError(f"{what} {quantity_mwh!r} is not a number of MWh")
    if isinstance(quantity_mwh, (int, np.integer)):
        if quantity_mwh < 0:
            raise CertificateError(f"{what} {int(quantity_mwh)} MWh must be a finite number >= 0")
        ticks = int(quantity_mwh) * TICKS_PER_MWH
        if ticks >= MAX_EXACT_TICKS:
            raise CertificateError(f"{what} (a {len(str(int(quantity_mwh)))}-digit number of "
                                   f"MWh) is too large for the registry")
        return ticks
    try:
        q = float(quantity_mwh)
    except (TypeError, ValueError, OverflowError):
        raise CertificateError(f"{what} {quantity_mwh!r} is not a number of MWh") from None
    if not np.isfinite(q) or q < 0:
        raise CertificateError(f"{what} {q!r} MWh must be a finite number >= 0")
    if q / QUANTITY_TICK >= MAX_EXACT_TICKS:
        raise CertificateError(f"{what} {q!r} MWh is too large for the registry")
    if not on_grid(q, QUANTITY_TICK):
        raise CertificateError(f"{what} {q!r} MWh is not on the 0.001 MWh grid")
    return int(round(q * TICKS_PER_MWH))


def ticks_to_mwh(ticks: Any) -> Any:
    """Ticks (int or array) to MWh floats."""
    return np.asarray(ticks, dtype=np.float64) / TICKS_PER_MWH if not isinstance(
        ticks, (int, np.integer)) else int(ticks) / TICKS_PER_MWH


class Growable:
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

    def copy(self) -> Growable:
        out = Growable(self._a.dtype, max(self._a.shape[0], 1))
        out._a[:self.n] = self._a[:self.n]
        out.n = self.n
        return out


# --------------------------------------------------------------------- lots

def _take(lots: Growable, mask: np.ndarray, t: int, *, owner: int, state: int,
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


# --------------------------------------------------------------------- names and refusals

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


def _raise(problems: list[str], title: str) -> None:
    if problems:
        shown = "\n  ".join(problems[:_MAX_SHOWN])
        more = f"\n  ... and {len(problems) - _MAX_SHOWN} more" * (len(problems) > _MAX_SHOWN)
        raise CertificateError(f"{title}:\n  {shown}{more}")
