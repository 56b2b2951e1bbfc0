"""Dependencies of the routes, as typed aliases: ``DbDep`` (a database session; the
template's ``SessionDep``, renamed because a *session* here is a game), ``LiveDep``,
``SettingsDep``, and who is calling: ``OptionalInstructor``, ``CurrentInstructorAny`` (any
instructor), and for routes under ``/sessions/{session_id}``: ``CurrentMember`` (its
instructor or a participant), ``CurrentInstructor``, ``CurrentParticipant``.

Authentication comes first: no token or an unknown one is 401 whatever the path. A token of
another session (or another instructor's) gets the same 404 as a session that does not exist,
so a token reveals nothing beyond its own session; a participant on an instructor's route, or
the instructor on a participant's, gets 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.engine import Database
from api.service.db.tables import InstructorRow
from api.service.errors import Forbidden, Unauthorized, session_not_found
from api.service.live import LiveSessions
from api.service.security import token_sha256
from api.service.settings import Settings


def get_db(request: Request) -> Iterator[Db]:
    database: Database = request.app.state.database
    db = database.session()
    try:
        yield db
    finally:
        db.close()


def get_live(request: Request) -> LiveSessions:
    return request.app.state.live  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


DbDep = Annotated[Db, Depends(get_db)]
LiveDep = Annotated[LiveSessions, Depends(get_live)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

bearer = HTTPBearer(auto_error=False, description="The token you got when you created a "
                    "session (instructor) or joined one (participant).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
SessionIdPath = Annotated[str, Path(min_length=1, max_length=64, description="Session id")]

NO_TOKEN = ("this route needs a bearer token: send 'Authorization: Bearer <token>' with the "
            "token you got when you created or joined the session")
BAD_TOKEN = ("the bearer token is not known: use the token you got when you created or "
             "joined the session (tokens are shown once)")


@dataclass(frozen=True)
class Member:
    """Who is calling, within one session."""

    session_id: str
    role: Literal["instructor", "participant"]
    participant: str | None = None

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


def _resolve(db: Db, token: str | None) -> tuple[InstructorRow | None, tuple[str, str] | None]:
    """(instructor row, None) or (None, (session id, participant)); 401 when unknown."""
    if not token:
        raise Unauthorized(NO_TOKEN)
    digest = token_sha256(token)
    with db.begin():
        instructor = repo.instructor_by_token(db, digest)
        if instructor is not None:
            return instructor, None
        seat = repo.participant_by_token(db, digest)
        if seat is not None:
            return None, (seat.session_id, seat.participant)
    raise Unauthorized(BAD_TOKEN)


def optional_instructor(db: DbDep, credentials: Credentials) -> InstructorRow | None:
    if credentials is None:
        return None
    instructor, _seat = _resolve(db, credentials.credentials)
    if instructor is None:
        raise Forbidden("a participant token cannot create sessions; send no token (you get "
                        "a new instructor token) or your instructor token")
    return instructor


def instructor_any(db: DbDep, credentials: Credentials) -> InstructorRow:
    instructor, _seat = _resolve(db, credentials.credentials if credentials else None)
    if instructor is None:
        raise Forbidden("only an instructor lists sessions; participants read their own "
                        "session at /sessions/{session_id}")
    return instructor


def _member(db: Db, session_id: str, token: str | None) -> Member:
    instructor, seat = _resolve(db, token)
    if seat is not None:
        if seat[0] != session_id:
            raise session_not_found(session_id)
        return Member(session_id, "participant", seat[1])
    assert instructor is not None
    with db.begin():
        row = repo.get_session(db, session_id)
        if row is None or row.instructor_id != instructor.id:
            raise session_not_found(session_id)
    return Member(session_id, "instructor")


def session_member(session_id: SessionIdPath, db: DbDep, credentials: Credentials) -> Member:
    return _member(db, session_id, credentials.credentials if credentials else None)


def session_member_for_stream(session_id: SessionIdPath, db: DbDep, credentials: Credentials,
                              access_token: Annotated[str | None, Query(
                                  description="The bearer token, for clients that cannot set "
                                              "headers (a browser's EventSource)")] = None
                              ) -> Member:
    token = credentials.credentials if credentials else access_token
    return _member(db, session_id, token)


def session_instructor(member: Annotated[Member, Depends(session_member)]) -> Member:
    if not member.is_instructor:
        raise Forbidden("only the instructor of this session may do this (open, close and "
                        "clear rounds, list participants, read every ledger entry)")
    return member


def session_participant(member: Annotated[Member, Depends(session_member)]) -> Member:
    if member.is_instructor:
        raise Forbidden("this route is a participant's own view; the instructor owns no units "
                        "or loads: use a participant's token")
    return member


OptionalInstructor = Annotated[InstructorRow | None, Depends(optional_instructor)]
CurrentInstructorAny = Annotated[InstructorRow, Depends(instructor_any)]
CurrentMember = Annotated[Member, Depends(session_member)]
CurrentStreamMember = Annotated[Member, Depends(session_member_for_stream)]
CurrentInstructor = Annotated[Member, Depends(session_instructor)]
CurrentParticipant = Annotated[Member, Depends(session_participant)]
