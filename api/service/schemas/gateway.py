"""API schemas of the gateway: tokens (re-issued, rotated), a session's token policy, the
audit trail."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.service.schemas.paging import PageFields
from api.service.schemas.sessions import MAX_TTL_SECONDS, UtcDatetime

__all__ = ["MAX_TTL_SECONDS"]


class SeatTokenPublic(BaseModel):
    """A seat's new token (shown once); the seat's previous token is unknown from now on."""

    session_id: str
    participant: str
    token: str
    issued_at: UtcDatetime
    expires_at: UtcDatetime | None = Field(description="When it expires (None: never)")


class InstructorTokenPublic(BaseModel):
    """The instructor's new token (shown once); the previous one is unknown from now on."""

    token: str
    issued_at: UtcDatetime
    expires_at: UtcDatetime | None = Field(description="When it expires (None: never)")


class TokenPolicy(BaseModel):
    """How long a participant token of this session lives after it is issued."""

    model_config = ConfigDict(extra="forbid")

    token_ttl_seconds: int | None = Field(
        ge=1, le=MAX_TTL_SECONDS,
        description="Seconds a participant token lives after it is issued (join or "
                    "re-issue); null: the server's default (MENGXI_PARTICIPANT_TOKEN_TTL_"
                    "SECONDS). Applies to tokens already issued.")


class TokenPolicyPublic(BaseModel):
    token_ttl_seconds: int | None = Field(description="The session's own setting (null: none)")
    server_default_seconds: int | None = Field(description="The server's default (null: no "
                                                           "expiry)")
    effective_ttl_seconds: int | None = Field(description="What applies (null: no expiry)")


class AuditEntryPublic(BaseModel):
    """One row of the audit trail: a write or a refusal (or an instructor's read of bids)."""

    id: int
    at: UtcDatetime
    actor: str = Field(description="instructor:<id>, participant:<seat> or anonymous")
    client: str | None = Field(description="The client's address")
    method: str
    route: str = Field(description="The request's path")
    status: int
    what: str = Field(description="The operation and, for a refusal, its code and detail")


class AuditPublic(PageFields):
    data: list[AuditEntryPublic]
    count: int = Field(description="Rows of this session's trail in all")
    next_after: int | None = Field(description="Pass as ?after= for the next page (null: "
                                               "this page is the last for now)")
