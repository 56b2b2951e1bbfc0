"""Persistence and concurrency: the state a restarted (or another) process rebuilds from the
snapshot and the appended batches is exactly the live one; two apps on one database stay
consistent; concurrent clears clear once and answer alike; batches racing the gate are either
acknowledged and cleared, or refused and stored nowhere."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from api.service.settings import Settings
from tests.api.conftest import (
    API,
    Game,
    TestClient,
    capacity_offers,
    create_app,
    energy_offers,
    new_game,
)

SEATS = ("genco-1", "genco-2", "genco-3", "genco-4", "genco-5", "genco-6", "retailer-1")


@pytest.fixture
def second(settings: Settings) -> Iterator[TestClient]:
    """Another app on the same database: another process, as far as the data go."""
    with TestClient(create_app(settings)) as c:
        yield c


def live_state(client: TestClient, session_id: str) -> dict[str, Any]:
    """The app's live domain session brought up to date from the database, as a dict."""
    app = client.app
    db = app.state.database.session()  # type: ignore[attr-defined]
    try:
        with app.state.live.reading(session_id), db.begin():  # type: ignore[attr-defined]
            from api.service.db import repositories as repo

            row = repo.get_session(db, session_id)
            assert row is not None
            return app.state.live.current(db, row).session.to_dict()  # type: ignore[attr-defined,no-any-return]
    finally:
        db.close()


def on(client: TestClient, game: Game) -> Game:
    """The same game seen through another app."""
    return Game(client, game.id, game.instructor, game.tokens)


def test_rebuilt_state_is_the_live_state(game: Game, second: TestClient) -> None:
    game.open()
    for seat in SEATS[:4]:
        game.bid(seat, "capacity", capacity_offers(game.view(seat)))
    game.bid("genco-1", "capacity", capacity_offers(game.view("genco-1"), price=10.0))
    game.clear("capacity")
    game.open()
    for seat in SEATS:
        assert game.bid(seat, "energy-01-01", energy_offers(game.view(seat))).status_code == 201
    game.bid("genco-2", "energy-01-01", energy_offers(game.view("genco-2"), markup=5.0))
    live = live_state(game.client, game.id)
    assert live_state(second, game.id) == live  # rebuilt from snapshot + 8 batches
    assert second.app.state.live.rebuilds == 1  # type: ignore[attr-defined]
    # The rebuilt session clears to the same result as the original would.
    other = on(second, game)
    assert other.clear("energy-01-01") == game.clear("energy-01-01")


def test_two_apps_on_one_database(game: Game, second: TestClient) -> None:
    a, b = game, on(second, game)
    a.open()
    a.bid("genco-1", "capacity", capacity_offers(a.view("genco-1")))
    b.bid("genco-2", "capacity", capacity_offers(b.view("genco-2")))
    a.bid("genco-2", "capacity", capacity_offers(a.view("genco-2"), price=70.0))  # revision 2
    seen = b.client.get(b.url("/rounds/capacity/bids"), headers=b.as_("instructor")).json()
    assert {x["participant"]: x["revision"] for x in seen["data"]} == {"genco-1": 1,
                                                                      "genco-2": 2}
    result = b.clear("capacity")
    offers = {(o["participant"], o["price_yuan_per_kw_yr"])
              for o in result["result"]["offers"] if not o["imputed"]}
    assert offers == {("genco-1", 50.0), ("genco-2", 70.0)}
    late = a.bid("genco-3", "capacity", capacity_offers(a.view("genco-3")))
    assert late.status_code == 409  # app A learns the gate closed from the database
    assert a.clear("capacity") == result


def _together(n: int, work: Callable[[int], Any]) -> list[Any]:
    start = threading.Barrier(n)

    def run(i: int) -> Any:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_clears_clear_once(game: Game, second: TestClient) -> None:
    game.open()
    for seat in SEATS[:6]:
        game.bid(seat, "capacity", capacity_offers(game.view(seat)))
    apps = [game.client, second]

    def clear(i: int) -> Any:
        r = apps[i % 2].post(game.url("/rounds/capacity/clear"), headers=game.as_("instructor"))
        return r.status_code, r.json()

    answers = _together(8, clear)
    assert {s for s, _ in answers} == {200}
    assert all(body == answers[0][1] for _, body in answers)
    log = game.client.get(game.url("/events/log"), headers=game.as_("instructor"),
                          params={"limit": 500}).json()["data"]
    assert [e["round_id"] for e in log if e["kind"] == "round_cleared"] == ["capacity"]
    assert [e["round_id"] for e in log if e["kind"] == "gate_closed"] == ["capacity"]
    assert live_state(game.client, game.id) == live_state(second, game.id)


