"""Participants: take a seat (and a token), list who joined, a participant's own view."""

from __future__ import annotations

from sqlalchemy.orm import Session as Db

from api.service import views
from api.service.db import repositories as repo
from api.service.errors import Conflict, NotFound
from api.service.live import LiveSessions
from api.service.schemas.sessions import (
    ParticipantJoin,
    ParticipantJoined,
    ParticipantPublic,
    ParticipantsPublic,
    ParticipantView,
)
from api.service.security import PARTICIPANT_PREFIX, new_token, token_sha256
from api.service.services.common import reading, writing


def join(db: Db, live: LiveSessions, session_id: str, body: ParticipantJoin
         ) -> ParticipantJoined:
    """Take the seat ``body.participant`` (or the first free one); returns the token."""
    with writing(db, live, session_id) as w:
        s = w.session
        seats = s.seats()
        free = [p for p in seats if p not in s.participants]
        seat = body.participant
        if seat is None:
            if not free:
                raise Conflict(f"every seat of this session is taken ({len(seats)} seats)")
            seat = free[0]
        elif seat not in seats:
            raise NotFound(f"no seat {seat!r} in this session; seats: {', '.join(seats)}")
        elif seat not in free:
            raise Conflict(f"seat {seat!r} is taken; free seats: {', '.join(free) or 'none'}")
        token = new_token(PARTICIPANT_PREFIX)
        s.join(seat)
        repo.add_participant(db, session_id, seat, body.display_name, token_sha256(token))
        w.save()
        view = views.participant_view(s, w.row, seat, None)
    return ParticipantJoined(session_id=session_id, participant=seat, token=token, view=view)


def list_participants(db: Db, session_id: str) -> ParticipantsPublic:
    with db.begin():
        rows = repo.participants_of(db, session_id)
        data = [ParticipantPublic(participant=r.participant, display_name=r.display_name,
                                  joined_at=r.joined_at) for r in rows]
    return ParticipantsPublic(data=data, count=len(data))


def view(db: Db, live: LiveSessions, session_id: str, participant: str,
         round_id: str | None) -> ParticipantView:
    with reading(db, live, session_id) as (row, s):
        return views.participant_view(s, row, participant, round_id)
