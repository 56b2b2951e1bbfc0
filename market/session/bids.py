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
seller whose listing a buy request takes. :func:`check_batch` parses a batch and runs its round
kind's checks (in ``market/session/rounds/``); it returns every problem as ``(index, reason)``,
and the session refuses the batch whole when any is found.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

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


def _fits_float(v: Any) -> bool:
    """``float(v)`` does not overflow (a huge Python int does)."""
    try:
        float(v)
    except OverflowError:
        return False
    return True


def _short(v: Any) -> str:
    """``repr(v)``, cut to 60 characters (a huge int is named by its size)."""
    if isinstance(v, int) and v.bit_length() > 64:
        return f"<a whole number of {v.bit_length()} bits>"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


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
            why.append(f"{name} {_short(d[name])} is not a number")
        elif not _fits_float(d[name]):
            why.append(f"{name} is a whole number of {int(d[name]).bit_length()} bits, too "
                       "large for a float; prices and quantities are finite numbers on the grid")
    for name in ("unit", "counterparty", "kind"):
        if d.get(name) is not None and not isinstance(d[name], str):
            why.append(f"{name} {_short(d[name])} must be a name (a string) or null")
    side = d.get("side", "sell")
    if side not in SIDES:
        why.append(f"side {side!r} must be 'sell' or 'buy'")
    hour = d.get("hour")
    if hour is not None and (not isinstance(hour, (int, np.integer)) or isinstance(hour, bool)
                             or not -2**63 <= int(hour) < 2**63):
        why.append(f"hour {_short(hour)} must be a whole session hour index or null")
    if why:
        return None, why
    return Bid(float(d["price"]), float(d["quantity"]), d.get("unit"), side,
               None if hour is None else int(hour), d.get("counterparty"), d.get("kind")), []


#: The kind's own checks of a parsed batch: (session, participant, spec, bids, rows of the
#: bids that parsed) -> [(index, reason)].
Validate = Callable[[SessionBooks, str, RoundSpec, list["Bid"], list[int]],
                    list[tuple[int, str]]]


def check_batch(session: SessionBooks, participant: str, spec: RoundSpec,
                raw: Sequence[Any], validate: Validate
                ) -> tuple[list[Bid], list[tuple[int, str]]]:
    """Parse a batch for round ``spec`` and check it with its kind's ``validate``; returns
    the bids and every problem, sorted by bid index."""
    bids: list[Bid] = []
    problems: list[tuple[int, str]] = []
    for i, item in enumerate(raw):
        bid, why = parse_bid(item)
        problems += [(i, w) for w in why]
        if bid is not None and bid.kind is not None and bid.kind != spec.kind:
            problems.append((i, f"this is a {spec.kind} round ({spec.round_id!r}); the bid is "
                                f"marked for a {bid.kind} round"))
        bids.append(bid if bid is not None else Bid(math.nan, math.nan))
    bad = {j for j, _ in problems}
    parsed = [i for i in range(len(raw)) if i not in bad]
    problems += validate(session, participant, spec, bids, parsed)
    problems.sort(key=lambda p: p[0])
    return bids, problems


def not_named(bid: Bid, spec: RoundSpec, *fields: str) -> list[str]:
    """Why ``bid`` may not name ``fields`` in a round of this kind (one reason per field)."""
    return [f"a {spec.kind} bid names no {f} (got {getattr(bid, f)!r})" for f in fields
            if getattr(bid, f) is not None]


def owner_problem(session: SessionBooks, participant: str, unit: str | None) -> str | None:
    """Why ``participant`` may not bid for ``unit`` (``None`` when it may)."""
    if unit is None:
        return "unit is missing: name the unit (or load) the bid is for"
    owner = session.owner_of(unit)
    if owner is None:
        return (f"unit {unit!r} is neither a unit nor a load of this session; yours: "
                f"{', '.join(session.assets_of(participant)) or 'none'}")
    if owner != participant:
        return f"unit {unit!r} belongs to {owner!r}, not to {participant!r}"
    return None


def hours_text(hours: Sequence[int]) -> str:
    """Hours as ``"0..23"`` when consecutive, else listed."""
    hs = list(hours)
    if hs == list(range(hs[0], hs[-1] + 1)):
        return f"{hs[0]}..{hs[-1]}"
    return ", ".join(map(str, hs))


