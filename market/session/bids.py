"""Bids of a session's rounds, and the checks a batch must pass before it is stored.

One :class:`Bid` record serves every kind of round; what its fields mean depends on the round:

=========  ========================  ==========================  ============================
round      ``unit``                  ``price``                   ``quantity``
=========  ========================  ==========================  ============================
energy     unit (sell; storage may   yuan/MWh, within the        MW in ``hour`` (= MWh), up
           buy) or load id (buy)     rules' floor and cap        to available MW / demand
capacity   unit (sell only)          yuan/kW·yr, 0 to the cap    accredited MW, up to the
                                                                 unit's accreditation
green      optional for sells (the   green premium yuan/MWh (a   MWh (whole certificates
           unit whose certificates   certificate's price when    when unbundled)
           are sold); none for buys  unbundled), within limits
=========  ========================  ==========================  ============================

``hour`` (energy only) is a session hour index; ``counterparty`` (listing rounds only) is the
seller whose listing a buy request takes. :func:`check_batch` returns every problem of a batch
as ``(index, reason)``: the session refuses the batch whole when any is found.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from market.capacity.auction import CapacityAuction
from market.certificates.registry import TICKS_PER_MWH
from market.energy.bids import EnergyBids
from market.errors import EnergyBidError, GreenTradeError, MarketError
from market.green.trading import quantity_ticks
from market.session.books import SessionBooks
from market.session.setup import RoundSpec

SIDES = ("sell", "buy")
FIELDS = ("unit", "side", "price", "quantity", "hour", "counterparty")
_OPTIONAL = {"unit": None, "side": "sell", "hour": None, "counterparty": None, "kind": None}


@dataclass(frozen=True)
class Bid:
    """One bid or offer (see the module table for units). ``kind``, when given, is the kind of
    round the bid is meant for; a bid sent to a round of another kind is refused."""

    price: float
    quantity: float
    unit: str | None = None
    side: str = "sell"
    hour: int | None = None
    counterparty: str | None = None
    kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stored form (``kind`` dropped: a stored bid belongs to its round)."""
        return {"unit": self.unit, "side": self.side, "price": self.price,
                "quantity": self.quantity, "hour": self.hour, "counterparty": self.counterparty}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def parse_bid(raw: Any) -> tuple[Bid | None, list[str]]:
    """A :class:`Bid` from a ``Bid`` or a mapping of its fields, or the reasons it is not."""
    if isinstance(raw, Bid):
        d: dict[str, Any] = {f: getattr(raw, f) for f in (*FIELDS, "kind")}
    elif isinstance(raw, Mapping):
        d = dict(raw)
    else:
        return None, [f"a bid is a mapping of {', '.join(FIELDS)}, got {type(raw).__name__}"]
    why: list[str] = []
    unknown = sorted(set(d) - set(FIELDS) - {"kind"}, key=str)
    if unknown:
        why.append(f"unknown field(s) {unknown}; a bid has {', '.join(FIELDS)}")
    for name in ("price", "quantity"):
        if name not in d:
            why.append(f"{name} is missing")
        elif not _is_number(d[name]):
            why.append(f"{name} {d[name]!r} is not a number")
    for name in ("unit", "counterparty", "kind"):
        if d.get(name) is not None and not isinstance(d[name], str):
            why.append(f"{name} {d[name]!r} must be a name (a string) or null")
    side = d.get("side", "sell")
    if side not in SIDES:
        why.append(f"side {side!r} must be 'sell' or 'buy'")
    hour = d.get("hour")
    if hour is not None and (not isinstance(hour, (int, np.integer)) or isinstance(hour, bool)):
        why.append(f"hour {hour!r} must be a whole session hour index or null")
    if why:
        return None, why
    return Bid(float(d["price"]), float(d["quantity"]), d.get("unit"), side,
               None if hour is None else int(hour), d.get("counterparty"), d.get("kind")), []


