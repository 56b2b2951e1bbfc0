"""The classroom's routes through the app: briefings, standings (every seat, bots marked,
profit counted with costs and retail revenue), round deadlines that close and clear by
themselves, CSV exports, clone, and the ``bids_received`` event that keeps bid counts live."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from fastapi.testclient import TestClient

from api.service.classroom import deadline
from tests.api.conftest import API, Game, bearer, capacity_offers, energy_offers, new_game

SEATS = ["genco-1", "genco-2", "genco-3", "genco-4", "genco-5", "genco-6", "retailer-1"]


def small(client: TestClient, **more: Any) -> Game:
    return new_game(client, energy_rounds=1, hours_per_round=4, **more)


def test_briefing_names_the_rules_numbers_and_the_players_costs(client: TestClient) -> None:
    game = small(client, join=("genco-1", "retailer-1"))
    r = client.get(game.url("/briefing"), headers=game.as_("genco-1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "genco" and body["participant"] == "genco-1"
    text = body["text"]
    rules = client.get(game.url("/rules"), headers=game.as_("genco-1")).json()
    view = game.view("genco-1")
    for needle in ("cap 1,500 yuan/MWh", "floor -50 yuan/MWh", "offer cap 495 yuan/kW·yr",
                   f"Net CONE {rules['capacity']['net_cone_yuan_per_kw_yr']:g} yuan/kW·yr",
                   "performance penalty rate 11,000 yuan/MWh",  # 330 x 1000 / 30 h
                   "compensation rate 8.25 yuan/kW a month",  # 330 x 0.30 / 12
                   "obligation weight 22 %", "shortfall penalty 50 yuan/MWh",
                   "retail tariff 312.9 yuan/MWh", "demand curve", "How your profit is counted"):
        assert needle in text, needle
    assert body["capacity_offer_cap_yuan_per_kw_yr"] == 495.0
    curve = body["capacity_demand"]
    assert len(curve) >= 2 and curve[0]["price_yuan_per_kw_yr"] == 495.0
    assert all(f"{p['mw']:,.3f}".rstrip("0").rstrip(".") in text for p in curve)
    unit = view["units"][0]
    assert unit["unit"] in text
    assert f"{unit['marginal_cost_yuan_per_mwh']:,.2f}".rstrip("0").rstrip(".") in text
    # the retailer's own briefing lists its load; another role's briefing lists no own costs
    retail = client.get(game.url("/briefing"), headers=game.as_("retailer-1")).json()
    assert retail["role"] == "retailer" and "Load **" in retail["text"]
    other = client.get(game.url("/briefing?role=storage"), headers=game.as_("retailer-1"))
    assert other.json()["participant"] is None and "Load **" not in other.json()["text"]
    # the instructor names a role; bad input names the field
    assert client.get(game.url("/briefing"), headers=game.as_("instructor")).status_code == 422
    bad = client.get(game.url("/briefing?role=pirate"), headers=game.as_("instructor"))
    assert bad.status_code == 422 and "role" in bad.text
    assert client.get(game.url("/briefing?role=retailer")).status_code == 401
    # the retail margin is a rule parameter: a game with another margin is briefed with it
    other_game = small(client, join=("retailer-1",),
                       overrides={"fleet.loads.retail_margin_yuan_per_mwh": 50.0})
    text = client.get(other_game.url("/briefing"),
                      headers=other_game.as_("retailer-1")).json()["text"]
    assert "retail tariff 332.9 yuan/MWh" in text and "margin 50)" in text


def test_standings_list_every_seat_from_the_start_and_count_costs(client: TestClient) -> None:
    game = small(client, join=("genco-1",))
    # the older leaderboard too lists every seat from the start (defect 2), not only joined ones
    old = client.get(game.url("/leaderboard"), headers=game.as_("genco-1")).json()
    assert sorted(r["participant"] for r in old["data"]) == SEATS
    board = client.get(game.url("/standings"), headers=game.as_("genco-1")).json()
    assert sorted(r["participant"] for r in board["data"]) == SEATS
    kinds = {r["participant"]: r["seat"] for r in board["data"]}
    assert kinds["genco-1"] == "player" and kinds["genco-2"] == "empty"
    assert all(r["profit_fen"] == 0 and r["rounds"] == [] for r in board["data"])
    # capacity with bots in the other seats, then energy
    r = client.post(game.url("/rounds/open"), headers=game.as_("instructor"),
                    json={"bots": {}})
    assert r.status_code == 200, r.text
    assert game.bid("genco-1", "capacity", capacity_offers(game.view("genco-1"))).status_code \
        == 201
    game.clear("capacity")
    rid = game.open()
    assert game.bid("genco-1", rid, energy_offers(game.view("genco-1"))).status_code == 201
    game.clear(rid)
    board = client.get(game.url("/standings"), headers=game.as_("genco-1")).json()
    rows = {r["participant"]: r for r in board["data"]}
    assert {r["seat"] for p, r in rows.items() if p != "genco-1"} == {"bot"}
    assert [r["rank"] for r in board["data"]] == list(range(1, 8))
    profits = [r["profit_fen"] for r in board["data"]]
    assert profits == sorted(profits, reverse=True)
    for row in board["data"]:
        assert row["profit_fen"] == row["revenue_fen"] - row["cost_fen"]
        assert sum(x["profit_fen"] for x in row["rounds"]) == row["profit_fen"]
        assert [x["round_id"] for x in row["rounds"]][:2] == ["capacity", rid]
    g1 = rows["genco-1"]
    assert g1["fixed_cost_fen"] > 0 and g1["variable_cost_fen"] > 0
    assert g1["rounds"][0]["lines"] and any("fixed cost" in x for x in g1["rounds"][0]["lines"])
    # profit differs from the ledger's net by exactly the costs the ledger does not hold and
    # the monthly money outside the game's 8 hours (capacity is paid for a whole month)
    net = client.get(game.url("/me/settlement"), headers=game.as_("genco-1")).json()["net_fen"]
    assert g1["profit_fen"] == (net - g1["variable_cost_fen"] - g1["fixed_cost_fen"]
                                - g1["uncounted_fen"])
    assert g1["uncounted_fen"] != 0
    paid = next(x for x in g1["rounds"][0]["lines"] if x.startswith("capacity payment"))
    assert "share" in paid
    # the retailer is paid the retail tariff on the load served
    shop = rows["retailer-1"]
    assert shop["retail_revenue_fen"] > 0
    assert any("retail revenue" in x for x in shop["rounds"][1]["lines"])
    assert board["retail_tariff_yuan_per_mwh"] == 312.9


def wait_for(check: Any, seconds: float = 20.0) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def status_of(game: Game, rid: str) -> str:
    r = game.client.get(game.url("/rounds"), headers=game.as_("instructor")).json()
    return next(x["status"] for x in r["data"] if x["round_id"] == rid)


def test_a_deadline_closes_the_gate_and_auto_clear_clears(client: TestClient) -> None:
    game = small(client, join=("genco-1",))
    r = client.post(game.url("/rounds/open"), headers=game.as_("instructor"),
                    json={"deadline_seconds": 1, "auto_clear": True})
    assert r.status_code == 200, r.text
    assert r.json()["deadline_at"] is not None and r.json()["auto_clear"] is True
    session = client.get(game.url(), headers=game.as_("genco-1")).json()
    assert session["setup"]["deadline"]["round_id"] == "capacity"
    wait_for(lambda: status_of(game, "capacity") == "cleared")
    # without auto_clear only the gate closes
    r = client.post(game.url("/rounds/open"), headers=game.as_("instructor"),
                    json={"deadline_seconds": 1})
    rid = r.json()["round_id"]
    wait_for(lambda: status_of(game, rid) == "gate_closed")
    time.sleep(0.5)
    assert status_of(game, rid) == "gate_closed"
    kinds = [e["kind"] for e in client.get(game.url("/events/log"),
                                           headers=game.as_("genco-1")).json()["data"]]
    assert kinds.count("gate_closed") == 2 and kinds.count("round_cleared") >= 1


def test_a_deadline_that_passed_without_its_timer_is_enforced_on_read(
        client: TestClient) -> None:
    game = small(client)
    r = client.post(game.url("/rounds/open"), headers=game.as_("instructor"),
                    json={"deadline_seconds": 1})
    assert r.status_code == 200
    deadline.arm(client.app.state.database, client.app.state.live, game.id, None)  # a restart
    time.sleep(1.3)
    assert status_of(game, "capacity") == "gate_closed"


def test_deadline_input_is_checked(client: TestClient) -> None:
    game = small(client)
    for body, field in (({"auto_clear": True}, "auto_clear"),
                        ({"deadline_seconds": 0}, "deadline_seconds"),
                        ({"deadline_seconds": "soon"}, "deadline_seconds"),
                        ({"deadline_seconds": 10**9}, "deadline_seconds")):
        r = client.post(game.url("/rounds/open"), headers=game.as_("instructor"), json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in r.text
    assert status_of(game, "capacity") == "pending"


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_exports_for_grading(client: TestClient) -> None:
    game = small(client, join=("genco-1",))
    client.post(game.url("/rounds/open"), headers=game.as_("instructor"), json={"bots": {}})
    game.bid("genco-1", "capacity", capacity_offers(game.view("genco-1")))
    game.clear("capacity")
    r = client.get(game.url("/export/results.csv"), headers=game.as_("instructor"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = rows_of(r.text)
    assert len(rows) == 7 and {x["round_id"] for x in rows} == {"capacity"}
    for key in ("participant", "round_id", "revenue_yuan", "cost_yuan", "profit_yuan"):
        assert key in rows[0]
    board = {x["participant"]: x for x in client.get(
        game.url("/standings"), headers=game.as_("instructor")).json()["data"]}
    for x in rows:
        assert round(float(x["profit_yuan"]) * 100) == board[x["participant"]]["profit_fen"]
    bids = rows_of(client.get(game.url("/export/bids.csv"), headers=game.as_("instructor")).text)
    assert "genco-1" in {b["participant"] for b in bids}
    assert all(b["round_id"] == "capacity" for b in bids)
    ledger = rows_of(client.get(game.url("/export/ledger.csv"),
                                headers=game.as_("instructor")).text)
    assert ledger and round(sum(float(x["amount_yuan"]) for x in ledger), 2) == 0
    for what in ("results", "bids", "ledger"):
        assert client.get(game.url(f"/export/{what}.csv"),
                          headers=game.as_("genco-1")).status_code == 403


def test_clone_makes_the_same_game_under_a_new_token(client: TestClient) -> None:
    game = new_game(client, join=("genco-1",), energy_rounds=1, hours_per_round=4,
                    overrides={"green.shortfall_penalty_yuan_per_mwh": 70.0}, bots={"count": 2})
    game.open()
    r = client.post(game.url("/clone"), headers=game.as_("instructor"))
    assert r.status_code == 201, r.text
    body = r.json()
    new = body["session"]
    assert body["instructor_token"] and body["instructor_token"] != game.instructor
    assert new["id"] != game.id and new["participants"] == [] and new["status"] == "waiting"
    old = client.get(game.url(), headers=game.as_("instructor")).json()
    for key in ("seed", "scale", "energy_rounds", "hours_per_round", "bots"):
        assert new["setup"][key] == old["setup"][key]
    assert new["rules_sha256"] == old["rules_sha256"]
    mine = bearer(body["instructor_token"])
    rules = client.get(f"{API}/sessions/{new['id']}/rules", headers=mine).json()
    assert rules["green"]["shortfall_penalty_yuan_per_mwh"] == 70.0
    assert client.get(f"{API}/sessions/{new['id']}", headers=game.as_("instructor")) \
        .status_code in (403, 404)
    assert client.post(game.url("/clone"), headers=game.as_("genco-1")).status_code == 403


def test_a_bid_is_published_as_an_event_without_its_bids_or_bidder(client: TestClient) -> None:
    game = small(client, join=("genco-1",))
    game.open()
    assert game.bid("genco-1", "capacity", capacity_offers(game.view("genco-1"))).status_code \
        == 201
    events = client.get(game.url("/events/log"), headers=game.as_("genco-1")).json()["data"]
    got = [e for e in events if e["kind"] == "bids_received"]
    assert len(got) == 1 and got[0]["round_id"] == "capacity"
    # sealed: neither the bids nor who sent them (other students see only the count)
    assert not {"bids", "participant", "revision"} & set(got[0]["data"])


def test_a_bot_seat_is_handed_to_a_late_student(client: TestClient) -> None:
    game = small(client, join=("genco-1",))
    client.post(game.url("/rounds/open"), headers=game.as_("instructor"), json={"bots": {}})
    game.clear("capacity")
    r = client.post(game.url("/bots/genco-2/release"), headers=game.as_("instructor"))
    assert r.status_code == 200, r.text
    assert "genco-2" not in r.json()["setup"]["bot_seats"]
    board = client.get(game.url("/standings"), headers=game.as_("instructor")).json()
    assert next(x for x in board["data"] if x["participant"] == "genco-2")["seat"] == "player"
    rid = game.open()  # the released seat's bot no longer bids; the others still do
    bids = client.get(game.url(f"/rounds/{rid}/bids"), headers=game.as_("instructor")).json()
    who = {d["participant"] for d in bids["data"]}
    assert "genco-2" not in who and "genco-3" in who
    again = client.post(game.url("/bots/genco-2/release"), headers=game.as_("instructor"))
    assert again.status_code == 404 and "genco-2" in again.text
    assert client.post(game.url("/bots/genco-3/release"),
                       headers=game.as_("genco-1")).status_code == 403


def test_clone_with_changes_checks_them_as_at_creation(client: TestClient) -> None:
    game = small(client)
    r = client.post(game.url("/clone"), headers=game.as_("instructor"),
                    json={"name": "Class 12", "overrides": {"capacity.enabled": False,
                                                            "compensation.recovery_ratio": 0.5},
                          "energy_rounds": 2, "gencos": 3})
    assert r.status_code == 201, r.text
    new = r.json()["session"]
    assert new["name"] == "Class 12"
    assert new["setup"]["energy_rounds"] == 2 and new["setup"]["gencos"] == 3
    assert new["setup"]["hours_per_round"] == 4  # unchanged: as in the game
    kinds = [x["kind"] for x in client.get(
        f"{API}/sessions/{new['id']}/rounds",
        headers=bearer(r.json()["instructor_token"])).json()["data"]]
    assert "capacity" not in kinds and kinds.count("energy") == 2
    assert [s for s in new["seats"] if s.startswith("genco")] == ["genco-1", "genco-2", "genco-3"]
    rules = client.get(f"{API}/sessions/{new['id']}/rules",
                       headers=bearer(r.json()["instructor_token"])).json()
    assert rules["compensation"]["recovery_ratio"] == 0.5
    for body, field in (({"overrides": {"energy.price_cap_yuan_per_mwh": 1000.0}},
                         "energy.stress_price_threshold_yuan_per_mwh"),
                        ({"scale": 99.0}, "scale"), ({"energy_rounds": 0}, "energy_rounds"),
                        ({"colour": "red"}, "colour")):
        bad = client.post(game.url("/clone"), headers=game.as_("instructor"), json=body)
        assert bad.status_code == 422, (body, bad.text)
        assert field in bad.text


def test_green_prices_have_no_cap_unless_the_rules_set_one(client: TestClient) -> None:
    """The 2025 premium range is shown as a reference; the limits carry the caps (none by
    default), and the briefing says so."""
    game = small(client, join=("genco-1",))
    limits = game.view("genco-1")["limits"]
    assert limits["green_premium_cap_yuan_per_mwh"] is None
    assert limits["green_certificate_price_cap_yuan"] is None
    assert limits["green_premium_max_yuan_per_mwh"] == 50.0  # the reference range is kept
    text = client.get(game.url("/briefing"), headers=game.as_("genco-1")).json()["text"]
    assert "with no cap" in text and "premiums seen in 2025: 1 to 50 yuan/MWh" in text
    capped = small(client, join=("genco-1",),
                   overrides={"green.premium_cap_yuan_per_mwh": 40.0})
    assert capped.view("genco-1")["limits"]["green_premium_cap_yuan_per_mwh"] == 40.0
    text = client.get(capped.url("/briefing"), headers=capped.as_("genco-1")).json()["text"]
    assert "at most 40 yuan/MWh" in text


def test_the_default_game_with_bots_in_every_seat_teaches(client: TestClient) -> None:
    """Item 4: at the lobby's defaults with bots in every seat the capacity round clears at a
    positive price, energy prices sit inside the caps, and profit over the game's hours
    separates the seats: the retailer and some gencos win, some genco loses."""
    game = new_game(client)
    prices = []
    for _ in range(3):
        r = client.post(game.url("/rounds/open"), headers=game.as_("instructor"),
                        json={"bots": {}})
        assert r.status_code == 200, r.text
        prices.append(game.clear(r.json()["round_id"]))
    assert prices[0]["price"] > 0
    rules = client.get(game.url("/rules"), headers=game.as_("instructor")).json()["energy"]
    for result in prices[1:]:
        hourly = result["hourly_price_yuan_per_mwh"]
        assert len(hourly) == 24
        assert all(rules["price_floor_yuan_per_mwh"] <= p < rules["price_cap_yuan_per_mwh"]
                   for p in hourly)
    board = client.get(game.url("/standings"), headers=game.as_("instructor")).json()["data"]
    profit = {r["participant"]: r["profit_fen"] for r in board}
    assert profit["retailer-1"] > 0
    gencos = [v for p, v in profit.items() if p.startswith("genco")]
    assert max(gencos) > 0 > min(gencos)
