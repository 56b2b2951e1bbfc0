"""Bids: take a participant's whole batch for a round, or refuse it whole; read them back.

A batch is checked by the domain (:meth:`market.session.Session.submit_bids`), which refuses
it whole listing every bad bid; an accepted batch is appended as one row in the same
transaction that answers it, and nothing else is written (no snapshot: the live session is
the snapshot plus these rows). With an ``Idempotency-Key`` the first answer is stored with the
batch, and a retry with the same key and the same batch gets that answer again, changing
nothing; the same key with another batch is refused.

With ``If-Match: <revision>`` (the revision of the participant's stored batch for the round,
as its last receipt said; ``0``: no batch yet) the batch replaces the stored one only if that
is still the revision stored; otherwise it is refused with 412 (``revision_mismatch``) and
nothing is stored. An idempotent retry is answered before the revision is compared, so a
retry of a batch that was taken gets its receipt even though the revision has moved on.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.tables import BidBatchRow, utcnow
from api.service.errors import ApiError, Refused, TooLarge
from api.service.live import LiveSessions
from api.service.schemas.sessions import BidBatchPublic, BidsPublic, ParticipantBidsPublic
from api.service.services.common import reading, writing
from market.session import Session


class RevisionMismatch(ApiError):
    """``If-Match`` names a revision other than the stored one: nothing was stored."""

    status, code = 412, "revision_mismatch"


def stored_revision(s: Session, participant: str, round_id: str) -> int:
    """The revision of ``participant``'s stored batch for ``round_id``; 0 when it has none
    (an unknown round raises the domain's ``UnknownRoundError``, a 404)."""
    try:
        return int(s.stored_batch(participant, round_id)["revision"])
    except KeyError:
        return 0


def request_sha256(round_id: str, bids: list[Any]) -> str:
    text = json.dumps([round_id, bids], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def submit(db: Db, live: LiveSessions, max_bids: int, session_id: str, participant: str,
           round_id: str, bids: list[Any], key: str | None,
           if_match: int | None = None) -> tuple[BidBatchPublic, bool]:
    """Store the batch; returns its receipt and whether it is a replay of an earlier one.
    ``if_match``: the revision the batch replaces (see the module docstring)."""
    if len(bids) > max_bids:
        raise TooLarge(f"a batch holds at most {max_bids} bids; this one has {len(bids)}. "
                       "A batch replaces your earlier one, so send your most valuable bids")
    digest = request_sha256(round_id, bids)
    with writing(db, live, session_id) as w:
        if key is not None:
            done = repo.batch_by_key(db, session_id, participant, key)
            if done is not None:
                if done.request_sha256 != digest:
                    raise Refused(f"Idempotency-Key {key!r} was used for another batch; use a "
                                  "new key for a new batch")
                return receipt_of(done), True
        s = w.session
        if if_match is not None:
            stored = stored_revision(s, participant, round_id)
            if stored != if_match:
                raise RevisionMismatch(
                    f"If-Match names revision {if_match}, but the stored batch of "
                    f"{participant!r} for round {round_id!r} is at revision {stored}"
                    f"{' (no batch yet)' if stored == 0 else ''}; nothing was stored: read "
                    "your bids again and send your batch with If-Match: "
                    f"{stored} if it should still replace them",
                    problems=[{"loc": "header.If-Match",
                               "reason": f"stored revision is {stored}, not {if_match}"}])
        revision = s.submit_bids(participant, round_id, bids)
        entry = s.stored_batch(participant, round_id)
        row = BidBatchRow(session_id=session_id, round_id=round_id, participant=participant,
                          base_version=w.live.version, revision=revision,
                          sequence=entry["sequence"], bid_count=len(entry["bids"]),
                          bids=repo.dumps(entry["bids"]), idempotency_key=key,
                          request_sha256=digest, created_at=utcnow())
        repo.add_batch(db, row)
        w.live.last_batch_id = row.id
        receipt = receipt_of(row)
    return receipt, False


def receipt_of(row: BidBatchRow) -> BidBatchPublic:
    """The answer to an accepted batch, made of its row (so a retry gets the same)."""
    return BidBatchPublic(batch_id=row.id, session_id=row.session_id, round_id=row.round_id,
                          participant=row.participant, revision=row.revision,
                          bid_count=row.bid_count, accepted_at=row.created_at)


def _visible(s: Session, participant: str | None, round_id: str) -> BidsPublic:
    entries = (s.all_bids(round_id) if participant is None
               else s.bids_visible_to(participant, round_id))
    data = [ParticipantBidsPublic.model_validate(e) for e in entries]
    return BidsPublic(data=data, count=len(data))


def visible(db: Db, live: LiveSessions, session_id: str, round_id: str,
            participant: str | None) -> BidsPublic:
    """Bids the caller may see: a participant its own until the round clears and everyone's
    after; the instructor (``participant`` ``None``) every bid."""
    with reading(db, live, session_id) as (_row, s):
        return _visible(s, participant, round_id)
