"""Issue 12 item 2: tokens like a real gateway. The instructor re-issues a seat's token (the
old one gets 401 at once), revokes it (401 token_revoked), sets how long the session's tokens
live (expired: 401 token_expired); an instructor rotates their own token. On SQLite, and on
PostgreSQL when MENGXI_TEST_DATABASE_URL is set."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from api.service.db.engine import Database
from api.service.db.tables import InstructorRow, ParticipantRow
from api.service.settings import Settings
from tests.api.conftest import API, Game, TestClient, bearer, create_app, new_game, settings_for


@pytest.fixture
def gate(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path
         ) -> Iterator[tuple[TestClient, Settings]]:
    """A client on an app whose participant tokens never expire by default and whose
    instructor tokens live an hour."""
    settings = settings_for(db_kind, request, tmp_path, participant_token_ttl_seconds=None,
                            instructor_token_ttl_seconds=3600)
    with TestClient(create_app(settings)) as c:
        yield c, settings


def _age(settings: Settings, table: Any, seconds: float, **where: Any) -> None:
    """Move the issue time of the matching tokens ``seconds`` into the past."""
    database = Database(settings)
    try:
        with database.engine.begin() as conn:
            conn.execute(update(table).where(*[getattr(table, k) == v for k, v in where.items()])
                         .values(token_issued_at=datetime.now(UTC) - timedelta(seconds=seconds)))
    finally:
        database.dispose()


def _me(game: Game, token: str) -> Any:
    return game.client.get(game.url("/me"), headers=bearer(token))


def test_reissue_makes_the_old_token_unknown(gate: tuple[TestClient, Settings]) -> None:
    c, _settings = gate
    game = new_game(c, join=("genco-1", "genco-2"))
    old = game.tokens["genco-1"]
    assert _me(game, old).status_code == 200
    r = c.post(game.url("/participants/genco-1/token"), headers=game.as_("instructor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["participant"] == "genco-1" and body["session_id"] == game.id
    assert body["token"].startswith("mxp_") and body["token"] != old
    assert body["expires_at"] is None  # this server's participant tokens do not expire
    refused = _me(game, old)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert _me(game, body["token"]).json()["participant"] == "genco-1"
    assert _me(game, game.tokens["genco-2"]).status_code == 200  # other seats untouched


def test_reissue_and_revoke_are_the_instructors_and_need_a_taken_seat(
        gate: tuple[TestClient, Settings]) -> None:
    c, _settings = gate
    game = new_game(c, join=("genco-1",))
    for method in ("POST", "DELETE"):
        url = game.url("/participants/genco-1/token")
        assert c.request(method, url, headers=game.as_("genco-1")).status_code == 403
        assert c.request(method, url).status_code == 401
        free = c.request(method, game.url("/participants/genco-2/token"),
                         headers=game.as_("instructor"))
        assert free.status_code == 404 and "has not joined" in free.json()["detail"]
        ghost = c.request(method, f"{API}/sessions/nope/participants/genco-1/token",
                          headers=game.as_("instructor"))
        assert ghost.status_code == 404


def test_revoke_until_reissued(gate: tuple[TestClient, Settings]) -> None:
    c, _settings = gate
    game = new_game(c, join=("genco-1",))
    token = game.tokens["genco-1"]
    r = c.delete(game.url("/participants/genco-1/token"), headers=game.as_("instructor"))
    assert r.status_code == 204 and r.content == b""
    refused = _me(game, token)
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    assert "revoked" in refused.json()["detail"]
    # revoking twice is fine; the seat keeps its place (the seat is still taken)
    r = c.delete(game.url("/participants/genco-1/token"), headers=game.as_("instructor"))
    assert r.status_code == 204
    taken = c.post(game.url("/participants"), json={"participant": "genco-1"})
    assert taken.status_code == 409
    new = c.post(game.url("/participants/genco-1/token"), headers=game.as_("instructor"))
    assert _me(game, new.json()["token"]).status_code == 200
    assert _me(game, token).status_code == 401


def test_session_policy_expires_tokens_already_issued(gate: tuple[TestClient, Settings]) -> None:
    c, settings = gate
    game = new_game(c, join=("genco-1",))
    url = game.url("/token-policy")
    assert c.get(url, headers=game.as_("instructor")).json() == {
        "token_ttl_seconds": None, "server_default_seconds": None,
        "effective_ttl_seconds": None}
    _age(settings, ParticipantRow, 120, session_id=game.id)
    assert _me(game, game.tokens["genco-1"]).status_code == 200  # no expiry yet
    r = c.put(url, json={"token_ttl_seconds": 60}, headers=game.as_("instructor"))
    assert r.status_code == 200 and r.json()["effective_ttl_seconds"] == 60
    expired = _me(game, game.tokens["genco-1"])
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert "expired at" in expired.json()["detail"]
    # a re-issued token lives the session's 60 s from now
    new = c.post(game.url("/participants/genco-1/token"), headers=game.as_("instructor")).json()
    issued = datetime.fromisoformat(new["issued_at"])
    assert datetime.fromisoformat(new["expires_at"]) - issued == timedelta(seconds=60)
    assert _me(game, new["token"]).status_code == 200
    # back to the server's default (no expiry): the old token would be good again, but it
    # was replaced
    r = c.put(url, json={"token_ttl_seconds": None}, headers=game.as_("instructor"))
    assert r.json()["effective_ttl_seconds"] is None
    assert _me(game, game.tokens["genco-1"]).status_code == 401


@pytest.mark.parametrize("body, loc", [({"token_ttl_seconds": 0}, "body.token_ttl_seconds"),
                                       ({"token_ttl_seconds": 10**12}, "body.token_ttl_seconds"),
                                       ({"token_ttl_seconds": "soon"}, "body.token_ttl_seconds"),
                                       ({"ttl": 5}, "body.ttl"), ({}, "body.token_ttl_seconds")])
def test_a_bad_policy_is_422_naming_the_field(client: TestClient, body: dict[str, Any],
                                              loc: str) -> None:
    game = new_game(client)
    r = client.put(game.url("/token-policy"), json=body, headers=game.as_("instructor"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"
    assert loc in [p["loc"] for p in r.json()["problems"]]


def test_the_server_default_lifetime_is_a_week(client: TestClient) -> None:
    game = new_game(client, join=("genco-1",))
    policy = client.get(game.url("/token-policy"), headers=game.as_("instructor")).json()
    assert policy["server_default_seconds"] == policy["effective_ttl_seconds"] == 7 * 24 * 3600
    new = client.post(game.url("/participants/genco-1/token"),
                      headers=game.as_("instructor")).json()
    life = (datetime.fromisoformat(new["expires_at"])
            - datetime.fromisoformat(new["issued_at"]))
    assert life == timedelta(days=7)


def test_instructor_rotation_keeps_the_sessions(gate: tuple[TestClient, Settings]) -> None:
    c, _settings = gate
    game = new_game(c, join=("genco-1",))
    old = game.instructor
    r = c.post(f"{API}/instructor/token", headers=bearer(old))
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    assert new.startswith("mxi_") and new != old
    life = datetime.fromisoformat(r.json()["expires_at"]) - datetime.fromisoformat(
        r.json()["issued_at"])
    assert life == timedelta(hours=1)
    assert c.get(game.url(), headers=bearer(old)).status_code == 401
    assert c.get(game.url(), headers=bearer(new)).status_code == 200
    listed = c.get(f"{API}/sessions", headers=bearer(new)).json()
    assert [s["id"] for s in listed["data"]] == [game.id]
    assert c.post(f"{API}/instructor/token", headers=game.as_("genco-1")).status_code == 403
    assert c.post(f"{API}/instructor/token").status_code == 401


def test_an_instructor_token_expires(gate: tuple[TestClient, Settings]) -> None:
    c, settings = gate
    game = new_game(c)
    _age(settings, InstructorRow, 3601)
    r = c.get(game.url(), headers=game.as_("instructor"))
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    # an expired token cannot be rotated (rotate before expiry), nor create sessions
    assert c.post(f"{API}/instructor/token", headers=game.as_("instructor")).status_code == 401
    r = c.post(f"{API}/sessions", json={"seed": 1}, headers=game.as_("instructor"))
    assert r.status_code == 401


def test_a_ticket_of_a_replaced_or_revoked_token_opens_nothing(
        gate: tuple[TestClient, Settings]) -> None:
    c, _settings = gate
    game = new_game(c, join=("genco-1",))

    def ticket() -> str:
        r = c.post(game.url("/events/ticket"), headers=game.as_("genco-1"))
        assert r.status_code == 201
        return str(r.json()["ticket"])

    stream = game.url("/events")
    revoked = ticket()
    c.delete(game.url("/participants/genco-1/token"), headers=game.as_("instructor"))
    r = c.get(stream, params={"follow": "false", "ticket": revoked})
    assert r.status_code == 401 and r.json()["code"] == "token_revoked"
    game.tokens["genco-1"] = c.post(game.url("/participants/genco-1/token"),
                                    headers=game.as_("instructor")).json()["token"]
    replaced = ticket()
    game.tokens["genco-1"] = c.post(game.url("/participants/genco-1/token"),
                                    headers=game.as_("instructor")).json()["token"]
    assert c.get(stream, params={"follow": "false", "ticket": replaced}).status_code == 401
    good = ticket()
    assert c.get(stream, params={"follow": "false", "ticket": good}).status_code == 200


@pytest.mark.parametrize("value, expected", [("never", None), ("", None), ("NULL", None),
                                             ("3600", 3600)])
def test_token_lifetime_settings(monkeypatch: pytest.MonkeyPatch, value: str,
                                 expected: int | None) -> None:
    monkeypatch.setenv("MENGXI_PARTICIPANT_TOKEN_TTL_SECONDS", value)
    monkeypatch.setenv("MENGXI_INSTRUCTOR_TOKEN_TTL_SECONDS", value)
    s = Settings()
    assert s.participant_token_ttl_seconds == s.instructor_token_ttl_seconds == expected


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_bad_token_lifetime_settings_are_refused(monkeypatch: pytest.MonkeyPatch,
                                                 value: str) -> None:
    monkeypatch.setenv("MENGXI_PARTICIPANT_TOKEN_TTL_SECONDS", value)
    with pytest.raises(ValidationError, match="participant_token_ttl_seconds"):
        Settings()


def test_an_open_stream_ends_when_its_token_is_revoked(
        db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings = settings_for(db_kind, request, tmp_path, event_poll_seconds=0.05,
                            event_keepalive_seconds=0.2)
    with TestClient(create_app(settings)) as c:
        game = new_game(c, join=("genco-1",))
        with c.stream("GET", game.url("/events"), headers=game.as_("genco-1")) as r, \
                c.stream("GET", game.url("/events"), headers=game.as_("instructor")) as kept:
            assert r.status_code == kept.status_code == 200
            lines = r.iter_lines()
            assert next(lines).startswith(("id:", "event:"))
            kept_lines = kept.iter_lines()
            assert next(kept_lines).startswith(("id:", "event:"))
            gone = c.delete(game.url("/participants/genco-1/token"),
                            headers=game.as_("instructor"))
            assert gone.status_code == 204
            done = threading.Event()

            def drain() -> None:
                for _line in lines:
                    pass
                done.set()

            threading.Thread(target=drain, daemon=True).start()
            assert done.wait(10), "the revoked token's stream did not end"
            # the instructor's stream is still open: a new event reaches it
            c.post(game.url("/participants"), json={"participant": "genco-2"})
            assert any("participant_joined" in line and "genco-2" in line
                       for line in kept_lines)


def test_the_token_lifetime_is_set_at_creation(client: TestClient) -> None:
    game = new_game(client, join=("genco-1",), token_ttl_seconds=3600)
    policy = client.get(game.url("/token-policy"), headers=game.as_("instructor")).json()
    assert policy["token_ttl_seconds"] == policy["effective_ttl_seconds"] == 3600
    me = client.get(game.url("/me"), headers=game.as_("genco-1"))
    assert me.status_code == 200
    for bad in (0, -5, 10**12, "an hour", 1e308):
        r = client.post(f"{API}/sessions", json={"name": "x", "token_ttl_seconds": bad})
        assert r.status_code == 422, r.text
        assert "body.token_ttl_seconds" in [p["loc"] for p in r.json()["problems"]]
