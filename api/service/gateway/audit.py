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

The row is written in a transaction of its own, after the request's own transaction ended and
before the response is sent, so a refused batch still stores nothing of its own (the audit
row is separate) and a client that has its answer can read the row. A failure to write it is
logged and does not change the response (the request has already taken effect). Query
strings are not recorded (they may carry a stream ticket).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session as Db
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.db import repositories as repo
from api.service.db.engine import Database
from api.service.db.tables import AuditRow
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
                await run_in_threadpool(self._write, scope, held)
                for m in held:
                    await send(m)
                held.clear()

        await self.app(scope, receive, audited_send)

    def _records(self, scope: Scope, status: int) -> bool:
        operation = getattr(scope.get("route"), "operation_id", None)
        actor = str(scope.get("state", {}).get("audit_actor", ""))
        return (scope["method"] in WRITES or 400 <= status < 500
                or (operation in AUDITED_READS and actor.startswith("instructor:")))

    def _write(self, scope: Scope, messages: list[Message]) -> None:
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
            app = scope["app"]
            database: Database = app.state.database
            live: LiveSessions = app.state.live
            db = database.session()
            try:
                with live.writing(None), db.begin():
                    repo.start_write(db)
                    if actor is None and session_id and operation == "create_session" \
                            and status < 300:
                        owner = repo.instructor_of(db, session_id)
                        actor = f"instructor:{owner}" if owner is not None else None
                    repo.add_audit(db, AuditRow(
                        session_id=session_id[:64] if session_id else None,
                        actor=str(actor or "anonymous")[:120],
                        client=str(client[0])[:64] if client else None,
                        method=str(scope["method"])[:10],
                        route=redact(str(scope["path"]))[:300],
                        status=status, what=_what(operation, status, body)))
            finally:
                db.close()
        except Exception:  # noqa: BLE001 - the request took effect; log, never fail it
            log.exception("audit row not written for %s %s", scope.get("method"),
                          redact(str(scope.get("path"))))


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
    return AuditPublic(data=data, count=count,
                       next_after=data[-1].id if len(data) == limit else None)
