"""Queries and writes of the service's tables. Every function works inside the caller's
transaction and never commits (the services own the transactions)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as Db

from api.service.db.engine import WRITE_OPTION
from api.service.db.tables import (
    AuditRow,
    BidBatchRow,
    EventRow,
    InstructorRow,
    ParticipantRow,
    SessionRow,
    SnapshotRow,
    StreamTicketRow,
    utcnow,
)
from api.service.schemas.accounts import EVENT_KINDS


def dumps(value: Any) -> str:
    """Compact JSON text as stored (NaN refused: the domain never produces it)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


# --------------------------------------------------------------------- identities

def add_instructor(db: Db, token_sha256: str) -> InstructorRow:
    row = InstructorRow(token_sha256=token_sha256)
    db.add(row)
    db.flush()
    return row


def instructor_by_token(db: Db, token_sha256: str) -> InstructorRow | None:
    return db.scalar(select(InstructorRow).where(InstructorRow.token_sha256 == token_sha256))


def participant_by_token(db: Db, token_sha256: str) -> ParticipantRow | None:
    return db.scalar(select(ParticipantRow).where(ParticipantRow.token_sha256 == token_sha256))


def add_participant(db: Db, session_id: str, participant: str, display_name: str | None,
                    token_sha256: str) -> ParticipantRow:
    row = ParticipantRow(session_id=session_id, participant=participant,
                         display_name=display_name, token_sha256=token_sha256)
    db.add(row)
    db.flush()
    return row


def participants_of(db: Db, session_id: str) -> Sequence[ParticipantRow]:
    return db.scalars(select(ParticipantRow).where(ParticipantRow.session_id == session_id)
                      .order_by(ParticipantRow.id)).all()


# --------------------------------------------------------------------- sessions

def add_session(db: Db, row: SessionRow, state: str) -> None:
    db.add(row)
    db.flush()
    db.add(SnapshotRow(session_id=row.id, version=row.snapshot_version, state=state))
    db.flush()


def get_session(db: Db, session_id: str) -> SessionRow | None:
    return db.get(SessionRow, session_id)


def start_write(db: Db) -> None:
    """Make the transaction a write transaction from its start (SQLite: ``BEGIN IMMEDIATE``).
    Call first in the transaction."""
    db.connection(execution_options={WRITE_OPTION: True})


def lock_session(db: Db, session_id: str) -> SessionRow | None:
    """Start writing to a session: a write transaction (:func:`start_write`) in which the
    session's row is locked (PostgreSQL: ``FOR UPDATE``) until it ends, so writers of one
    session go one at a time. Call first in the transaction."""
    start_write(db)
    return db.scalar(select(SessionRow).where(SessionRow.id == session_id)
                     .with_for_update().execution_options(populate_existing=True))


def sessions_of(db: Db, instructor_id: int, offset: int, limit: int
                ) -> tuple[Sequence[SessionRow], int]:
    where = SessionRow.instructor_id == instructor_id
    rows = db.scalars(select(SessionRow).where(where)
                      .order_by(SessionRow.created_at.desc(), SessionRow.id)
                      .offset(offset).limit(limit)).all()
    count = db.scalar(select(func.count()).select_from(SessionRow).where(where)) or 0
    return rows, int(count)


def snapshot_of(db: Db, session_id: str) -> SnapshotRow | None:
    return db.get(SnapshotRow, session_id)


def write_snapshot(db: Db, row: SessionRow, state: str) -> int:
    """Save a new state of the session; returns its version."""
    version = row.snapshot_version + 1
    db.execute(update(SnapshotRow).where(SnapshotRow.session_id == row.id)
               .values(version=version, state=state, written_at=utcnow()))
    row.snapshot_version = version
    db.flush()
    return version


# --------------------------------------------------------------------- bid batches

def add_batch(db: Db, row: BidBatchRow) -> BidBatchRow:
    db.add(row)
    db.flush()
    return row


def add_batches(db: Db, rows: Sequence[BidBatchRow]) -> None:
    """Insert ``rows`` (one statement where the database allows), ids in their order."""
    db.add_all(rows)
    db.flush()


def batches_by_keys(db: Db, session_id: str, keys: Sequence[tuple[str, str]]
                    ) -> dict[tuple[str, str], BidBatchRow]:
    """The stored batches of ``session_id`` with these (participant, idempotency key)."""
    wanted = set(keys)
    rows = db.scalars(select(BidBatchRow).where(
        BidBatchRow.session_id == session_id,
        BidBatchRow.idempotency_key.in_(sorted({k for _p, k in wanted})))).all()
    return {(r.participant, r.idempotency_key): r for r in rows
            if r.idempotency_key is not None and (r.participant, r.idempotency_key) in wanted}


def batch_by_key(db: Db, session_id: str, participant: str, key: str) -> BidBatchRow | None:
    return db.scalar(select(BidBatchRow).where(
        BidBatchRow.session_id == session_id, BidBatchRow.participant == participant,
        BidBatchRow.idempotency_key == key))


