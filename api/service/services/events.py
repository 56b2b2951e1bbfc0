"""Events of a session (participant joined, round opened, gate closed, round cleared), read
from the database so that every process serves the same ids, in order."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.tables import StreamTicketRow, utcnow
from api.service.errors import session_not_found
from api.service.schemas.accounts import EventPublic, EventsPublic, EventTicketPublic
from api.service.security import token_sha256

TICKET_PREFIX = "mxt_"


def events_after(db: Db, session_id: str, after_id: int, limit: int) -> EventsPublic:
    """Events with an id above ``after_id``, oldest first, at most ``limit``."""
    with db.begin():
        if repo.get_session(db, session_id) is None:
            raise session_not_found(session_id)
        rows = repo.events_after(db, session_id, after_id, limit)
        total = repo.events_total(db, session_id)
        data = [EventPublic(id=r.id, kind=r.kind, round_id=r.round_id, data=json.loads(r.data),
                            created_at=r.created_at) for r in rows]
    return EventsPublic(data=data, count=len(data), total=total,
                        next_cursor=data[-1].id if len(data) == limit else None)


def issue_ticket(db: Db, session_id: str, role: str, participant: str | None,
                 caller_token_sha256: str, seconds: float) -> EventTicketPublic:
    """A new single-use stream ticket for the caller (stored as its sha256 only)."""
    ticket = TICKET_PREFIX + secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(seconds=seconds)
    with db.begin():
        repo.start_write(db)
        repo.add_ticket(db, StreamTicketRow(
            ticket_sha256=token_sha256(ticket), session_id=session_id,
            token_sha256=caller_token_sha256, role=role, participant=participant,
            expires_at=expires))
    return EventTicketPublic(ticket=ticket, expires_at=expires, expires_in_seconds=seconds)
