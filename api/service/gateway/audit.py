"""The audit trail: an append-only table (``audit_log``) of every write and every refusal,
and of the instructor's reads of bids (sealed until the round clears).

:class:`AuditTrail` is an ASGI middleware around the whole API (outside the body-size and
rate limits, so their refusals are recorded too). A request under the API prefix is
recorded when its method writes (POST, PUT, PATCH, DELETE), when it is refused (status 400 to
499), or when an instructor lists a round's bids. The row holds who (``instructor:<id>``,
``participant:<seat>``, ``participant#<row id> of another session``, or ``anonymous`` when no
good token was shown), when, the client
address, the method and path, the session (from the path, or the created session's id), the
status and a short what (the operation, and for a refusal its ``code`` and detail).

The row is made after the request's own transaction ended and committed before the response
goes out, in a transaction of its own, so a refused batch still stores nothing of its own
(the audit row is separate) and a client holding its answer can read the row. On PostgreSQL
the request's thread commits it (concurrent commits go side by side); if that fails, the row
is queued for :class:`AuditWriter`. On SQLite (one writer per file) every row goes through
:class:`AuditWriter`, a thread that writes every row waiting in one transaction (a group
commit), and the response waits for its row at most :data:`AUDIT_WAIT_SECONDS`: when the
file is locked (a stuck writer) the answer goes out after that wait and the writer keeps
trying (:data:`AUDIT_ATTEMPTS`); rows it must give up are logged. Query strings are not
recorded (they may carry a stream ticket).
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session as Db
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.db import repositories as repo
from api.service.db.engine import Database
from api.service.db.tables import AuditRow, utcnow
from api.service.errors import session_not_found
from api.service.live import LiveSessions
from api.service.schemas.gateway import AuditEntryPublic, AuditPublic
from api.service.security import redact

log = logging.getLogger(__name__)

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Operations recorded even when they only read: the instructor's view of sealed bids.
AUDITED_READS = frozenset({"list_bids"})
#: The largest response body looked into for a short what, bytes.
PEEK_BYTES = 64 * 1024
WHAT_CHARS = 300


def _session_from_body(body: dict[str, Any]) -> str | None:
    session = body.get("session")
    if isinstance(session, dict) and isinstance(session.get("id"), str):
        return str(session["id"])
    return None


def _what(operation: str, status: int, body: Any) -> str:
    what = operation
    if isinstance(body, dict):
        if status >= 400:
            what += f" {body.get('code', '')}: {body.get('detail', '')}"
        else:
            facts = [f"{k}={body[k]}" for k in ("participant", "round_id", "revision",
                                                 "bid_count", "status")
                     if isinstance(body.get(k), str | int) and not isinstance(body[k], bool)]
            if facts:
                what += " " + " ".join(facts)
    return redact(what)[:WHAT_CHARS]


#: Longest a response waits for its audit row to be committed, seconds. Normally the row is
#: committed in milliseconds; when the database is locked (a stuck writer on SQLite) the
#: response goes out after this wait and the writer commits the row once it can.
AUDIT_WAIT_SECONDS = 1.0
#: Rows committed together at most (the writer takes every row waiting, up to this).
AUDIT_GROUP = 500
#: Attempts at committing a group before its rows are given up (logged), and the pause
#: between attempts, seconds.
AUDIT_ATTEMPTS = 20
AUDIT_RETRY_SECONDS = 0.5


class AuditWriter:
    """Commits audit rows in a thread of its own, group by group: every row waiting when the
    thread comes round is written in one transaction (so concurrent requests share one
    commit), and each row's submitter is told when it is in."""

    def __init__(self, database: Database, live: LiveSessions) -> None:
        self.database = database
        self.live = live
        self._queue: queue.Queue[tuple[AuditRow, bool, threading.Event] | None] = (
            queue.Queue())
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._counting = threading.Lock()
        self.written = 0
        self.dropped = 0

    def submit(self, row: AuditRow, owner_from_session: bool = False) -> threading.Event:
        """Queue ``row`` (with ``owner_from_session``: its actor is the instructor of its new
        session, looked up when written); the event is set once it is committed."""
        done = threading.Event()
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit-writer",
                                                daemon=True)
                self._thread.start()
        self._queue.put((row, owner_from_session, done))
        return done

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        with self._start:
            thread = self._thread
            self._thread = None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            stop = False
            while len(group) < AUDIT_GROUP:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
            if not self._commit(group):
                with self._counting:
                    self.dropped += len(group)
                for _row, _owner, done in group:
                    done.set()
            if stop:
                return

    def write_now(self, row: AuditRow, owner_from_session: bool = False) -> None:
        """Commit ``row`` in the calling thread (PostgreSQL: concurrent commits need no
        queue); if that fails, queue it for the writer thread, which keeps trying."""
        done = threading.Event()
        if not self._commit([(row, owner_from_session, done)], attempts=1):
            self.submit(_fresh(row), owner_from_session)

    def _commit(self, group: list[tuple[AuditRow, bool, threading.Event]],
                attempts: int = AUDIT_ATTEMPTS) -> bool:
        """Write ``group`` in one transaction, trying ``attempts`` times; whether it was."""
        for attempt in range(attempts):
            db = self.database.session()
            try:
                with self.live.writing(None), db.begin():
                    repo.start_write(db)
                    for row, owner_from_session, _done in group:
                        if owner_from_session and row.session_id:
                            owner = repo.instructor_of(db, row.session_id)
                            if owner is not None:
                                row.actor = f"instructor:{owner}"
                        repo.add_audit(db, row)
                with self._counting:
                    self.written += len(group)
                for _row, _owner, done in group:
                    done.set()
                return True
            except Exception:  # noqa: BLE001 - a locked database: try again shortly
                if attempts > 1 and attempt == attempts - 1:
                    log.exception("%d audit rows not written", len(group))
                if attempt < attempts - 1:
                    time.sleep(AUDIT_RETRY_SECONDS)
            finally:
                db.close()
            # a new session per attempt: the rows were expunged with the failed one
            group[:] = [(_fresh(row), owner, done) for row, owner, done in group]
        return False


