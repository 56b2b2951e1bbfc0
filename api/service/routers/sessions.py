"""Sessions: create (anyone; the instructor token comes back), list (an instructor's own),
read (its instructor and participants), lobby (anyone with the id), rules; and the classroom's
routes: briefing and standings (members), CSV exports and clone (instructor)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import PlainTextResponse

from api.service.deps import (
    CurrentInstructor,
    CurrentInstructorAny,
    CurrentMember,
    DbDep,
    LiveDep,
    Offset,
    OptionalInstructor,
    SessionIdPath,
    SettingsDep,
)
from api.service.errors import responses
from api.service.schemas.classroom import BriefingPublic, SessionClone, StandingsPublic
from api.service.schemas.sessions import (
    LobbyPublic,
    SessionCreate,
    SessionCreated,
    SessionHalt,
    SessionPublic,
    SessionsPublic,
)
from api.service.services import sessions as service

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="create_session")
def create_session(body: SessionCreate, db: DbDep, live: LiveDep, settings: SettingsDep,
                   instructor: OptionalInstructor) -> SessionCreated:
    """Create a game. Without a token a new instructor token is returned (once); with an
    instructor token the game joins that instructor's list."""
    return service.create_session(db, live, settings, body, instructor)


@router.get("", operation_id="list_sessions")
def list_sessions(db: DbDep, live: LiveDep, instructor: CurrentInstructorAny,
                  offset: Offset = 0,
                  limit: Annotated[int, Query(ge=1, le=100)] = 20) -> SessionsPublic:
    """The calling instructor's sessions, newest first."""
    return service.list_sessions(db, live, instructor, offset, limit)


@router.get("/{session_id}", operation_id="get_session")
def get_session(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                live: LiveDep) -> SessionPublic:
    """The session: status, current round, participants, seats."""
    return service.get_session(db, live, member.session_id)


@router.get("/{session_id}/lobby", operation_id="get_lobby")
def get_lobby(session_id: SessionIdPath, db: DbDep, live: LiveDep) -> LobbyPublic:
    """Seats and whether they are taken (no token needed: the session id is the invitation)."""
    return service.lobby(db, live, session_id)


@router.post("/{session_id}/halt", operation_id="halt_session")
def halt_session(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep, live: LiveDep,
                 body: SessionHalt | None = None) -> SessionPublic:
    """Halt the game (instructor): until it is resumed, no round opens, closes, clears or is
    voided and no bid or seat is taken (409, code ``halted``); everything stays readable."""
    return service.halt(db, live, member.session_id, None if body is None else body.reason)


@router.post("/{session_id}/resume", operation_id="resume_session")
def resume_session(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                   live: LiveDep) -> SessionPublic:
    """Resume a halted game (instructor)."""
    return service.resume(db, live, member.session_id)


@router.get("/{session_id}/rules", operation_id="get_rules")
def get_rules(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
              live: LiveDep) -> dict[str, Any]:
    """The session's resolved rules (``MarketRules`` as JSON)."""
    return service.rules_of(db, live, member.session_id)


# ------------------------------------------------------------------ classroom

CSV = {"content": {"text/csv": {"schema": {"type": "string"}}},
       "description": "CSV text, one header row"}


@router.get("/{session_id}/briefing", operation_id="get_briefing", responses=responses(422))
def get_briefing(session_id: SessionIdPath, member: CurrentMember, db: DbDep, live: LiveDep,
                 role: Annotated[Literal["genco", "storage", "retailer"] | None, Query(
                     description="The role to brief (default: your seat's role; the "
                                 "instructor must name one)")] = None) -> BriefingPublic:
    """A role's briefing, Markdown generated from the game's rules: every market's numbers
    with their units, your own units and costs (your own role), how profit is counted."""
    return service.briefing(db, live, member.session_id, role, member.participant)


@router.get("/{session_id}/standings", operation_id="get_standings")
def get_standings(session_id: SessionIdPath, member: CurrentMember, db: DbDep,
                  live: LiveDep) -> StandingsPublic:
    """Every seat from the start (empty seats and bots marked), ranked by profit = revenue -
    variable cost - the game's share of fixed cost + compensation - penalties (+ retail
    revenue for retailers), with a per-round breakdown whose lines explain each part."""
    return service.standings(db, live, member.session_id)


def _csv(text: str, session_id: str, what: str) -> PlainTextResponse:
    return PlainTextResponse(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{session_id}-{what}.csv"'})


@router.get("/{session_id}/export/results.csv", operation_id="export_results",
            response_class=PlainTextResponse, responses={200: CSV})
def export_results(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                   live: LiveDep) -> PlainTextResponse:
    """One row per seat per cleared round: ``participant, seat, round_id, kind,
    revenue_yuan, cost_yuan, variable_cost_yuan, fixed_cost_yuan, penalties_yuan,
    compensation_yuan, profit_yuan`` (instructor)."""
    return _csv(service.export_csv(db, live, member.session_id, "results"), session_id,
                "results")


@router.get("/{session_id}/export/bids.csv", operation_id="export_bids",
            response_class=PlainTextResponse, responses={200: CSV})
def export_bids(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                live: LiveDep) -> PlainTextResponse:
    """Every stored bid of every round: ``round_id, kind, participant, revision, unit, hour,
    side, price, quantity, counterparty`` (instructor; prices in the round's unit)."""
    return _csv(service.export_csv(db, live, member.session_id, "bids"), session_id, "bids")


@router.get("/{session_id}/export/ledger.csv", operation_id="export_ledger",
            response_class=PlainTextResponse, responses={200: CSV})
def export_ledger(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                  live: LiveDep) -> PlainTextResponse:
    """Every ledger leg: ``period, participant, counterparty, category, amount_yuan (+
    received), unit, memo`` (instructor)."""
    return _csv(service.export_csv(db, live, member.session_id, "ledger"), session_id,
                "ledger")


@router.post("/{session_id}/clone", status_code=status.HTTP_201_CREATED,
             operation_id="clone_session")
def clone_session(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                  live: LiveDep, settings: SettingsDep,
                  body: SessionClone | None = None) -> SessionCreated:
    """A new game with this game's rules and set-up, nobody seated, and a new instructor
    token (returned once: keep it). The body (optional) changes what it names: rules
    ``overrides`` on top of this game's rules, ``scale``, ``energy_rounds``,
    ``hours_per_round``, ``gencos``, ``retailers``, ``obligation``, ``name``."""
    return service.clone(db, live, settings, member.session_id, body)


@router.post("/{session_id}/bots/{seat}/release", operation_id="release_bot_seat",
             responses=responses(404))
def release_bot_seat(session_id: SessionIdPath,
                     seat: Annotated[str, Path(min_length=1, max_length=100,
                                               description="The bot's seat")],
                     member: CurrentInstructor, db: DbDep, live: LiveDep) -> SessionPublic:
    """Hand a bot's seat to a late student (instructor): the bot stops bidding for it from
    the next round on; re-issue the seat's token (``POST .../participants/{seat}/token``)
    and give the student the rejoin link. 404 when no bot plays the seat."""
    return service.release_bot(db, live, member.session_id, seat)
