"""Bad input: every refusal is a 4xx whose message says what is wrong (per bid, with its
index, for a refused batch), and the database is exactly as before (row counts and saved
snapshots compared)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from api.service.settings import Settings
from tests.api.conftest import (
    API,
    Game,
    TestClient,
    capacity_offers,
    create_app,
    db_state,
    energy_offers,
    new_game,
    settings_for,
)


@pytest.fixture
def energy_game(game: Game) -> Game:
    """The game's capacity round cleared and energy-01-01 open."""
    game.open()
    game.clear("capacity")
    assert game.open() == "energy-01-01"
    return game


def _refused(game: Game, settings: Settings, send: Any, status: int) -> dict[str, Any]:
    before = db_state(settings)
    r = send()
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["detail"], str) and len(body["detail"]) > 20
    assert db_state(settings) == before
    return dict(body)


def _raw(game: Game, who: str, round_id: str, text: str) -> Any:
    return game.client.post(game.url(f"/rounds/{round_id}/bids"), content=text,
                            headers={**game.as_(who), "Content-Type": "application/json"})


def test_malformed_json(energy_game: Game, settings: Settings) -> None:
    g = energy_game
    body = _refused(g, settings, lambda: _raw(g, "genco-1", "energy-01-01", '{"bids": [{'),
                    400)
    assert body["code"] == "malformed_json" and "not valid JSON" in body["detail"]
    body = _refused(g, settings, lambda: _raw(g, "genco-1", "energy-01-01", '[1, 2]'), 422)
    assert body["code"] == "invalid_request"
    body = _refused(g, settings, lambda: _raw(g, "genco-1", "energy-01-01",
                                              '{"bids": [], "extra": 1}'), 422)
    assert any(p["loc"] == "body.extra" for p in body["problems"])
    body = _refused(g, settings, lambda: _raw(g, "genco-1", "energy-01-01",
                                              '{"bids": [1, "x"]}'), 422)
    assert [p["index"] for p in body["problems"]] == [0, 1]
    assert "mapping" in body["problems"][0]["reason"]


def _one(game: Game, who: str, **change: Any) -> dict[str, Any]:
    bid = energy_offers(game.view(who))[0]
    bid.update(change)
    return bid


@pytest.mark.parametrize("change, words", [
    ({"quantity": 0}, "quantity 0"),
    ({"quantity": -5.0}, "quantity -5"),
    ({"quantity": 1.0001}, "MW grid"),
    ({"price": 100.005}, "0.01 yuan grid"),
    ({"price": 1500.01}, "within [-50, 1500]"),
    ({"price": -50.01}, "within [-50, 1500]"),
    ({"hour": 30}, "not cleared in this round"),
    ({"hour": None}, "not cleared in this round"),
    ({"unit": "no-such-unit"}, "neither a unit nor a load"),
    ({"unit": "<a unit of genco-2>"}, "belongs to 'genco-2'"),
    ({"side": "buy"}, "side must be 'sell'"),
    ({"price": "cheap"}, "is not a number"),
    ({"colour": "red"}, "unknown field"),
    ({"quantity": 1e9}, "above its available capacity"),
])
def test_bad_bid_is_refused_with_its_index(energy_game: Game, settings: Settings,
                                           change: dict[str, Any], words: str) -> None:
    g = energy_game
    if change.get("unit") == "<a unit of genco-2>":
        change = {"unit": g.view("genco-2")["units"][0]["unit"]}
    good = energy_offers(g.view("genco-1"))[:3]
    bids = [*good, _one(g, "genco-1", **change)]
    body = _refused(g, settings, lambda: g.bid("genco-1", "energy-01-01", bids), 422)
    assert body["code"] == "bids_refused"
    assert {p["index"] for p in body["problems"]} == {3}
    assert any(words in p["reason"] for p in body["problems"]), body["problems"]


def test_nan_and_infinity(energy_game: Game, settings: Settings) -> None:
    g = energy_game
    bid = _one(g, "genco-1")
    text = json.dumps({"bids": [bid, {**bid, "hour": bid["hour"] + 1, "quantity": math.nan},
                                {**bid, "hour": bid["hour"] + 2, "price": math.inf}]})
    assert "NaN" in text and "Infinity" in text
    body = _refused(g, settings, lambda: _raw(g, "genco-1", "energy-01-01", text), 422)
    assert sorted({p["index"] for p in body["problems"]}) == [1, 2]


def test_every_bad_bid_is_listed(energy_game: Game, settings: Settings) -> None:
    g = energy_game
    good = energy_offers(g.view("genco-1"))
    bad_at: dict[int, dict[str, Any]] = {1: {"quantity": -1}, 4: {"price": 9999},
                                         7: {"unit": "storage-001"}}
    bids = [{**b, **bad_at.get(i, {})} for i, b in enumerate(good[:10])]
    body = _refused(g, settings, lambda: g.bid("genco-1", "energy-01-01", bids), 422)
    assert {p["index"] for p in body["problems"]} == set(bad_at)


