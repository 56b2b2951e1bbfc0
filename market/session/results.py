"""Typed results of a session's rounds: one frozen dataclass per kind of round.

A result is published when its round clears and never changes. Its fields hold JSON values
(the nested rows are lists of dicts, as published; treat them as read-only), so
:meth:`RoundResult.to_dict` is the published JSON, key for key, in the order the snapshot
(:mod:`market.session.state`) and the service write it: ``kind``, the kind's fields,
``round_id``, ``settlement``. :func:`result_from_dict` reads it back.

Every result has ``round_id``, ``kind``, ``status`` (always ``cleared``), ``settlement`` (net
fen by participant and ledger category of the round's postings) and, where the kind has one,
``price`` (capacity: yuan/kW·yr; green: premium yuan/MWh) and ``volume`` (capacity: cleared
MW; green: MWh traded; energy: MWh cleared over the round's hours). An energy round's prices
are hourly (:attr:`EnergyRoundResult.hourly_price_yuan_per_mwh`). ``result[key]`` reads a
field of the published JSON by its key.

>>> r = GreenRoundResult("green-01", {}, "bundled", "auction", "2025-01", 33.38, 50.0, [])
>>> (r.kind, r.status, r.price, r.volume, r["premium_yuan_per_mwh"])
('green', <RoundStatus.CLEARED: 'cleared'>, 33.38, 50.0, 33.38)
>>> list(r.to_dict())[:2], list(r.to_dict())[-2:]
(['kind', 'product'], ['round_id', 'settlement'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from market.errors import SessionStateError
from market.session.setup import RoundSpec, RoundStatus

#: Net fen by participant, then by ledger category (with ``"net"``).
Settlement = dict[str, dict[str, int]]
Rows = list[dict[str, Any]]
_COMMON = ("round_id", "settlement")


@dataclass(frozen=True)
class RoundResult:
    """What every published result has (see the module docstring)."""

    round_id: str
    settlement: Settlement
    kind: ClassVar[str] = ""
    status: ClassVar[RoundStatus] = RoundStatus.CLEARED

    @property
    def price(self) -> float | None:
        """The round's single clearing price, where it has one (else ``None``)."""
        return None

    @property
    def volume(self) -> float | None:
        """What the round cleared, where that is one number (else ``None``)."""
        return None

    @property
    def hourly_price_yuan_per_mwh(self) -> list[float | None] | None:
        """Prices per hour (energy rounds only), yuan/MWh; ``None`` for other kinds."""
        return None

    def _own_fields(self) -> list[str]:
        return [f.name for f in fields(self) if f.name not in _COMMON]

    def to_dict(self) -> dict[str, Any]:
        """The published JSON (a new dict; the nested rows are shared, not copied)."""
        return {"kind": self.kind, **{k: getattr(self, k) for k in self._own_fields()},
                "round_id": self.round_id, "settlement": self.settlement}

    def __getitem__(self, key: str) -> Any:
        """A field of the published JSON by its key (``"kind"`` included)."""
        if key == "kind":
            return self.kind
        if key in _COMMON or key in self._own_fields():
            return getattr(self, key)
        raise KeyError(key)


@dataclass(frozen=True)
class CapacityRoundResult(RoundResult):
    """The annual capacity auction: price yuan/kW·yr, MW accredited and cleared, payments
    fen (annual and per calendar month), the demand curve, every offer, and the clock's rounds
    (``round_log``, clock formats only)."""

    format: str
    delivery_year: int
    price_yuan_per_kw_yr: float | None
    requirement_mw: float | None
    demand: dict[str, Any]
    total_cleared_mw: float | None
    total_annual_payment_fen: int
    periods_paid: list[str]
    offers: Rows
    units: Rows
    round_log: Rows | None
    kind: ClassVar[str] = "capacity"

    @property
    def price(self) -> float | None:
        return self.price_yuan_per_kw_yr

    @property
    def volume(self) -> float | None:
        return self.total_cleared_mw


