"""Live domain sessions: the per-process cache of :class:`market.session.Session` objects.

The database holds the authority: the latest snapshot (``Session.to_dict()``, version ``v``)
and the bid batches accepted on top of it (``base_version == v``), appended one row per batch.
A live session is that snapshot restored plus those batches applied, in id order; it is kept
in memory keyed by session id with the snapshot version and the last batch id it has seen.
:meth:`LiveSessions.current` brings it up to date with one small query per request (new
batches of its version) and rebuilds it when the version moved on (another process wrote a
snapshot) or it was dropped. Writers of one session go one at a time: an in-process lock per
session (which also guards the shared object from other threads), plus, for SQLite, one
process-wide write lock (SQLite has one writer per file), and the database's own lock
(:func:`api.service.db.repositories.lock_session`) across processes. No lock is waited for
longer than ``lock_timeout`` seconds: past it the request is refused with
:class:`api.service.errors.Busy` (503 + Retry-After), so one stuck session never hangs the
server's threads.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.tables import BidBatchRow, SessionRow
from api.service.errors import Busy
from api.service.intake.queue import BatchQueue
from market.session import Session


@dataclass
class LiveSession:
    """A domain session, the snapshot version it was restored from and the last batch id
    applied on top of that snapshot."""

    session: Session
    version: int
    last_batch_id: int = 0


def apply_batch(session: Session, row: BidBatchRow) -> None:
    """Apply an accepted batch exactly as :meth:`Session.submit_bids` stored it (its bids were
    checked when accepted, so they are not checked again): the participant's entry is replaced
    and moved last, the bid counter and the event log follow."""
    session.restore_batch(row.participant, row.round_id, row.revision, row.sequence,
                          json.loads(row.bids))


class LiveSessions:
    """The cache (at most ``capacity`` sessions, least recently used dropped) and the locks."""

    def __init__(self, capacity: int, single_writer: bool,
                 lock_timeout: float | None = None) -> None:
        self.capacity = capacity
        self.lock_timeout = lock_timeout
        self._cache: OrderedDict[str, LiveSession] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}
        self._write_lock = threading.Lock() if single_writer else None
        self.rebuilds = 0
        #: Bid batches waiting for their session, committed in groups
        #: (:mod:`api.service.intake`).
        self.intake: BatchQueue[Any, Any] = BatchQueue()

    def _lock(self, session_id: str) -> threading.RLock:
        with self._cache_lock:
            return self._locks.setdefault(session_id, threading.RLock())

    @contextmanager
    def _held(self, lock: threading.RLock | threading.Lock | None, what: str
              ) -> Iterator[None]:
        if lock is None:
            yield
            return
        if not lock.acquire(timeout=-1 if self.lock_timeout is None else self.lock_timeout):
            raise Busy(f"{what} is busy (another request has held it for more than "
                       f"{self.lock_timeout:g} s); try again shortly", self.lock_timeout or 1)
        try:
            yield
        finally:
            lock.release()

    def reading(self, session_id: str) -> AbstractContextManager[None]:
        return self._held(self._lock(session_id), f"session {session_id!r}")

    @contextmanager
    def writing(self, session_id: str | None) -> Iterator[None]:
        """Hold the session's lock (none for a session being created) and, for SQLite, the
        process's write lock, in that order, each waited for at most ``lock_timeout``."""
        outer = self._lock(session_id) if session_id else None
        with self._held(outer, f"session {session_id!r}"), \
                self._held(self._write_lock, "the database (SQLite has one writer)"):
            yield

    def put(self, session_id: str, live: LiveSession) -> None:
        with self._cache_lock:
            self._cache[session_id] = live
            self._cache.move_to_end(session_id)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)

    def evict(self, session_id: str) -> None:
        with self._cache_lock:
            self._cache.pop(session_id, None)

    def current(self, db: Db, row: SessionRow) -> LiveSession:
        """The live session of ``row``, up to date with the database (call with the session's
        lock held, inside a transaction)."""
        with self._cache_lock:
            live = self._cache.get(row.id)
            if live is not None:
                self._cache.move_to_end(row.id)
        if live is None or live.version != row.snapshot_version:
            snap = repo.snapshot_of(db, row.id)
            if snap is None:
                raise LookupError(f"session {row.id!r} has no saved state")
            live = LiveSession(Session.from_dict(json.loads(snap.state)), snap.version)
            self.rebuilds += 1
            self.put(row.id, live)
        for batch in repo.batches_since(db, row.id, live.version, live.last_batch_id):
            apply_batch(live.session, batch)
            live.last_batch_id = batch.id
        return live