def _fresh(row: AuditRow) -> AuditRow:
    """A new, unattached copy of ``row`` (for another attempt)."""
    return AuditRow(at=row.at, session_id=row.session_id, actor=row.actor, client=row.client,
                    method=row.method, route=row.route, status=row.status, what=row.what)


class AuditTrail:
    """The middleware of the module docstring."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.session_path = re.compile(re.escape(self.prefix) + r"/sessions/([^/]+)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        recording = False

        async def audited_send(message: Message) -> None:
            nonlocal recording
            if message["type"] == "http.response.start":
                recording = self._records(scope, int(message["status"]))
            if not recording:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                made = self._row(scope, held)
                if made is not None:
                    writer: AuditWriter = scope["app"].state.audit
                    if writer.database.is_sqlite:  # one writer per file: rows go in groups
                        done = writer.submit(*made)
                        await run_in_threadpool(done.wait, AUDIT_WAIT_SECONDS)
                    else:  # PostgreSQL commits concurrent transactions side by side
                        await run_in_threadpool(writer.write_now, *made)
                for m in held:
                    await send(m)
                held.clear()

        await self.app(scope, receive, audited_send)

    def _records(self, scope: Scope, status: int) -> bool:
        operation = getattr(scope.get("route"), "operation_id", None)
        actor = str(scope.get("state", {}).get("audit_actor", ""))
        return (scope["method"] in WRITES or 400 <= status < 500
                or (operation in AUDITED_READS and actor.startswith("instructor:")))

    def _row(self, scope: Scope, messages: list[Message]) -> tuple[AuditRow, bool] | None:
        """The audit row of the response in ``messages``, and whether its actor is the new
        session's instructor (looked up when written)."""
        try:
            status = int(messages[0]["status"])
            raw = b"".join(m.get("body", b"") for m in messages[1:])
            body: Any = None
            if 0 < len(raw) <= PEEK_BYTES:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
            operation = getattr(scope.get("route"), "operation_id", None) or "unrouted"
            match = self.session_path.match(scope["path"])
            session_id = match.group(1) if match else None
            if session_id is None and isinstance(body, dict) and status < 300:
                session_id = _session_from_body(body)
            state = scope.get("state", {})
            actor = state.get("audit_actor")
            home = state.get("audit_actor_session")
            if home is not None and session_id is not None and home != session_id:
                # a seat of another session: named by its row id, never by its session's id
                actor = f"participant#{state.get('audit_actor_id')} of another session"
            client = scope.get("client")
            row = AuditRow(at=utcnow(), session_id=session_id[:64] if session_id else None,
                           actor=str(actor or "anonymous")[:120],
                           client=str(client[0])[:64] if client else None,
                           method=str(scope["method"])[:10],
                           route=redact(str(scope["path"]))[:300],
                           status=status, what=_what(operation, status, body))
            created = actor is None and operation == "create_session" and status < 300
            return row, created
        except Exception:  # noqa: BLE001 - the request took effect; log, never fail it
            log.exception("audit row not made for %s %s", scope.get("method"),
                          redact(str(scope.get("path"))))
            return None


def read(db: Db, session_id: str, after: int, limit: int) -> AuditPublic:
    """A page of the session's audit trail: rows with an id above ``after``, oldest first."""
    with db.begin():
        if repo.get_session(db, session_id) is None:
            raise session_not_found(session_id)
        rows = repo.audit_of(db, session_id, after, limit)
        data = [AuditEntryPublic(id=r.id, at=r.at, actor=r.actor, client=r.client,
                                 method=r.method, route=r.route, status=r.status, what=r.what)
                for r in rows]
        count = repo.audit_count(db, session_id)
    nxt = data[-1].id if len(data) == limit else None
    return AuditPublic(data=data, count=count, next_after=nxt, total=count, next_cursor=nxt)