def on_grid(value: float, tick: float) -> bool:
    """``value`` is finite and a whole number of ``tick``s (to 1e-6 of a tick)."""
    scaled = value / tick
    return math.isfinite(value) and abs(scaled - round(scaled)) <= 1e-6


def check_batch(session: SessionBooks, participant: str, spec: RoundSpec,
                raw: Sequence[Any]) -> tuple[list[Bid], list[tuple[int, str]]]:
    """Parse and check a batch for round ``spec``; returns the bids and every problem."""
    bids: list[Bid] = []
    problems: list[tuple[int, str]] = []
    for i, item in enumerate(raw):
        bid, why = parse_bid(item)
        problems += [(i, w) for w in why]
        if bid is not None and bid.kind is not None and bid.kind != spec.kind:
            problems.append((i, f"this is a {spec.kind} round ({spec.round_id!r}); the bid is "
                                f"marked for a {bid.kind} round"))
        bids.append(bid if bid is not None else Bid(math.nan, math.nan))
    parsed = [i for i, item in enumerate(raw) if not any(j == i for j, _ in problems)]
    checker = {"energy": _energy, "capacity": _capacity, "green": _green}[spec.kind]
    problems += checker(session, participant, spec, bids, parsed)
    problems.sort(key=lambda p: p[0])
    return bids, problems


def _not_named(bid: Bid, spec: RoundSpec, *fields: str) -> list[str]:
    return [f"a {spec.kind} bid names no {f} (got {getattr(bid, f)!r})" for f in fields
            if getattr(bid, f) is not None]


def _owner_problem(session: SessionBooks, participant: str, unit: str | None) -> str | None:
    if unit is None:
        return "unit is missing: name the unit (or load) the bid is for"
    owner = session.owner_of(unit)
    if owner is None:
        return (f"unit {unit!r} is neither a unit nor a load of this session; yours: "
                f"{', '.join(session.assets_of(participant)) or 'none'}")
    if owner != participant:
        return f"unit {unit!r} belongs to {owner!r}, not to {participant!r}"
    return None


def _hours_text(hours: Sequence[int]) -> str:
    hs = list(hours)
    if hs == list(range(hs[0], hs[-1] + 1)):
        return f"{hs[0]}..{hs[-1]}"
    return ", ".join(map(str, hs))


def _energy(session: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
            rows: list[int]) -> list[tuple[int, str]]:
    rules = session.rules
    pt, qt = float(rules.ticks.price_yuan), float(rules.ticks.quantity_mw)
    cap, floor = rules.energy.price_cap_yuan_per_mwh, rules.energy.price_floor_yuan_per_mwh
    hours = set(spec.hours)
    used: dict[tuple[str, int, str], float] = {}
    out: list[tuple[int, str]] = []
    for i in rows:
        b = bids[i]
        why = _not_named(b, spec, "counterparty")
        if b.hour is None or b.hour not in hours:
            why.append(f"hour {b.hour!r} is not cleared in this round; allowed hours: "
                       f"{_hours_text(spec.hours)}")
        owner = _owner_problem(session, participant, b.unit)
        if owner:
            why.append(owner)
        if not on_grid(b.price, pt) or not floor <= b.price <= cap:
            why.append(f"price {b.price!r} yuan/MWh must be on the {pt:g} yuan grid within "
                       f"[{floor:g}, {cap:g}]")
        if not (on_grid(b.quantity, qt) and b.quantity > 0):
            why.append(f"quantity {b.quantity!r} MW must be > 0 on the {qt:g} MW grid")
        if not why:
            why += _energy_limit(session, b, used)
        out += [(i, w) for w in why]
    bad = {i for i, _ in out}
    good = [i for i in rows if i not in bad]
    out += _storage(session, bids, good)
    if not out and good:
        out += _energy_intake(session, participant, spec, [bids[i] for i in good], good)
    return out


