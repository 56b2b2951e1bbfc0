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

The gateway (:mod:`api.service.gateway`): a known token must also be good (not revoked, not
expired: 401 ``token_revoked`` / ``token_expired``); an address that sent too many unknown
tokens gets 429 for any token until its window moves on; :func:`gateway_limits` (a dependency
of every route) counts sessions created per address and bid batches per token. Who the caller
is goes to ``request.state.audit_actor`` for the audit trail.
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
from api.service.db.tables import InstructorRow, ParticipantRow, utcnow
from api.service.errors import Forbidden, Unauthorized, session_not_found
from api.service.gateway.limits import RateLimits, StreamSlots, TooManyStreams
from api.service.gateway.tokens import check_instructor, check_participant
from api.service.live import LiveSessions
from api.service.security import token_sha256
from api.service.settings import Settings

__all__ = ["StreamSlots", "TooManyStreams"]


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


def client_address(request: Request) -> str:
    """The client's address (the connection's; a trusted proxy's forwarded one with uvicorn's
    ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


def _resolve(request: Request, db: Db, token: str | None
             ) -> tuple[InstructorRow | None, tuple[str, str] | None]:
    """(instructor row, None) or (None, (session id, participant)); 401 when unknown,
    revoked or expired; 429 while the address is over its wrong-token limit."""
    if not token:
        raise Unauthorized(NO_TOKEN)
    limits: RateLimits = request.app.state.limits
    settings: Settings = request.app.state.settings
    address = client_address(request)
    limits.check_wrong_tokens(address)
    digest = token_sha256(token)
    with db.begin():
        instructor = repo.instructor_by_token(db, digest)
        if instructor is not None:
            request.state.audit_actor = f"instructor:{instructor.id}"
            check_instructor(instructor, settings)
            return instructor, None
        seat: ParticipantRow | None = repo.participant_by_token(db, digest)
        if seat is not None:
            request.state.audit_actor = f"participant:{seat.participant}"
            request.state.audit_actor_session = seat.session_id
            request.state.audit_actor_id = seat.id
            check_participant(db, seat, settings)
            return None, (seat.session_id, seat.participant)
    limits.count_wrong_token(address)
    raise Unauthorized(BAD_TOKEN)


def gateway_limits(request: Request) -> None:
    """The rate limits counted before a route runs (a dependency of every route): sessions
    created per client address, bid batches per token. The header is read here directly, so
    that this dependency adds no security requirement to routes that take no token."""
    route = request.scope.get("route")
    operation = getattr(route, "operation_id", None)
    limits: RateLimits = request.app.state.limits
    if operation == "create_session":
        limits.hit_session_creation(client_address(request))
    elif operation == "submit_bids":
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            limits.hit_bids(token_sha256(token.strip()))


def optional_instructor(request: Request, db: DbDep, credentials: Credentials
                        ) -> InstructorRow | None:
    if credentials is None:
        return None
    instructor, _seat = _resolve(request, db, credentials.credentials)
    if instructor is None:
        raise Forbidden("a participant token cannot create sessions; send no token (you get "
                        "a new instructor token) or your instructor token")
    return instructor


def instructor_any(request: Request, db: DbDep, credentials: Credentials) -> InstructorRow:
    instructor, _seat = _resolve(request, db, credentials.credentials if credentials else None)
    if instructor is None:
        raise Forbidden("only an instructor may do this (list their sessions, rotate their "
                        "token); participants read their own session at "
                        "/sessions/{session_id}")
    return instructor


def _member(request: Request, db: Db, session_id: str, token: str | None) -> Member:
    instructor, seat = _resolve(request, db, token)
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


def session_member(session_id: SessionIdPath, db: DbDep, credentials: Credentials,
                   request: Request) -> Member:
    return _member(request, db, session_id, credentials.credentials if credentials else None)


BAD_TICKET = ("the stream ticket is not known, was used already or has expired: get a new "
              "one with POST /sessions/{session_id}/events/ticket (tickets are single-use)")


def _member_by_ticket(request: Request, db: Db, session_id: str, ticket: str) -> Member:
    settings: Settings = request.app.state.settings
    with db.begin():
        repo.start_write(db)
        row = repo.take_ticket(db, token_sha256(ticket), utcnow())
        if row is not None and row.session_id == session_id:
            # the token the ticket stands for must still be good (not rotated, revoked,
            # expired)
            if row.role == "instructor":
                instructor = repo.instructor_by_token(db, row.token_sha256)
                if instructor is None:
                    raise Unauthorized(BAD_TICKET)
                request.state.audit_actor = f"instructor:{instructor.id}"
                check_instructor(instructor, settings)
            else:
                seat = repo.participant_by_token(db, row.token_sha256)
                if seat is None:
                    raise Unauthorized(BAD_TICKET)
                request.state.audit_actor = f"participant:{seat.participant}"
                check_participant(db, seat, settings)
    if row is None:
        raise Unauthorized(BAD_TICKET)
    if row.session_id != session_id:
        raise session_not_found(session_id)
    role: Literal["instructor", "participant"] = (
        "instructor" if row.role == "instructor" else "participant")
    return Member(session_id, role, row.participant, row.token_sha256)


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
        member = _member(request, db, session_id,
                         credentials.credentials if credentials else None)
    else:
        member = _member_by_ticket(request, db, session_id, ticket)
    db.close()  # a stream holds no database connection while it waits
    limits: RateLimits = request.app.state.limits
    limits.hit_stream_opens(member.token_sha256)
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
