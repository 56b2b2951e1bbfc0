"""Settings of the service: one :class:`Settings` object, read from ``MENGXI_*`` environment
variables (``MENGXI_DATABASE_URL``, ``MENGXI_MAX_BATCH_BIDS``, ...) or given in code."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The values of ``MENGXI_SQLITE_SYNCHRONOUS`` (SQLite's ``PRAGMA synchronous``).
SQLITE_SYNCHRONOUS = ("FULL", "NORMAL", "OFF")

#: The default database: a SQLite file in the working directory, created on first start.
DEFAULT_DATABASE_URL = "sqlite:///./mengxi.sqlite"


class Settings(BaseSettings):
    """Everything the app reads at start-up (see ``api/README.md``)."""

    model_config = SettingsConfigDict(env_prefix="MENGXI_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL: ``sqlite:///path.sqlite`` or ``postgresql+psycopg://user@host/db``."""
    database_schema: str | None = None
    """PostgreSQL schema to work in (its ``search_path``); ``None``: the server's default."""
    migrate_on_start: bool = True
    """Upgrade the database to the newest migration when the app starts."""
    api_prefix: str = "/api/v1"
    """Path prefix of every route (the API's version)."""
    max_batch_bids: int = Field(default=10_000, ge=1)
    """Most bids one batch may hold; a larger batch is refused with 413."""
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    """Largest request body, bytes; a larger one is refused with 413."""
    session_cache_size: int = Field(default=32, ge=1)
    """Live domain sessions kept in memory per process (least recently used dropped)."""
    event_poll_seconds: float = Field(default=0.5, gt=0)
    """How often an open event stream looks for new events, seconds."""
    event_keepalive_seconds: float = Field(default=15.0, gt=0)
    """Idle time after which an event stream sends a comment line, seconds."""
    max_scale: float = Field(default=2.0, gt=0)
    """Largest fleet scale a session may be created with."""
    lock_timeout_seconds: float = Field(default=5.0, gt=0, le=3600)
    """Longest wait for a lock (a session another request is writing; SQLite's write lock;
    PostgreSQL's ``lock_timeout``); a request that would wait longer gets 503 + Retry-After."""
    statement_timeout_seconds: float = Field(default=15.0, gt=0, le=3600)
    """Longest SQL statement on PostgreSQL (``statement_timeout``); beyond it 503."""
    max_streams_per_token: int = Field(default=5, ge=1, le=10_000)
    """Event streams one token may hold open at once (per server process); the next is 429."""
    stream_ticket_seconds: float = Field(default=60.0, gt=0, le=3600)
    """Lifetime of a single-use event-stream ticket (``POST .../events/ticket``), seconds."""
    sqlite_synchronous: str = "FULL"
    """SQLite's ``PRAGMA synchronous`` on every connection: ``FULL`` (an acknowledged batch
    survives a power loss), ``NORMAL`` (in WAL mode the last transactions may be lost on a
    power loss, never on a process crash) or ``OFF``; case-insensitive, anything else is
    refused at start."""

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _synchronous(cls, value: object) -> str:
        text = str(value).strip().upper()
        if text not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"MENGXI_SQLITE_SYNCHRONOUS must be one of "
                             f"{', '.join(SQLITE_SYNCHRONOUS)}, not {value!r}")
        return text