@dataclass(frozen=True)
class EnergyRoundResult(RoundResult):
    """One batched clearing of ``hours`` (session hour indices): per hour the price yuan/MWh,
    MWh cleared and curtailed, and the reserve margin; the stress hours found; every bid with
    its accepted MW; the units' net dispatch MW; the capacity performance charged (``None``
    without a cleared capacity round or without stress hours)."""

    hours: list[int]
    price_yuan_per_mwh: list[float | None]
    volume_mwh: list[float | None]
    curtailed_mwh: list[float | None]
    reserve_margin: list[float | None]
    stress_hours: list[int]
    bids: Rows
    dispatch: Rows
    performance: dict[str, Any] | None
    kind: ClassVar[str] = "energy"

    @property
    def volume(self) -> float | None:
        return float(sum(v or 0.0 for v in self.volume_mwh))

    @property
    def hourly_price_yuan_per_mwh(self) -> list[float | None] | None:
        return list(self.price_yuan_per_mwh)


@dataclass(frozen=True)
class GreenRoundResult(RoundResult):
    """A green round of ``product`` in ``mode`` in ``period``: the premium yuan/MWh (``None``
    when nothing cleared by auction, and in listing rounds), MWh traded, every trade."""

    product: str
    mode: str
    period: str
    premium_yuan_per_mwh: float | None
    volume_mwh: float | None
    trades: Rows
    kind: ClassVar[str] = "green"

    @property
    def price(self) -> float | None:
        return self.premium_yuan_per_mwh

    @property
    def volume(self) -> float | None:
        return self.volume_mwh


@dataclass(frozen=True)
class IssuanceResult(RoundResult):
    """Certificates issued in ``period`` per unit: metered MWh, certificates, MWh carried."""

    period: str
    units: Rows
    kind: ClassVar[str] = "issuance"


@dataclass(frozen=True)
class CompensationResult(RoundResult):
    """Coal compensation of ``period``: the call hours, per coal unit its failures and fen
    (gross, deduction, capacity offset, net), and who funds it (fen)."""

    period: str
    call_hours: list[int]
    units: Rows
    funding: Rows
    kind: ClassVar[str] = "compensation"


@dataclass(frozen=True)
class ObligationResult(RoundResult):
    """Retirement against the year's (``compliance_period``) consumption obligation, posted
    in ``period``: per obligated participant MWh consumed, owed, retired and short, and fen of
    penalty."""

    compliance_period: str
    period: str
    participants: Rows
    kind: ClassVar[str] = "obligation"


RESULT_TYPES: dict[str, type[RoundResult]] = {
    t.kind: t for t in (CapacityRoundResult, EnergyRoundResult, GreenRoundResult,
                        IssuanceResult, CompensationResult, ObligationResult)}


def result_from_dict(d: Mapping[str, Any]) -> RoundResult:
    """The typed result of published JSON ``d`` (its ``kind`` picks the type); raises
    :class:`~market.errors.SessionStateError` when a key is missing or unknown."""
    kind = d.get("kind")
    cls = RESULT_TYPES.get(str(kind))
    if cls is None:
        raise SessionStateError(f"a round result of unknown kind {kind!r}; kinds: "
                                f"{', '.join(RESULT_TYPES)}")
    names = [f.name for f in fields(cls)]
    keys = set(d) - {"kind"}
    if keys != set(names):
        raise SessionStateError(
            f"a {kind} result has keys {sorted(keys)}; expected {sorted(names)}")
    return cls(**{k: d[k] for k in names})


@dataclass
class RoundState:
    """A round of the plan and what happened to it. ``bids``: participant -> ``{"revision",
    "sequence", "bids"}`` in submission order (a revision moves the participant last);
    ``result``: the published result once the round has cleared."""

    spec: RoundSpec
    status: RoundStatus = RoundStatus.PENDING
    bids: dict[str, dict[str, Any]] = field(default_factory=dict)
    result: RoundResult | None = None
