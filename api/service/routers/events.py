"""Events of a session: a server-sent event stream, and the same events as a JSON page.

Each event has an ``id`` (increasing within the session); a client that reconnects sends the
last id it saw (``Last-Event-ID``, as browsers do, or ``?after=``) and gets every later event.
``?follow=false`` ends the stream once the backlog is sent. A client that cannot send the
``Authorization`` header (a browser's ``EventSource``) asks for a single-use ticket first
(``POST .../events/ticket``) and opens ``?ticket=...``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.service.db.engine import Database
from api.service.deps import (
    CurrentMember,
    CurrentStreamMember,
    DbDep,
    EventId,
    Member,
    SessionIdPath,
    SettingsDep,
)
from api.service.errors import InvalidRequest, responses
from api.service.gateway.tokens import still_good
from api.service.schemas.accounts import EventsPublic, EventTicketPublic
from api.service.services import events as service
from api.service.settings import Settings

router = APIRouter(prefix="/sessions/{session_id}/events", tags=["events"])
PAGE = 500
MAX_ID = 2**63 - 1


@router.get("/log", operation_id="list_events")
def list_events(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                after: EventId = 0,
                limit: Annotated[int, Query(ge=1, le=PAGE)] = 100) -> EventsPublic:
    """Events after id ``after``, oldest first."""
    return service.events_after(db, member.session_id, after, limit)


def _token_good(database: Database, settings: Settings, member: Member) -> bool:
    db = database.session()
    try:
        return still_good(db, settings, member.role, member.token_sha256)
    finally:
        db.close()


def _page(database: Database, session_id: str, after: int) -> EventsPublic:
    db = database.session()
    try:
        return service.events_after(db, session_id, after, PAGE)
    finally:
        db.close()


@router.post("/ticket", status_code=status.HTTP_201_CREATED, operation_id="get_stream_ticket")
def get_stream_ticket(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                      settings: SettingsDep) -> EventTicketPublic:
    """A single-use ticket, valid for ``stream_ticket_seconds`` (60 s), that opens this
    session's event stream once as you: ``GET .../events?ticket=...``. Use it where the
    ``Authorization`` header cannot be sent (a browser's ``EventSource``)."""
    return service.issue_ticket(db, member.session_id, member.role, member.participant,
                                member.token_sha256, settings.stream_ticket_seconds)


def stream_start(last_event_id: Annotated[str | None, Header(
                     alias="Last-Event-ID", max_length=100,
                     description="The last event id seen (0 to 2^63-1)")] = None,
                 after: Annotated[int | None, Query(
                     ge=0, le=MAX_ID, description="Resume after this event id (overrides "
                                                  "Last-Event-ID)")] = None) -> int:
    """The event id a stream starts after, checked before the stream starts (a bad one is a
    422, never a broken stream)."""
    return after if after is not None else parse_event_id(last_event_id)


@router.get("", response_class=EventSourceResponse, operation_id="stream_events",
            responses=responses(429))
async def stream_events(session_id: SessionIdPath, member: CurrentStreamMember,
                        request: Request, settings: SettingsDep,
                        start: Annotated[int, Depends(stream_start)],
                        follow: bool = True) -> AsyncIterable[ServerSentEvent]:
    """Server-sent events: ``participant_joined``, ``round_opened``, ``gate_closed``,
    ``round_cleared``, ``round_voided``, ``session_halted`` (data: the event as in
    ``/events/log``). At most ``max_streams_per_token`` open streams per token (429). The
    stream ends once its token is re-issued, revoked or expired (checked every
    ``event_keepalive_seconds``)."""
    database: Database = request.app.state.database
    checked = time.monotonic()
    while True:
        if time.monotonic() - checked >= settings.event_keepalive_seconds:
            if not await run_in_threadpool(_token_good, database, settings, member):
                return
            checked = time.monotonic()
        page = await run_in_threadpool(_page, database, member.session_id, start)
        for e in page.data:
            yield ServerSentEvent(data=e.model_dump(mode="json"), event=e.kind, id=str(e.id))
            start = e.id
        if page.count >= PAGE:
            continue
        if not follow or await request.is_disconnected():
            return
        await asyncio.sleep(settings.event_poll_seconds)


def parse_event_id(text: str | None) -> int:
    """The ``Last-Event-ID`` header as an event id (absent or empty: 0); anything but a whole
    number from 0 to 2^63-1 is refused with 422 naming the header."""
    text = (text or "").strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_ID:
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise InvalidRequest(f"header.Last-Event-ID: {shown!r} is not an event id (a whole number "
                      f"from 0 to {MAX_ID})", problems=[{
                          "loc": "header.Last-Event-ID",
                          "reason": f"must be a whole number from 0 to {MAX_ID}"}])
    return int(text)
