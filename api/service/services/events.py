"""Events of a session (participant joined, round opened, gate closed, round cleared), read
from the database so that every process serves the same ids, in order."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.errors import session_not_found
from api.service.schemas.accounts import EventPublic, EventsPublic


def events_after(db: Db, session_id: str, after_id: int, limit: int) -> EventsPublic:
    """Events with an id above ``after_id``, oldest first, at most ``limit``."""
    with db.begin():
        if repo.get_session(db, session_id) is None:
            raise session_not_found(session_id)
        rows = repo.events_after(db, session_id, after_id, limit)
        data = [EventPublic(id=r.id, kind=r.kind, round_id=r.round_id, data=json.loads(r.data),
                            created_at=r.created_at) for r in rows]
    return EventsPublic(data=data, count=len(data))
