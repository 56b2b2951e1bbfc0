"""Money and certificates: your ledger and settlement, every entry (instructor), the
leaderboard, certificate holdings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.service.deps import (
    CurrentInstructor,
    CurrentMember,
    CurrentParticipant,
    DbDep,
    LiveDep,
    Offset,
)
from api.service.deps import SessionIdPath as Sid
from api.service.schemas.accounts import (
    CertificateHoldingsPublic,
    CertificatesPublic,
    LeaderboardPublic,
    LedgerEntriesPublic,
    SettlementPublic,
)
from api.service.services import accounts as service

router = APIRouter(prefix="/sessions/{session_id}", tags=["accounts"])
Limit = Annotated[int, Query(ge=1, le=10_000)]
Filter = Annotated[str | None, Query(max_length=100)]


@router.get("/me/ledger", operation_id="get_my_ledger")
def get_my_ledger(session_id: Sid, member: CurrentParticipant, db: DbDep, live: LiveDep,
                  category: Filter = None, period: Filter = None, offset: Offset = 0,
                  limit: Limit = 1000) -> LedgerEntriesPublic:
    """Your ledger legs (+ received), in posting order."""
    return service.ledger(db, live, member.session_id, member.participant, category=category,
                          period=period, offset=offset, limit=limit)


@router.get("/ledger", operation_id="get_ledger")
def get_ledger(session_id: Sid, member: CurrentInstructor, db: DbDep, live: LiveDep,
               participant: Filter = None, category: Filter = None, period: Filter = None,
               offset: Offset = 0, limit: Limit = 1000) -> LedgerEntriesPublic:
    """Every ledger leg of the session (instructor)."""
    return service.ledger(db, live, member.session_id, participant, category=category,
                          period=period, offset=offset, limit=limit)


@router.get("/me/settlement", operation_id="get_my_settlement")
def get_my_settlement(session_id: Sid, member: CurrentParticipant, db: DbDep,
                      live: LiveDep) -> SettlementPublic:
    """Your net money by ledger category over the session so far."""
    assert member.participant is not None
    return service.settlement(db, live, member.session_id, member.participant)


@router.get("/leaderboard", operation_id="get_leaderboard")
def get_leaderboard(session_id: Sid, member: CurrentMember, db: DbDep,
                    live: LiveDep) -> LeaderboardPublic:
    """Profit per participant, ranked."""
    return service.leaderboard(db, live, member.session_id)


@router.get("/me/certificates", operation_id="get_my_certificates")
def get_my_certificates(session_id: Sid, member: CurrentParticipant, db: DbDep,
                        live: LiveDep) -> CertificateHoldingsPublic:
    """Your green certificates: issued, traded, held, retired, expired."""
    assert member.participant is not None
    return service.certificates_of(db, live, member.session_id, member.participant)


@router.get("/certificates", operation_id="get_certificates")
def get_certificates(session_id: Sid, member: CurrentInstructor, db: DbDep,
                     live: LiveDep) -> CertificatesPublic:
    """Every owner's certificates and the registry's totals (instructor)."""
    return service.certificates(db, live, member.session_id)
