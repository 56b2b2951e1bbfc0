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
from api.service.errors import responses
from api.service.routers.rounds import RoundIdPath
from api.service.schemas.sessions import BidBatchCreate, BidBatchPublic, BidsPublic
from api.service.services import bids as service

router = APIRouter(prefix="/sessions/{session_id}/rounds/{round_id}/bids", tags=["bids"])

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="Any unique string; a retry with the same key takes effect once")]

IfMatch = Annotated[str | None, Header(
    alias="If-Match", pattern=r'^\s*(W/)?("[0-9]{1,18}"|[0-9]{1,18})\s*$',
    description="The revision of your stored batch for this round that this batch replaces "
                "(the `revision` of your last receipt; 0: no batch yet), as `3` or `\"3\"`; "
                "if the stored revision differs, 412 and nothing is stored")]


def _revision(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` header names (the pattern above has checked it)."""
    if if_match is None:
        return None
    return int(if_match.strip().removeprefix("W/").strip('"'))


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="submit_bids",
             responses={409: {"description": "the round is not open (gate closed)"},
                        **responses(412),
                        413: {"description": "too many bids in one batch"},
                        422: {"description": "the batch was refused; every bad bid listed"}})
def submit_bids(session_id: SessionIdPath, round_id: RoundIdPath, body: BidBatchCreate,
                member: CurrentParticipant, db: DbDep, live: LiveDep, settings: SettingsDep,
                response: Response, idempotency_key: IdempotencyKey = None,
                if_match: IfMatch = None) -> BidBatchPublic:
    """Your whole batch for the open round, taken whole or refused whole; it replaces your
    earlier batch (its revision goes up) until the gate closes. Send a retry with the same
    `Idempotency-Key`, and a replacement with `If-Match: <revision>` (412 if your stored
    batch has moved on)."""
    assert member.participant is not None
    receipt, replayed = service.submit(db, live, settings.max_batch_bids, member.session_id,
                                       member.participant, round_id, body.bids,
                                       idempotency_key, _revision(if_match))
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return receipt


@router.get("", operation_id="list_bids")
def list_bids(session_id: SessionIdPath, round_id: RoundIdPath, member: CurrentMember,
              db: DbDep, live: LiveDep) -> BidsPublic:
    """Your own bids until the round clears, everyone's after (the instructor sees all)."""
    return service.visible(db, live, member.session_id, round_id, member.participant)
