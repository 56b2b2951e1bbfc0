"""CSV exports of a game for grading (instructor): results, bids and the ledger.

Money in yuan with two decimals (the ledger holds fen); one header row; rows in plan order,
then seat order. The texts are built in memory: a game holds a few thousand bids and ledger
legs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from api.service import views
from api.service.classroom.profit import round_money
from market.session import Session

RESULT_COLUMNS = ("participant", "seat", "round_id", "kind", "revenue_yuan", "cost_yuan",
                  "variable_cost_yuan", "fixed_cost_yuan", "penalties_yuan",
                  "compensation_yuan", "profit_yuan")
BID_COLUMNS = ("round_id", "kind", "participant", "revision", "unit", "hour", "side",
               "price", "quantity", "counterparty")
LEDGER_COLUMNS = ("period", "participant", "counterparty", "category", "amount_yuan", "unit",
                  "memo")


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def results_csv(s: Session, bots: set[str], taken: set[str]) -> str:
    """One row per seat per cleared round (:func:`api.service.classroom.profit.round_money`)."""
    money = round_money(s)
    rows = []
    for rid in s.round_ids():
        for p, rounds in money.items():
            for m in rounds:
                if m.round_id != rid:
                    continue
                seat = "bot" if p in bots else ("player" if p in taken else "empty")
                rows.append((p, seat, rid, m.kind, _yuan(m.revenue_fen), _yuan(m.cost_fen),
                             _yuan(m.variable_cost_fen), _yuan(m.fixed_cost_fen),
                             _yuan(m.penalties_fen), _yuan(m.compensation_fen),
                             _yuan(m.profit_fen)))
    return _csv(RESULT_COLUMNS, rows)


def bids_csv(s: Session) -> str:
    """Every stored bid of every round that takes bids (the last revision of each batch)."""
    rows = []
    for rid in s.round_ids():
        spec = s.round(rid).spec
        if not spec.takes_bids:
            continue
        for entry in s.all_bids(rid):
            for b in entry["bids"]:
                rows.append((rid, spec.kind, entry["participant"], entry["revision"],
                             b.get("unit") or "", "" if b.get("hour") is None else b["hour"],
                             b.get("side", ""), b.get("price"), b.get("quantity"),
                             b.get("counterparty") or ""))
    return _csv(BID_COLUMNS, rows)


def ledger_csv(s: Session) -> str:
    """Every ledger leg, in posting order."""
    return _csv(LEDGER_COLUMNS, ((e.period, e.participant, e.counterparty, e.category,
                                  _yuan(e.amount_fen), e.unit or "", e.memo)
                                 for e in views.ledger_entries(s, None)))
