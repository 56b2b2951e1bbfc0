"""Token lifetimes: expiry, rotation and revocation.

A token is good while it is known (its sha256 is stored), not revoked and not expired:

* a participant token expires ``ttl`` seconds after it was issued (at join, or when the
  instructor re-issued it), where ``ttl`` is the session's ``token_ttl_seconds`` (set with
  ``PUT /sessions/{id}/token-policy``) or else the server's
  ``MENGXI_PARTICIPANT_TOKEN_TTL_SECONDS``; a changed policy applies to the tokens already
  issued, since expiry is worked out from the issue time at every request;
* an instructor token expires ``MENGXI_INSTRUCTOR_TOKEN_TTL_SECONDS`` after it was issued
  (default: never);
* the instructor re-issues a seat's token (``POST .../participants/{seat}/token``): the old
  one is unknown from then on (401 ``unauthorized``), or revokes it (``DELETE``: 401
  ``token_revoked`` until re-issued); an instructor rotates their own token
  (``POST /instructor/token``).

An expired token gets 401 ``token_expired``, a revoked one 401 ``token_revoked``; neither
counts as a wrong-token guess (they were real tokens). An open event stream checks its token
again every ``MENGXI_EVENT_KEEPALIVE_SECONDS`` and ends once the token is no longer good.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.tables import InstructorRow, ParticipantRow, utcnow
from api.service.errors import NotFound, Unauthorized, session_not_found
from api.service.live import LiveSessions
from api.service.schemas.gateway import (
    InstructorTokenPublic,
    SeatTokenPublic,
    TokenPolicy,
    TokenPolicyPublic,
)
from api.service.security import (
    INSTRUCTOR_PREFIX,
    PARTICIPANT_PREFIX,
    new_token,
    token_sha256,
)
from api.service.settings import Settings


class TokenExpired(Unauthorized):
    code = "token_expired"


class TokenRevoked(Unauthorized):
    code = "token_revoked"


def aware(when: datetime) -> datetime:
    """``when`` in UTC (SQLite gives back naive datetimes; they were written in UTC)."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _expiry(issued: datetime, ttl: int | None) -> datetime | None:
    return None if ttl is None else aware(issued) + timedelta(seconds=ttl)


def participant_ttl(db: Db, session_id: str, settings: Settings) -> int | None:
    own = repo.session_token_ttl(db, session_id)
    return own if own is not None else settings.participant_token_ttl_seconds


def participant_expiry(row: ParticipantRow, ttl: int | None) -> datetime | None:
    return _expiry(row.token_issued_at or row.joined_at, ttl)


def instructor_expiry(row: InstructorRow, settings: Settings) -> datetime | None:
    return _expiry(row.token_issued_at or row.created_at, settings.instructor_token_ttl_seconds)


def check_participant(db: Db, row: ParticipantRow, settings: Settings,
                      now: datetime | None = None) -> None:
    """401 when the seat's token was revoked or has expired (inside the caller's transaction)."""
    if row.token_revoked_at is not None:
        raise TokenRevoked(f"this token of seat {row.participant!r} was revoked by the "
                           "instructor; ask them to re-issue it")
    expires = participant_expiry(row, participant_ttl(db, row.session_id, settings))
    if expires is not None and (now or utcnow()) >= expires:
        raise TokenExpired(f"this token of seat {row.participant!r} expired at "
                           f"{expires.isoformat()}; ask the instructor to re-issue it")


def check_instructor(row: InstructorRow, settings: Settings,
                     now: datetime | None = None) -> None:
    expires = instructor_expiry(row, settings)
    if expires is not None and (now or utcnow()) >= expires:
        raise TokenExpired(f"this instructor token expired at {expires.isoformat()} "
                           "(MENGXI_INSTRUCTOR_TOKEN_TTL_SECONDS); rotate tokens before they "
                           "expire")


def still_good(db: Db, settings: Settings, role: str, digest: str) -> bool:
    """Whether the token with sha256 ``digest`` (of ``role``) is still known, not revoked and
    not expired: an open event stream asks now and then, and ends when it is not."""
    with db.begin():
        try:
            if role == "instructor":
                instructor = repo.instructor_by_token(db, digest)
                if instructor is None:
                    return False
                check_instructor(instructor, settings)
            else:
                seat = repo.participant_by_token(db, digest)
                if seat is None:
                    return False
                check_participant(db, seat, settings)
        except Unauthorized:
            return False
    return True


def _seat(db: Db, session_id: str, participant: str) -> ParticipantRow:
    row = repo.participant_in(db, session_id, participant)
    if row is None:
        if repo.get_session(db, session_id) is None:
            raise session_not_found(session_id)
        raise NotFound(f"seat {participant!r} has not joined this session (or does not "
                       "exist): only a taken seat has a token")
    return row


def reissue(db: Db, live: LiveSessions, settings: Settings, session_id: str,
            participant: str) -> SeatTokenPublic:
    """A new token for a taken seat; the old one is unknown from now on."""
    token = new_token(PARTICIPANT_PREFIX)
    now = utcnow()
    with live.writing(None), db.begin():
        repo.start_write(db)
        row = _seat(db, session_id, participant)
        repo.replace_participant_token(db, row, token_sha256(token), now)
        expires = participant_expiry(row, participant_ttl(db, session_id, settings))
    return SeatTokenPublic(session_id=session_id, participant=participant, token=token,
                           issued_at=now, expires_at=expires)


def revoke(db: Db, live: LiveSessions, session_id: str, participant: str) -> None:
    """Revoke a seat's token (401 ``token_revoked`` until the instructor re-issues it)."""
    with live.writing(None), db.begin():
        repo.start_write(db)
        repo.revoke_participant_token(db, _seat(db, session_id, participant), utcnow())


def rotate_instructor(db: Db, live: LiveSessions, settings: Settings,
                      instructor_id: int) -> InstructorTokenPublic:
    """A new token for the calling instructor; the old one is unknown from now on."""
    token = new_token(INSTRUCTOR_PREFIX)
    now = utcnow()
    with live.writing(None), db.begin():
        repo.start_write(db)
        row = db.get(InstructorRow, instructor_id)
        assert row is not None
        repo.replace_instructor_token(db, row, token_sha256(token), now)
        expires = instructor_expiry(row, settings)
    return InstructorTokenPublic(token=token, issued_at=now, expires_at=expires)


def _policy(db: Db, settings: Settings, session_id: str) -> TokenPolicyPublic:
    own = repo.session_token_ttl(db, session_id)
    return TokenPolicyPublic(
        token_ttl_seconds=own, server_default_seconds=settings.participant_token_ttl_seconds,
        effective_ttl_seconds=own if own is not None else settings.participant_token_ttl_seconds)


def policy(db: Db, settings: Settings, session_id: str) -> TokenPolicyPublic:
    with db.begin():
        return _policy(db, settings, session_id)


def set_policy(db: Db, live: LiveSessions, settings: Settings, session_id: str,
               body: TokenPolicy) -> TokenPolicyPublic:
    """Set the session's participant-token lifetime (``None``: the server's default); it
    applies to tokens already issued."""
    with live.writing(None), db.begin():
        repo.start_write(db)
        repo.set_session_token_ttl(db, session_id, body.token_ttl_seconds)
        return _policy(db, settings, session_id)
