"""What a trading session is made of: loads, hourly profiles and the plan of rounds.

* :class:`Load`: a load owned by a participant, its demand per session hour (MW), whether it is
  industrial/commercial (it then funds the coal compensation) and whether it carries the
  renewable consumption obligation.
* :class:`Profiles`: the session's hours (their calendar month, 1-12, in the rules' year
  ``meta.year``), each unit's available MW per hour (required for wind and solar; coal, storage
  and anything else default to nameplate) and the hours in which the system operator calls coal
  units to their declared maximum output (the compensation's test calls).
* :class:`RoundSpec`: one round of the plan. Bid rounds (``energy``, ``capacity``, ``green``)
  open, take sealed bids until the gate closes, and clear once; settlement steps
  (``compensation``, ``issuance``, ``obligation``) take no bids and run when cleared, which the
  session does by itself right after the bid round before them clears.

:func:`market.session.plan.check_setup` lists every problem of a set-up at once;
:func:`market.session.plan.standard_plan` builds the usual plan of a game.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from market.units import RENEWABLE_TECHNOLOGIES, Fleet, Unit

BID_KINDS = ("energy", "capacity", "green")
STEP_KINDS = ("compensation", "issuance", "obligation")
KINDS = BID_KINDS + STEP_KINDS
GREEN_PRODUCTS = ("bundled", "unbundled")
GREEN_MODES = ("auction", "listing")


def period_label(year: int, month: int) -> str:
    """Ledger period of a calendar month: ``(2025, 1) -> "2025-01"``."""
    return f"{year:04d}-{month:02d}"


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1).tolist())


@dataclass(frozen=True)
class Load:
    """A load: ``demand_mw`` (MW, one value per session hour) owned by ``participant``."""

    load_id: str
    participant: str
    demand_mw: tuple[float, ...]
    industrial_commercial: bool = True
    obligated: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "demand_mw", _floats(self.demand_mw))

    def to_dict(self) -> dict[str, Any]:
        return {"load_id": self.load_id, "participant": self.participant,
                "demand_mw": list(self.demand_mw),
                "industrial_commercial": self.industrial_commercial, "obligated": self.obligated}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Load:
        return cls(str(d["load_id"]), str(d["participant"]), tuple(d["demand_mw"]),
                   bool(d["industrial_commercial"]), bool(d["obligated"]))


@dataclass(frozen=True)
class Profiles:
    """The session's hours. ``month_of_hour``: int 1-12 per hour, non-decreasing;
    ``available_mw``: unit id -> MW per hour; ``call_hours``: hour indices of coal test calls."""

    month_of_hour: tuple[int, ...]
    available_mw: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    call_hours: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "month_of_hour", tuple(int(m) for m in self.month_of_hour))
        object.__setattr__(self, "available_mw",
                           {str(k): _floats(v) for k, v in self.available_mw.items()})
        object.__setattr__(self, "call_hours", tuple(int(h) for h in self.call_hours))

    @property
    def n_hours(self) -> int:
        return len(self.month_of_hour)

    def months(self) -> list[int]:
        """The calendar months the session covers, in order."""
        return list(dict.fromkeys(self.month_of_hour))

    def to_dict(self) -> dict[str, Any]:
        return {"month_of_hour": list(self.month_of_hour),
                "available_mw": {k: list(v) for k, v in self.available_mw.items()},
                "call_hours": list(self.call_hours)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profiles:
        return cls(tuple(d["month_of_hour"]),
                   {k: tuple(v) for k, v in d["available_mw"].items()}, tuple(d["call_hours"]))


@dataclass(frozen=True)
class RoundSpec:
    """One round of the plan.

    * ``energy``: ``hours`` (session hour indices) cleared as one batched call;
    * ``capacity``: the annual auction in the rules' format;
    * ``green``: ``product`` (bundled / unbundled), ``mode`` (auction / listing), ``month``;
    * ``compensation`` / ``issuance``: the coal compensation / certificate issue of ``month``;
    * ``obligation``: retirement against the year's consumption obligation, posted in ``month``.
    """

    round_id: str
    kind: str
    hours: tuple[int, ...] = ()
    month: int | None = None
    product: str | None = None
    mode: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hours", tuple(int(h) for h in self.hours))

    @property
    def takes_bids(self) -> bool:
        return self.kind in BID_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {"round_id": self.round_id, "kind": self.kind, "hours": list(self.hours),
                "month": self.month, "product": self.product, "mode": self.mode}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RoundSpec:
        return cls(str(d["round_id"]), str(d["kind"]), tuple(d.get("hours", ())),
                   d.get("month"), d.get("product"), d.get("mode"))


class RoundStatus(StrEnum):
    """Where a round is in its lifecycle: ``pending -> open -> gate_closed -> cleared``
    (settlement steps go from pending to cleared)."""

    PENDING = "pending"
    OPEN = "open"
    GATE_CLOSED = "gate_closed"
    CLEARED = "cleared"


# --------------------------------------------------------------------- fleet as records

def fleet_records(fleet: Fleet) -> list[dict[str, Any]]:
    """The fleet as one JSON-compatible dict per unit (``Unit`` fields; ``None`` for NaN)."""
    out = []
    for i in range(len(fleet)):
        u = fleet.unit(i)
        out.append({"unit_id": u.unit_id, "owner": u.owner, "technology": u.technology,
                    "nameplate_mw": u.nameplate_mw, "capacity_credit": u.capacity_credit,
                    "declared_max_mw": u.declared_max_mw,
                    "supported_units": list(u.supported_units),
                    "pairing_ratio": u.pairing_ratio, "existing": u.existing})
    return out


def fleet_from_records(records: Iterable[Mapping[str, Any]]) -> Fleet:
    """Inverse of :func:`fleet_records`."""
    return Fleet.from_units(Unit(**{**r, "supported_units": tuple(r["supported_units"])})
                            for r in records)


def available_matrix(fleet: Fleet, profiles: Profiles) -> np.ndarray:
    """float64 (n_units, n_hours), MW: the profile where given, else nameplate (0 for wind
    and solar without a profile, which :func:`check_setup` refuses)."""
    out = np.repeat(np.asarray(fleet.nameplate_mw, dtype=np.float64)[:, None],
                    profiles.n_hours, axis=1)
    for i, uid in enumerate(fleet.unit_ids.tolist()):
        if uid in profiles.available_mw:
            out[i] = profiles.available_mw[uid]
        elif fleet.technologies[i] in RENEWABLE_TECHNOLOGIES:
            out[i] = 0.0
    return out
