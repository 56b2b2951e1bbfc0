"""Dependencies of the routes, as typed aliases: ``DbDep`` (a database session; the
template's ``SessionDep``, renamed because a *session* here is a game), ``LiveDep``,
``SettingsDep``, and who is calling: ``OptionalInstructor``, ``CurrentInstructorAny`` (any
instructor), and for routes under ``/sessions/{session_id}``: ``CurrentMember`` (its
instructor or a participant), ``CurrentInstructor``, ``CurrentParticipant``.

Authentication comes first: no token or an unknown one is 401 whatever the path. A token of
another session (or another instructor's) gets the same 404 as a session that does not exist,
so a token reveals nothing beyond its own session; a participant on an instructor's route, or
the instructor on a participant's, gets 403.

The event stream takes the token in the header, or a single-use ticket
(``?ticket=``, from ``POST .../events/ticket``) for clients that cannot set headers; tokens
never go in a URL. Each token holds at most ``max_streams_per_token`` open streams per
process (:class:`StreamSlots`); the next is 429 with Retry-After.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.engine import Database
from api.service.db.tables import InstructorRow, utcnow
from api.service.errors import Forbidden, TooMany, Unauthorized, session_not_found
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
#: Query values that end up in SQL are 64-bit: anything larger is a 422 naming the field.
INT64_MAX = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="Rows to skip")]
EventId = Annotated[int, Query(ge=0, le=INT64_MAX, description="An event id (0: from the start)")]

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
    token_sha256: str = ""
    """The sha256 of the caller's token (a stream ticket's: of the token it was issued to)."""

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
    assert token is not None
    if seat is not None:
        if seat[0] != session_id:
            raise session_not_found(session_id)
        return Member(session_id, "participant", seat[1], token_sha256(token))
    assert instructor is not None
    with db.begin():
        row = repo.get_session(db, session_id)
        if row is None or row.instructor_id != instructor.id:
            raise session_not_found(session_id)
    return Member(session_id, "instructor", None, token_sha256(token))


def session_member(session_id: SessionIdPath, db: DbDep, credentials: Credentials) -> Member:
    return _member(db, session_id, credentials.credentials if credentials else None)


BAD_TICKET = ("the stream ticket is not known, was used already or has expired: get a new "
              "one with POST /sessions/{session_id}/events/ticket (tickets are single-use)")


def _member_by_ticket(db: Db, session_id: str, ticket: str) -> Member:
    with db.begin():
        repo.start_write(db)
        row = repo.take_ticket(db, token_sha256(ticket), utcnow())
    if row is None:
        raise Unauthorized(BAD_TICKET)
    if row.session_id != session_id:
        raise session_not_found(session_id)
    role: Literal["instructor", "participant"] = (
        "instructor" if row.role == "instructor" else "participant")
    return Member(session_id, role, row.participant, row.token_sha256)


class TooManyStreams(TooMany):
    code = "too_many_streams"


class StreamSlots:
    """Open event streams per token (sha256) in this process, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        with self._lock:
            n = self._open.get(key, 0)
            if n >= self.limit:
                raise TooManyStreams(
                    f"this token has {n} event streams open, the most this server allows "
                    f"({self.limit}); close one (a page or bot following this session) before "
                    "opening another", headers={"Retry-After": "5"})
            self._open[key] = n + 1

    def give_back(self, key: str) -> None:
        with self._lock:
            n = self._open.get(key, 0) - 1
            if n > 0:
                self._open[key] = n
            else:
                self._open.pop(key, None)

    def count(self, key: str) -> int:
        with self._lock:
            return self._open.get(key, 0)


def session_member_for_stream(
        session_id: SessionIdPath, db: DbDep, credentials: Credentials, request: Request,
        ticket: Annotated[str | None, Query(
            min_length=1, max_length=200,
            description="A single-use ticket from POST .../events/ticket, for clients that "
                        "cannot set headers (a browser's EventSource); never a token")] = None
) -> Iterator[Member]:
    """The caller of a stream (header token or ticket), holding one of its token's stream
    slots until the response ends."""
    if credentials is not None or ticket is None:
        member = _member(db, session_id, credentials.credentials if credentials else None)
    else:
        member = _member_by_ticket(db, session_id, ticket)
    db.close()  # a stream holds no database connection while it waits
    slots: StreamSlots = request.app.state.stream_slots
    slots.take(member.token_sha256)
    try:
        yield member
    finally:
        slots.give_back(member.token_sha256)


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
