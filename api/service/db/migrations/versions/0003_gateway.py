"""Gateway: token lifetimes (expiry, rotation, revocation) and the audit trail.

* ``sessions.token_ttl_seconds``: how long a participant token of the session lives after it
  was issued (``NULL``: the server's default, ``MENGXI_PARTICIPANT_TOKEN_TTL_SECONDS``).
* ``participants.token_issued_at`` / ``token_revoked_at``: when the seat's current token was
  issued (``NULL``: at join) and revoked (``NULL``: not revoked). Rotation replaces
  ``token_sha256`` and resets both.
* ``instructors.token_issued_at``: when the instructor's current token was issued (``NULL``:
  at creation); rotation replaces ``token_sha256``.
* ``audit_log``: append-only, one row per write and per refusal (who, when, from which
  address, method and route, session, status, a short what). No foreign key: a refusal may
  name a session that does not exist, and the trail outlives what it describes.

Revision ID: 0003_gateway
Revises: 0002_stream_tickets
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_gateway"
down_revision = "0002_stream_tickets"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("token_ttl_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("token_issued_at", When, nullable=True))
        batch.add_column(sa.Column("token_revoked_at", When, nullable=True))
    with op.batch_alter_table("instructors") as batch:
        batch.add_column(sa.Column("token_issued_at", When, nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_session_id_id", "audit_log", ["session_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_session_id_id", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("instructors") as batch:
        batch.drop_column("token_issued_at")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("token_revoked_at")
        batch.drop_column("token_issued_at")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("token_ttl_seconds")
