"""Settings of the service: one :class:`Settings` object, read from ``MENGXI_*`` environment
variables (``MENGXI_DATABASE_URL``, ``MENGXI_MAX_BATCH_BIDS``, ...) or given in code."""

from __future__ import annotations

from pathlib import Path

from limits import parse_many
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
    policy_dir: Path | None = None
    """Folder of trained policies (``policy.json`` files written by ``mengxi learn``) the
    server's bots may play: a game's ``bots.strategy`` ``"policy:NAME"`` plays
    ``<policy_dir>/NAME`` (``.json`` added when missing). ``None``: no policy bots. Clients
    name a file in this folder, never a path of the server's."""
    lock_timeout_seconds: float = Field(default=5.0, gt=0, le=3600)
    """Longest wait for a lock (a session another request is writing; SQLite's write lock;
    PostgreSQL's ``lock_timeout``); a request that would wait longer gets 503 + Retry-After."""
    statement_timeout_seconds: float = Field(default=15.0, gt=0, le=3600)
    """Longest SQL statement on PostgreSQL (``statement_timeout``); beyond it 503."""
    max_streams_per_token: int = Field(default=5, ge=1, le=10_000)
    """Event streams one token may hold open at once (per server process); the next is 429."""
    stream_ticket_seconds: float = Field(default=60.0, gt=0, le=3600)
    """Lifetime of a single-use event-stream ticket (``POST .../events/ticket``), seconds."""
    participant_token_ttl_seconds: int | None = Field(default=7 * 24 * 3600, ge=1,
                                                      le=10 * 366 * 24 * 3600)
    """[E] How long a participant token lives after it is issued (join or re-issue), seconds,
    unless its session sets its own (``PUT .../token-policy``); ``None``: no expiry. A week
    covers a course's game played over several classes; the instructor re-issues a seat's
    token at any time (``POST .../participants/{seat}/token``)."""
    instructor_token_ttl_seconds: int | None = Field(default=None, ge=1,
                                                     le=10 * 366 * 24 * 3600)
    """[E] How long an instructor token lives after it is issued (first session or rotation),
    seconds; ``None`` (the default): no expiry, because an expired instructor token cannot be
    replaced (rotate it with ``POST /instructor/token`` while it is good)."""
    limit_session_creation: str = "30/minute;300/hour"
    """[E] Sessions one client address may create (``limits`` notation, ``;`` between rules;
    empty: no limit); the next is 429 ``too_many_sessions``. An instructor creates a few per
    class; the issue's load test created 187 in 110 s."""
    limit_wrong_tokens: str = "60/minute;600/hour"
    """[E] Unknown bearer tokens one client address may send; past it every request of the
    address that carries a token is 429 ``too_many_wrong_tokens`` until the window moves on
    (a classroom behind one NAT address shares it). The issue saw 2,500 guesses, 0 refused."""
    limit_bid_batches: str = "600/minute"
    """[E] Bid batches (``POST .../bids``) one token may send: 10 a second on average, far
    above a person or a well-behaved bot (one batch per round, a few retries); 429
    ``too_many_bids``."""
    limit_stream_opens: str = "60/minute"
    """[E] Event streams one token may open (a reconnecting browser opens one every few
    seconds at worst); 429 ``too_many_stream_opens``. How many it holds open at once is
    ``max_streams_per_token``."""
    sqlite_synchronous: str = "FULL"
    """SQLite's ``PRAGMA synchronous`` on every connection: ``FULL`` (an acknowledged batch
    survives a power loss), ``NORMAL`` (in WAL mode the last transactions may be lost on a
    power loss, never on a process crash) or ``OFF``; case-insensitive, anything else is
    refused at start."""

    @field_validator("participant_token_ttl_seconds", "instructor_token_ttl_seconds",
                     mode="before")
    @classmethod
    def _ttl(cls, value: object) -> object:
        """``""``, ``none``, ``null`` or ``never`` (any case): no expiry."""
        if isinstance(value, str) and value.strip().lower() in ("", "none", "null", "never"):
            return None
        return value

    @field_validator("limit_session_creation", "limit_wrong_tokens", "limit_bid_batches",
                     "limit_stream_opens")
    @classmethod
    def _limit(cls, value: str, info: object) -> str:
        text = value.strip()
        if text:
            try:
                parse_many(text)
            except ValueError as exc:
                name = "MENGXI_" + str(getattr(info, "field_name", "limit")).upper()
                raise ValueError(f"{name} must be rate limits such as '30/minute;300/hour' "
                                 f"(or empty for none), not {value!r}: {exc}") from exc
        return text

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _synchronous(cls, value: object) -> str:
        text = str(value).strip().upper()
        if text not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"MENGXI_SQLITE_SYNCHRONOUS must be one of "
                             f"{', '.join(SQLITE_SYNCHRONOUS)}, not {value!r}")
        return text
