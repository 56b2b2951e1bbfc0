"""Rounds: read them (members); open the next, close a gate, clear (instructor); results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from api.service.deps import CurrentInstructor, CurrentMember, DbDep, LiveDep, SessionIdPath
from api.service.schemas.classroom import RoundOpened, RoundOpenTimed
from api.service.schemas.sessions import (
    CurrentRoundPublic,
    RoundPublic,
    RoundResultPublic,
    RoundsPublic,
)
from api.service.services import rounds as service

router = APIRouter(prefix="/sessions/{session_id}/rounds", tags=["rounds"])
RoundIdPath = Annotated[str, Path(min_length=1, max_length=100, description="Round id")]


@router.get("", operation_id="list_rounds")
def list_rounds(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                live: LiveDep) -> RoundsPublic:
    """Every round of the plan with its status, in plan order."""
    return service.list_rounds(db, live, member.session_id)


@router.get("/current", operation_id="get_current_round")
def get_current_round(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                      live: LiveDep) -> CurrentRoundPublic:
    """The first round that has not cleared."""
    return service.current_round(db, live, member.session_id)


@router.post("/open", operation_id="open_next_round")
def open_next_round(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                    live: LiveDep, request: Request,
                    body: RoundOpenTimed | None = None) -> RoundOpened:
    """Open the next bid round of the plan (instructor). Bots fill the seats still empty by
    the session's bots policy (``{"bots": {...}}`` sets it) and bid at once. With
    ``{"deadline_seconds": N}`` the server closes the gate N seconds later by itself, and
    with ``"auto_clear": true`` clears the round then too; the deadline is in the session's
    ``setup.deadline`` (``{"round_id", "at", "auto_clear"}``) for every page's countdown."""
    body = body or RoundOpenTimed()
    return service.open_next(db, live, member.session_id, body.bots,
                             deadline_seconds=body.deadline_seconds, auto_clear=body.auto_clear,
                             database=request.app.state.database,
                             settings=request.app.state.settings)


@router.get("/{round_id}", operation_id="get_round")
def get_round(session_id: SessionIdPath, round_id: RoundIdPath, member: CurrentMember,
              db: DbDep, live: LiveDep) -> RoundPublic:
    return service.get_round(db, live, member.session_id, round_id)


@router.post("/{round_id}/close", operation_id="close_gate")
def close_gate(session_id: SessionIdPath, round_id: RoundIdPath, member: CurrentInstructor,
               db: DbDep, live: LiveDep) -> RoundPublic:
    """Close the round's gate: no more bids (instructor; closing again changes nothing)."""
    return service.close_gate(db, live, member.session_id, round_id)


@router.post("/{round_id}/clear", operation_id="clear_round")
def clear_round(session_id: SessionIdPath, round_id: RoundIdPath, member: CurrentInstructor,
                db: DbDep, live: LiveDep) -> RoundResultPublic:
    """Close the gate if open and clear the round, once; clearing again returns the same
    result (instructor)."""
    return service.clear(db, live, member.session_id, round_id)


@router.post("/{round_id}/void", operation_id="void_round")
def void_round(session_id: SessionIdPath, round_id: RoundIdPath, member: CurrentInstructor,
               db: DbDep, live: LiveDep) -> RoundPublic:
    """Void a round that has not cleared: it opens again with every bid discarded (a closed
    gate reopens) and participants bid again (``round_voided`` event). A cleared round cannot
    be voided (409); to stop a game whose round cannot clear, halt it (instructor)."""
    return service.void(db, live, member.session_id, round_id)


@router.get("/{round_id}/result", operation_id="get_round_result")
def get_round_result(session_id: SessionIdPath, round_id: RoundIdPath,
                     member: CurrentMember, db: DbDep, live: LiveDep) -> RoundResultPublic:
    """The cleared round's prices and quantities, and your settlement of it."""
    return service.result(db, live, member.session_id, round_id, member.participant)
