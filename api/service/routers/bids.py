"""Bids: submit or revise your batch for a round; read the bids you may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from api.service.deps import (
    CurrentMember,
    CurrentParticipant,
    DbDep,
    LiveDep,
    SessionIdPath,
    SettingsDep,
)
from api.service.routers.rounds import RoundIdPath
from api.service.schemas.sessions import BidBatchCreate, BidBatchPublic, BidsPublic
from api.service.services import bids as service

router = APIRouter(prefix="/sessions/{session_id}/rounds/{round_id}/bids", tags=["bids"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="Any unique string; a retry with the same key takes effect once")]


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="submit_bids",
             responses={409: {"description": "the round is not open (gate closed)"},
                        413: {"description": "too many bids in one batch"},
                        422: {"description": "the batch was refused; every bad bid listed"}})
def submit_bids(session_id: SessionIdPath, round_id: RoundIdPath, body: BidBatchCreate,
                member: CurrentParticipant, db: DbDep, live: LiveDep, settings: SettingsDep,
                response: Response, idempotency_key: IdempotencyKey = None) -> BidBatchPublic:
    """Your whole batch for the open round, taken whole or refused whole; it replaces your
    earlier batch (its revision goes up) until the gate closes."""
    assert member.participant is not None
    receipt, replayed = service.submit(db, live, settings.max_batch_bids, member.session_id,
                                       member.participant, round_id, body.bids,
                                       idempotency_key)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return receipt


@router.get("", operation_id="list_bids")
def list_bids(session_id: SessionIdPath, round_id: RoundIdPath, member: CurrentMember,
              db: DbDep, live: LiveDep) -> BidsPublic:
    """Your own bids until the round clears, everyone's after (the instructor sees all)."""
    return service.visible(db, live, member.session_id, round_id, member.participant)