def test_concurrent_batches_all_land(game: Game, second: TestClient) -> None:
    game.open()
    game.clear("capacity")
    game.open()
    views = {seat: game.view(seat) for seat in SEATS}
    apps = [game.client, second]
    per_seat = 3

    def send(i: int) -> int:
        seat = SEATS[i % len(SEATS)]
        bids = energy_offers(views[seat], markup=float(i // len(SEATS)))
        r = apps[i % 2].post(game.url("/rounds/energy-01-01/bids"), headers=game.as_(seat),
                             json={"bids": bids})
        assert r.status_code == 201, r.text
        return int(r.json()["revision"])

    revisions = _together(len(SEATS) * per_seat, send)
    assert sorted(revisions) == sorted(list(range(1, per_seat + 1)) * len(SEATS))
    engine = game.client.app.state.database.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM bid_batches WHERE session_id = :s"),
                            {"s": game.id}).scalar_one()
    assert rows == len(SEATS) * per_seat
    state = live_state(game.client, game.id)
    assert state == live_state(second, game.id)
    energy = next(r for r in state["rounds"] if r["round_id"] == "energy-01-01")
    assert {b["participant"]: b["revision"] for b in energy["bids"]} == \
        {seat: per_seat for seat in SEATS}
    assert state["sequence"] == len(SEATS) * per_seat


def test_bids_racing_the_gate(game: Game, second: TestClient) -> None:
    game.open()
    game.clear("capacity")
    game.open()
    views = {seat: game.view(seat) for seat in SEATS}
    apps = [game.client, second]

    def act(i: int) -> tuple[str, int]:
        if i == len(SEATS):
            r = apps[0].post(game.url("/rounds/energy-01-01/clear"),
                             headers=game.as_("instructor"))
            return "clear", r.status_code
        seat = SEATS[i % len(SEATS)]
        r = apps[i % 2].post(game.url("/rounds/energy-01-01/bids"), headers=game.as_(seat),
                             json={"bids": energy_offers(views[seat])})
        return seat, r.status_code

    outcomes = _together(len(SEATS) + 1, act)
    assert ("clear", 200) in outcomes
    acknowledged = {who for who, status in outcomes if who != "clear" and status == 201}
    refused = {who for who, status in outcomes if who != "clear" and status == 409}
    assert acknowledged | refused == set(SEATS) and not acknowledged & refused
    result = game.client.get(game.url("/rounds/energy-01-01/result"),
                             headers=game.as_("instructor")).json()
    bidders = {b["participant"] for b in result["result"]["bids"] if not b["imputed"]}
    nonempty = {seat for seat in acknowledged if energy_offers(views[seat])}
    assert bidders == nonempty  # every acknowledged batch cleared, no refused one did
    state = live_state(second, game.id)
    energy = next(r for r in state["rounds"] if r["round_id"] == "energy-01-01")
    assert {b["participant"] for b in energy["bids"]} == acknowledged


def test_a_small_cache_still_serves_every_session(db_kind: str,
                                                  request: pytest.FixtureRequest,
                                                  tmp_path: Any) -> None:
    from tests.api.conftest import settings_for

    settings = settings_for(db_kind, request, tmp_path, session_cache_size=1)
    with TestClient(create_app(settings)) as client:
        games = [new_game(client, join=("genco-1", "genco-2")) for _ in range(3)]
        for g in games:
            g.open()
        for k, g in enumerate(games * 2):
            r = g.bid("genco-1", "capacity", capacity_offers(g.view("genco-1"), price=10.0 + k))
            assert r.status_code == 201
        for k, g in enumerate(games):
            mine = client.get(g.url("/rounds/capacity/bids"), headers=g.as_("genco-1")).json()
            assert mine["data"][0]["revision"] == 2
            assert mine["data"][0]["bids"][0]["price"] == 10.0 + k + 3
        assert client.get(f"{API}/health").status_code == 200


def test_refusals_keep_the_live_session(game: Game) -> None:
    live = game.client.app.state.live  # type: ignore[attr-defined]
    game.open()
    offers = capacity_offers(game.view("genco-1"))
    assert game.bid("genco-1", "capacity", offers).status_code == 201
    rebuilds = live.rebuilds
    assert game.bid("genco-1", "capacity", [{**offers[0], "price": -1}]).status_code == 422
    assert game.bid("genco-1", "energy-01-01", offers).status_code == 409
    assert game.client.post(game.url("/rounds/open"),
                            headers=game.as_("instructor")).status_code == 409
    game.client.post(game.url("/rounds/capacity/close"), headers=game.as_("instructor"))
    assert game.bid("genco-2", "capacity", offers).status_code == 409  # after the gate
    assert live.rebuilds == rebuilds  # refused before anything changed: nothing rebuilt


def test_a_failed_clear_changes_nothing(game: Game, settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from api.service.db import repositories
    from tests.api.conftest import db_state

    game.open()
    for seat in SEATS[:3]:
        game.bid(seat, "capacity", capacity_offers(game.view(seat)))
    before = db_state(settings, game.id)
    live_before = live_state(game.client, game.id)

    def broken(*_args: Any, **_kw: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repositories, "write_snapshot", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        game.client.post(game.url("/rounds/capacity/clear"), headers=game.as_("instructor"))
    monkeypatch.undo()
    assert db_state(settings, game.id) == before  # the clear rolled back whole
    assert live_state(game.client, game.id) == live_before  # memory followed the database
    current = game.client.get(game.url("/rounds/current"), headers=game.as_("genco-1")).json()
    assert current["round"]["status"] == "open"
    assert game.clear("capacity")["status"] == "cleared"
