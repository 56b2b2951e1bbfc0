"""The certificate registry as a JSON-compatible dict, and its exact restore.

:func:`registry_to_dict` writes everything the registry holds; :func:`registry_from_dict`
rebuilds a registry whose books, clock and further behaviour are exactly the original's. The
dict (format ``"mengxi-certificates/1"``) holds only ``str``, ``int``, ``None``, lists and
dicts:

* ``month`` (the clock), as a month index (``year * 12 + month - 1``); ``validity_months``,
  ``issuing_technologies``, ``ticks_per_certificate`` (ticks of 0.001 MWh) and ``next_id``
  (the next certificate id);
* ``units``: columns ``unit``, ``technology``, ``owner`` (code into ``owners``),
  ``carry_ticks`` and ``last_month`` (``None`` before a unit's first issue);
* ``owners``: columns ``owner`` (names, in code order) and the flows in ticks ``issued``,
  ``received``, ``sent``, ``retired``, ``expired``; ``periods``: compliance period names;
* ``batches``, ``lots``, ``transfers``, ``retirements``: one list per field of
  ``BATCH_DTYPE``, ``LOT_DTYPE``, ``TRANSFER_DTYPE``, ``RETIREMENT_DTYPE`` (codes as above,
  months as indices).

A restore checks the dict's shape, types and codes, and then the books
(:func:`~market.certificates.report.registry_report`); it raises :class:`CertificateError`
(:class:`CertificateInvariantError` for books that do not add up) listing every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from market.certificates.lots import (
    _MAX_SHOWN,
    _NO_MONTH,
    BATCH_DTYPE,
    LOT_DTYPE,
    RETIREMENT_DTYPE,
    TRANSFER_DTYPE,
    Growable,
    _raise,
)
from market.certificates.report import registry_report
from market.errors import CertificateInvariantError

if TYPE_CHECKING:
    from market.certificates.books import RegistryBooks

    R = TypeVar("R", bound=RegistryBooks)

FORMAT = "mengxi-certificates/1"
FLOWS = ("issued", "received", "sent", "retired", "expired")
TABLES = {"batches": BATCH_DTYPE, "lots": LOT_DTYPE, "transfers": TRANSFER_DTYPE,
          "retirements": RETIREMENT_DTYPE}
KEYS = ("format", "month", "validity_months", "issuing_technologies", "ticks_per_certificate",
        "next_id", "units", "owners", "periods", *TABLES)
UNIT_KEYS = ("unit", "technology", "owner", "carry_ticks", "last_month")


def registry_to_dict(reg: RegistryBooks) -> dict[str, Any]:
    """The whole registry as a JSON-compatible dict (module docstring: the format)."""
    return {
        "format": FORMAT,
        "month": reg._month,
        "validity_months": reg.validity_months,
        "issuing_technologies": list(reg.issuing_technologies),
        "ticks_per_certificate": reg.ticks_per_certificate,
        "next_id": reg._next_id,
        "units": {"unit": list(reg._unit_names), "technology": list(reg._unit_tech),
                  "owner": reg._unit_owner.tolist(), "carry_ticks": reg._carry.tolist(),
                  "last_month": [None if m == _NO_MONTH else m for m in reg._last.tolist()]},
        "owners": {"owner": list(reg._owner_names),
                   **{k: reg._flows[:, j].tolist() for j, k in enumerate(FLOWS)}},
        "periods": list(reg._period_names),
        **{name: {f: getattr(reg, "_" + name).rows[f].tolist() for f in dtype.names or ()}
           for name, dtype in TABLES.items()},
    }


def registry_from_dict(cls: type[R], d: Mapping[str, Any]) -> R:
    """A registry of class ``cls`` restored exactly from :func:`registry_to_dict` output."""
    if not isinstance(d, Mapping) or d.get("format") != FORMAT:
        found = d.get("format") if isinstance(d, Mapping) else type(d).__name__
        _raise([f"format is {found!r}, expected {FORMAT!r}"], "not a saved certificate registry")
    problems = _key_problems(d, KEYS, "registry")
    _raise(problems, "saved certificate registry refused")
    for key, low in (("month", None), ("validity_months", 1), ("ticks_per_certificate", 1),
                     ("next_id", 1)):
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, int) or (low is not None and v < low):
            problems.append(f"{key} must be a whole number{f' >= {low}' if low else ''}, "
                            f"got {v!r}")
    techs = _text_list(d["issuing_technologies"], "issuing_technologies", problems)
    periods = _text_list(d["periods"], "periods", problems, unique=True)
    units = _table(d["units"], "units", dict.fromkeys(UNIT_KEYS[2:4], "i8"), problems,
                   text=UNIT_KEYS[:2], optional_ints=("last_month",))
    owners = _table(d["owners"], "owners", dict.fromkeys(FLOWS, "i8"), problems, text=("owner",))
    tables = {name: _table(d[name], name, {f: dt[f] for f in dt.names or ()}, problems)
              for name, dt in TABLES.items()}
    _raise(problems, "saved certificate registry refused")
    unit_names = _text_list(units["unit"], "units.unit", problems, unique=True)
    owner_names = _text_list(owners["owner"], "owners.owner", problems, unique=True)
    _text_list(units["technology"], "units.technology", problems)
    _check_codes(d, units, tables, len(owner_names), len(periods), problems)
    _raise(problems, "saved certificate registry refused")
    reg = cls(d["month"], d["validity_months"], issuing_technologies=techs,
              ticks_per_certificate=d["ticks_per_certificate"])
    reg._unit_names = unit_names
    reg._unit_code = {name: c for c, name in enumerate(unit_names)}
    reg._unit_tech = list(units["technology"])
    reg._unit_owner = units["owner"].astype(np.int32)
    reg._carry = units["carry_ticks"].astype(np.int64)
    reg._last = units["last_month"].astype(np.int32)
    reg._owner_names = owner_names
    reg._owner_code = {name: c for c, name in enumerate(owner_names)}
    reg._flows = np.stack([owners[k] for k in FLOWS], axis=1).reshape(-1, len(FLOWS))
    reg._period_names = periods
    reg._periods = {name: c for c, name in enumerate(periods)}
    for name, dtype in TABLES.items():
        rows = np.zeros(len(tables[name][dtype.names[0]]) if dtype.names else 0, dtype=dtype)
        for f in dtype.names or ():
            rows[f] = tables[name][f]
        grown = Growable(dtype, max(rows.shape[0], 64))
        grown.append(rows)
        setattr(reg, "_" + name, grown)
    reg._next_id = d["next_id"]
    report = registry_report(reg)
    if report.problems:
        raise CertificateInvariantError("saved certificate registry does not add up:\n  "
                                        + "\n  ".join(report.problems[:_MAX_SHOWN]))
    return reg


# --------------------------------------------------------------------- checks of the dict

def _key_problems(d: Any, keys: tuple[str, ...], what: str) -> list[str]:
    if not isinstance(d, Mapping):
        return [f"{what} must be a dict, got {type(d).__name__}"]
    missing = [k for k in keys if k not in d]
    unknown = sorted(str(k) for k in d if k not in keys)
    return ([f"{what}: missing {missing}"] if missing else []) + (
        [f"{what}: unknown keys {unknown}"] if unknown else [])


def _text_list(values: Any, what: str, problems: list[str], unique: bool = False) -> list[str]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) and v
                                                        for v in values):
        problems.append(f"{what} must be a list of non-empty names")
        return []
    if unique and len(set(values)) != len(values):
        problems.append(f"{what} must not repeat a name")
    return list(values)


def _table(d: Any, what: str, ints: dict[str, Any], problems: list[str], *,
           text: tuple[str, ...] = (), optional_ints: tuple[str, ...] = ()
           ) -> dict[str, Any]:
    """Check a table of columns (lists of one length); whole-number columns become arrays of
    their dtype (``optional_ints``: int32 months, ``None`` read as no month)."""
    keys = (*text, *ints, *optional_ints)
    found = _key_problems(d, keys, what)
    if found:
        problems += found
        return {}
    lengths = {len(d[k]) if isinstance(d[k], list | tuple) else -1 for k in keys}
    if len(lengths) != 1 or -1 in lengths:
        problems.append(f"{what}: every column must be a list, all of one length")
        return {}
    n = lengths.pop()
    out: dict[str, Any] = {k: d[k] for k in text}
    for k in optional_ints:
        out[k] = _whole(k, [_NO_MONTH if v is None else v for v in d[k]], np.int32, what,
                        problems)
    for k, dtype in ints.items():
        out[k] = _whole(k, d[k], dtype, what, problems)
    return out if all(np.shape(v) == (n,) for k, v in out.items() if k not in text) else {}


def _whole(key: str, values: Any, dtype: Any, what: str, problems: list[str]) -> np.ndarray:
    """``values`` (whole numbers, no bools) as an array of ``dtype``; a problem otherwise."""
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        problems.append(f"{what}.{key} must hold whole numbers only")
        return np.zeros(0, dtype)
    info = np.iinfo(dtype)
    if values and (min(values) < info.min or max(values) > info.max):
        problems.append(f"{what}.{key} holds numbers out of the range of {np.dtype(dtype)}")
        return np.zeros(0, dtype)
    return np.array(values, dtype=dtype).reshape(-1)


def _check_codes(d: Mapping[str, Any], units: dict[str, Any], tables: dict[str, Any],
                 n_owners: int, n_periods: int, problems: list[str]) -> None:
    """Every code points at a row that exists; batches, lots and the clock fit together."""
    if not all(tables.values()) or not units:
        return
    b, lots, tr, ret = (tables[k] for k in TABLES)
    nb, n_units = b["batch"].shape[0], units["owner"].shape[0]
    codes = (("units.owner", units["owner"], n_owners), ("batches.unit", b["unit"], n_units),
             ("batches.owner", b["owner"], n_owners), ("lots.batch", lots["batch"], nb),
             ("lots.owner", lots["owner"], n_owners), ("lots.state", lots["state"], 3),
             ("lots.sold", lots["sold"], 3), ("transfers.batch", tr["batch"], nb),
             ("transfers.seller", tr["seller"], n_owners),
             ("transfers.buyer", tr["buyer"], n_owners), ("transfers.sold", tr["sold"], 3),
             ("retirements.owner", ret["owner"], n_owners),
             ("retirements.batch", ret["batch"], nb),
             ("retirements.period", ret["period"], n_periods))
    for name, col, n in codes:
        if col.shape[0] and (col.min() < 0 or col.max() >= n):
            problems.append(f"{name} holds codes outside 0..{n - 1}")
    if problems:
        return
    per = d["ticks_per_certificate"]
    if (b["batch"] != np.arange(nb)).any() or (b["count"] < 1).any() \
            or (b["ticks"] != b["count"] * per).any():
        problems.append("batches must be numbered 0, 1, ... and hold whole certificates")
    if (b["first_id"] != 1 + np.cumsum(b["count"]) - b["count"]).any() \
            or d["next_id"] != 1 + int(b["count"].sum()):
        problems.append("certificate ids must run on from 1 without gaps, up to next_id")
    if (b["owner"] != units["owner"][b["unit"]]).any():
        problems.append("a batch's first owner must be its unit's owner")
    if (lots["vintage"] != b["vintage"][lots["batch"]]).any() \
            or (lots["unit"] != b["unit"][lots["batch"]]).any():
        problems.append("a lot's vintage and unit must be its batch's")
    if (b["vintage"] > d["month"]).any() or (units["last_month"] > d["month"]).any():
        problems.append("a batch or a unit's last issue is after the clock")
    if (tr["ticks"] <= 0).any() or (ret["ticks"] <= 0).any():
        problems.append("sales and retirements must move more than 0 ticks")
