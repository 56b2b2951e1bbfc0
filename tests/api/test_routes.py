"""Route tests: a whole small game through the API (capacity auction, two energy rounds, the
month's settlement steps and green round), sealed bids, revisions, idempotent retries, the
idempotent clear, results, money, certificates, events and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from api.service.settings import Settings
from tests.api.conftest import (
    API,
    Game,
    TestClient,
    bearer,
    capacity_offers,
    db_state,
    energy_offers,
    new_game,
)


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get(f"{API}/health").json()["status"] == "ok"
    doc = client.get(f"{API}/openapi.json").json()
    ops = [(path, method, op) for path, item in doc["paths"].items()
           for method, op in item.items()]
    assert len(ops) >= 25
    ids = [op.get("operationId") for _p, _m, op in ops]
    assert all(ids) and len(set(ids)) == len(ids)
    # Explicit ids are plain snake_case names, not FastAPI's generated path-derived ones.
    assert all("_api_v1_" not in i and "{" not in i for i in ids)
    assert all(path.startswith(API) for path, _m, _op in ops)
    assert "submit_bids" in ids and "stream_events" in ids


def test_create_list_get_lobby(client: TestClient) -> None:
    r = client.post(f"{API}/sessions", json={"name": "a", "seed": 1})
    assert r.status_code == 201
    first = r.json()
    token = first["instructor_token"]
    assert token.startswith("mxi_") and len(token) > 40
    s = first["session"]
    assert s["status"] == "waiting" and s["current_round"]["round_id"] == "capacity"
    assert s["seats"] == ["genco-1", "genco-2", "genco-3", "genco-4", "genco-5", "genco-6",
                          "retailer-1"]
    # A second session made with the same token joins that instructor's list, no new token.
    r = client.post(f"{API}/sessions", json={"name": "b", "seed": 2}, headers=bearer(token))
    assert r.status_code == 201 and r.json()["instructor_token"] is None
    other = client.post(f"{API}/sessions", json={"name": "c"}).json()
    listed = client.get(f"{API}/sessions", headers=bearer(token)).json()
    assert listed["count"] == 2
    assert {x["name"] for x in listed["data"]} == {"a", "b"}
    theirs = client.get(f"{API}/sessions", headers=bearer(other["instructor_token"])).json()
    assert [x["name"] for x in theirs["data"]] == ["c"]
    got = client.get(f"{API}/sessions/{s['id']}", headers=bearer(token)).json()
    assert got["id"] == s["id"] and got["rules_name"] == "mengxi"
    assert got["setup"]["scale"] == 0.01 and got["setup"]["energy_rounds"] == 2
    lobby = client.get(f"{API}/sessions/{s['id']}/lobby").json()
    assert [x["taken"] for x in lobby["seats"]] == [False] * 7
    rules = client.get(f"{API}/sessions/{s['id']}/rules", headers=bearer(token)).json()
    assert rules["energy"]["price_cap_yuan_per_mwh"] == 1500.0


def test_rules_from_a_toml_body_and_overrides(client: TestClient) -> None:
    body = 'extends = "mengxi"\n[capacity]\nenabled = false\n'
    r = client.post(f"{API}/sessions", json={"rules_toml": body, "seed": 3,
                                             "overrides": {"green.premium_max_yuan_per_mwh": 40}})
    assert r.status_code == 201, r.text
    s = r.json()["session"]
    assert s["current_round"]["kind"] == "energy"  # no capacity round without the market
    rules = client.get(f"{API}/sessions/{s['id']}/rules",
                       headers=bearer(r.json()["instructor_token"])).json()
    assert rules["capacity"]["enabled"] is False
    assert rules["green"]["premium_max_yuan_per_mwh"] == 40


def test_join_seats(client: TestClient) -> None:
    game = new_game(client)
    assert game.join("genco-3") == "genco-3"
    assert game.join() == "genco-1"  # the first free seat
    r = client.post(game.url("/participants"), json={"participant": "genco-3"})
    assert r.status_code == 409 and "taken" in r.json()["detail"]
    r = client.post(game.url("/participants"), json={"participant": "nobody"})
    assert r.status_code == 404 and "genco-1" in r.json()["detail"]
    view = game.view("genco-3")
    mine = {u["unit"] for u in view["units"]}
    assert mine and mine.isdisjoint(u["unit"] for u in game.view("genco-1")["units"])
    units = view["units"] + game.view("genco-1")["units"]
    for unit in units:
        if unit["technology"].startswith("coal"):
            assert unit["marginal_cost_yuan_per_mwh"] > 0 and unit["accredited_mw"] > 0
        if unit["technology"] == "coal_subcritical":  # CHP runs in the heating season
            assert unit["winter_must_run"] is True
        if unit["technology"] == "coal_ultra_supercritical":
            assert unit["winter_must_run"] is False and 0 < unit["min_output_fraction"] < 1
    assert view["limits"]["energy_price_cap_yuan_per_mwh"] == 1500.0
    lobby = client.get(game.url("/lobby")).json()
    assert {x["participant"] for x in lobby["seats"] if x["taken"]} == {"genco-1", "genco-3"}
    listed = client.get(game.url("/participants"), headers=game.as_("instructor")).json()
    assert [p["participant"] for p in listed["data"]] == ["genco-3", "genco-1"]
    for _ in range(5):
        game.join()
    r = client.post(game.url("/participants"), json={})
    assert r.status_code == 409 and "every seat" in r.json()["detail"]


def test_the_view_a_bot_builds_on(client: TestClient) -> None:
    seats = ("genco-1", "genco-2", "genco-3", "genco-4", "genco-5", "genco-6", "retailer-1")
    game = new_game(client, join=seats, start_day=31, hours_per_round=12)
    game.open()
    game.clear("capacity")
    assert game.open() == "energy-02-01"
    owner, storage = next((seat, u) for seat in seats[:-1] for u in game.view(seat)["units"]
                          if u["technology"] == "storage")
    view = game.view(owner)
    assert view["round"]["kind"] == "energy" and view["hours"] == list(range(12))
    assert view["hour_of_year"] == list(range(31 * 24, 31 * 24 + 12))
    assert view["month_of_hour"] == [2] * 12
    assert storage["marginal_cost_yuan_per_mwh"] is None
    assert storage["storage_energy_mwh"] > 0
    assert 0 <= storage["storage_soc_mwh"] <= storage["storage_energy_mwh"]
    assert storage["available_mw"] == [storage["nameplate_mw"]] * 12
    load = game.view("retailer-1")["loads"][0]
    assert len(load["demand_mw"]) == 12 and min(load["demand_mw"]) > 0
    later = client.get(game.url("/me"), params={"round_id": "energy-02-02"},
                       headers=game.as_(owner)).json()
    assert later["hours"] == list(range(12, 24)) and later["round"]["status"] == "pending"


def _bid_all(game: Game, round_id: str, offers: Any) -> None:
    for seat in game.tokens:
        bids = offers(game.view(seat))
        if bids:
            r = game.bid(seat, round_id, bids)
            assert r.status_code == 201, r.text


def test_whole_game(game: Game) -> None:
    c = game.client
    assert game.open() == "capacity"
    _bid_all(game, "capacity", capacity_offers)
    # Sealed: before clearing, a participant sees only its own bids, the instructor all.
    mine = c.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1")).json()
    assert [x["participant"] for x in mine["data"]] == ["genco-1"]
    every = c.get(game.url("/rounds/capacity/bids"), headers=game.as_("instructor")).json()
    assert every["count"] == 6
    current = c.get(game.url("/rounds/current"), headers=game.as_("genco-2")).json()
    assert current["round"]["status"] == "open" and current["round"]["bidders"] == 6
    r = c.get(game.url("/rounds/capacity/result"), headers=game.as_("genco-1"))
    assert r.status_code == 409  # not published before it clears
    result = game.clear("capacity")
    assert result["kind"] == "capacity" and result["price"] is not None
    assert result["result"]["total_cleared_mw"] == result["volume"]
    again = game.clear("capacity")
    assert again == result  # clearing again changes nothing and answers the same
    after = c.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1")).json()
    assert after["count"] == 6  # everyone's bids once it cleared
    mine = c.get(game.url("/rounds/capacity/result"), headers=game.as_("genco-1")).json()
    assert set(mine["settlement"]) == {"genco-1"}
    assert mine["result"] == {k: v for k, v in result["result"].items()}

    for expected in ("energy-01-01", "energy-01-02"):
        assert game.open() == expected
        _bid_all(game, expected, energy_offers)
        r = c.post(game.url(f"/rounds/{expected}/close"), headers=game.as_("instructor"))
        assert r.json()["status"] == "gate_closed"
        r = c.post(game.url(f"/rounds/{expected}/close"), headers=game.as_("instructor"))
        assert r.status_code == 200 and r.json()["status"] == "gate_closed"
        res = game.clear(expected)
        assert len(res["hourly_price_yuan_per_mwh"]) == 24 and res["volume"] > 0
        assert all(p is None or -50 <= p <= 1500 for p in res["hourly_price_yuan_per_mwh"])
    # The month's issue and compensation ran by themselves; the green round is next.
    rounds = c.get(game.url("/rounds"), headers=game.as_("genco-1")).json()["data"]
    status = {x["round_id"]: x["status"] for x in rounds}
    assert status["issuance-01"] == status["compensation-01"] == "cleared"
    assert status["green-01"] == "pending"
    # Wind and solar owners now hold certificates they may sell.
    held = c.get(game.url("/me/certificates"), headers=game.as_("genco-4")).json()
    assert held["issued_mwh"] > 0 and held["sellable_mwh"] == held["issued_mwh"]
    assert game.open() == "green-01"
    wind = game.view("genco-4")
    assert wind["sellable_certificates_mwh"] == held["sellable_mwh"]
    sell = [{"side": "sell", "price": 10.0, "quantity": 5.0, "unit": "wind-001"}]
    assert game.bid("genco-4", "green-01", sell).status_code == 201
    buy = [{"side": "buy", "price": 30.0, "quantity": 5.0}]
    assert game.bid("retailer-1", "green-01", buy).status_code == 201
    green = game.clear("green-01")
    assert green["price"] is not None and green["volume"] == 5.0
    bought = c.get(game.url("/me/certificates"), headers=game.as_("retailer-1")).json()
    # The obligation step ran after the last round and retired what the retailer held.
    assert bought["received_mwh"] == 5.0
    assert bought["retirements"] and bought["retirements"][0]["mwh"] == 5.0
    session = c.get(game.url(), headers=game.as_("instructor")).json()
    assert session["status"] == "finished" and session["current_round"] is None
    r = c.post(game.url("/rounds/open"), headers=game.as_("instructor"))
    assert r.status_code == 409 and "over" in r.json()["detail"]

    # Money: every participant's ledger legs add up to its settlement; all legs sum to zero.
    legs = c.get(game.url("/ledger"), headers=game.as_("instructor"),
                 params={"limit": 10_000}).json()
    assert legs["count"] > 0 and sum(x["amount_fen"] for x in legs["data"]) == 0
    for seat in game.tokens:
        mine_legs = c.get(game.url("/me/ledger"), headers=game.as_(seat),
                          params={"limit": 10_000}).json()
        assert all(x["participant"] == seat for x in mine_legs["data"])
        settled = c.get(game.url("/me/settlement"), headers=game.as_(seat)).json()
        assert settled["net_fen"] == sum(x["amount_fen"] for x in mine_legs["data"])
        assert settled["net_fen"] == sum(settled["by_category"].values())
    board = c.get(game.url("/leaderboard"), headers=game.as_("genco-2")).json()
    assert [row["rank"] for row in board["data"]] == list(range(1, board["count"] + 1))
    profits = [row["profit_fen"] for row in board["data"]]
    assert profits == sorted(profits, reverse=True)
    certs = c.get(game.url("/certificates"), headers=game.as_("instructor")).json()
    totals = certs["totals"]
    assert totals["issued"] == totals["held"] + totals["retired"] + totals["expired"]


def test_revisions_and_idempotent_retries(game: Game, settings: Settings) -> None:
    c = game.client
    game.open()
    offer = capacity_offers(game.view("genco-1"))
    first = game.bid("genco-1", "capacity", offer, key="k-1")
    assert first.status_code == 201 and first.json()["revision"] == 1
    before = db_state(settings, game.id)
    retry = game.bid("genco-1", "capacity", offer, key="k-1")
    assert retry.status_code == 201 and retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert db_state(settings, game.id) == before  # the retry took effect once
    other = game.bid("genco-1", "capacity", offer[:0], key="k-1")
    assert other.status_code == 422 and "another batch" in other.json()["detail"]
    cheaper = [{**offer[0], "price": 20.0}]
    second = game.bid("genco-1", "capacity", cheaper)
    assert second.status_code == 201 and second.json()["revision"] == 2
    mine = c.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1")).json()
    assert mine["data"][0]["revision"] == 2 and mine["data"][0]["bids"][0]["price"] == 20.0
    # The same key from another participant is another batch.
    theirs = game.bid("genco-2", "capacity", capacity_offers(game.view("genco-2")), key="k-1")
    assert theirs.status_code == 201 and theirs.json()["participant"] == "genco-2"
    # An empty batch withdraws.
    assert game.bid("genco-1", "capacity", []).json()["bid_count"] == 0
    # A retried batch whose first answer came before the gate closed is still answered.
    game.clear("capacity")
    late = game.bid("genco-1", "capacity", offer, key="k-1")
    assert late.status_code == 201 and late.json() == first.json()


def test_events_log_and_stream(game: Game) -> None:
    c = game.client
    game.open()
    game.bid("genco-1", "capacity", capacity_offers(game.view("genco-1")))
    game.clear("capacity")
    log = c.get(game.url("/events/log"), headers=game.as_("genco-1")).json()["data"]
    kinds = [e["kind"] for e in log]
    assert kinds[0] == "session_created"
    assert kinds.count("participant_joined") == 7
    assert kinds[-4:] == ["round_opened", "bids_received", "gate_closed", "round_cleared"]
    assert all(e["kind"] != "bids" for e in log)  # bids are sealed: no event names a bidder
    assert all("participant" not in e["data"] for e in log if e["kind"] == "bids_received")
    ids = [e["id"] for e in log]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    def stream(params: dict[str, str] | None = None, **kw: Any) -> list[tuple[str, str]]:
        with c.stream("GET", game.url("/events"), params={"follow": "false", **(params or {})},
                      **kw) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            text = "".join(r.iter_text())
        out = []
        for block in text.split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines()
                          if ": " in line and not line.startswith(":"))
            if "id" in fields:
                out.append((fields["id"], fields["event"]))
        return out

    everything = stream(headers=game.as_("genco-1"))
    assert everything == [(str(e["id"]), e["kind"]) for e in log]
    cut = log[-3]["id"]
    resumed = stream(headers={**game.as_("genco-1"), "Last-Event-ID": str(cut)})
    assert resumed == [(str(e["id"]), e["kind"]) for e in log if e["id"] > cut]
    ticket = c.post(game.url("/events/ticket"), headers=game.as_("genco-2"))
    assert ticket.status_code == 201 and ticket.json()["ticket"].startswith("mxt_")
    by_ticket = stream(params={"ticket": ticket.json()["ticket"], "after": str(cut)})
    assert by_ticket == resumed
    # a token in the URL opens nothing: only a header or a ticket does
    r = c.get(game.url("/events"), params={"follow": "false",
                                           "access_token": game.tokens["genco-2"]})
    assert r.status_code == 401
