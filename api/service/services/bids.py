"""Bids: take a participant's whole batch for a round, or refuse it whole; read them back.

A batch is checked by the domain (:meth:`market.session.Session.submit_bids`), which refuses
it whole listing every bad bid; an accepted batch is appended as one row in the same
transaction that answers it, and nothing else is written (no snapshot: the live session is
the snapshot plus these rows). With an ``Idempotency-Key`` the first answer is stored with the
batch, and a retry with the same key and the same batch gets that answer again, changing
nothing; the same key with another batch is refused.

Concurrent batches of one session are committed together (:mod:`api.service.intake`): the
batches waiting for the session are taken by one caller in one transaction, each checked and
answered as if alone, each caller answered only after the commit.

With ``If-Match: <revision>`` (the revision of the participant's stored batch for the round,
as its last receipt said; ``0``: no batch yet) the batch replaces the stored one only if that
is still the revision stored; otherwise it is refused with 412 (``revision_mismatch``) and
nothing is stored. An idempotent retry is answered before the revision is compared, so a
retry of a batch that was taken gets its receipt even though the revision has moved on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session as Db

from api.service.errors import TooLarge
from api.service.intake.group import (
    Batch,
    Receipt,
    RevisionMismatch,
    receipt_of,
    request_sha256,
    stored_revision,
    take,
)
from api.service.live import LiveSessions
from api.service.schemas.sessions import BidBatchPublic, BidsPublic, ParticipantBidsPublic
from api.service.services.common import reading
from market.session import Session

__all__ = ["RevisionMismatch", "receipt_of", "request_sha256", "stored_revision", "submit",
           "visible"]


def submit(db: Db, live: LiveSessions, max_bids: int, session_id: str, participant: str,
           round_id: str, bids: list[Any], key: str | None,
           if_match: int | None = None) -> tuple[BidBatchPublic, bool]:
    """Store the batch; returns its receipt and whether it is a replay of an earlier one.
    ``if_match``: the revision the batch replaces (see the module docstring)."""
    if len(bids) > max_bids:
        raise TooLarge(f"a batch holds at most {max_bids} bids; this one has {len(bids)}. "
                       "A batch replaces your earlier one, so send your most valuable bids")
    batch = Batch(participant, round_id, bids, key, if_match, request_sha256(round_id, bids))

    def take_group(group: Any) -> Any:
        return take(db, live, session_id, group)

    receipt: Receipt = live.intake.submit(session_id, batch, max(1, len(bids)), take_group,
                                          live.lock_timeout)
    return receipt


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
