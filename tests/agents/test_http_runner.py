"""The HTTP bots against the app (``TestClient``; one test on a real uvicorn server in a
thread, for the event stream): observations built from the API's views, valid batches with
every registered strategy, one batch per round even after a dropped connection (the retry
carries the same Idempotency-Key and the server stores the batch once) or a restart, the event
stream resumed after a drop with Last-Event-ID, bounded retries, the end of the session, and
the server's own seat fillers bidding exactly what HTTP bots bid."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from agents.fleet import FleetAssumptions, synthesize_fleet
from agents.http import observe as observe
from agents.http.bidder import Bidder, strategy_mapping
from agents.http.client import GameClient, Refusal, RetryPolicy, parse_events
from agents.http.runner import Bot, HttpGameData, batch_key
from agents.inprocess.forecast import availability
from agents.profiles import year_profiles
from agents.strategies.base import strategy_names
from api.cli import app as mengxi_app
from api.service.app import create_app
from api.service.db.engine import Database
from api.service.db.tables import BidBatchRow
from api.service.settings import Settings
from market.errors import StrategyError
from market.rules import load_preset
from tests.live_server import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

API = "/api/v1"
ROOT = "http://testserver"
SEED = 7
SEATS = ["genco-1", "genco-2", "genco-3", "genco-4", "genco-5", "genco-6", "retailer-1"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'bots.sqlite'}",
                    event_poll_seconds=0.05)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


class Game:
    """A session made through the API and driven by its instructor."""

    def __init__(self, client: httpx.Client, **create: Any) -> None:
        made = client.post(f"{API}/sessions", json={"seed": SEED, "energy_rounds": 2,
                                                     **create})
        assert made.status_code == 201, made.text
        self.client = client
        self.id = made.json()["session"]["id"]
        self.boss = {"Authorization": f"Bearer {made.json()['instructor_token']}"}

    def url(self, tail: str) -> str:
        return f"{API}/sessions/{self.id}{tail}"

    def get(self, tail: str) -> Any:
        r = self.client.get(self.url(tail), headers=self.boss)
        assert r.status_code == 200, r.text
        return r.json()

    def open(self, body: Any = None) -> str:
        r = self.client.post(self.url("/rounds/open"), headers=self.boss, json=body)
        assert r.status_code == 200, r.text
        return str(r.json()["round_id"])

    def clear(self, round_id: str) -> Any:
        r = self.client.post(self.url(f"/rounds/{round_id}/clear"), headers=self.boss)
        assert r.status_code == 200, r.text
        return r.json()

    def finished(self) -> bool:
        return bool(self.get("/rounds/current")["finished"])

    def play_with_running_bot(self, pause: float) -> None:
        """Every bid round: open, wait until a bot running in its own thread has bid, clear."""
        while not self.finished():
            rid = self.open()
            deadline = time.monotonic() + 30
            while self.get(f"/rounds/{rid}")["bidders"] < 1:
                assert time.monotonic() < deadline, f"the bot did not bid in {rid}"
                time.sleep(pause)
            self.clear(rid)


def seated_bots(game: Game, http: httpx.Client, **options: Any) -> list[Bot]:
    bots = [Bot(ROOT, game.id, http=http, **options) for _ in SEATS]
    for bot in bots:
        bot.join()
    return bots


def play_in_turn(game: Game, bots: list[Bot]) -> list[str]:
    """Every bid round: open, each bot syncs (and bids), clear; returns the rounds."""
    played = []
    while not game.finished():
        rid = game.open()
        for bot in bots:
            bot.sync()
        game.clear(rid)
        played.append(rid)
    for bot in bots:
        bot.sync()
    return played


# --------------------------------------------------------------------- observations

def test_observation_of_a_view_matches_the_in_process_runner(client: TestClient) -> None:
    game = Game(client)
    bots = {seat: Bot(ROOT, game.id, http=client, seat=seat)
            for seat in ("genco-1", "genco-2", "genco-3")}
    for bot in bots.values():
        bot.join()
    rules = bots["genco-1"].bidder.data.rules()  # type: ignore[union-attr]
    synth = synthesize_fleet(rules, SEED, 0.01, assumptions=FleetAssumptions(
        genco_count=6, retailer_count=5))
    avail, must = availability(synth, year_profiles(synth, rules.meta.year, SEED), rules)
    profile = observe.hourly_profile([], rules)
    assert (profile == rules.energy.coal_benchmark_price_yuan_per_mwh).all()
    compared = 0
    for seat, bot in bots.items():
        data = bot.bidder.data  # type: ignore[union-attr]
        for rid in ("energy-01-01", "energy-01-02"):
            view = data.view(rid, fresh=True)
            assert rules.sha256() == view["rules_sha256"]
            idx = np.arange(len(view["units"]))
            obs = observe.offer_observation(seat, view, idx, profile, rules)
            hours = np.array(view["hours"])
            assert obs.hours.tolist() == view["hour_of_year"] == hours.tolist()
            assert (obs.price_forecast_yuan_per_mwh == profile[hours % 24]).all()
            for k, unit in enumerate(view["units"]):
                i = synth.fleet.unit_ids.tolist().index(unit["unit"])
                assert obs.available_mw[:, k].tolist() == unit["available_mw"]
                # the in-process runner knows outages a day ahead, the game hour by hour
                same = avail[hours, i] == obs.available_mw[:, k]
                np.testing.assert_allclose(obs.must_run_mw[same, k], must[hours, i][same])
                compared += int(same.sum())
    assert compared > 0 and must[:48].max() > 0


def test_must_run_of_a_winter_unit_in_and_out_of_the_heating_season() -> None:
    rules = load_preset("mengxi")
    unit = {"unit": "chp", "technology": "coal_subcritical", "nameplate_mw": 350.0,
            "marginal_cost_yuan_per_mwh": 300.0, "min_output_fraction": 0.2,
            "winter_must_run": True, "available_mw": [350.0, 350.0, 100.0, 350.0],
            "accredited_mw": 300.0, "capacity_credit": 0.86, "storage_energy_mwh": None,
            "storage_soc_mwh": None}
    view = {"hours": [0, 1, 2, 3], "hour_of_year": [0, 1, 2, 3],
            "month_of_hour": [3, 3, 3, 4], "units": [unit], "loads": []}
    must = observe.view_must_run_mw(view, np.array([0]), rules)[:, 0]
    heat = rules.fleet.heat_led_output_fraction * 350.0
    assert 3 in rules.fleet.heating_season_months and 4 not in rules.fleet.heating_season_months
    assert must.tolist() == [heat, heat, 100.0, 0.2 * 350.0]


def test_forecast_follows_published_prices_by_hour_of_day() -> None:
    rules = load_preset("mengxi")
    results = [{"result": {"hours": [0, 1, 24]}, "hourly_price_yuan_per_mwh": [100.0, None, 300.0]}]
    profile = observe.hourly_profile(results, rules)
    assert profile[0] == 200.0  # hours 0 and 24 are both midnight
    assert profile[1] == rules.energy.coal_benchmark_price_yuan_per_mwh  # no price: no data
    assert observe.forecast_at(profile, [24, 25]).tolist() == [200.0, profile[1]]


def test_strategy_names_apply_to_their_role_only() -> None:
    assert strategy_mapping("markup", "genco-1", {"generator"}) == {"genco-1": "markup"}
    assert strategy_mapping("markup", "retailer-1", {"green_buyer"}) == {}
    assert strategy_mapping("green_buyer", "retailer-1", {"green_buyer"}) == {
        "green_buyers": "green_buyer"}
    with pytest.raises(StrategyError, match="unknown strategy"):
        strategy_mapping("nope", "genco-1", {"generator"})


# --------------------------------------------------------------------- whole games

@pytest.mark.parametrize("strategy", [None, *strategy_names()])
@pytest.mark.slow
def test_every_strategy_bids_valid_batches_through_a_whole_game(client: TestClient,
                                                                strategy: str | None) -> None:
    game = Game(client)
    bots = seated_bots(game, client, strategy=strategy, seed=3)
    played = play_in_turn(game, bots)
    assert [r["kind"] for r in game.get("/rounds")["data"] if r["takes_bids"]] == [
        "capacity", "energy", "energy", "green"]
    for bot in bots:
        r = bot.report
        assert r.finished and r.error is None, r
        assert r.rounds_bid == played and r.stored == len(played), r
        assert r.refused == 0 and r.replayed == 0, r
    for rid in played:
        seen = {e["participant"]: e for e in game.get(f"/rounds/{rid}/bids")["data"]}
        assert sorted(seen) == sorted(SEATS) and {e["revision"] for e in seen.values()} == {1}
        if rid.startswith("energy"):
            assert seen["genco-1"]["bids"] and seen["retailer-1"]["bids"]
        if rid == "capacity":
            assert all(seen[s]["bids"] for s in SEATS if s.startswith("genco"))
    assert game.get("")["status"] == "finished"


def test_batches_are_deterministic_given_the_seed(client: TestClient) -> None:
    game = Game(client)
    bots = seated_bots(game, client, strategy="learning", seed=1)
    game.clear(game.open())  # capacity, nobody bid
    rid = game.open()
    data = bots[0].bidder.data  # type: ignore[union-attr]
    batches = {s: Bidder(data, "learning", s).batch(rid) for s in (1, 2, 3, 4)}
    assert Bidder(data, "learning", 1).batch(rid) == batches[1]
    assert len({str(b) for b in batches.values()}) > 1  # the draws depend on the seed
    # coal at a learned markup or its minimum output at the floor; renewables at most 0
    assert all(b["unit"].startswith("coal_") or b["price"] <= 0 for b in batches[1])


# --------------------------------------------------------------------- one batch per round

class DropAfterSending(httpx.BaseTransport):
    """Forwards every call; the first ``drops`` bid batches reach the server and are stored,
    then the connection drops before the answer arrives."""

    def __init__(self, inner: httpx.BaseTransport, drops: int = 1) -> None:
        self.inner = inner
        self.drops = drops
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/bids"):
            self.keys.append(request.headers.get("Idempotency-Key"))
            if self.drops > 0:
                self.drops -= 1
                response.read()
                raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_a_dropped_batch_is_retried_with_its_key_and_stored_once(client: TestClient,
                                                                 settings: Settings) -> None:
    game = Game(client)
    flaky = DropAfterSending(client._transport, drops=1)
    http = httpx.Client(transport=flaky, base_url=ROOT)
    bot = Bot(ROOT, game.id, http=http, seat="genco-1",
              retry=RetryPolicy(backoff_seconds=0.001))
    me = bot.join()
    rid = game.open()
    bot.sync()
    assert flaky.keys == [batch_key(game.id, me, rid, 1)] * 2  # the retry: same key
    assert (bot.report.stored, bot.report.replayed, bot.api.retries) == (0, 1, 1)
    assert bot.report.rounds_bid == [rid]
    seen = game.get(f"/rounds/{rid}/bids")["data"]
    assert [(e["participant"], e["revision"]) for e in seen] == [(me, 1)]
    database = Database(settings)
    try:
        with database.engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(BidBatchRow).where(
                BidBatchRow.session_id == game.id, BidBatchRow.round_id == rid)).scalar_one()
    finally:
        database.dispose()
    assert rows == 1
    bot.sync()  # woken again in the same round: nothing more is sent
    assert len(flaky.keys) == 2


def test_a_bot_started_again_does_not_bid_twice(client: TestClient) -> None:
    game = Game(client)
    first = Bot(ROOT, game.id, http=client, seat="genco-1")
    first.join()
    rid = game.open()
    first.sync()
    again = Bot(ROOT, game.id, http=client)
    again.attach("genco-1", first.api.token or "")
    again.sync()
    assert again.report.rounds_bid == [] and again.report.stored == 0
    seen = game.get(f"/rounds/{rid}/bids")["data"]
    assert [(e["participant"], e["revision"]) for e in seen] == [("genco-1", 1)]


def test_a_closed_gate_is_not_an_error(client: TestClient) -> None:
    game = Game(client)
    bot = Bot(ROOT, game.id, http=client, seat="genco-1")
    bot.join()
    rid = game.open()
    client.post(game.url(f"/rounds/{rid}/close"), headers=game.boss)
    bot.bid(rid)  # as if it woke up late
    assert bot.report.rounds_bid == [] and rid in bot.done and bot.report.error is None


# --------------------------------------------------------------------- retries

def test_retries_are_bounded_with_backoff() -> None:
    calls: list[str] = []

    def refuse_to_connect(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    waits: list[float] = []
    api = GameClient("http://x", http=httpx.Client(transport=httpx.MockTransport(
        refuse_to_connect)), retry=RetryPolicy(attempts=4, backoff_seconds=0.5,
                                              max_backoff_seconds=1.5), sleep=waits.append)
    with pytest.raises(httpx.ConnectError):
        api.get("/health")
    assert len(calls) == 4 and waits == [0.5, 1.0, 1.5] and api.retries == 3


def test_a_join_is_not_sent_again_once_it_reached_the_server() -> None:
    calls: list[str] = []

    def drop(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadError("connection reset", request=request)

    api = GameClient("http://x", http=httpx.Client(transport=httpx.MockTransport(drop)),
                     sleep=lambda _s: None)
    with pytest.raises(httpx.ReadError):
        api.post("/sessions/s/participants", {}, repeatable=False)
    assert calls == ["POST"]
    with pytest.raises(httpx.ReadError):
        api.get("/sessions/s/rounds")
    assert len(calls) == 1 + api.retry.attempts


def test_refusals_carry_the_servers_reasons(client: TestClient) -> None:
    game = Game(client)
    bot = Bot(ROOT, game.id, http=client, seat="genco-1")
    bot.join()
    with pytest.raises(Refusal) as info:
        bot.api.post(f"/sessions/{game.id}/rounds/capacity/bids", {"bids": []})
    assert info.value.status == 409 and info.value.code == "round_state"
    with pytest.raises(Refusal) as taken:
        Bot(ROOT, game.id, http=client, seat="genco-1").join()
    assert taken.value.status == 409


# --------------------------------------------------------------------- events

def test_server_sent_events_are_parsed() -> None:
    lines = [": keep-alive", "", "id: 4", "event: round_opened", 'data: {"round_id": "x"}', "",
             "event: no_id", "data: {}", "", "id: 5", "event: round_cleared", "data: {}", ""]
    events = list(parse_events(lines))
    assert [(e.id, e.kind, e.data) for e in events] == [
        (4, "round_opened", {"round_id": "x"}), (5, "round_cleared", {})]


class CutStreams(httpx.BaseTransport):
    """Real HTTP, but the first ``cuts`` event streams drop after their first event; records
    each stream's Last-Event-ID."""

    def __init__(self, cuts: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.cuts = cuts
        self.resumed_from: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/events"):
            return response
        self.resumed_from.append(request.headers.get("Last-Event-ID"))
        if self.cuts <= 0:
            return response
        self.cuts -= 1
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_cut_after_one_event(response), request=request)