def release_keys(db: Db, session_id: str, round_id: str) -> None:
    """Forget the idempotency keys of a round's batches (the round was voided)."""
    db.execute(update(BidBatchRow).where(BidBatchRow.session_id == session_id,
                                         BidBatchRow.round_id == round_id)
               .values(idempotency_key=None))


def batches_since(db: Db, session_id: str, version: int, after_id: int
                  ) -> Sequence[BidBatchRow]:
    """Batches taken on top of snapshot ``version`` with an id above ``after_id``, in order."""
    return db.scalars(select(BidBatchRow).where(
        BidBatchRow.session_id == session_id, BidBatchRow.base_version == version,
        BidBatchRow.id > after_id).order_by(BidBatchRow.id)).all()


# --------------------------------------------------------------------- events

def add_events(db: Db, session_id: str, events: Sequence[tuple[str, str | None, dict[str, Any]]]
               ) -> None:
    for kind, round_id, data in events:
        if kind not in EVENT_KINDS:  # the OpenAPI document lists every kind a client sees
            raise ValueError(f"event kind {kind!r} is not one of EVENT_KINDS")
        db.add(EventRow(session_id=session_id, kind=kind, round_id=round_id, data=dumps(data)))
    db.flush()


def events_after(db: Db, session_id: str, after_id: int, limit: int) -> Sequence[EventRow]:
    return db.scalars(select(EventRow).where(EventRow.session_id == session_id,
                                             EventRow.id > after_id)
                      .order_by(EventRow.id).limit(limit)).all()


def events_total(db: Db, session_id: str) -> int:
    """Events of the session in all."""
    return int(db.scalar(select(func.count()).select_from(EventRow)
                         .where(EventRow.session_id == session_id)) or 0)


# --------------------------------------------------------------------- stream tickets

def add_ticket(db: Db, row: StreamTicketRow) -> None:
    """Store a new ticket, dropping the tickets that have expired."""
    db.execute(delete(StreamTicketRow).where(StreamTicketRow.expires_at < utcnow()))
    db.add(row)
    db.flush()


def take_ticket(db: Db, ticket_sha256: str, now: datetime) -> StreamTicketRow | None:
    """The ticket, used up (deleted) by this call; ``None`` when unknown, expired or taken by
    a concurrent call."""
    row = db.get(StreamTicketRow, ticket_sha256)
    if row is None:
        return None
    taken = db.execute(delete(StreamTicketRow)
                       .where(StreamTicketRow.ticket_sha256 == ticket_sha256))
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(
        tzinfo=now.tzinfo)
    if getattr(taken, "rowcount", 0) != 1 or expires <= now:
        return None
    return row


# --------------------------------------------------------------------- token lifetimes

def session_token_ttl(db: Db, session_id: str) -> int | None:
    """The session's own participant-token lifetime, seconds (``None``: the server's)."""
    return db.scalar(select(SessionRow.token_ttl_seconds).where(SessionRow.id == session_id))


def set_session_token_ttl(db: Db, session_id: str, seconds: int | None) -> None:
    db.execute(update(SessionRow).where(SessionRow.id == session_id)
               .values(token_ttl_seconds=seconds))


def participant_in(db: Db, session_id: str, participant: str) -> ParticipantRow | None:
    return db.scalar(select(ParticipantRow).where(ParticipantRow.session_id == session_id,
                                                  ParticipantRow.participant == participant))


def replace_participant_token(db: Db, row: ParticipantRow, token_sha256: str,
                              now: datetime) -> None:
    """Give the seat a new token (the old one is unknown from now on)."""
    row.token_sha256 = token_sha256
    row.token_issued_at = now
    row.token_revoked_at = None
    db.flush()


def revoke_participant_token(db: Db, row: ParticipantRow, now: datetime) -> None:
    if row.token_revoked_at is None:
        row.token_revoked_at = now
        db.flush()


def replace_instructor_token(db: Db, row: InstructorRow, token_sha256: str,
                             now: datetime) -> None:
    row.token_sha256 = token_sha256
    row.token_issued_at = now
    db.flush()


# --------------------------------------------------------------------- audit trail

def add_audit(db: Db, row: AuditRow) -> None:
    """Append one row to the audit trail (rows are never updated or deleted)."""
    db.add(row)
    db.flush()


def instructor_of(db: Db, session_id: str) -> int | None:
    return db.scalar(select(SessionRow.instructor_id).where(SessionRow.id == session_id))


def audit_of(db: Db, session_id: str, after_id: int, limit: int) -> Sequence[AuditRow]:
    """The session's audit rows with an id above ``after_id``, oldest first."""
    return db.scalars(select(AuditRow).where(AuditRow.session_id == session_id,
                                             AuditRow.id > after_id)
                      .order_by(AuditRow.id).limit(limit)).all()


def audit_count(db: Db, session_id: str) -> int:
    return int(db.scalar(select(func.count()).select_from(AuditRow)
                         .where(AuditRow.session_id == session_id)) or 0)
