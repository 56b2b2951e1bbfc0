"""Round deadlines: the gate of an open round closes by itself at its deadline (and the round
clears, when the instructor asked for ``auto_clear``).

The deadline is kept in the session's set-up (``{"deadline": {"round_id", "at",
"auto_clear"}}``, so members read it with the session) and acted on twice over:

* a timer thread of the server fires at the deadline and closes the gate (or clears) in its
  own transaction, through the same services as the instructor's buttons (so the
  ``gate_closed`` / ``round_cleared`` events reach every page);
* :func:`enforce`, called when rounds are read, does the same for a deadline that passed while
  no timer ran (a server restarted in between).

Both are idempotent: closing a closed gate or clearing a cleared round changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.engine import Database
from api.service.db.tables import SessionRow, utcnow
from api.service.live import LiveSessions
from market.session import RoundStatus

log = logging.getLogger(__name__)

KEY = "deadline"
"""The set-up key of a round's deadline."""

_timers: dict[str, threading.Timer] = {}
_lock = threading.Lock()


def deadline_of(row: SessionRow) -> dict[str, Any] | None:
    """The session's deadline (``{"round_id", "at", "auto_clear"}``, ``at`` ISO 8601 UTC) or
    ``None``."""
    if f'"{KEY}"' not in row.setup:
        return None
    value = json.loads(row.setup).get(KEY)
    return value if isinstance(value, dict) else None


def set_deadline(row: SessionRow, round_id: str, seconds: int | None,
                 auto_clear: bool) -> dict[str, Any] | None:
    """Record the deadline of ``round_id`` in the row's set-up (``seconds`` ``None``: drop any
    deadline); returns it."""
    setup = json.loads(row.setup)
    value = None
    if seconds is None:
        setup.pop(KEY, None)
    else:
        at = utcnow() + timedelta(seconds=seconds)
        value = {"round_id": round_id, "at": at.isoformat(), "auto_clear": auto_clear}
        setup[KEY] = value
    text = json.dumps(setup)
    if text != row.setup:
        row.setup = text
    return value


def _at(value: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(value["at"]))


#: What a deadline does: ``action(db, live, session_id, round_id, auto_clear)`` closes the
#: gate (and clears when ``auto_clear``); the rounds service passes its own
#: (:func:`api.service.services.rounds.at_deadline`), which logs a refusal rather than raise.
Action = Callable[[Db, LiveSessions, str, str, bool], None]


def arm(database: Database, live: LiveSessions, session_id: str,
        value: dict[str, Any] | None, action: Action | None = None) -> None:
    """Start the timer of the session's deadline (replacing an earlier timer of the session),
    which runs ``action`` when it fires; ``value`` ``None`` only cancels it."""
    with _lock:
        old = _timers.pop(session_id, None)
        if old is not None:
            old.cancel()
        if value is None or action is None:
            return
        delay = max(0.0, (_at(value) - utcnow()).total_seconds())

        def fire() -> None:
            with _lock:
                if _timers.get(session_id) is timer:
                    del _timers[session_id]
            db = database.session()
            try:
                action(db, live, session_id, str(value["round_id"]), bool(value["auto_clear"]))
            except Exception:  # a timer thread has nobody to raise to
                log.exception("deadline of session %s failed", session_id)
            finally:
                db.close()

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        _timers[session_id] = timer
        timer.start()


def enforce(db: Db, live: LiveSessions, session_id: str, action: Action) -> None:
    """Act on the session's deadline if it has passed and its round is still open (see the
    module docstring)."""
    with db.begin():
        row = repo.get_session(db, session_id)
        value = None if row is None else deadline_of(row)
    if value is None or _at(value) > utcnow():
        return
    with live.reading(session_id), db.begin():
        row = repo.get_session(db, session_id)
        if row is None:
            return
        s = live.current(db, row).session
        rid = str(value["round_id"])
        status = s.status(rid) if rid in s.round_ids() else None
    wanted = {RoundStatus.OPEN} | ({RoundStatus.GATE_CLOSED} if value["auto_clear"] else set())
    if status in wanted:
        action(db, live, session_id, rid, bool(value["auto_clear"]))
