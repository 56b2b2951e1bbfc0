"""Sessions: create (anyone; the instructor token comes back), list (an instructor's own),
read (its instructor and participants), lobby (anyone with the id), rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.service.deps import (
    CurrentInstructor,
    CurrentInstructorAny,
    CurrentMember,
    DbDep,
    LiveDep,
    Offset,
    OptionalInstructor,
    SessionIdPath,
    SettingsDep,
)
from api.service.schemas.sessions import (
    LobbyPublic,
    SessionCreate,
    SessionCreated,
    SessionHalt,
    SessionPublic,
    SessionsPublic,
)
from api.service.services import sessions as service

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="create_session")
def create_session(body: SessionCreate, db: DbDep, live: LiveDep, settings: SettingsDep,
                   instructor: OptionalInstructor) -> SessionCreated:
    """Create a game. Without a token a new instructor token is returned (once); with an
    instructor token the game joins that instructor's list."""
    return service.create_session(db, live, settings, body, instructor)


@router.get("", operation_id="list_sessions")
def list_sessions(db: DbDep, live: LiveDep, instructor: CurrentInstructorAny,
                  offset: Offset = 0,
                  limit: Annotated[int, Query(ge=1, le=100)] = 20) -> SessionsPublic:
    """The calling instructor's sessions, newest first."""
    return service.list_sessions(db, live, instructor, offset, limit)


@router.get("/{session_id}", operation_id="get_session")
def get_session(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                live: LiveDep) -> SessionPublic:
    """The session: status, current round, participants, seats."""
    return service.get_session(db, live, member.session_id)


@router.get("/{session_id}/lobby", operation_id="get_lobby")
def get_lobby(session_id: SessionIdPath, db: DbDep, live: LiveDep) -> LobbyPublic:
    """Seats and whether they are taken (no token needed: the session id is the invitation)."""
    return service.lobby(db, live, session_id)


@router.post("/{session_id}/halt", operation_id="halt_session")
def halt_session(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep, live: LiveDep,
                 body: SessionHalt | None = None) -> SessionPublic:
    """Halt the game (instructor): until it is resumed, no round opens, closes, clears or is
    voided and no bid or seat is taken (409, code ``halted``); everything stays readable."""
    return service.halt(db, live, member.session_id, None if body is None else body.reason)


@router.post("/{session_id}/resume", operation_id="resume_session")
def resume_session(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                   live: LiveDep) -> SessionPublic:
    """Resume a halted game (instructor)."""
    return service.resume(db, live, member.session_id)


@router.get("/{session_id}/rules", operation_id="get_rules")
def get_rules(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
              live: LiveDep) -> dict[str, Any]:
    """The session's resolved rules (``MarketRules`` as JSON)."""
    return service.rules_of(db, live, member.session_id)