class _cut_after_one_event(httpx.SyncByteStream):  # noqa: N801 - reads as a phrase
    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def __iter__(self) -> Iterator[bytes]:
        seen = b""
        for chunk in self.response.iter_raw():
            seen += chunk
            yield chunk
            if b"\n\n" in seen.lstrip(b"\n"):
                self.response.close()
                raise httpx.ReadError("connection reset by peer")

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_a_dropped_event_stream_resumes_after_the_last_event(live_server: str) -> None:
    http = httpx.Client(base_url=live_server, timeout=30)
    game = Game(http)
    cut = CutStreams(cuts=2)
    bot = Bot(live_server, game.id, http=httpx.Client(transport=cut), seat="genco-1",
              strategy="truthful", deadline_seconds=60,
              retry=RetryPolicy(backoff_seconds=0.01))
    bot.join()
    done = threading.Thread(target=bot.run, daemon=True)
    done.start()
    game.play_with_running_bot(pause=0.05)
    done.join(60)
    r = bot.report
    assert r.finished and r.error is None, r
    assert r.stream_drops == 2 and not r.polling
    log = HttpGameData(GameClient(live_server, http=http, token=game.boss[
        "Authorization"].removeprefix("Bearer ")), game.id, "").api.events_after(game.id, 0)
    # every event once up to where it stopped: nothing missed, nothing twice
    assert r.events == len([e for e in log if e.id <= bot.last_event]) > 0
    # each stream after a drop resumed from the last event the bot had seen
    ids = [e.id for e in log]
    assert all(x is not None and int(x) in ids for x in cut.resumed_from[1:3])
    assert int(cut.resumed_from[2] or 0) > int(cut.resumed_from[1] or 0)
    assert r.rounds_bid == [x["round_id"] for x in game.get("/rounds")["data"]
                            if x["takes_bids"]]


