"""Fixtures of the service tests: one database per test, SQLite always and PostgreSQL when
``MENGXI_TEST_DATABASE_URL`` is set (CI sets it to a local server); an app and its client;
small games built through the API.

PostgreSQL tests work in a schema of their own (``mengxi_test_<random>``), migrated once per
run, emptied before each test and dropped at the end, so the database is left as found. SQLite
tests copy a database migrated once per run into their own temporary folder.
"""

from __future__ import annotations

import os
import secrets
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from api.service.app import create_app, prepare_database
from api.service.db.engine import Database, make_engine
from api.service.db.migrate import upgrade
from api.service.db.tables import Base, SnapshotRow
from api.service.settings import Settings

with warnings.catch_warnings():  # starlette's notice about httpx vs httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PG_URL = os.environ.get("MENGXI_TEST_DATABASE_URL")
PG_SKIP = ("PostgreSQL tests need MENGXI_TEST_DATABASE_URL (e.g. "
           "postgresql+psycopg://postgres@127.0.0.1:5432/test); not set")
DATABASES = [pytest.param("sqlite", id="sqlite"),
             pytest.param("postgresql", id="postgresql",
                          marks=[pytest.mark.skipif(not PG_URL, reason=PG_SKIP),
                                 pytest.mark.slow])]
API = "/api/v1"
TABLES = [t.name for t in Base.metadata.sorted_tables]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "mengxi.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    assert PG_URL
    schema = f"mengxi_test_{secrets.token_hex(6)}"
    settings = Settings(database_url=PG_URL, database_schema=schema)
    database = Database(settings)
    prepare_database(database, settings)
    database.dispose()
    yield schema
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def settings_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
                 **more: Any) -> Settings:
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "mengxi.sqlite"
        if not path.exists():
            shutil.copy(template, path)
        return Settings(database_url=f"sqlite:///{path}", **more)
    schema = request.getfixturevalue("pg_schema")
    assert PG_URL
    engine = make_engine(PG_URL, schema)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return Settings(database_url=PG_URL, database_schema=schema, **more)


@pytest.fixture(params=DATABASES)
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return settings_for(db_kind, request, tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Game:
    """A game made through the API: its id, the instructor's token, the seats' tokens."""

    client: TestClient
    id: str
    instructor: str
    tokens: dict[str, str] = field(default_factory=dict)

    def url(self, path: str = "") -> str:
        return f"{API}/sessions/{self.id}{path}"

    def join(self, seat: str | None = None) -> str:
        r = self.client.post(self.url("/participants"),
                             json={} if seat is None else {"participant": seat})
        assert r.status_code == 201, r.text
        body = r.json()
        self.tokens[body["participant"]] = body["token"]
        return str(body["participant"])

    def as_(self, who: str) -> dict[str, str]:
        return bearer(self.instructor if who == "instructor" else self.tokens[who])

    def open(self) -> str:
        r = self.client.post(self.url("/rounds/open"), headers=self.as_("instructor"))
        assert r.status_code == 200, r.text
        return str(r.json()["round_id"])

    def bid(self, who: str, round_id: str, bids: list[Any], key: str | None = None) -> Any:
        headers = self.as_(who) | ({} if key is None else {"Idempotency-Key": key})
        return self.client.post(self.url(f"/rounds/{round_id}/bids"), headers=headers,
                                json={"bids": bids})

    def clear(self, round_id: str) -> Any:
        r = self.client.post(self.url(f"/rounds/{round_id}/clear"),
                             headers=self.as_("instructor"))
        assert r.status_code == 200, r.text
        return r.json()

    def view(self, who: str) -> Any:
        r = self.client.get(self.url("/me"), headers=self.as_(who))
        assert r.status_code == 200, r.text
        return r.json()


def new_game(client: TestClient, join: tuple[str, ...] = (), **create: Any) -> Game:
    """A small game (scale 0.01: one unit per genco-1..6, one load of retailer-1, two energy
    rounds of 24 hours in January) with the given seats taken."""
    r = client.post(f"{API}/sessions", json={"name": "test game", "seed": 7, **create})
    assert r.status_code == 201, r.text
    body = r.json()
    game = Game(client, body["session"]["id"], body["instructor_token"])
    for seat in join:
        game.join(seat)
    return game


@pytest.fixture
def game(client: TestClient) -> Game:
    return new_game(client, join=("genco-1", "genco-2", "genco-3", "genco-4", "genco-5",
                                  "genco-6", "retailer-1"))


def capacity_offers(view: dict[str, Any], price: float = 50.0) -> list[dict[str, Any]]:
    """Each unit's accredited MW at ``price`` yuan/kW·yr."""
    return [{"unit": u["unit"], "price": price, "quantity": u["accredited_mw"]}
            for u in view["units"] if u["accredited_mw"] > 0]


def energy_offers(view: dict[str, Any], markup: float = 0.0) -> list[dict[str, Any]]:
    """Each non-storage unit's available MW (floored to the grid) at marginal cost + markup in
    every hour of the round; each load's demand as a bid at 500 yuan/MWh for a tenth of it."""
    out = []
    for u in view["units"]:
        if u["technology"] == "storage":
            continue
        cost = u["marginal_cost_yuan_per_mwh"] or 0.0
        for h, mw in zip(view["hours"], u["available_mw"], strict=True):
            q = int(mw * 1000) / 1000
            if q > 0:
                out.append({"unit": u["unit"], "hour": h, "price": round(cost + markup, 2),
                            "quantity": q})
    for ld in view["loads"]:
        for h, mw in zip(view["hours"], ld["demand_mw"], strict=True):
            q = int(mw * 100) / 1000
            if q > 0:
                out.append({"unit": ld["load"], "hour": h, "side": "buy", "price": 500.0,
                            "quantity": q})
    return out


def db_state(settings: Settings, session_id: str | None = None) -> dict[str, Any]:
    """Row counts of every table and the saved snapshots: equal before and after a refused
    request means the database did not change (the audit trail, which records every refusal
    in a transaction of its own, is left out)."""
    database = Database(settings)
    try:
        with database.engine.connect() as conn:
            counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                      for t in Base.metadata.sorted_tables if t.name != "audit_log"}
            q = select(SnapshotRow.session_id, SnapshotRow.version, SnapshotRow.state)
            if session_id is not None:
                q = q.where(SnapshotRow.session_id == session_id)
            snaps = sorted(tuple(r) for r in conn.execute(q))
    finally:
        database.dispose()
    return {"counts": counts, "snapshots": snaps}
