"""Rounds: read them, and the instructor's actions (open the next, close the gate, clear).

Closing and clearing are idempotent: a second close (or a close racing another) finds the
gate closed or the round cleared and answers with the same state or result, changing nothing.
Writers of a session are serialised (:func:`api.service.services.common.writing`), so a round clears
exactly once and its result is saved in the same transaction as the clear.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session as Db

from api.service import views
from api.service.classroom import deadline
from api.service.db import repositories as repo
from api.service.db.engine import Database
from api.service.errors import ApiError, Conflict, Refused
from api.service.live import LiveSessions
from api.service.schemas.classroom import RoundOpened
from api.service.schemas.sessions import (
    BotsCreate,
    CurrentRoundPublic,
    RoundPublic,
    RoundResultPublic,
    RoundsPublic,
)
from api.service.services import bots as seat_bots
from api.service.services.common import reading, writing
from api.service.settings import Settings
from market.errors import MarketError
from market.session import RoundStatus, Session

log = logging.getLogger(__name__)

CLEARED, GATE_CLOSED, OPEN = RoundStatus.CLEARED, RoundStatus.GATE_CLOSED, RoundStatus.OPEN


def list_rounds(db: Db, live: LiveSessions, session_id: str) -> RoundsPublic:
    deadline.enforce(db, live, session_id, at_deadline)
    with reading(db, live, session_id) as (_row, s):
        data = [views.round_public(s, rid) for rid in s.round_ids()]
    return RoundsPublic(data=data, count=len(data))


def current_round(db: Db, live: LiveSessions, session_id: str) -> CurrentRoundPublic:
    deadline.enforce(db, live, session_id, at_deadline)
    with reading(db, live, session_id) as (_row, s):
        return views.current_round(s)


def get_round(db: Db, live: LiveSessions, session_id: str, round_id: str) -> RoundPublic:
    with reading(db, live, session_id) as (_row, s):
        return views.round_public(s, round_id)


def _clear_once(live: LiveSessions, session_id: str, s: Session, round_id: str) -> None:
    """Clear without the domain's own undo snapshot (a whole ``to_dict``): if the clear
    raises, the live session is dropped and the next request rebuilds it from the database,
    where the transaction rolled back."""
    try:
        s.clear_round(round_id, rollback=False)
    except BaseException:
        live.evict(session_id)
        raise


def _run_steps(live: LiveSessions, session_id: str, s: Session) -> None:
    """Run settlement steps that are next in the plan (they take no bids)."""
    rid = s.next_round()
    while rid is not None and not s.round(rid).spec.takes_bids:
        _clear_once(live, session_id, s, rid)
        rid = s.next_round()


def open_next(db: Db, live: LiveSessions, session_id: str,
              bots: BotsCreate | None = None, *, deadline_seconds: int | None = None,
              auto_clear: bool = False, database: Database | None = None,
              settings: Settings) -> RoundOpened:
    """Open the next bid round of the plan; bots take the seats still empty by the session's
    bots policy (``bots`` replaces it) and every bot seat bids
    (:mod:`api.service.services.bots`). With ``deadline_seconds`` the gate closes by itself
    then (and the round clears when ``auto_clear``; :mod:`api.service.classroom.deadline`),
    timed by ``database``'s server. A ``policy:NAME`` strategy is a file of ``settings``'
    policy folder (:func:`api.service.services.bots.resolve_policy`)."""
    bots = seat_bots.resolve_policy(bots, settings)
    if bots is not None:
        seat_bots.check_policy(bots)
    if auto_clear and deadline_seconds is None:
        raise Refused("auto_clear clears the round at its deadline: give deadline_seconds too",
                      problems=[{"loc": "body.auto_clear",
                                 "reason": "needs deadline_seconds"}])
    with writing(db, live, session_id) as w:
        s = w.session
        rid = s.next_round()
        if rid is None:
            raise Conflict("every round of this session has cleared; the game is over")
        status = s.status(rid)
        if status in (OPEN, GATE_CLOSED):
            raise Conflict(f"round {rid!r} is {status.replace('_', ' ')}: clear it before "
                           "opening the next round")
        _run_steps(live, session_id, s)
        rid = s.next_round()
        if rid is None:
            raise Conflict("no bid round is left to open; the game is over")
        s.open_round(rid)
        seat_bots.fill_and_bid(db, w, rid, bots)
        due = deadline.set_deadline(w.row, rid, deadline_seconds, auto_clear)
        w.save()
        opened = RoundOpened(**views.round_public(s, rid).model_dump(),
                             deadline_at=None if due is None else due["at"],
                             auto_clear=bool(due and due["auto_clear"]))
    if database is not None:
        deadline.arm(database, live, session_id, due, at_deadline)
    return opened


def at_deadline(db: Db, live: LiveSessions, session_id: str, round_id: str,
                auto_clear: bool) -> None:
    """What a round's deadline does (:mod:`api.service.classroom.deadline`): close the gate,
    and clear when ``auto_clear``; a refusal (a halted game, a round voided and reopened) is
    logged, not raised: a timer has nobody to raise to."""
    try:
        if auto_clear:
            clear(db, live, session_id, round_id)
        else:
            close_gate(db, live, session_id, round_id)
    except (ApiError, MarketError) as exc:
        log.warning("deadline of round %s of session %s: %s", round_id, session_id, exc)


def close_gate(db: Db, live: LiveSessions, session_id: str, round_id: str) -> RoundPublic:
    """Close the gate of an open round (a closed or cleared one is answered as it is)."""
    with writing(db, live, session_id) as w:
        s = w.session
        if s.status(round_id) not in (GATE_CLOSED, CLEARED):
            s.close_gate(round_id)
            w.save()
        return views.round_public(s, round_id)


def clear(db: Db, live: LiveSessions, session_id: str, round_id: str) -> RoundResultPublic:
    """Close the gate if open, clear the round once and return its result (the instructor's
    view); a cleared round returns its published result."""
    with writing(db, live, session_id) as w:
        s = w.session
        status = s.status(round_id)
        if status != CLEARED:
            if status == OPEN:
                s.close_gate(round_id)
            _clear_once(live, session_id, s, round_id)
            w.save()
        return views.result_public(s, round_id, None)


def result(db: Db, live: LiveSessions, session_id: str, round_id: str,
           participant: str | None) -> RoundResultPublic:
    with reading(db, live, session_id) as (_row, s):
        return views.result_public(s, round_id, participant)


def void(db: Db, live: LiveSessions, session_id: str, round_id: str) -> RoundPublic:
    """Void a round that has not cleared: it is open again with every bid discarded (a
    closed gate opens), so participants bid again; the ``round_voided`` event tells them. A
    cleared round cannot be voided (its money is in the ledger): 409.

    The domain session has no void of its own, so the service edits its saved form (the
    round's status and bids) and restores it; the idempotency keys of the round's batches
    are released, so a bot's retried key makes a new batch rather than replaying a voided
    one."""
    with writing(db, live, session_id) as w:
        s = w.session
        status = s.status(round_id)
        if not s.round(round_id).spec.takes_bids:
            raise Conflict(f"round {round_id!r} is a {s.round(round_id).spec.kind} step; "
                           "it takes no bids and cannot be voided")
        if status == CLEARED:
            raise Conflict(f"round {round_id!r} has cleared; a cleared round's settlement is "
                           "in the ledger and cannot be voided")
        if status not in (OPEN, GATE_CLOSED):
            raise Conflict(f"round {round_id!r} is {status}; only an open round or one whose "
                           "gate closed can be voided")
        saved = s.to_dict()
        discarded = 0
        for r in saved["rounds"]:
            if r["round_id"] == round_id:
                discarded = len(r["bids"])
                r["status"], r["bids"] = str(OPEN), []
        saved["events"].append({"event": "voided", "round_id": round_id,
                                "batches_discarded": discarded, "was": str(status)})
        w.live.session = Session.from_dict(saved)
        repo.release_keys(db, session_id, round_id)
        w.save()
        return views.round_public(w.session, round_id)
