"""Events of a session: a server-sent event stream, and the same events as a JSON page.

Each event has an ``id`` (increasing within the session); a client that reconnects sends the
last id it saw (``Last-Event-ID``, as browsers do, or ``?after=``) and gets every later event.
``?follow=false`` ends the stream once the backlog is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.service.db.engine import Database
from api.service.deps import CurrentMember, CurrentStreamMember, DbDep, SessionIdPath, SettingsDep
from api.service.schemas.accounts import EventsPublic
from api.service.services import events as service

router = APIRouter(prefix="/sessions/{session_id}/events", tags=["events"])
PAGE = 500


@router.get("/log", operation_id="list_events")
def list_events(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                after: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=PAGE)] = 100) -> EventsPublic:
    """Events after id ``after``, oldest first."""
    return service.events_after(db, member.session_id, after, limit)


def _page(database: Database, session_id: str, after: int) -> EventsPublic:
    db = database.session()
    try:
        return service.events_after(db, session_id, after, PAGE)
    finally:
        db.close()


@router.get("", response_class=EventSourceResponse, operation_id="stream_events")
async def stream_events(session_id: SessionIdPath, member: CurrentStreamMember,
                        request: Request, settings: SettingsDep,
                        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                        after: Annotated[int | None, Query(ge=0)] = None,
                        follow: bool = True) -> AsyncIterable[ServerSentEvent]:
    """Server-sent events: ``participant_joined``, ``round_opened``, ``gate_closed``,
    ``round_cleared`` (data: the event as in ``/events/log``)."""
    start = after if after is not None else _parse_id(last_event_id)
    database: Database = request.app.state.database
    while True:
        page = await run_in_threadpool(_page, database, member.session_id, start)
        for e in page.data:
            yield ServerSentEvent(data=e.model_dump(mode="json"), event=e.kind, id=str(e.id))
            start = e.id
        if page.count >= PAGE:
            continue
        if not follow or await request.is_disconnected():
            return
        await asyncio.sleep(settings.event_poll_seconds)


def _parse_id(text: str | None) -> int:
    try:
        return max(int(text or 0), 0)
    except ValueError:
        return 0
