"""The registry of round kinds: what a kind of round does, looked up by its name.

A kind (:class:`RoundKind`) is a small object registered once by its module under
``market/session/rounds/``. The session calls it through the round's lifecycle:

* ``open(session, spec)`` when a bid round opens (nothing to do for today's kinds);
* ``validate(session, participant, spec, bids, rows)``: the kind's own checks of a parsed
  batch (``rows``: indices of the bids that parsed), as ``(index, reason)`` pairs;
* ``clear(session, spec, entries)``: clear the bids (in submission order), settle the money
  into the session's ledger, and return the published fields of the result (JSON values,
  without ``round_id`` and ``settlement``, which the session adds), which the session
  publishes as the kind's typed result (:mod:`market.session.results`).

Settlement steps (``takes_bids`` false) are only cleared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from market.session.bids import Bid
from market.session.books import SessionBooks
from market.session.setup import RoundSpec

#: Bids of a round in submission order: (participant, stored bid dicts).
Entries = Sequence[tuple[str, Sequence[dict[str, Any]]]]
#: A problem of a batch: (index of the bid, reason).
Problem = tuple[int, str]


class RoundKind(Protocol):
    """What a kind of round does (see the module docstring)."""

    name: ClassVar[str]
    takes_bids: ClassVar[bool]

    def open(self, s: SessionBooks, spec: RoundSpec) -> None: ...

    def validate(self, s: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
                 rows: list[int]) -> list[Problem]: ...

    def clear(self, s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]: ...


class Kind:
    """Base of the registered kinds: nothing to do when a round opens."""

    def open(self, s: SessionBooks, spec: RoundSpec) -> None:
        return None


class BidRound(Kind):
    """Base of the kinds that take bids (capacity, energy, green)."""

    takes_bids: ClassVar[bool] = True


class Step(Kind):
    """Base of the settlement steps: no bids to check."""

    takes_bids: ClassVar[bool] = False

    def validate(self, s: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
                 rows: list[int]) -> list[Problem]:
        return [(i, f"a {spec.kind} step takes no bids") for i in rows]


_KINDS: dict[str, RoundKind] = {}


def register(kind: RoundKind) -> RoundKind:
    """Register ``kind`` under its name (once)."""
    if kind.name in _KINDS:
        raise ValueError(f"round kind {kind.name!r} is registered already")
    _KINDS[kind.name] = kind
    return kind


def round_kind(name: str) -> RoundKind:
    """The registered kind called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"no round kind {name!r}; registered: {', '.join(_KINDS)}") from None


def kind_names() -> tuple[str, ...]:
    """Names of the registered kinds, in registration order."""
    return tuple(_KINDS)
