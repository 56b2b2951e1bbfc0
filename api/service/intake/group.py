"""A group of bid batches of one session taken in one transaction, each with its own outcome.

The batches are checked and applied one after the other, in queue order, on the live session,
exactly as they would be one request at a time: the idempotency key first (a key stored
earlier, or used by an earlier batch of the same group, replays that batch's receipt; the
same key with another batch is refused), then ``If-Match`` against the revision stored at
that point (so a later batch of the group sees an earlier one's revision), then the domain's
checks (:meth:`market.session.Session.submit_bids`). A refused batch changes nothing (the
domain refuses before it changes anything) and the others go on. The accepted batches are
inserted in one statement, their ``bids_received`` events in another, and the transaction
commits once; only then does any caller get its receipt.

If the group fails as a whole for any reason other than a refusal or a timeout (a database
error such as a key stored meanwhile by another server process), nothing of it is stored,
the live session is dropped (:func:`api.service.services.common.writing`) and each batch is
taken again alone, so one batch's fault is its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as Db

from api.service.db import repositories as repo
from api.service.db.tables import BidBatchRow, utcnow
from api.service.errors import ApiError, Refused, is_busy_error
from api.service.intake.queue import Outcome
from api.service.live import LiveSessions
from api.service.schemas.sessions import BidBatchPublic
from api.service.services.common import Writing, writing
from market.errors import MarketError
from market.session import Session


class RevisionMismatch(ApiError):
    """``If-Match`` names a revision other than the stored one: nothing was stored."""

    status, code = 412, "revision_mismatch"


@dataclass(frozen=True)
class Batch:
    """One caller's batch, as it waits in the queue."""

    participant: str
    round_id: str
    bids: list[Any]
    key: str | None
    if_match: int | None
    digest: str


#: A batch's outcome: its receipt and whether it replays an earlier one.
Receipt = tuple[BidBatchPublic, bool]


def request_sha256(round_id: str, bids: list[Any]) -> str:
    text = json.dumps([round_id, bids], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def stored_revision(s: Session, participant: str, round_id: str) -> int:
    """The revision of ``participant``'s stored batch for ``round_id``; 0 when it has none
    (an unknown round raises the domain's ``UnknownRoundError``, a 404)."""
    entry = s.round(round_id).bids.get(participant)
    return 0 if entry is None else int(entry["revision"])


def receipt_of(row: BidBatchRow) -> BidBatchPublic:
    """The answer to an accepted batch, made of its row (so a retry gets the same)."""
    return BidBatchPublic(batch_id=row.id, session_id=row.session_id, round_id=row.round_id,
                          participant=row.participant, revision=row.revision,
                          bid_count=row.bid_count, accepted_at=row.created_at)


def _mismatch(b: Batch, stored: int) -> RevisionMismatch:
    assert b.if_match is not None
    return RevisionMismatch(
        f"If-Match names revision {b.if_match}, but the stored batch of "
        f"{b.participant!r} for round {b.round_id!r} is at revision {stored}"
        f"{' (no batch yet)' if stored == 0 else ''}; nothing was stored: read "
        "your bids again and send your batch with If-Match: "
        f"{stored} if it should still replace them",
        problems=[{"loc": "header.If-Match",
                   "reason": f"stored revision is {stored}, not {b.if_match}"}])


class _Group:
    """The work of one group inside its transaction."""

    def __init__(self, db: Db, w: Writing, session_id: str, batches: Sequence[Batch]) -> None:
        self.db, self.w, self.session_id, self.batches = db, w, session_id, batches
        keyed = [(b.participant, b.key) for b in batches if b.key is not None]
        self.claimed: dict[tuple[str, str], BidBatchRow] = (
            repo.batches_by_keys(self.db, session_id, keyed) if keyed else {})
        self.new: list[BidBatchRow] = []

    def one(self, b: Batch) -> tuple[BidBatchRow, bool]:
        """The row that answers ``b`` and whether it is a replay (refusals raise)."""
        if b.key is not None:
            done = self.claimed.get((b.participant, b.key))
            if done is not None:
                if done.request_sha256 != b.digest:
                    raise Refused(f"Idempotency-Key {b.key!r} was used for another batch; "
                                  "use a new key for a new batch")
                return done, True
        s = self.w.session
        if b.if_match is not None:
            stored = stored_revision(s, b.participant, b.round_id)
            if stored != b.if_match:
                raise _mismatch(b, stored)
        revision = s.submit_bids(b.participant, b.round_id, b.bids)
        entry = s.round(b.round_id).bids[b.participant]  # read at once, never changed here
        row = BidBatchRow(session_id=self.session_id, round_id=b.round_id,
                          participant=b.participant, base_version=self.w.live.version,
                          revision=revision, sequence=entry["sequence"],
                          bid_count=len(entry["bids"]), bids=repo.dumps(entry["bids"]),
                          idempotency_key=b.key, request_sha256=b.digest, created_at=utcnow())
        self.new.append(row)
        if b.key is not None:
            self.claimed[(b.participant, b.key)] = row
        return row, False

    def run(self) -> list[Outcome[Receipt]]:
        answered: list[tuple[BidBatchRow, bool] | BaseException] = []
        s = self.w.session
        for b in self.batches:
            events = len(s.events)
            try:
                answered.append(self.one(b))
            except (ApiError, MarketError) as exc:
                if len(s.events) != events:  # never expected: the domain changed, then refused
                    raise
                answered.append(exc)
        if self.new:
            repo.add_batches(self.db, self.new)
            ids = [row.id for row in self.new]
            if ids != sorted(ids):  # replayed in id order: must be the order they were taken
                raise RuntimeError(f"batch ids {ids} are not in the order the batches were "
                                   "taken")
            self.w.live.last_batch_id = ids[-1]
        return [Outcome(error=a) if isinstance(a, BaseException)
                else Outcome(result=(receipt_of(a[0]), a[1])) for a in answered]


def take(db: Db, live: LiveSessions, session_id: str, batches: Sequence[Batch]
         ) -> list[Outcome[Receipt]]:
    """Take ``batches`` of ``session_id`` (see the module docstring); one outcome each, in
    order. A refusal of the whole session (unknown, halted, busy) is raised."""
    try:
        with writing(db, live, session_id) as w:
            outcomes = _Group(db, w, session_id, batches).run()
        return outcomes
    except (ApiError, MarketError):
        raise
    except Exception as exc:
        if len(batches) == 1 or is_busy_error(exc):
            raise
    out: list[Outcome[Receipt]] = []
    for b in batches:  # each alone, so that one batch's fault is its own
        try:
            out += take(db, live, session_id, [b])
        except Exception as exc:
            out.append(Outcome(error=exc))
    return out
