"""How a service reads or changes a live session, in one transaction.

``with reading(db, live, session_id) as (row, session):`` holds the session's lock, opens a
read transaction and brings the live session up to date. ``with writing(...)`` does the same
for a write (the session row locked first), then, at the end, saves a snapshot when the
service asks for one (:meth:`Writing.save`) and records the domain's new events; the
transaction commits on leaving the block. If anything fails after the live session may have
changed, the live session is dropped, so the next request rebuilds it from the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.tables import SessionRow
from api.service.errors import ApiError, Halted, session_not_found
from api.service.live import LiveSession, LiveSessions
from api.service.views import halted
from market.errors import MarketError
from market.session import Session

#: Domain events published to clients, by the name they are published under
#: (``bids_received``: that a batch arrived in a round, so bid counts stay live; not who sent
#: it nor its bids: both stay sealed until the round clears).
PUBLISHED = {"joined": "participant_joined", "opened": "round_opened",
             "bids": "bids_received",
             "gate_closed": "gate_closed", "cleared": "round_cleared",
             "voided": "round_voided"}


#: Fields of a domain event left out of what clients see, by published name.
SEALED = {"bids_received": ("event", "participant", "revision")}


@contextmanager
def reading(db: Db, live: LiveSessions, session_id: str) -> Iterator[tuple[SessionRow, Session]]:
    with live.reading(session_id), db.begin():
        row = repo.get_session(db, session_id)
        if row is None:
            raise session_not_found(session_id)
        yield row, live.current(db, row).session


@dataclass
class Writing:
    """An open write: the locked row, the live session, and whether to save a snapshot."""

    row: SessionRow
    live: LiveSession
    events_before: int
    snapshot: bool = False

    @property
    def session(self) -> Session:
        return self.live.session

    def save(self) -> None:
        """Save a snapshot of the session when the write ends (a round transition, a join)."""
        self.snapshot = True


def event_rows(session: Session, start: int) -> list[tuple[str, str | None, dict[str, Any]]]:
    """The domain events from index ``start`` that clients see (bids are sealed: none)."""
    out = []
    for e in session.events[start:]:
        kind = PUBLISHED.get(str(e.get("event")))
        if kind is None:
            continue
        data = {k: v for k, v in e.items() if k not in SEALED.get(kind, ("event",))}
        rid = e.get("round_id")
        if rid is not None and rid in session.round_ids():
            data["kind"] = session.round(rid).spec.kind
        out.append((kind, rid, data))
    return out


@contextmanager
def writing(db: Db, live: LiveSessions, session_id: str, *,
            allow_halted: bool = False) -> Iterator[Writing]:
    """The write block of the module docstring; a halted session refuses every write (409,
    code ``halted``) but the instructor's halt and resume (``allow_halted``)."""
    w: Writing | None = None
    with live.writing(session_id):
        try:
            with db.begin():
                row = repo.lock_session(db, session_id)
                if row is None:
                    raise session_not_found(session_id)
                stop = None if allow_halted else halted(row)
                if stop is not None:
                    why = f" ({stop['reason']})" if stop.get("reason") else ""
                    raise Halted(f"the instructor halted this game at {stop.get('at')}{why}; "
                                 "nothing changes until the instructor resumes it")
                current = live.current(db, row)
                w = Writing(row, current, len(current.session.events))
                yield w
                repo.add_events(db, session_id, event_rows(w.session, w.events_before))
                if w.snapshot:
                    state = repo.dumps(w.session.to_dict())
                    current.version = repo.write_snapshot(db, row, state)
        except (ApiError, MarketError):
            # A refusal: the domain refuses before it changes anything (and every change it
            # makes logs an event), so the live session is intact unless events were added.
            if w is None or len(w.session.events) != w.events_before:
                live.evict(session_id)
            raise
        except BaseException:
            live.evict(session_id)
            raise


def loads(text: str) -> Any:
    return json.loads(text)