def _energy_intake(session: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
                   index: list[int]) -> list[tuple[int, str]]:
    """The energy market's own intake checks, so that a stored batch always clears."""
    local = {h: k for k, h in enumerate(spec.hours)}
    try:
        EnergyBids.from_arrays(
            [local[b.hour or 0] for b in bids], participant, [b.unit or "" for b in bids],
            [1 if b.side == "sell" else -1 for b in bids], [b.price for b in bids],
            [b.quantity for b in bids], rules=session.rules, n_hours=len(spec.hours))
    except EnergyBidError as exc:
        return [(index[row] if row is not None else index[0], why)
                for row, why in exc.problems]
    return []


def _storage(session: SessionBooks, bids: list[Bid], rows: list[int]) -> list[tuple[int, str]]:
    """A storage unit's bids must stay feasible whatever part is accepted: in the round, its
    discharge offered <= its state of charge, efficiency x charge bid <= the room left, each
    day's discharge <= max cycles x energy, and never both sides in one hour."""
    rules = session.rules.energy
    energy = {str(session.fleet.unit_ids[i]): e for i, e in session.storage_energy_mwh().items()}
    soc = session.storage_soc_mwh()
    out: list[tuple[int, str]] = []
    for unit, e in energy.items():
        mine = [i for i in rows if bids[i].unit == unit]
        if not mine:
            continue
        sell = [i for i in mine if bids[i].side == "sell"]
        buy = [i for i in mine if bids[i].side == "buy"]
        hours_of = {side: {int(bids[i].hour or 0) for i in rows_}
                    for side, rows_ in (("sell", sell), ("buy", buy))}
        both = sorted(hours_of["sell"] & hours_of["buy"])
        for h in both:
            out.append((max(i for i in mine if bids[i].hour == h),
                        f"storage {unit!r} both charges and discharges in hour {h}; bid one "
                        "side per hour"))
        total = sum(bids[i].quantity for i in sell)
        if sell and total > soc[unit] + 1e-6:
            out.append((sell[-1], f"storage {unit!r} offers {total:g} MWh of discharge in this "
                                  f"round but holds {soc[unit]:g} MWh; allowed total <= "
                                  f"{soc[unit]:g} MWh"))
        room = (e - soc[unit]) / rules.storage_round_trip_efficiency
        total = sum(bids[i].quantity for i in buy)
        if buy and total > room + 1e-6:
            out.append((buy[-1], f"storage {unit!r} bids to charge {total:g} MWh in this round "
                                 f"but has room for {room:g} MWh (energy {e:g} MWh, "
                                 f"{rules.storage_round_trip_efficiency:g} round-trip); allowed "
                                 f"total <= {room:g} MWh"))
        limit = rules.storage_max_cycles_per_day * e
        for day in sorted({bids[i].hour // 24 for i in sell}):  # type: ignore[operator]
            rows_day = [i for i in sell if bids[i].hour // 24 == day]  # type: ignore[operator]
            total = sum(bids[i].quantity for i in rows_day)
            if total > limit + 1e-6:
                out.append((rows_day[-1], f"storage {unit!r} offers {total:g} MWh of discharge "
                                          f"on day {day}, above "
                                          f"{rules.storage_max_cycles_per_day:g} full cycles; "
                                          f"allowed total <= {limit:g} MWh"))
    return out


def _energy_limit(session: SessionBooks, b: Bid, used: dict[tuple[str, int, str], float]
                  ) -> list[str]:
    assert b.unit is not None and b.hour is not None
    tech = session.technology_of(b.unit)
    if tech == "load" and b.side != "buy":
        return [f"load {b.unit!r} buys energy; side must be 'buy'"]
    if tech not in ("load", "storage") and b.side != "sell":
        return [f"{tech} unit {b.unit!r} sells energy; side must be 'sell' (only storage "
                "and loads buy)"]
    tick = float(session.rules.ticks.quantity_mw)
    # What may be bid is the limit rounded down to the quantity grid.
    limit = math.floor(session.energy_limit_mw(b.unit, b.hour) / tick + 1e-9) / round(1 / tick)
    key = (b.unit, b.hour, b.side)
    total = used.get(key, 0.0) + b.quantity
    used[key] = total
    if total > limit + tick / 2:
        what = "demand" if tech == "load" else "available capacity"
        return [f"{b.side} quantity of {b.unit!r} in hour {b.hour} totals {total:g} MW in this "
                f"batch, above its {what} {limit:g} MW; allowed 0 < total <= {limit:g} MW"]
    return []


def _capacity(session: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
              rows: list[int]) -> list[tuple[int, str]]:
    scratch = CapacityAuction(session.rules.capacity, session.fleet, session.peak_load_mw())
    out: list[tuple[int, str]] = []
    for i in rows:
        b = bids[i]
        why = _not_named(b, spec, "hour", "counterparty")
        if b.side != "sell":
            why.append("capacity is only offered (side 'sell'); the demand curve buys it")
        owner = _owner_problem(session, participant, b.unit)
        if owner is None and session.technology_of(b.unit or "") == "load":
            owner = f"{b.unit!r} is a load; loads do not offer capacity"
        if owner:
            why.append(owner)
        if not why:
            try:
                scratch.submit(b.unit or "", b.quantity, b.price)
            except MarketError as exc:
                why.append(str(exc))
        out += [(i, w) for w in why]
    return out


def _green(session: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
           rows: list[int]) -> list[tuple[int, str]]:
    market = session.green_market
    registry = market.registry
    lot = market.lot_ticks(spec.product or "bundled")
    sides = {bids[i].side for i in rows}
    offered: dict[str | None, int] = {}
    listings = 0
    out: list[tuple[int, str]] = []
    for i in rows:
        b = bids[i]
        why = _not_named(b, spec, "hour")
        premium = market.premium_problem(b.price)
        if premium:
            why.append(premium)
        try:
            t = quantity_ticks(b.quantity, "quantity", lot)
        except GreenTradeError as exc:
            why.append(str(exc))
            t = 0
        if len(sides) > 1 and b.side == "buy":
            why.append("this batch also sells; a participant takes one side in a green round")
        if b.side == "sell":
            why += _not_named(b, spec, "counterparty")
            listings += 1
            if spec.mode == "listing" and listings > 1:
                why.append("one listing per seller per round: send a single sell bid")
            if b.unit is not None:
                owner = _owner_problem(session, participant, b.unit)
                if owner:
                    why.append(owner)
                elif session.technology_of(b.unit) not in registry.issuing_technologies:
                    why.append(f"unit {b.unit!r} earns no certificates; name a wind or solar "
                               "unit, or no unit")
        else:
            why += _not_named(b, spec, "unit")
            if spec.mode == "listing" and (not b.counterparty or b.counterparty == participant):
                why.append("a listing request names the seller whose listing it takes "
                           "(counterparty), someone other than you")
            if spec.mode == "auction":
                why += _not_named(b, spec, "counterparty")
        if not why and b.side == "sell":
            why += _holding(registry, participant, b.unit, t, offered)
        out += [(i, w) for w in why]
    return out


def _holding(registry: Any, participant: str, unit: str | None, ticks: int,
             offered: dict[str | None, int]) -> list[str]:
    why = []
    for key in dict.fromkeys((None, unit)):
        offered[key] = offered.get(key, 0) + ticks
        have = registry.sellable_ticks(participant, key)
        if offered[key] > have:
            of = "" if key is None else f" of unit {key!r}"
            why.append(f"sells {offered[key] / TICKS_PER_MWH:g} MWh{of} in this batch but holds "
                       f"{have / TICKS_PER_MWH:g} MWh of never-sold certificates{of}; allowed "
                       f"0 < total <= {have / TICKS_PER_MWH:g} MWh")
    return why
