"""A trading session: the domain object of a game (and of an in-process study run).

A :class:`Session` holds the rules, the fleet (units and their owners), the loads, the hourly
profiles and a plan of rounds (:mod:`market.session.setup`). Participants join by id; a
participant bids for the units and loads it owns.

Round lifecycle: ``pending -> open -> gate_closed -> cleared``. Rounds open in plan order, each
only once every earlier round has cleared. While a round is open, :meth:`Session.submit_bids`
takes a participant's whole batch or refuses it whole (:class:`~market.errors.BidsRefused`
lists every bad bid); a new batch replaces the participant's earlier one (its revision number
goes up). After :meth:`Session.close_gate` a bid raises :class:`~market.errors.GateClosedError`
and stores nothing. :meth:`Session.clear_round` clears once (again:
:class:`~market.errors.RoundAlreadyClearedError`), posts the settlement to the ledger and
publishes the result (read it any number of times with :meth:`Session.result`). Bids are sealed:
:meth:`Session.bids_visible_to` shows a participant only its own until the round clears.

Settlement steps (compensation, issuance, obligation) take no bids: right after a bid round
clears, the session runs the steps that follow it in the plan, up to the next bid round, so a
game never waits for them (``auto_settle=False`` leaves them to :meth:`Session.clear_round`).

:meth:`Session.to_dict` gives the whole state as JSON-compatible dicts and
:meth:`Session.from_dict` restores it exactly (:mod:`market.session.state`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from market.certificates.registry import CertificateRegistry
from market.errors import (
    BidsRefused,
    GateClosedError,
    MarketError,
    ParticipantError,
    RoundAlreadyClearedError,
    RoundStateError,
    SessionSetupError,
    UnknownRoundError,
)
from market.green.trading import GreenMarket
from market.ledger.book import SYSTEM_OPERATOR, Ledger
from market.rules import MarketRules
from market.session.bids import Bid, check_batch
from market.session.books import SessionBooks
from market.session.plan import check_setup, standard_plan
from market.session.results import RoundResult, RoundState, result_from_dict
from market.session.rounds import round_kind
from market.session.setup import (
    Load,
    Profiles,
    RoundSpec,
    RoundStatus,
    available_matrix,
)
from market.session.state import (
    leaderboard,
    round_settlement,
    session_from_dict,
    session_to_dict,
)
from market.units import Fleet

__all__ = ["Bid", "Load", "Profiles", "RoundSpec", "RoundState", "RoundStatus", "Session",
           "standard_plan"]

PENDING, OPEN, GATE_CLOSED, CLEARED = (RoundStatus.PENDING, RoundStatus.OPEN,
                                      RoundStatus.GATE_CLOSED, RoundStatus.CLEARED)


class Session(SessionBooks):
    """One session. ``marginal_cost_yuan_per_mwh`` (unit id -> yuan/MWh) is what the
    leaderboard charges dispatched energy; ``seed`` (default: the rules' ``meta.seed``) seeds
    :attr:`rng`, the generator bots of this session draw from; storage starts
    ``storage_soc_start_fraction`` full (default: the rules'
    ``fleet.storage.initial_soc_fraction``)."""

    def __init__(self, rules: MarketRules, fleet: Fleet, loads: Sequence[Load],
                 profiles: Profiles, plan: Sequence[RoundSpec], *, seed: int | None = None,
                 marginal_cost_yuan_per_mwh: Mapping[str, float] | None = None,
                 session_id: str = "session", auto_settle: bool = True,
                 storage_soc_start_fraction: float | None = None) -> None:
        if storage_soc_start_fraction is None:
            storage_soc_start_fraction = rules.fleet.storage.initial_soc_fraction
        problems = check_setup(rules, fleet, loads, profiles, plan)
        if not 0.0 <= storage_soc_start_fraction <= 1.0:
            problems.append(f"storage_soc_start_fraction must be in [0, 1], got "
                            f"{storage_soc_start_fraction!r}")
        costs = {str(k): float(v) for k, v in (marginal_cost_yuan_per_mwh or {}).items()}
        problems += [f"marginal_cost_yuan_per_mwh: {u!r} is not a unit of the fleet"
                     for u in costs if u not in set(fleet.unit_ids.tolist())]
        problems += [f"marginal_cost_yuan_per_mwh of {u!r} must be a finite number, got {c!r}"
                     for u, c in costs.items() if not np.isfinite(c)]
        if problems:
            raise SessionSetupError(problems)
        self.rules = rules
        self.fleet = fleet
        self.loads = tuple(loads)
        self.profiles = profiles
        self.session_id = session_id
        self.seed = rules.meta.seed if seed is None else int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.marginal_cost = costs
        self.auto_settle = auto_settle
        self.storage_soc_start_fraction = float(storage_soc_start_fraction)
        self.available = available_matrix(fleet, profiles)
        self.available.setflags(write=False)
        self.ledger = Ledger()
        months = profiles.months()
        self.registry = CertificateRegistry.from_rules(rules.green, self.period(months[0]))
        self.registry.register_units(fleet.unit_ids.tolist(), fleet.technologies.tolist(),
                                     fleet.owners.tolist())
        self.registry_log: list[dict[str, Any]] = []
        self.green_market = GreenMarket(rules.green, self.registry, self.ledger)
        self.participants: list[str] = []
        self.rounds: dict[str, RoundState] = {r.round_id: RoundState(r) for r in plan}
        self.events: list[dict[str, Any]] = []
        self.sequence = 0
        self._assets = {str(u): str(o) for u, o in zip(fleet.unit_ids, fleet.owners, strict=True)}
        self._assets.update({ld.load_id: ld.participant for ld in self.loads})
        self._load_ids = frozenset(ld.load_id for ld in self.loads)
        self._units = frozenset(fleet.unit_ids.tolist())

    # ----------------------------------------------------------------- participants

    def join(self, participant: str) -> dict[str, Any]:
        """Join ``participant``; returns what it owns (:meth:`participant_view`)."""
        if not isinstance(participant, str) or not participant:
            raise ParticipantError(f"a participant id is a non-empty string, got {participant!r}")
        if participant == SYSTEM_OPERATOR:
            raise ParticipantError(f"{SYSTEM_OPERATOR!r} is reserved for the system operator; "
                                   "choose another participant id")
        if participant in self.participants:
            raise ParticipantError(f"participant {participant!r} has already joined")
        self.participants.append(participant)
        self._event("joined", participant=participant)
        return self.participant_view(participant)

    def participant_view(self, participant: str) -> dict[str, Any]:
        """The units (with technology, nameplate MW) and loads of ``participant``."""
        units = [{"unit": str(u), "technology": str(t), "nameplate_mw": float(c)}
                 for u, o, t, c in zip(self.fleet.unit_ids, self.fleet.owners,
                                       self.fleet.technologies, self.fleet.nameplate_mw,
                                       strict=True) if o == participant]
        loads = [ld.load_id for ld in self.loads if ld.participant == participant]
        return {"participant": participant, "units": units, "loads": loads}

    def _joined(self, participant: str) -> None:
        if participant not in self.participants:
            raise ParticipantError(f"participant {participant!r} has not joined this session; "
                                   f"joined: {', '.join(self.participants) or 'nobody yet'}")

    # ----------------------------------------------------------------- rounds

    def round(self, round_id: str) -> RoundState:
        try:
            return self.rounds[round_id]
        except KeyError:
            raise UnknownRoundError(f"no round {round_id!r} in this session; rounds: "
                                    f"{', '.join(self.rounds)}") from None

    def status(self, round_id: str) -> RoundStatus:
        """Where round ``round_id`` is in its lifecycle."""
        return self.round(round_id).status

    def round_ids(self) -> list[str]:
        """The round ids of the plan, in plan order."""
        return list(self.rounds)

    def bidders(self, round_id: str) -> int:
        """How many participants have bids stored in round ``round_id``."""
        return len(self.round(round_id).bids)

    def round_list(self) -> list[dict[str, Any]]:
        """Every round of the plan with its status, in plan order."""
        return [{**r.spec.to_dict(), "status": r.status} for r in self.rounds.values()]

    def next_round(self) -> str | None:
        """The first round of the plan that has not cleared (``None`` when all have)."""
        return next((rid for rid, r in self.rounds.items() if r.status != CLEARED), None)

    def _check_turn(self, rid: str, action: str) -> None:
        first = self.next_round()
        if first != rid:
            raise RoundStateError(f"cannot {action} round {rid!r} yet: round {first!r} comes "
                                  "before it in the plan and has not cleared")

    def open_round(self, round_id: str) -> None:
        """Open a pending bid round (every earlier round must have cleared)."""
        r = self.round(round_id)
        if r.status == CLEARED:
            raise RoundAlreadyClearedError(f"round {round_id!r} has cleared already")
        if not r.spec.takes_bids:
            raise RoundStateError(f"round {round_id!r} is a {r.spec.kind} step: it takes no "
                                  "bids and is run by clear_round")
        if r.status != PENDING:
            raise RoundStateError(f"round {round_id!r} is {r.status}, not pending")
        self._check_turn(round_id, "open")
        round_kind(r.spec.kind).open(self, r.spec)
        r.status = OPEN
        self._event("opened", round_id)

    def submit_bids(self, participant: str, round_id: str,
                    bids: Iterable[Bid | Mapping[str, Any]]) -> int:
        """Store ``participant``'s whole batch for an open round, replacing its earlier one;
        returns the batch's revision number (1 for the first). An empty batch withdraws."""
        self._joined(participant)
        r = self.round(round_id)
        if not r.spec.takes_bids:
            raise RoundStateError(f"round {round_id!r} is a {r.spec.kind} step and takes no bids")
        if r.status in (GATE_CLOSED, CLEARED):
            raise GateClosedError(f"the gate of round {round_id!r} has closed ({r.status}); "
                                  f"bids of {participant!r} were not stored")
        if r.status != OPEN:
            raise RoundStateError(f"round {round_id!r} is not open yet ({r.status}); bids are "
                                  "taken between open_round and close_gate")
        raw = list(bids)
        parsed, problems = check_batch(self, participant, r.spec, raw,
                                       round_kind(r.spec.kind).validate)
        if problems:
            raise BidsRefused(round_id, participant, problems)
        previous = r.bids.pop(participant, None)
        self.sequence += 1
        r.bids[participant] = {"revision": 1 if previous is None else previous["revision"] + 1,
                               "sequence": self.sequence,
                               "bids": [b.to_dict() for b in parsed]}
        self._event("bids", round_id, participant=participant,
                    revision=r.bids[participant]["revision"])
        return int(r.bids[participant]["revision"])

    def close_gate(self, round_id: str) -> None:
        """Close an open round's gate: no more bids."""
        r = self.round(round_id)
        if r.status == CLEARED:
            raise RoundAlreadyClearedError(f"round {round_id!r} has cleared already")
        if r.status != OPEN:
            raise RoundStateError(f"round {round_id!r} is {r.status}; only an open round's gate "
                                  "closes")
        r.status = GATE_CLOSED
        self._event("gate_closed", round_id)

    def clear_round(self, round_id: str, *, rollback: bool = True) -> RoundResult:
        """Clear a round once, settle it and publish its typed result (returned; see
        :mod:`market.session.results`). A bid round must
        have its gate closed; a settlement step runs when every earlier round has cleared.

        A clear that fails leaves the session as it was: it is restored from a snapshot taken
        first. ``rollback=False`` skips that snapshot (a whole ``to_dict`` of the session) for a
        caller that discards this object whenever the call raises, as the service does (it
        rebuilds the session from its database).
        """
        r = self.round(round_id)
        if r.status == CLEARED:
            raise RoundAlreadyClearedError(f"round {round_id!r} has cleared already; read its "
                                           "result with result()")
        if r.spec.takes_bids and r.status != GATE_CLOSED:
            raise RoundStateError(f"round {round_id!r} is {r.status}: close its gate before "
                                  "clearing")
        self._check_turn(round_id, "clear")
        if not rollback:
            self._clear(r)
            if self.auto_settle and r.spec.takes_bids:
                self._settle_following(round_id)
            return self.result(round_id)
        before = self.to_dict()
        try:
            self._clear(r)
            if self.auto_settle and r.spec.takes_bids:
                self._settle_following(round_id)
        except MarketError:
            self.__dict__.update(Session.from_dict(before).__dict__)
            raise
        return self.result(round_id)

    def _clear(self, r: RoundState) -> None:
        start = self.ledger.n_entries
        entries = [(p, e["bids"]) for p, e in sorted(r.bids.items(),
                                                     key=lambda kv: kv[1]["sequence"])]
        kind = round_kind(r.spec.kind)
        fields = kind.clear(self, r.spec, entries)
        published = {"kind": kind.name, **fields, "round_id": r.spec.round_id,
                     "settlement": round_settlement(self.ledger, start)}
        # published as JSON reads it back
        r.result = result_from_dict(json.loads(json.dumps(published)))
        r.status = CLEARED
        self._event("cleared", r.spec.round_id)

    def _settle_following(self, round_id: str) -> None:
        ids = list(self.rounds)
        for rid in ids[ids.index(round_id) + 1:]:
            r = self.rounds[rid]
            if r.spec.takes_bids or r.status == CLEARED:
                break
            self._clear(r)

    def result(self, round_id: str) -> RoundResult:
        """The published result of a cleared round (the same every time; a copy, so that
        changing it changes nothing here)."""
        return copy.deepcopy(self.published(round_id))

    def published(self, round_id: str) -> RoundResult:
        """The published result of a cleared round itself, not a copy: for readers that
        change nothing (the service reads large results so, under the session's lock)."""
        r = self.round(round_id)
        if r.status != CLEARED or r.result is None:
            raise RoundStateError(f"round {round_id!r} is {r.status}; its result is published "
                                  "when it clears")
        return r.result

    def stored_batch(self, participant: str, round_id: str) -> dict[str, Any]:
        """``participant``'s current batch in round ``round_id`` as stored: ``{"revision",
        "sequence", "bids"}`` (a copy); ``KeyError`` when it has none."""
        return copy.deepcopy(self.round(round_id).bids[participant])

    def all_bids(self, round_id: str) -> list[dict[str, Any]]:
        """Every participant's current bids in round ``round_id``, sealed or not (for the
        instructor and for persistence, never for players): ``{"participant", "revision",
        "bids"}`` in submission order (copies)."""
        return [{"participant": p, "revision": e["revision"], "bids": copy.deepcopy(e["bids"])}
                for p, e in self.round(round_id).bids.items()]

    def restore_batch(self, participant: str, round_id: str, revision: int, sequence: int,
                      bids: list[dict[str, Any]]) -> None:
        """Put back a batch that :meth:`submit_bids` accepted earlier, exactly as it stored
        it (``bids`` in their stored form; they are not checked again): the participant's
        entry is replaced and moved last, and the bid counter and the event log follow."""
        r = self.round(round_id)
        r.bids.pop(participant, None)
        r.bids[participant] = {"revision": revision, "sequence": sequence, "bids": bids}
        self.sequence = sequence
        self._event("bids", round_id, participant=participant, revision=revision)

    def bids_visible_to(self, participant: str, round_id: str) -> list[dict[str, Any]]:
        """Bids ``participant`` may see: its own until the round clears, everyone's after;
        each ``{"participant", "revision", "bids"}``, in submission order."""
        self._joined(participant)
        r = self.round(round_id)
        return [{"participant": p, "revision": e["revision"], "bids": copy.deepcopy(e["bids"])}
                for p, e in r.bids.items() if r.status == CLEARED or p == participant]

    # ----------------------------------------------------------------- money

    def settlement(self, participant: str) -> dict[str, int]:
        """Net fen by ledger category for ``participant`` over the whole session (+ received),
        with the total under ``"net"``."""
        out = {str(k): int(v) for k, v in
               sorted(self.ledger.totals_by("category", participant=participant).items())}
        out["net"] = sum(out.values())
        return out

    def leaderboard(self) -> list[dict[str, Any]]:
        """Profit per participant, ranked (see :func:`market.session.state.leaderboard`)."""
        return leaderboard(self)

    # ----------------------------------------------------------------- events and state

    def _event(self, event: str, round_id: str | None = None, **more: Any) -> None:
        self.events.append({"event": event, "round_id": round_id, **more})

    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-compatible dicts (see :mod:`market.session.state`)."""
        return session_to_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Session:
        """Restore a session from :meth:`to_dict` output, exactly."""
        return session_from_dict(cls, d)
