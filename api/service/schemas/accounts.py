"""API schemas of money, certificates, events and health (money in fen, 0.01 yuan;
certificates in MWh, 1 certificate = 1 MWh)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.service.schemas.paging import PageFields
from api.service.schemas.sessions import UtcDatetime


class LedgerEntryPublic(BaseModel):
    """One leg of a payment from ``participant``'s side: ``amount_fen`` > 0 received."""

    period: str
    participant: str
    counterparty: str
    category: str
    amount_fen: int
    memo: str
    unit: str | None


class LedgerEntriesPublic(PageFields):
    """A page of ledger legs; ``count`` is kept for older clients and equals ``total``."""

    data: list[LedgerEntryPublic]
    count: int


class SettlementPublic(BaseModel):
    """Net fen by ledger category over the whole session (+ received), and the total."""

    participant: str
    by_category: dict[str, int]
    net_fen: int


class LeaderboardRowPublic(BaseModel):
    rank: int
    participant: str
    revenue_fen: int
    cost_fen: int
    variable_cost_fen: int
    profit_fen: int
    profit_yuan: float


class LeaderboardPublic(BaseModel):
    data: list[LeaderboardRowPublic]
    count: int


class RetirementPublic(BaseModel):
    compliance_period: str
    mwh: float


class CertificateHoldingsPublic(BaseModel):
    """MWh of certificates: issued to the owner's units, received and sent in trades, held
    now, of which sellable (never sold), retired against obligations, and expired."""

    participant: str
    issued_mwh: float
    received_mwh: float
    sent_mwh: float
    held_mwh: float
    sellable_mwh: float
    retired_mwh: float
    expired_mwh: float
    retirements: list[RetirementPublic]


class CertificatesPublic(BaseModel):
    data: list[CertificateHoldingsPublic]
    count: int
    totals: dict[str, float]


#: Every kind of event a session's log and stream carry, in the order a game meets them:
#: the session's own (created, halted, resumed, a bot seat handed to a student) and the
#: game's (a seat joined; a round opened, received bids, closed its gate, cleared or was
#: voided). The database refuses any other (``repositories.add_events``).
EVENT_KINDS: tuple[str, ...] = (
    "session_created", "participant_joined", "round_opened", "bids_received", "gate_closed",
    "round_cleared", "round_voided", "session_halted", "session_resumed", "bot_released")

EventKind = Annotated[str, Field(
    description="What happened; one of the listed kinds (the stream's SSE event name).",
    json_schema_extra={"enum": list(EVENT_KINDS)})]


class EventPublic(BaseModel):
    """``id`` orders a session's events; resume a stream after it (``Last-Event-ID``)."""

    id: int
    kind: EventKind
    round_id: str | None
    data: dict[str, Any]
    created_at: UtcDatetime


class EventsPublic(PageFields):
    """A page of events; ``count`` is the rows in this page."""

    data: list[EventPublic]
    count: int


class EventTicketPublic(BaseModel):
    """A single-use ticket that opens this session's event stream once
    (``GET .../events?ticket=...``) within ``expires_in_seconds``; it stands for the token
    that asked for it, so no token goes in a URL."""

    ticket: str
    expires_at: UtcDatetime
    expires_in_seconds: float


class HealthPublic(BaseModel):
    status: str
    database: str
    version: str
