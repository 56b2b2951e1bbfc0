"""Authorization table: every route x {no token, another session's participant, another
session's instructor, a participant, another participant, the instructor} gives the expected
status; what a wrong token gets reveals nothing about what exists; a participant sees and bids
only for its own units, and others' sealed bids stay hidden until the round clears."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import (
    API,
    Game,
    TestClient,
    bearer,
    capacity_offers,
    energy_offers,
    new_game,
)

ROLES = ("none", "wrong_session", "wrong_instructor", "participant", "other_participant",
         "instructor")
SEATS = {"participant": "genco-1", "other_participant": "genco-2"}


def _expect(ok: int, *, none: int = 401, wrong: int = 404, participant: int | None = None,
            instructor: int | None = None) -> dict[str, int]:
    p = ok if participant is None else participant
    return {"none": none, "wrong_session": wrong, "wrong_instructor": wrong,
            "participant": p, "other_participant": p,
            "instructor": ok if instructor is None else instructor}


MEMBER = _expect(200)
INSTRUCTOR = _expect(200, participant=403)
PARTICIPANT = _expect(200, instructor=403)


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    expected: dict[str, int]
    body: Callable[[Game, str], Any] | None = None
    fresh: bool = False  # a new game for each caller (the route changes the game)
    open_energy: bool = True  # the game's energy-01-01 round is open (else still pending)


def _own_energy(game: Game, role: str) -> Any:
    seat = SEATS.get(role, "genco-1")
    return {"bids": energy_offers(game.view(seat))}


ROUTES = [
    Route("health", "GET", "/health", {r: 200 for r in ROLES}),
    Route("create_session", "POST", "/sessions",
          {"none": 201, "wrong_session": 403, "wrong_instructor": 201, "participant": 403,
           "other_participant": 403, "instructor": 201}, body=lambda g, r: {"seed": 1}),
    Route("list_sessions", "GET", "/sessions",
          {"none": 401, "wrong_session": 403, "wrong_instructor": 200, "participant": 403,
           "other_participant": 403, "instructor": 200}),
    Route("get_session", "GET", "/sessions/{id}", MEMBER),
    Route("get_lobby", "GET", "/sessions/{id}/lobby", {r: 200 for r in ROLES}),
    Route("get_rules", "GET", "/sessions/{id}/rules", MEMBER),
    Route("join_session", "POST", "/sessions/{id}/participants", {r: 201 for r in ROLES},
          body=lambda g, r: {}, fresh=True),
    Route("list_participants", "GET", "/sessions/{id}/participants", INSTRUCTOR),
    Route("get_my_view", "GET", "/sessions/{id}/me", PARTICIPANT),
    Route("list_rounds", "GET", "/sessions/{id}/rounds", MEMBER),
    Route("get_current_round", "GET", "/sessions/{id}/rounds/current", MEMBER),
    Route("get_round", "GET", "/sessions/{id}/rounds/capacity", MEMBER),
    Route("open_next_round", "POST", "/sessions/{id}/rounds/open", INSTRUCTOR, fresh=True,
          open_energy=False),
    Route("close_gate", "POST", "/sessions/{id}/rounds/energy-01-01/close", INSTRUCTOR,
          fresh=True),
    Route("clear_round", "POST", "/sessions/{id}/rounds/energy-01-01/clear", INSTRUCTOR,
          fresh=True),
    Route("get_round_result", "GET", "/sessions/{id}/rounds/capacity/result", MEMBER),
    Route("submit_bids", "POST", "/sessions/{id}/rounds/energy-01-01/bids",
          _expect(201, instructor=403), body=_own_energy),
    Route("list_bids", "GET", "/sessions/{id}/rounds/energy-01-01/bids", MEMBER),
    Route("get_my_ledger", "GET", "/sessions/{id}/me/ledger", PARTICIPANT),
    Route("get_ledger", "GET", "/sessions/{id}/ledger", INSTRUCTOR),
    Route("get_my_settlement", "GET", "/sessions/{id}/me/settlement", PARTICIPANT),
    Route("get_leaderboard", "GET", "/sessions/{id}/leaderboard", MEMBER),
    Route("get_my_certificates", "GET", "/sessions/{id}/me/certificates", PARTICIPANT),
    Route("get_certificates", "GET", "/sessions/{id}/certificates", INSTRUCTOR),
    Route("list_events", "GET", "/sessions/{id}/events/log", MEMBER),
    Route("stream_events", "GET", "/sessions/{id}/events?follow=false", MEMBER),
    Route("get_stream_ticket", "POST", "/sessions/{id}/events/ticket", _expect(201)),
    Route("void_round", "POST", "/sessions/{id}/rounds/energy-01-01/void", INSTRUCTOR),
    Route("halt_session", "POST", "/sessions/{id}/halt", INSTRUCTOR),
    Route("resume_session", "POST", "/sessions/{id}/resume", INSTRUCTOR),
    # the gateway (issue 12): token lifetimes and the audit trail
    Route("rotate_instructor_token", "POST", "/instructor/token",
          {"none": 401, "wrong_session": 403, "wrong_instructor": 200, "participant": 403,
           "other_participant": 403, "instructor": 200}, fresh=True),
    Route("reissue_participant_token", "POST", "/sessions/{id}/participants/genco-2/token",
          INSTRUCTOR),
    Route("revoke_participant_token", "DELETE", "/sessions/{id}/participants/genco-2/token",
          _expect(204, participant=403)),
    Route("get_token_policy", "GET", "/sessions/{id}/token-policy", INSTRUCTOR),
    Route("set_token_policy", "PUT", "/sessions/{id}/token-policy", INSTRUCTOR,
          body=lambda g, r: {"token_ttl_seconds": 3600}),
    Route("get_audit_trail", "GET", "/sessions/{id}/audit", INSTRUCTOR),
    # the classroom (issue 11)
    Route("get_briefing", "GET", "/sessions/{id}/briefing?role=genco", MEMBER),
    Route("get_standings", "GET", "/sessions/{id}/standings", MEMBER),
    Route("export_results", "GET", "/sessions/{id}/export/results.csv", INSTRUCTOR),
    Route("export_bids", "GET", "/sessions/{id}/export/bids.csv", INSTRUCTOR),
    Route("export_ledger", "GET", "/sessions/{id}/export/ledger.csv", INSTRUCTOR),
    Route("clone_session", "POST", "/sessions/{id}/clone", _expect(201, participant=403)),
    Route("release_bot_seat", "POST", "/sessions/{id}/bots/genco-3/release",
          _expect(404, participant=403)),  # no bot plays genco-3 in this game
]


def _game_in_play(client: TestClient, open_energy: bool = True) -> Game:
    """Session A: genco-1 and genco-2 seated, the capacity round cleared, energy-01-01 open
    (or pending)."""
    game = new_game(client, join=("genco-1", "genco-2"))
    game.open()
    for seat in ("genco-1", "genco-2"):
        assert game.bid(seat, "capacity", capacity_offers(game.view(seat))).status_code == 201
    game.clear("capacity")
    if open_energy:
        game.open()
    return game


def _headers(role: str, game: Game, other: Game) -> dict[str, str]:
    if role == "none":
        return {}
    if role == "wrong_session":
        return other.as_("genco-1")
    if role == "wrong_instructor":
        return other.as_("instructor")
    if role == "instructor":
        return game.as_("instructor")
    return game.as_(SEATS[role])


def test_every_route_is_in_the_table(client: TestClient) -> None:
    doc = client.get(f"{API}/openapi.json").json()
    ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert ids == {r.name for r in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_authorization_table(client: TestClient, route: Route) -> None:
    other = new_game(client, join=("genco-1",))
    shared = _game_in_play(client, route.open_energy)
    got = {}
    for role in ROLES:
        game = _game_in_play(client, route.open_energy) if route.fresh else shared
        url = API + route.path.format(id=game.id)
        body = route.body(game, role) if route.body else None
        r = client.request(route.method, url, headers=_headers(role, game, other),
                           json=body)
        got[role] = r.status_code
        if r.status_code == 401:
            assert r.headers["WWW-Authenticate"] == "Bearer"
        if r.status_code >= 400:
            assert r.json()["detail"]  # every refusal says why
    assert got == route.expected


def test_wrong_tokens_reveal_nothing(client: TestClient) -> None:
    game = new_game(client, join=("genco-1",))
    other = new_game(client, join=("genco-1",))
    ghost = "AAAAAAAAAAAAAAAA"
    for headers in (other.as_("genco-1"), other.as_("instructor")):
        real = client.get(game.url("/rounds"), headers=headers)
        missing = client.get(f"{API}/sessions/{ghost}/rounds", headers=headers)
        assert real.status_code == missing.status_code == 404
        assert real.json()["detail"].replace(game.id, "?") == \
            missing.json()["detail"].replace(ghost, "?")
    # Without a token (or with a bad one) it is 401 whether the session exists or not.
    for headers in ({}, bearer("mxp_not-a-token")):
        assert client.get(game.url("/rounds"), headers=headers).status_code == 401
        assert client.get(f"{API}/sessions/{ghost}/rounds", headers=headers).status_code == 401


def test_participants_see_and_bid_only_their_own(client: TestClient) -> None:
    game = _game_in_play(client)
    mine = game.view("genco-1")
    theirs = game.view("genco-2")
    assert {u["unit"] for u in mine["units"]}.isdisjoint({u["unit"] for u in theirs["units"]})
    r = game.bid("genco-2", "energy-01-01", energy_offers(mine))
    assert r.status_code == 422
    assert all("belongs to 'genco-1'" in p["reason"] for p in r.json()["problems"])
    assert game.bid("genco-1", "energy-01-01", energy_offers(mine)).status_code == 201
    seen = client.get(game.url("/rounds/energy-01-01/bids"), headers=game.as_("genco-2"))
    assert seen.json()["count"] == 0  # genco-1's sealed bids stay hidden from genco-2
    ledger = client.get(game.url("/me/ledger"), headers=game.as_("genco-2")).json()
    assert all(x["participant"] == "genco-2" for x in ledger["data"])
    result = client.get(game.url("/rounds/capacity/result"), headers=game.as_("genco-2"))
    assert set(result.json()["settlement"]) == {"genco-2"}
    game.clear("energy-01-01")
    seen = client.get(game.url("/rounds/energy-01-01/bids"), headers=game.as_("genco-2"))
    assert [x["participant"] for x in seen.json()["data"]] == ["genco-1"]


def test_tokens_are_stored_hashed(client: TestClient) -> None:
    from sqlalchemy import text

    game = new_game(client, join=("genco-1",))
    engine = client.app.state.database.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text(
            "SELECT token_sha256 FROM participants UNION SELECT token_sha256 FROM instructors"))}
    assert game.tokens["genco-1"] not in stored and game.instructor not in stored
    assert all(len(s) == 64 for s in stored)
