"""Database tables (SQLAlchemy 2.0 declarative). What they hold, and why this shape:

* ``instructors``: one row per instructor token (its sha256 only).
* ``sessions``: one row per game; ``snapshot_version`` counts the saved states. The row is
  the lock writers of a session take (``SELECT ... FOR UPDATE``).
* ``session_snapshots``: the latest saved state of each game (``Session.to_dict()`` as JSON),
  written at every round transition and join.
* ``participants``: a seat taken, with the sha256 of its bearer token.
* ``bid_batches``: every accepted batch, appended; ``base_version`` is the snapshot it was
  taken on top of, so the live state is the snapshot plus the batches of its version.
  ``idempotency_key`` and ``request_sha256`` let a retried batch replay its first answer
  (the receipt is made of the row's own columns).
* ``events``: what happened in a game (joined, round opened, gate closed, cleared); the
  autoincrement ``id`` is the event id a stream resumes from.
* ``stream_tickets``: short-lived single-use tickets that open an event stream without a
  token in the URL (the ticket's sha256, whose token it stands for, until when).
* ``audit_log``: append-only, one row per write and per refusal: who (``instructor:<id>``,
  ``participant:<seat>`` or ``anonymous``), when, the client address, method and route, the
  session, the status and a short what. No foreign key (a refusal may name a session that
  does not exist).

Token lifetimes: ``instructors.token_issued_at`` and ``participants.token_issued_at`` (``NULL``:
issued at creation/join), ``participants.token_revoked_at`` and ``sessions.token_ttl_seconds``
(``NULL``: the server's default) decide whether a token is still good (see
:mod:`api.service.gateway.tokens`).

JSON is stored as text: the service writes and reads it whole, the database never looks in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: SQLite autoincrements only INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class InstructorRow(Base):
    __tablename__ = "instructors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    token_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    instructor_id: Mapped[int] = mapped_column(ForeignKey("instructors.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    rules_name: Mapped[str] = mapped_column(String(200))
    rules_sha256: Mapped[str] = mapped_column(String(64))
    setup: Mapped[str] = mapped_column(Text)
    snapshot_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    token_ttl_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SnapshotRow(Base):
    __tablename__ = "session_snapshots"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ParticipantRow(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("session_id", "participant",
                                       name="uq_participants_session_participant"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    participant: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    token_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    token_revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)


class BidBatchRow(Base):
    __tablename__ = "bid_batches"
    __table_args__ = (
        UniqueConstraint("session_id", "participant", "idempotency_key",
                         name="uq_bid_batches_idempotency"),
        Index("ix_bid_batches_replay", "session_id", "base_version", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    round_id: Mapped[str] = mapped_column(String(100))
    participant: Mapped[str] = mapped_column(String(100))
    base_version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    bid_count: Mapped[int] = mapped_column(Integer)
    bids: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_session_id_id", "session_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    round_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StreamTicketRow(Base):
    __tablename__ = "stream_tickets"

    ticket_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    participant: Mapped[str | None] = mapped_column(String(100), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_session_id_id", "session_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str] = mapped_column(String(120))
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(300))
    status: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(String(300))
