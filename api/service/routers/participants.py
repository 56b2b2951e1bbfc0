"""Participants: join (anyone with the session id; a token comes back), list (instructor),
``/me`` (a participant's own view, for a person or a bot)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.service.deps import (
    CurrentInstructor,
    CurrentParticipant,
    DbDep,
    LiveDep,
    SessionIdPath,
    SettingsDep,
)
from api.service.gateway import tokens
from api.service.schemas.gateway import SeatTokenPublic
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


SeatPath = Annotated[str, Path(min_length=1, max_length=100, description="A seat's name")]


@router.post("/participants/{seat}/token", operation_id="reissue_participant_token")
def reissue_participant_token(session_id: SessionIdPath, seat: SeatPath,
                              member: CurrentInstructor, db: DbDep, live: LiveDep,
                              settings: SettingsDep) -> SeatTokenPublic:
    """Give a taken seat a new token (shown once): the seat's old token gets 401 from now on
    (instructor). Use it when a token leaked, was lost, expired or was revoked."""
    return tokens.reissue(db, live, settings, member.session_id, seat)


@router.delete("/participants/{seat}/token", status_code=status.HTTP_204_NO_CONTENT,
               operation_id="revoke_participant_token")
def revoke_participant_token(session_id: SessionIdPath, seat: SeatPath,
                             member: CurrentInstructor, db: DbDep, live: LiveDep) -> Response:
    """Revoke a seat's token: it gets 401 ``token_revoked`` until you re-issue one
    (instructor). The seat keeps its bids and money."""
    tokens.revoke(db, live, member.session_id, seat)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
