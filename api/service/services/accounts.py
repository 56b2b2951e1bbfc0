"""Money and certificates: ledger entries, settlement, the leaderboard, certificate holdings."""

from __future__ import annotations

from sqlalchemy.orm import Session as Db

from api.service import views
from api.service.live import LiveSessions
from api.service.schemas.accounts import (
    CertificateHoldingsPublic,
    CertificatesPublic,
    LeaderboardPublic,
    LedgerEntriesPublic,
    SettlementPublic,
)
from api.service.schemas.paging import next_offset
from api.service.services.common import reading


def ledger(db: Db, live: LiveSessions, session_id: str, participant: str | None, *,
           category: str | None, period: str | None, offset: int, limit: int
           ) -> LedgerEntriesPublic:
    """Ledger legs in posting order: one participant's (or every leg for ``None``)."""
    with reading(db, live, session_id) as (_row, s):
        rows = views.ledger_entries(s, participant, category=category, period=period)
    return LedgerEntriesPublic(data=rows[offset:offset + limit], count=len(rows),
                               total=len(rows), next_cursor=next_offset(offset, limit, len(rows)))


def settlement(db: Db, live: LiveSessions, session_id: str, participant: str
               ) -> SettlementPublic:
    with reading(db, live, session_id) as (_row, s):
        totals = s.settlement(participant)
    net = totals.pop("net")
    return SettlementPublic(participant=participant, by_category=totals, net_fen=net)


def leaderboard(db: Db, live: LiveSessions, session_id: str) -> LeaderboardPublic:
    with reading(db, live, session_id) as (_row, s):
        rows = views.leaderboard_rows(s)
    return LeaderboardPublic(data=rows, count=len(rows))


def certificates_of(db: Db, live: LiveSessions, session_id: str, participant: str
                    ) -> CertificateHoldingsPublic:
    with reading(db, live, session_id) as (_row, s):
        return views.certificate_holdings(s, participant)


def certificates(db: Db, live: LiveSessions, session_id: str) -> CertificatesPublic:
    """Every owner's holdings (the instructor's view) and the registry's totals."""
    with reading(db, live, session_id) as (_row, s):
        owners = list(dict.fromkeys([*s.seats(), *s.registry.names()["owner"]]))
        data = [views.certificate_holdings(s, o) for o in owners]
        totals = {k: float(v) for k, v in s.registry.invariant_report().totals.items()}
    return CertificatesPublic(data=data, count=len(data), totals=totals)
