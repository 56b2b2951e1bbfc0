"""Regression tests of issue 12's defects D1-D8: concurrent cold starts, checked overrides,
voiding a round and halting a game, stream tickets and log redaction, out-of-range numbers,
the OpenAPI document's error statuses, lock timeouts, and the stream limit."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import text

from api.service.app import prepare_database
from api.service.db.engine import Database, make_engine
from api.service.db.migrate import current_revision
from api.service.security import RedactTokens, redact
from api.service.settings import Settings
from tests.api.conftest import (
    API,
    PG_SKIP,
    PG_URL,
    Game,
    TestClient,
    bearer,
    capacity_offers,
    create_app,
    db_state,
    energy_offers,
    new_game,
    settings_for,
)

SEVEN = ("genco-1", "genco-2", "genco-3", "genco-4", "genco-5", "genco-6", "retailer-1")
pg_only = pytest.mark.skipif(not PG_URL, reason=PG_SKIP)


@pytest.fixture
def energy_game(game: Game) -> Game:
    game.open()
    game.clear("capacity")
    assert game.open() == "energy-01-01"
    return game


# --------------------------------------------------------------------- D1: cold starts

def _cold_start_pair(settings: Settings) -> list[BaseException]:
    """Two app databases upgrading an empty database at the same moment."""
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        database = Database(settings)
        try:
            barrier.wait()
            prepare_database(database, settings)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return failures


@pg_only
@pytest.mark.slow
def test_two_apps_cold_start_on_an_empty_postgresql_schema_five_times() -> None:
    assert PG_URL
    admin = make_engine(PG_URL)
    try:
        for _ in range(5):
            schema = f"mengxi_cold_{secrets.token_hex(5)}"  # not created: the apps create it
            settings = Settings(database_url=PG_URL, database_schema=schema)
            try:
                assert _cold_start_pair(settings) == []
                engine = make_engine(PG_URL, schema)
                assert current_revision(engine) == _head()
                engine.dispose()
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{API}/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


@pg_only
@pytest.mark.slow
@pytest.mark.parametrize("how", ["two_processes", "workers"])
def test_servers_cold_start_on_an_empty_postgresql_schema(how: str) -> None:
    """Real processes: two ``mengxi serve`` started at once (each migrates, under the
    advisory lock), or ``mengxi serve --workers 2`` (migrates once, then the workers)."""
    assert PG_URL
    schema = f"mengxi_procs_{secrets.token_hex(5)}"
    env = {**os.environ, "MENGXI_DATABASE_URL": PG_URL, "MENGXI_DATABASE_SCHEMA": schema}
    env.pop("MENGXI_MIGRATE_ON_START", None)
    ports = [_free_port()] if how == "workers" else [_free_port(), _free_port()]
    extra = ["--workers", "2"] if how == "workers" else []
    procs = [subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(p),
                               "--log-level", "info", *extra], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for p in ports]
    logs: list[str] = []
    try:
        assert all(_healthy(p) for p in ports)
        for p in ports:
            r = httpx.post(f"http://127.0.0.1:{p}{API}/sessions", json={"seed": 7}, timeout=60)
            assert r.status_code == 201, r.text
    finally:
        logs = [_stop(proc) for proc in procs]
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    joined = "\n".join(logs)
    assert "UniqueViolation" not in joined and "died" not in joined, joined


def test_two_apps_cold_start_on_an_empty_sqlite_file(tmp_path: Path) -> None:
    for i in range(3):
        settings = Settings(database_url=f"sqlite:///{tmp_path / f'cold{i}.sqlite'}")
        assert _cold_start_pair(settings) == []


def _head() -> str:
    """The newest migration (so these tests need no edit when one is added)."""
    from alembic.script import ScriptDirectory

    from api.service.db.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_db_upgrade_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    out = CliRunner().invoke(app, ["db", "upgrade", "--database-url", url])
    assert out.exit_code == 0, out.output
    assert _head() in out.output
    again = CliRunner().invoke(app, ["db", "current", "--database-url", url])
    assert again.exit_code == 0 and again.output.strip() == _head()


# --------------------------------------------------------------------- D2: overrides

@pytest.mark.parametrize("value", [1e308, -1e308, 1e13, float("nan"), "1500", True])
def test_overrides_are_checked_at_creation(client: TestClient, settings: Settings,
                                           value: Any) -> None:
    before = db_state(settings)
    body = json.dumps({"seed": 7, "overrides": {"energy.price_cap_yuan_per_mwh": value}})
    r = client.post(f"{API}/sessions", content=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    # named by its key (-1e308 is refused by the rules' own check: the floor above the cap)
    assert "energy.price_" in r.text and r.json()["problems"]
    assert db_state(settings) == before


def test_a_capped_game_still_clears(client: TestClient) -> None:
    game = new_game(client, join=SEVEN,
                    overrides={"energy.price_cap_yuan_per_mwh": 1e9})
    game.open()
    game.clear("capacity")
    rid = game.open()
    assert game.bid("genco-1", rid, energy_offers(game.view("genco-1"))).status_code == 201
    assert game.clear(rid)["status"] == "cleared"


def test_void_a_round_and_bid_again(game: Game) -> None:
    c = game.client
    game.open()
    offers = capacity_offers(game.view("genco-1"))
    assert game.bid("genco-1", "capacity", offers, key="k1").status_code == 201
    r = c.post(game.url("/rounds/capacity/void"), headers=game.as_("genco-1"))
    assert r.status_code == 403
    r = c.post(game.url("/rounds/capacity/void"), headers=game.as_("instructor"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "open" and r.json()["bidders"] == 0
    mine = c.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1")).json()
    assert mine["count"] == 0
    # the key of a voided batch is free again: the same request is a new batch
    again = game.bid("genco-1", "capacity", offers, key="k1")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    # a closed gate reopens
    assert c.post(game.url("/rounds/capacity/close"),
                  headers=game.as_("instructor")).status_code == 200
    r = c.post(game.url("/rounds/capacity/void"), headers=game.as_("instructor"))
    assert r.json()["status"] == "open"
    game.bid("genco-1", "capacity", offers)
    game.clear("capacity")
    r = c.post(game.url("/rounds/capacity/void"), headers=game.as_("instructor"))
    assert r.status_code == 409 and "cleared" in r.json()["detail"]
    kinds = [e["kind"] for e in c.get(game.url("/events/log"),
                                      headers=game.as_("genco-1")).json()["data"]]
    assert kinds.count("round_voided") == 2


def test_halt_and_resume_a_game(game: Game, settings: Settings) -> None:
    c = game.client
    game.open()
    boss = game.as_("instructor")
    r = c.post(game.url("/halt"), headers=boss, json={"reason": "a bad round"})
    assert r.status_code == 200 and r.json()["status"] == "halted"
    assert r.json()["setup"]["halted"]["reason"] == "a bad round"
    assert c.post(game.url("/halt"), headers=game.as_("genco-1")).status_code == 403
    before = db_state(settings)
    offers = capacity_offers(game.view("genco-1"))
    for response in (game.bid("genco-1", "capacity", offers),
                     c.post(game.url("/rounds/capacity/clear"), headers=boss),
                     c.post(game.url("/rounds/capacity/void"), headers=boss),
                     c.post(game.url("/rounds/open"), headers=boss)):
        assert response.status_code == 409 and response.json()["code"] == "halted"
    assert db_state(settings) == before
    assert c.get(game.url(), headers=game.as_("genco-1")).json()["status"] == "halted"
    r = c.post(game.url("/resume"), headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "running"
    assert game.bid("genco-1", "capacity", offers).status_code == 201


# --------------------------------------------------------------------- D3: tokens off URLs

def test_stream_tickets_are_single_use_and_short_lived(db_kind: str,
                                                      request: pytest.FixtureRequest,
                                                      tmp_path: Path) -> None:
    settings = settings_for(db_kind, request, tmp_path, stream_ticket_seconds=0.5)
    with TestClient(create_app(settings)) as c:
        game = new_game(c, join=("genco-1",))
        other = new_game(c)

        def ticket(g: Game, who: str) -> str:
            r = c.post(g.url("/events/ticket"), headers=g.as_(who))
            assert r.status_code == 201
            return str(r.json()["ticket"])

        t = ticket(game, "genco-1")
        url = game.url("/events")
        assert c.get(url, params={"follow": "false", "ticket": t}).status_code == 200
        used = c.get(url, params={"follow": "false", "ticket": t})
        assert used.status_code == 401 and "single-use" in used.json()["detail"]
        late = ticket(game, "instructor")
        time.sleep(0.8)
        assert c.get(url, params={"follow": "false", "ticket": late}).status_code == 401
        elsewhere = ticket(other, "instructor")
        r = c.get(url, params={"follow": "false", "ticket": elsewhere})
        assert r.status_code == 404
        assert c.get(url, params={"follow": "false", "ticket": "mxt_nope"}).status_code == 401


def test_the_access_log_redacts_tokens() -> None:
    token, ticket = "mxp_" + "A" * 43, "mxt_" + "b" * 32
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/api/v1/sessions/s/events?access_token={token}&ticket="
                               f"{ticket}&after=3", "1.1", 200), None)
    assert RedactTokens().filter(record)
    line = record.getMessage()
    assert token not in line and ticket not in line and "after=3" in line
    assert redact(f"oops {token} Bearer mxi_{'c' * 40}") == "oops [redacted] Bearer [redacted]"
    assert any(isinstance(f, RedactTokens)
               for f in logging.getLogger("uvicorn.access").filters)


# --------------------------------------------------------------------- D4, D5: numbers

HUGE = "9" * 401


@pytest.mark.parametrize("price, quantity", [("1e308", "1"), ("-1e308", "1"), ("1", "1e308"),
                                             ("1", "-1e308"), (HUGE, "1"), ("1", HUGE),
                                             ("NaN", "1"), ("Infinity", "1")])
def test_huge_bid_numbers_are_422(energy_game: Game, settings: Settings, price: str,
                                  quantity: str) -> None:
    g = energy_game
    unit = g.view("genco-1")["units"][0]["unit"]
    before = db_state(settings)
    body = (f'{{"bids": [{{"unit": "{unit}", "hour": 0, "price": {price}, '
            f'"quantity": {quantity}}}]}}')
    r = g.client.post(g.url("/rounds/energy-01-01/bids"), content=body,
                      headers={**g.as_("genco-1"), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["index"] == 0
    assert db_state(settings) == before


def test_out_of_range_cursors_are_422_naming_the_field(game: Game) -> None:
    c, boss = game.client, game.as_("instructor")
    cases = [(game.url("/events/log?after=9223372036854775808"), "query.after", {}),
             (f"{API}/sessions?offset=18446744073709551616", "query.offset", {}),
             (game.url("/ledger?offset=" + "9" * 30), "query.offset", {}),
             (game.url("/events?follow=false&after=" + "9" * 40), "query.after", {}),
             (game.url("/events?follow=false"), "header.Last-Event-ID",
              {"Last-Event-ID": "9" * 40}),
             (game.url("/events?follow=false"), "header.Last-Event-ID",
              {"Last-Event-ID": "-1"})]
    for url, loc, headers in cases:
        r = c.get(url, headers={**boss, **headers})
        assert r.status_code == 422, (url, r.text)
        assert r.json()["problems"][0]["loc"] == loc
    ok = c.get(game.url("/events?follow=false"),
               headers={**boss, "Last-Event-ID": "9223372036854775807"})
    assert ok.status_code == 200


def _json_number() -> st.SearchStrategy[str]:
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(
            lambda x: "NaN" if x != x else ("Infinity" if x == float("inf") else
                                           "-Infinity" if x == float("-inf") else repr(x))),
        st.integers(min_value=-(10**500), max_value=10**500).map(str),
        st.sampled_from(["1e308", "-1e308", "1e-320", "5e-324", HUGE, "-" + HUGE, "0",
                         "-0.0", "0.01", "1.005"]))


def _nest(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """JSON arrays and objects (as text) of ``inner`` values."""
    return st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.dictionaries(st.text(max_size=6), inner, max_size=3).map(
            lambda d: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in d.items()) + "}"))


def _json_value() -> st.SearchStrategy[str]:
    """Any JSON value as text, numbers included that Python reads but JSON does not
    (NaN, Infinity) and integers of hundreds of digits."""
    scalar = st.one_of(_json_number(), st.sampled_from(["null", "true", "false"]),
                       st.text(max_size=12).map(json.dumps))
    return st.recursive(scalar, _nest, max_leaves=6)


@hsettings(max_examples=60, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture,
                                  HealthCheck.too_slow])
@given(data=st.data())
def test_property_no_bid_body_gives_a_5xx(energy_game: Game, settings: Settings,
                                          data: st.DataObject) -> None:
    g = energy_game
    units = [u["unit"] for u in g.view("genco-1")["units"]]
    field = st.sampled_from(["unit", "side", "price", "quantity", "hour", "counterparty",
                             "kind", "extra", "价格"])
    value = st.one_of(_json_value(), st.sampled_from(units).map(json.dumps),
                      st.sampled_from(['"sell"', '"buy"', '"ｓｅｌｌ"', "0", "23", "24"]))
    bid = st.dictionaries(field, value, max_size=6).map(
        lambda d: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in d.items()) + "}")
    bids = st.lists(st.one_of(bid, _json_value()), max_size=4)
    body = data.draw(st.one_of(bids.map(lambda xs: '{"bids": [' + ",".join(xs) + "]}"),
                               _json_value().map(lambda v: '{"bids": ' + v + "}")))
    before = db_state(g.client.app.state.settings)  # type: ignore[attr-defined]
    r = g.client.post(g.url("/rounds/energy-01-01/bids"), content=body.encode(),
                      headers={**g.as_("genco-1"), "Content-Type": "application/json"})
    assert r.status_code < 500, (body, r.text)
    assert r.status_code in (201, 400, 413, 422), (body, r.text)
    if r.status_code != 201:
        assert r.json()["detail"]
        assert db_state(g.client.app.state.settings) == before  # type: ignore[attr-defined]


# --------------------------------------------------------------------- D6: the document

def test_the_document_declares_the_real_error_model(client: TestClient) -> None:
    doc = client.get(f"{API}/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ErrorBody"]["properties"]) == {"detail", "code", "problems"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert "503" in responses, (method, path)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
            if op.get("security"):
                assert {"401", "403"} <= set(responses), (method, path)
            if "{session_id}" in path:
                assert {"404", "409"} <= set(responses), (method, path)


def test_every_status_the_authz_table_sees_is_declared(client: TestClient) -> None:
    from tests.api.test_authz import ROUTES

    doc = client.get(f"{API}/openapi.json").json()
    declared = {op["operationId"]: set(op["responses"])
                for item in doc["paths"].values() for op in item.values()}
    for route in ROUTES:
        for status in set(route.expected.values()):
            assert str(status) in declared[route.name], (route.name, status)


# --------------------------------------------------------------------- D7: lock timeouts

def _fast_settings(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return settings_for(db_kind, request, tmp_path, lock_timeout_seconds=0.5,
                        statement_timeout_seconds=5)


@contextlib.contextmanager
def _held_database_lock(settings: Settings, session_id: str) -> Any:
    """Another process's transaction holding the session's lock (SQLite: the write lock)."""
    if settings.database_url.startswith("sqlite"):
        conn = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"),
                               isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = make_engine(settings.database_url, settings.database_schema)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            conn.execute(text("SELECT id FROM sessions WHERE id = :id FOR UPDATE"),
                         {"id": session_id})
            try:
                yield
            finally:
                trans.rollback()
    finally:
        engine.dispose()


def test_a_held_lock_gives_503_and_other_sessions_go_on(db_kind: str,
                                                       request: pytest.FixtureRequest,
                                                       tmp_path: Path) -> None:
    settings = _fast_settings(db_kind, request, tmp_path)
    with TestClient(create_app(settings)) as c:
        stuck = new_game(c, join=("genco-1",))
        other = new_game(c)
        stuck.open()
        offers = capacity_offers(stuck.view("genco-1"))
        before = db_state(settings)
        with _held_database_lock(settings, stuck.id):
            t0 = time.monotonic()
            r = stuck.bid("genco-1", "capacity", offers)
            waited = time.monotonic() - t0
            assert r.status_code == 503, r.text
            assert int(r.headers["Retry-After"]) >= 1 and r.json()["code"] == "busy"
            assert waited < 5
            # reads never wait
            assert c.get(stuck.url("/rounds"), headers=stuck.as_("genco-1")).status_code == 200
            if db_kind == "postgresql":  # a row lock of one session blocks no other
                t0 = time.monotonic()
                r = c.post(other.url("/participants"), json={"participant": "genco-2"})
                assert r.status_code == 201 and time.monotonic() - t0 < 2
        assert db_state(settings)["counts"]["bid_batches"] == before["counts"]["bid_batches"]
        assert stuck.bid("genco-1", "capacity", offers).status_code == 201


def test_a_stuck_writer_thread_gives_503(db_kind: str, request: pytest.FixtureRequest,
                                         tmp_path: Path) -> None:
    settings = _fast_settings(db_kind, request, tmp_path)
    app = create_app(settings)
    with TestClient(app) as c:
        stuck = new_game(c, join=("genco-1",))
        other = new_game(c)
        stuck.open()
        offers = capacity_offers(stuck.view("genco-1"))
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with app.state.live.reading(stuck.id):
                held.set()
                release.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        try:
            held.wait(5)
            r = stuck.bid("genco-1", "capacity", offers)
            assert r.status_code == 503 and r.headers["Retry-After"]
            r = c.post(other.url("/participants"), json={})
            assert r.status_code == 201
        finally:
            release.set()
            t.join()
        assert stuck.bid("genco-1", "capacity", offers).status_code == 201


# --------------------------------------------------------------------- D8: stream flood

def test_a_stream_flood_is_answered_with_429(db_kind: str, request: pytest.FixtureRequest,
                                             tmp_path: Path) -> None:
    settings = settings_for(db_kind, request, tmp_path, max_streams_per_token=3,
                            event_poll_seconds=0.05)
    with TestClient(create_app(settings)) as c:
        game = new_game(c, join=("genco-1",))
        url = game.url("/events")
        with contextlib.ExitStack() as stack:
            for _ in range(3):
                r = stack.enter_context(c.stream("GET", url, headers=game.as_("genco-1")))
                assert r.status_code == 200
                assert next(r.iter_lines()).startswith(("id:", "event:"))
            flood = [c.get(url, headers=game.as_("genco-1")) for _ in range(5)]
            assert {r.status_code for r in flood} == {429}
            assert all(int(r.headers["Retry-After"]) >= 1 for r in flood)
            assert flood[0].json()["code"] == "too_many_streams"
            # another token is not limited by this one's streams; a cheap GET still answers
            r = c.get(url, params={"follow": "false"}, headers=game.as_("instructor"))
            assert r.status_code == 200
            assert c.get(f"{API}/health").status_code == 200
        # closed streams give their slots back
        r = c.get(url, params={"follow": "false"}, headers=game.as_("genco-1"))
        assert r.status_code == 200


def test_the_document_marks_open_operations_and_serves_quantities_on_the_grid(
        client: TestClient) -> None:
    """Issue 11, item 8: ``create_session`` is open (no token is one accepted requirement,
    and a call without one succeeds), operations that need a token do not say so; the MW a
    participant is shown are on the quantity grid (rounded down), so a client can offer them
    as they are."""
    doc = client.get(f"{API}/openapi.json").json()
    ops = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    assert {} in ops["create_session"]["security"]
    assert all({} not in op.get("security", [{"x": []}]) for name, op in ops.items()
               if name != "create_session")
    game = new_game(client, join=("genco-1", "retailer-1"))  # created without a token
    game.open()
    game.clear("capacity")
    game.open()
    tick = client.get(game.url("/rules"), headers=game.as_("genco-1")).json()["ticks"][
        "quantity_mw"]
    values = []
    for who in ("genco-1", "retailer-1"):
        view = game.view(who)
        for unit in view["units"]:
            values += unit["available_mw"] + [unit["accredited_mw"]]
        for load in view["loads"]:
            values += load["demand_mw"]
    assert len(values) > 24
    assert all(abs(v / tick - round(v / tick)) < 1e-6 for v in values)
    # offering exactly what is shown is accepted
    view = game.view("genco-1")
    unit = view["units"][0]
    bids = [{"unit": unit["unit"], "hour": h, "price": 100.0, "quantity": mw}
            for h, mw in zip(view["hours"], unit["available_mw"],
                                                strict=True) if mw > 0]
    rid = view["round"]["round_id"]
    assert game.bid("genco-1", rid, bids).status_code == 201


def test_every_paged_list_has_a_total_and_a_next_cursor(client: TestClient) -> None:
    """Issue 11, item 8: sessions, ledgers, events and the audit trail page the same way:
    following ``next_cursor`` (as ``offset`` or ``after``) from the first page visits
    ``total`` rows, each once, and the last page says ``null``."""
    game = new_game(client, join=("genco-1",))
    game.open()
    game.clear("capacity")
    token = game.instructor
    for _ in range(2):  # more sessions of the same instructor
        r = client.post(f"{API}/sessions", headers=bearer(token), json={"name": "more"})
        assert r.status_code == 201, r.text
    lists = [(f"{API}/sessions", "offset", "instructor"),
             (game.url("/ledger"), "offset", "instructor"),
             (game.url("/me/ledger"), "offset", "genco-1"),
             (game.url("/events/log"), "after", "genco-1"),
             (game.url("/audit"), "after", "instructor")]
    for url, cursor, who in lists:
        seen: list[str] = []
        page = client.get(url, params={"limit": 2}, headers=game.as_(who)).json()
        total = page["total"]
        while True:
            seen += [json.dumps(x, sort_keys=True) for x in page["data"]]
            if page["next_cursor"] is None:
                break
            page = client.get(url, params={"limit": 2, cursor: page["next_cursor"]},
                              headers=game.as_(who)).json()
            assert page["total"] >= total
        assert total >= 3 and len(seen) == total == len(set(seen)), (url, total, len(seen))


def test_the_document_gives_units_and_enums(client: TestClient) -> None:
    """Issue 11, item 8: every field whose name carries a unit says it; bid prices and
    quantities name their units per round kind; round kinds and statuses are enums."""
    from market.session.rounds import kind_names

    schemas = client.get(f"{API}/openapi.json").json()["components"]["schemas"]
    checked = 0
    for name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            for suffix, unit in (("_yuan_per_mwh", "yuan/MWh"), ("_mwh", "MWh"),
                                 ("_mw", "MW"), ("_fen", "fen")):
                if field.endswith(suffix):
                    assert unit in prop.get("description", ""), (name, field)
                    checked += 1
                    break
    assert checked > 30
    for field, unit in (("price", "yuan/MWh"), ("quantity", "MW")):
        assert unit in schemas["BidPublic"]["properties"][field]["description"]
    body = schemas["BidBatchCreate"]["properties"]["bids"]["items"]["properties"]
    assert "yuan/kW·yr" in body["price"]["description"]
    assert schemas["RoundPublic"]["properties"]["kind"]["enum"] == list(kind_names())
    assert "cleared" in schemas["RoundResultPublic"]["properties"]["status"]["enum"]


def test_event_kinds_are_an_enum_the_log_keeps(client: TestClient, settings: Settings) -> None:
    """Issue 11, item 8: the document lists the event kinds as an enum; a game that meets
    every kind but the bot hand-over (created, joined, opened, bids, gate closed, voided,
    cleared, halted, resumed) logs only kinds from it; the database refuses any other."""
    from api.service.db import repositories as repo
    from api.service.schemas.accounts import EVENT_KINDS

    schemas = client.get(f"{API}/openapi.json").json()["components"]["schemas"]
    assert schemas["EventPublic"]["properties"]["kind"]["enum"] == list(EVENT_KINDS)
    game = new_game(client, join=("genco-1", "retailer-1"))
    rid = game.open()
    view = game.view("genco-1")
    assert game.bid("genco-1", rid, capacity_offers(view)).status_code == 201
    admin = game.as_("instructor")
    assert client.post(game.url(f"/rounds/{rid}/close"), headers=admin).status_code == 200
    assert client.post(game.url(f"/rounds/{rid}/void"), headers=admin).status_code == 200
    game.clear(rid)
    assert client.post(game.url("/halt"), headers=admin, json={}).status_code == 200
    assert client.post(game.url("/resume"), headers=admin).status_code == 200
    page = client.get(game.url("/events/log"), params={"limit": 500},
                      headers=game.as_("genco-1")).json()
    kinds = [e["kind"] for e in page["data"]]
    assert set(kinds) <= set(EVENT_KINDS)
    assert set(EVENT_KINDS) - set(kinds) == {"bot_released"}, kinds
    db = Database(settings)
    try:
        with db.session() as s, pytest.raises(ValueError, match="not one of EVENT_KINDS"):
            repo.add_events(s, game.id, [("round_exploded", None, {})])
    finally:
        db.dispose()