def test_bids_out_of_turn(game: Game, settings: Settings) -> None:
    offers = capacity_offers(game.view("genco-1"))
    body = _refused(game, settings, lambda: game.bid("genco-1", "capacity", offers), 409)
    assert "not open yet" in body["detail"]
    game.open()
    body = _refused(game, settings, lambda: game.bid("genco-1", "energy-01-02", offers), 409)
    body = _refused(game, settings, lambda: game.bid("genco-1", "no-round", offers), 404)
    assert "energy-01-01" in body["detail"]  # the rounds that exist are listed
    assert game.bid("genco-1", "capacity", offers).status_code == 201
    r = game.client.post(game.url("/rounds/capacity/close"), headers=game.as_("instructor"))
    assert r.status_code == 200
    body = _refused(game, settings, lambda: game.bid("genco-1", "capacity", offers), 409)
    assert body["code"] == "gate_closed" and "not stored" in body["detail"]
    body = _refused(game, settings, lambda: game.bid("genco-2", "capacity", offers[:0]), 409)
    # The instructor acting out of turn is refused too.
    body = _refused(game, settings, lambda: game.client.post(
        game.url("/rounds/energy-01-01/clear"), headers=game.as_("instructor")), 409)
    body = _refused(game, settings, lambda: game.client.post(
        game.url("/rounds/open"), headers=game.as_("instructor")), 409)
    assert "capacity" in body["detail"]


def test_oversized_batch(energy_game: Game, settings: Settings) -> None:
    g = energy_game
    bid = _one(g, "genco-1")
    bids = [bid] * 10_001
    body = _refused(g, settings, lambda: g.bid("genco-1", "energy-01-01", bids), 413)
    assert "at most 10000 bids" in body["detail"]


def test_oversized_body(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    small = settings_for(db_kind, request, tmp_path, max_body_bytes=4096)
    with TestClient(create_app(small)) as client:
        g = new_game(client, join=("genco-1",))
        g.open()
        bids = [{"unit": "coal_usc-001", "price": 1.0, "quantity": 1.0}] * 200
        body = _refused(g, small, lambda: g.bid("genco-1", "capacity", bids), 413)
        assert "limit of 4096 bytes" in body["detail"]
        text = json.dumps({"bids": bids}).encode()

        def chunks() -> Any:  # sent without a Content-Length: counted as it arrives
            yield from (text[i:i + 1000] for i in range(0, len(text), 1000))

        body = _refused(g, small, lambda: client.post(
            g.url("/rounds/capacity/bids"), content=chunks(),
            headers={**g.as_("genco-1"), "Content-Type": "application/json"}), 413)
        assert body["code"] == "too_large"


def test_bad_sessions_are_refused(client: TestClient, settings: Settings) -> None:
    def create(**body: Any) -> Any:
        return lambda: client.post(f"{API}/sessions", json=body)

    def refused(status: int, **body: Any) -> dict[str, Any]:
        before = db_state(settings)
        r = create(**body)()
        assert r.status_code == status, r.text
        assert db_state(settings) == before
        return dict(r.json())

    assert "available presets: " in refused(422, preset="atlantis")["detail"]
    body = refused(422, overrides={"capacity.net_cone": 300})
    assert any("capacity.net_cone" in (p["loc"] or "") for p in body["problems"])
    assert "not valid TOML" in refused(422, rules_toml="[capacity\n")["detail"]
    assert "not both" in refused(422, preset="mengxi", rules_toml="")["detail"]
    assert "limit" in refused(422, scale=50)["detail"]
    assert "run past the end" in refused(422, energy_rounds=366)["detail"]
    refused(422, scale=-1)
    refused(422, colour="red")
    refused(422, energy_rounds=0)


@hsettings(max_examples=25, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_batch_is_taken_whole_or_refused_whole(energy_game: Game, settings: Settings,
                                                 data: st.DataObject) -> None:
    g = energy_game
    good = energy_offers(g.view("genco-1"))
    picks = data.draw(st.lists(st.sampled_from(range(len(good))), min_size=1, max_size=8,
                               unique=True))
    spoil: list[dict[str, Any]] = data.draw(st.lists(st.sampled_from([
        {"quantity": -1.0}, {"quantity": 0.0}, {"price": 1500.5}, {"price": 0.001},
        {"unit": "wind-001"}, {"hour": 99}, {"side": "buy"}]), max_size=len(picks)))
    bids = [dict(good[i]) for i in picks]
    for k, change in enumerate(spoil):
        bids[k].update(change)
    before = db_state(settings, g.id)
    r = g.bid("genco-1", "energy-01-01", bids)
    if spoil:
        assert r.status_code == 422
        assert {p["index"] for p in r.json()["problems"]} == set(range(len(spoil)))
        assert db_state(settings, g.id) == before
    else:
        assert r.status_code == 201
        shown = g.client.get(g.url("/rounds/energy-01-01/bids"),
                             headers=g.as_("genco-1")).json()["data"][0]["bids"]
        assert [(b["hour"], b["quantity"]) for b in shown] == \
            [(b["hour"], b["quantity"]) for b in bids]
