"""Participants: join (anyone with the session id; a token comes back), list (instructor),
``/me`` (a participant's own view, for a person or a bot)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.service.deps import (
    CurrentInstructor,
    CurrentParticipant,
    DbDep,
    LiveDep,
    SessionIdPath,
)
from api.service.schemas.sessions import (
    ParticipantJoin,
    ParticipantJoined,
    ParticipantsPublic,
    ParticipantView,
)
from api.service.services import participants as service

router = APIRouter(prefix="/sessions/{session_id}", tags=["participants"])


@router.post("/participants", status_code=status.HTTP_201_CREATED,
             operation_id="join_session")
def join_session(session_id: SessionIdPath, body: ParticipantJoin, db: DbDep,
                 live: LiveDep) -> ParticipantJoined:
    """Take a seat (named, or the first free one) and get its token (shown once)."""
    return service.join(db, live, session_id, body)


@router.get("/participants", operation_id="list_participants")
def list_participants(session_id: SessionIdPath, member: CurrentInstructor,
                      db: DbDep) -> ParticipantsPublic:
    """Who joined, in join order (instructor)."""
    return service.list_participants(db, member.session_id)


@router.get("/me", operation_id="get_my_view")
def get_my_view(session_id: SessionIdPath, member: CurrentParticipant, db: DbDep,
                live: LiveDep,
                round_id: Annotated[str | None, Query(max_length=100)] = None
                ) -> ParticipantView:
    """Your units and loads with availability and demand for the hours of the current round
    (or of ``round_id``), the limits every bid must respect, your certificates."""
    assert member.participant is not None
    return service.view(db, live, member.session_id, member.participant, round_id)
