"""The fleet: a minimal column description of the units the market mechanisms need.

One :class:`Fleet` holds n units as read-only NumPy columns, in a fixed order that every
mechanism's per-unit result follows (``result.cleared_mw[i]`` is unit ``fleet.unit_ids[i]``).
A single :class:`Unit` is the row form, handy for small hand-written fleets and tests::

    fleet = Fleet.from_units([
        Unit("coal-1", "genco-a", "coal_ultra_supercritical", 1000.0,
             supported_units=("wind-1",), pairing_ratio=0.25),
        Unit("wind-1", "genco-b", "wind", 500.0),
    ])

Technology names follow the capacity-credit table of the rules (``coal_ultra_supercritical``,
``coal_supercritical``, ``coal_subcritical``, ``wind``, ``solar``, ``storage``); any name that
starts with ``coal`` counts as coal. A technology missing from the table needs a per-unit
capacity-credit override, which :mod:`market.capacity.auction` checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from market.errors import FleetError

RENEWABLE_TECHNOLOGIES = ("wind", "solar")


@dataclass(frozen=True)
class Unit:
    """One unit (a row of a :class:`Fleet`).

    * ``nameplate_mw``: installed capacity, MW, > 0.
    * ``capacity_credit``: per-unit override of the technology's capacity credit, in [0, 1];
      ``None`` uses the rules' table.
    * ``declared_max_mw``: declared maximum output, MW, in [0, nameplate]; ``None`` means the
      nameplate. The coal compensation pays on it.
    * ``supported_units``: for a coal unit registered as supporting a renewable base, the ids of
      the wind/solar units it firms up; ``pairing_ratio`` (> 0) is then required.
    * ``existing``: True for a unit already built (must-offer applies to existing coal).
    """

    unit_id: str
    owner: str
    technology: str
    nameplate_mw: float
    capacity_credit: float | None = None
    declared_max_mw: float | None = None
    supported_units: tuple[str, ...] = ()
    pairing_ratio: float | None = None
    existing: bool = True


def _column(values: Sequence[float | None] | np.ndarray | None, n: int,
            fill: float) -> np.ndarray:
    if values is None:
        return np.full(n, fill, dtype=np.float64)
    return np.array(
        [fill if v is None else v for v in values] if not isinstance(values, np.ndarray)
        else values, dtype=np.float64)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Fleet:
    """n units as read-only columns (all of length n, in the fleet's order).

    * ``unit_ids``, ``owners``, ``technologies``: str arrays (``<U``).
    * ``nameplate_mw``: float64, MW.
    * ``capacity_credit``: float64, per-unit override in [0, 1]; NaN uses the rules' table.
    * ``declared_max_mw``: float64, MW, declared maximum output.
    * ``supported_units``: tuple of n tuples of unit ids (empty for a non-supporting unit).
    * ``pairing_ratio``: float64, > 0 for a supporting coal unit, NaN otherwise.
    * ``existing``: bool.

    Build it with :meth:`from_columns` or :meth:`from_units`; both validate and report every
    problem at once (:class:`~market.errors.FleetError`).
    """

    unit_ids: np.ndarray
    owners: np.ndarray
    technologies: np.ndarray
    nameplate_mw: np.ndarray
    capacity_credit: np.ndarray
    declared_max_mw: np.ndarray
    supported_units: tuple[tuple[str, ...], ...]
    pairing_ratio: np.ndarray
    existing: np.ndarray
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {u: i for i, u in enumerate(self.unit_ids.tolist())})

    @classmethod
    def from_columns(
        cls,
        unit_ids: Sequence[str],
        owners: Sequence[str],
        technologies: Sequence[str],
        nameplate_mw: Sequence[float] | np.ndarray,
        *,
        capacity_credit: Sequence[float | None] | np.ndarray | None = None,
        declared_max_mw: Sequence[float | None] | np.ndarray | None = None,
        supported_units: Sequence[Sequence[str]] | None = None,
        pairing_ratio: Sequence[float | None] | np.ndarray | None = None,
        existing: Sequence[bool] | np.ndarray | None = None,
    ) -> Fleet:
        """Validate columns and build a fleet. Optional columns default to: no override (NaN),
        declared maximum = nameplate, no supported units, no pairing ratio, existing."""
        ids = np.array([str(u) for u in unit_ids], dtype=str)
        n = len(ids)
        nameplate = _column(nameplate_mw, n, math.nan)
        declared = _column(declared_max_mw, n, math.nan)
        declared = np.where(np.isnan(declared), nameplate, declared)
        supports = tuple(tuple(str(s) for s in row) for row in (supported_units or [()] * n))
        cols = {
            "owners": np.array([str(o) for o in owners], dtype=str),
            "technologies": np.array([str(t) for t in technologies], dtype=str),
            "nameplate_mw": nameplate,
            "capacity_credit": _column(capacity_credit, n, math.nan),
            "declared_max_mw": declared,
            "pairing_ratio": _column(pairing_ratio, n, math.nan),
            "existing": np.ones(n, dtype=bool) if existing is None
            else np.array(existing, dtype=bool),
        }
        problems = [f"column {name} has {len(a)} rows, unit_ids has {n}"
                    for name, a in [*cols.items(), ("supported_units", supports)]
                    if len(a) != n]
        if problems:
            raise FleetError(problems)
        fleet = cls(unit_ids=_frozen(ids), supported_units=supports,
                    **{k: _frozen(v) for k, v in cols.items()})
        problems = fleet.problems()
        if problems:
            raise FleetError(problems)
        return fleet

    @classmethod
    def from_units(cls, units: Iterable[Unit]) -> Fleet:
        """Build a fleet from :class:`Unit` rows, in the given order."""
        rows = list(units)
        return cls.from_columns(
            [u.unit_id for u in rows], [u.owner for u in rows], [u.technology for u in rows],
            [u.nameplate_mw for u in rows],
            capacity_credit=[u.capacity_credit for u in rows],
            declared_max_mw=[u.declared_max_mw for u in rows],
            supported_units=[u.supported_units for u in rows],
            pairing_ratio=[u.pairing_ratio for u in rows],
            existing=[u.existing for u in rows])

    def problems(self) -> list[str]:
        """Every reason this fleet is invalid (empty when it is valid)."""
        out: list[str] = []
        seen: set[str] = set()
        ids = self.unit_ids.tolist()
        known = set(ids)
        for i, uid in enumerate(ids):
            where = f"unit {uid!r}"
            if not uid:
                out.append(f"unit {i}: unit_id is empty")
            if uid in seen:
                out.append(f"{where}: unit_id appears more than once")
            seen.add(uid)
            if not self.owners[i]:
                out.append(f"{where}: owner is empty")
            if not self.technologies[i]:
                out.append(f"{where}: technology is empty")
            cap = self.nameplate_mw[i]
            if not (math.isfinite(cap) and cap > 0):
                out.append(f"{where}: nameplate_mw must be a positive finite number, got {cap}")
            credit = self.capacity_credit[i]
            if not (math.isnan(credit) or 0.0 <= credit <= 1.0):
                out.append(f"{where}: capacity_credit override must be in [0, 1], got {credit}")
            declared = self.declared_max_mw[i]
            if not (math.isfinite(declared) and 0.0 <= declared <= cap):
                out.append(f"{where}: declared_max_mw must be in [0, nameplate {cap}] MW, "
                           f"got {declared}")
            out.extend(self._support_problems(i, where, known))
        return out

    def _support_problems(self, i: int, where: str, known: set[str]) -> list[str]:
        out: list[str] = []
        supports = self.supported_units[i]
        ratio = self.pairing_ratio[i]
        if not supports:
            if not math.isnan(ratio):
                out.append(f"{where}: pairing_ratio given but no supported_units")
            return out
        if not str(self.technologies[i]).startswith("coal"):
            out.append(f"{where}: only coal units can support renewables, technology is "
                       f"{self.technologies[i]!r}")
        if not (math.isfinite(ratio) and ratio > 0):
            out.append(f"{where}: a supporting unit needs a positive pairing_ratio, got {ratio}")
        for s in supports:
            if s not in known:
                out.append(f"{where}: supported unit {s!r} is not in the fleet")
            elif self.technologies[self._index[s]] not in RENEWABLE_TECHNOLOGIES:
                out.append(f"{where}: supported unit {s!r} is not wind or solar")
        if len(set(supports)) != len(supports):
            out.append(f"{where}: supported_units lists a unit twice")
        return out

    def __len__(self) -> int:
        return len(self.unit_ids)

    def index_of(self, unit_id: str) -> int:
        """Position of ``unit_id`` in the fleet; :class:`FleetError` if unknown."""
        try:
            return self._index[unit_id]
        except KeyError:
            raise FleetError([f"unit {unit_id!r} is not in the fleet"]) from None

    def indices(self, unit_ids: Iterable[str]) -> np.ndarray:
        """Positions (int64) of several unit ids; every unknown id is reported at once."""
        ids = list(unit_ids)
        missing = [u for u in ids if u not in self._index]
        if missing:
            raise FleetError([f"unit {u!r} is not in the fleet" for u in missing])
        return np.array([self._index[u] for u in ids], dtype=np.int64)

    def unit(self, i: int) -> Unit:
        """Row ``i`` as a :class:`Unit`."""
        credit = float(self.capacity_credit[i])
        ratio = float(self.pairing_ratio[i])
        return Unit(str(self.unit_ids[i]), str(self.owners[i]), str(self.technologies[i]),
                    float(self.nameplate_mw[i]), None if math.isnan(credit) else credit,
                    float(self.declared_max_mw[i]), self.supported_units[i],
                    None if math.isnan(ratio) else ratio, bool(self.existing[i]))

    @property
    def is_coal(self) -> np.ndarray:
        """bool (n,): technology name starts with ``coal``."""
        return np.char.startswith(self.technologies, "coal")

    @property
    def is_renewable(self) -> np.ndarray:
        """bool (n,): wind or solar."""
        return np.isin(self.technologies, RENEWABLE_TECHNOLOGIES)

    @property
    def is_supporting(self) -> np.ndarray:
        """bool (n,): coal registered as supporting renewable units."""
        return np.array([len(s) > 0 for s in self.supported_units], dtype=bool)
