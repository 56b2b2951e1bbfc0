"""The database engine and its sessions (SQLAlchemy 2.0).

SQLite (the default, a file) is opened in WAL mode, readers never wait for the writer, with
``PRAGMA synchronous`` from ``MENGXI_SQLITE_SYNCHRONOUS``: ``FULL`` (the default) syncs the
WAL at every commit, so an acknowledged transaction survives a power loss; ``NORMAL`` syncs
at checkpoints only (a committed transaction survives a killed process, but the last ones
may be lost on a power loss); ``OFF`` never syncs. Write transactions
start with ``BEGIN IMMEDIATE`` (they take the write lock up front instead of failing when a
read turns into a write), asked for by the ``mengxi_write`` execution option that
:func:`api.service.db.repositories.lock_session` sets. PostgreSQL (``postgresql+psycopg://``) uses
its
own row locks (``SELECT ... FOR UPDATE``) and an optional schema as its ``search_path``.

Nothing waits for ever: PostgreSQL connections carry ``lock_timeout`` and
``statement_timeout`` (so they hold for every transaction), SQLite a ``busy_timeout``; a
request that would wait longer fails with an error the app answers with 503 + Retry-After
(:func:`api.service.errors.is_busy_error`).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.service.settings import SQLITE_SYNCHRONOUS, Settings

WRITE_OPTION = "mengxi_write"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, schema: str | None = None, *, lock_timeout: float | None = None,
                statement_timeout: float | None = None,
                sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url`` set up as the module docstring says; the timeouts in seconds
    (``None``: 30 s busy timeout on SQLite, the server's defaults on PostgreSQL);
    ``sqlite_synchronous`` one of :data:`api.service.settings.SQLITE_SYNCHRONOUS`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        synchronous = sqlite_synchronous.strip().upper()
        if synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"PRAGMA synchronous must be one of "
                             f"{', '.join(SQLITE_SYNCHRONOUS)}, not {sqlite_synchronous!r}")
        busy = 30.0 if lock_timeout is None else lock_timeout
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy},
                               pool_size=20, max_overflow=40, pool_timeout=max(busy, 1.0))
        _sqlite_setup(engine, busy, synchronous)
        return engine
    options = []
    if schema:
        options.append(f"-csearch_path={schema}")
    if lock_timeout is not None:
        options.append(f"-clock_timeout={max(1, round(lock_timeout * 1000))}")
    if statement_timeout is not None:
        options.append(f"-cstatement_timeout={max(1, round(statement_timeout * 1000))}")
    connect_args: dict[str, Any] = {"options": " ".join(options)} if options else {}
    return create_engine(url, connect_args=connect_args, pool_size=20, max_overflow=40,
                         pool_pre_ping=True,
                         pool_timeout=30.0 if lock_timeout is None else max(lock_timeout, 1.0))


def _set_wal(cursor: Any, busy_seconds: float) -> None:
    """Switch a connection to WAL, retrying while another connection switches a new file at
    the same moment (SQLite answers that race with an immediate "database is locked")."""
    deadline = time.monotonic() + busy_seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_setup(engine: Engine, busy_seconds: float, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={max(1, round(busy_seconds * 1000))}")
        _set_wal(cursor, busy_seconds)
        cursor.execute(f"PRAGMA synchronous={synchronous}")  # one of SQLITE_SYNCHRONOUS
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """The engine and the session factory of one app."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings.database_url, settings.database_schema,
                                  lock_timeout=settings.lock_timeout_seconds,
                                  statement_timeout=settings.statement_timeout_seconds,
                                  sqlite_synchronous=settings.sqlite_synchronous)
        self.settings = settings
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autobegin=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()