def test_a_bot_polls_when_the_stream_keeps_failing(client: TestClient) -> None:
    game = Game(client)

    class NoStream(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/events"):
                raise httpx.RemoteProtocolError("server disconnected", request=request)
            return client._transport.handle_request(request)

    bot = Bot(ROOT, game.id, http=httpx.Client(transport=NoStream(), base_url=ROOT),
              seat="genco-1", stream_failures=2, poll_seconds=0.01, deadline_seconds=60,
              retry=RetryPolicy(backoff_seconds=0.001))
    bot.join()
    done = threading.Thread(target=bot.run, daemon=True)
    done.start()
    game.play_with_running_bot(pause=0.02)
    done.join(60)
    assert bot.report.polling and bot.report.stream_drops == 2
    assert bot.report.finished and bot.report.error is None


# --------------------------------------------------------------------- the server's bots

@pytest.mark.slow
def test_server_bots_bid_what_http_bots_bid(client: TestClient) -> None:
    """The same game twice: seats filled by the server's bots, then by HTTP bots with the same
    strategy and seed: every stored batch and the leaderboard are the same."""
    served = Game(client, bots={"strategy": "learning", "seed": 4})
    http = Game(client)
    bots = seated_bots(http, client, strategy="learning", seed=4)
    rounds = []
    while not served.finished():
        rid = served.open()
        assert http.open() == rid
        for bot in bots:
            bot.sync()
        served.clear(rid)
        http.clear(rid)
        rounds.append(rid)
    assert served.get("")["setup"]["bot_seats"] == {
        s: {"strategy": "learning", "seed": 4} for s in SEATS}
    for rid in rounds:
        assert served.get(f"/rounds/{rid}/bids") == http.get(f"/rounds/{rid}/bids")
    assert served.get("/leaderboard") == http.get("/leaderboard")
    names = {p["participant"]: p["display_name"] for p in served.get("/participants")["data"]}
    assert names == {s: "bot (learning)" for s in SEATS}


def test_server_bots_fill_only_empty_seats_when_a_round_opens(client: TestClient) -> None:
    game = Game(client)
    human = client.post(game.url("/participants"), json={"participant": "genco-1"}).json()
    rid = game.open({"bots": {"count": 2}})
    assert game.get(f"/rounds/{rid}")["bidders"] == 2
    joined = [p["participant"] for p in game.get("/participants")["data"]]
    assert joined == ["genco-1", "genco-2", "genco-3"]
    me = {"Authorization": f"Bearer {human['token']}"}
    r = client.post(game.url(f"/rounds/{rid}/bids"), headers=me, json={"bids": []})
    assert r.status_code == 201
    game.clear(rid)
    late = client.post(game.url("/participants"), json={}).json()["participant"]
    assert late == "genco-4"  # the policy took two seats; the rest stay free for people
    nxt = game.open()
    assert game.get(f"/rounds/{nxt}")["bidders"] == 2  # the two bots bid again at once
    game.clear(nxt)
    refused = client.post(game.url("/rounds/open"), headers=game.boss,
                          json={"bots": {"strategy": "nope"}})
    assert refused.status_code == 422 and "unknown strategy" in refused.json()["detail"]
    assert game.get("/rounds/current")["round"]["status"] == "pending"
    made = client.post(f"{API}/sessions", json={"bots": {"strategy": "nope"}})
    assert made.status_code == 422


# --------------------------------------------------------------------- the command line

def test_agents_run_refuses_bad_input() -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    app = mengxi_app
    out = runner.invoke(app, ["agents", "run", "--url", "http://127.0.0.1:9", "--session", "s",
                              "--strategy", "nope"])
    assert out.exit_code == 2 and "unknown strategy 'nope'" in out.output
    out = runner.invoke(app, ["agents", "run", "--url", "http://127.0.0.1:9", "--session", "s",
                              "--count", "2", "--seat", "genco-1"])
    assert out.exit_code == 2 and "one seat per bot" in out.output


@pytest.mark.slow
def test_agents_run_plays_to_the_end(live_server: str) -> None:
    from typer.testing import CliRunner

    http = httpx.Client(base_url=live_server, timeout=30)
    game = Game(http)
    result: dict[str, Any] = {}

    def run() -> None:
        out = CliRunner().invoke(mengxi_app, [
            "agents", "run", "--url", live_server, "--session", game.id, "--count", "7",
            "--strategy", "withholding", "--seed", "2", "--timeout", "120", "--json"])
        result["exit"], result["output"] = out.exit_code, out.stdout

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while len(game.get("/participants")["data"]) < len(SEATS):
        assert time.monotonic() < deadline, "the bots did not take their seats"
        time.sleep(0.05)
    while not game.finished():
        rid = game.open()
        while game.get(f"/rounds/{rid}")["bidders"] < len(SEATS):
            assert time.monotonic() < deadline + 60, f"the bots did not all bid in {rid}"
            time.sleep(0.05)
        game.clear(rid)
    thread.join(60)
    assert result["exit"] == 0, result
    reports = json.loads(result["output"])
    assert sorted(r["participant"] for r in reports) == SEATS
    assert all(r["finished"] and len(r["rounds_bid"]) == 4 for r in reports)
    full = httpx.post(f"{live_server}{API}/sessions/{game.id}/participants", json={})
    assert full.status_code == 409  # every seat is a bot's
