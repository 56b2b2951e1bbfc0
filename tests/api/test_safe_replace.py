"""Issue 12, items 5 and 7: safe replace of a bid batch with ``If-Match: <revision>`` (412 when
the stored revision differs, nothing stored), and the durability choice
``MENGXI_SQLITE_SYNCHRONOUS`` applied as SQLite's ``PRAGMA synchronous``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.service.db.engine import Database, make_engine
from api.service.settings import Settings
from tests.api.conftest import API, Game, TestClient, capacity_offers, create_app, db_state


@pytest.fixture
def capacity_game(game: Game) -> Game:
    assert game.open() == "capacity"
    return game


def _bid(game: Game, bids: list[Any], *, if_match: str | None = None,
         key: str | None = None) -> Any:
    headers = game.as_("genco-1")
    if if_match is not None:
        headers["If-Match"] = if_match
    if key is not None:
        headers["Idempotency-Key"] = key
    return game.client.post(game.url("/rounds/capacity/bids"), headers=headers,
                            json={"bids": bids})


def _my_bids(game: Game) -> Any:
    r = game.client.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1"))
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_matching_if_match_replaces(capacity_game: Game) -> None:
    game = capacity_game
    offers = capacity_offers(game.view("genco-1"))
    first = _bid(game, offers, if_match="0")  # 0: no batch yet
    assert first.status_code == 201, first.text
    assert first.json()["revision"] == 1
    second = _bid(game, capacity_offers(game.view("genco-1"), 60.0), if_match="1")
    assert second.status_code == 201, second.text
    assert second.json()["revision"] == 2
    third = _bid(game, capacity_offers(game.view("genco-1"), 70.0), if_match='"2"')  # quoted
    assert third.status_code == 201, third.text
    assert third.json()["revision"] == 3
    [mine] = _my_bids(game)
    assert mine["revision"] == 3
    assert {b["price"] for b in mine["bids"]} == {70.0}


def test_stale_if_match_is_412_and_stores_nothing(capacity_game: Game,
                                                  settings: Settings) -> None:
    game = capacity_game
    offers = capacity_offers(game.view("genco-1"))
    assert _bid(game, offers).status_code == 201          # revision 1
    assert _bid(game, capacity_offers(game.view("genco-1"), 60.0)).status_code == 201  # 2
    before_bids = _my_bids(game)
    before_db = db_state(settings, game.id)
    stale = _bid(game, capacity_offers(game.view("genco-1"), 99.0), if_match="1")
    assert stale.status_code == 412, stale.text
    body = stale.json()
    assert body["code"] == "revision_mismatch"
    assert "revision 2" in body["detail"] and "nothing was stored" in body["detail"]
    assert body["problems"] == [{"loc": "header.If-Match",
                                 "reason": "stored revision is 2, not 1"}]
    # "no batch yet" (0) while one is stored is stale too
    assert _bid(game, offers, if_match="0").status_code == 412
    assert _my_bids(game) == before_bids
    assert db_state(settings, game.id) == before_db
    # the same stale If-Match with an Idempotency-Key is refused too, and the key stays free
    assert _bid(game, offers, if_match="5", key="k-stale").status_code == 412
    ok = _bid(game, offers, if_match="2", key="k-stale")
    assert ok.status_code == 201 and ok.json()["revision"] == 3


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", '"2', "*", "1, 2",
                                   "1234567890123456789"])
def test_malformed_if_match_is_422(capacity_game: Game, settings: Settings,
                                   value: str) -> None:
    """A value that is no revision is a malformed request (422 naming ``header.If-Match``,
    like every other bad field), not a failed precondition: 412 says "the stored batch moved
    on, read it again", which would not help a client that sends garbage."""
    game = capacity_game
    before = db_state(settings, game.id)
    r = _bid(game, capacity_offers(game.view("genco-1")), if_match=value)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_request"
    assert [p["loc"] for p in body["problems"]] == ["header.If-Match"]
    assert db_state(settings, game.id) == before


def test_idempotent_retry_still_gets_its_receipt(capacity_game: Game) -> None:
    """The retry of a batch that was taken carries the If-Match it was sent with, which the
    batch itself made stale; the key is answered first, so it gets the first receipt."""
    game = capacity_game
    offers = capacity_offers(game.view("genco-1"))
    first = _bid(game, offers, if_match="0", key="offer-1")
    assert first.status_code == 201, first.text
    retry = _bid(game, offers, if_match="0", key="offer-1")
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json() == first.json()
    assert _my_bids(game)[0]["revision"] == 1


def test_without_if_match_unchanged(capacity_game: Game) -> None:
    game = capacity_game
    offers = capacity_offers(game.view("genco-1"))
    assert [_bid(game, offers).json()["revision"] for _ in range(3)] == [1, 2, 3]


def test_unknown_round_with_if_match_is_404(capacity_game: Game) -> None:
    game = capacity_game
    r = game.client.post(game.url("/rounds/nope/bids"),
                         headers=game.as_("genco-1") | {"If-Match": "0"}, json={"bids": []})
    assert r.status_code == 404, r.text


def test_openapi_declares_412_and_if_match(client: TestClient) -> None:
    doc = client.get(f"{API}/openapi.json").json()
    op = doc["paths"][f"{API}/sessions/{{session_id}}/rounds/{{round_id}}/bids"]["post"]
    ref = op["responses"]["412"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ErrorBody"
    assert "If-Match" in {p["name"] for p in op["parameters"]}


# ------------------------------------------------------------- item 7: PRAGMA synchronous

SYNC_LEVEL = {"OFF": 0, "NORMAL": 1, "FULL": 2}


@pytest.mark.parametrize("value", [None, "FULL", "NORMAL", "OFF", "normal"])
def test_sqlite_synchronous_is_applied(tmp_path: Path, value: str | None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MENGXI_SQLITE_SYNCHRONOUS", raising=False)
    if value is not None:
        monkeypatch.setenv("MENGXI_SQLITE_SYNCHRONOUS", value)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'sync.sqlite'}")
    expected = SYNC_LEVEL[(value or "FULL").upper()]
    app = create_app(settings)
    with TestClient(app):
        database: Database = app.state.database
        # several connections of the pool: the hook sets every one
        conns = [database.engine.connect() for _ in range(3)]
        try:
            for conn in conns:
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == expected
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        finally:
            for conn in conns:
                conn.close()


@pytest.mark.parametrize("value", ["fast", "EXTRA", "1", ""])
def test_bad_sqlite_synchronous_is_refused(value: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENGXI_SQLITE_SYNCHRONOUS", value)
    with pytest.raises(ValidationError, match="MENGXI_SQLITE_SYNCHRONOUS must be one of "
                                              "FULL, NORMAL, OFF"):
        Settings()
    with pytest.raises(ValueError, match="PRAGMA synchronous must be one of"):
        make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}", sqlite_synchronous=value)
