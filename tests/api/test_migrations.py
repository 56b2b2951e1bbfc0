"""Migrations: an empty database upgrades to the newest revision, downgrades to nothing and
upgrades again; the migrated tables are exactly the models (``api/service/db/tables.py``); the app
upgrades an empty database when it starts."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from api.service.db.engine import make_engine
from api.service.db.migrate import alembic_config, current_revision, downgrade, upgrade
from api.service.db.tables import Base
from api.service.settings import Settings
from tests.api.conftest import API, DATABASES, PG_URL, TestClient, create_app

TABLES = {t.name for t in Base.metadata.sorted_tables}


@pytest.fixture(params=DATABASES)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}")
        return
    assert PG_URL
    schema = f"mengxi_migrate_{secrets.token_hex(6)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Settings(database_url=PG_URL, database_schema=schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.database_url, settings.database_schema)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(empty: Settings) -> None:
    engine = _engine(empty)
    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current_revision(engine) is None and _tables(engine) == set()
        upgrade(engine)
        assert current_revision(engine) == head and _tables(engine) == TABLES
        downgrade(engine, "base")
        assert current_revision(engine) is None and _tables(engine) == set()
        upgrade(engine)
        assert current_revision(engine) == head and _tables(engine) == TABLES
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []  # models == migrations
    finally:
        engine.dispose()


def test_every_revision_steps_down_and_up(empty: Settings) -> None:
    engine = _engine(empty)
    try:
        script = ScriptDirectory.from_config(alembic_config())
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        for rev in revisions:
            upgrade(engine, rev)
            assert current_revision(engine) == rev
        for rev in reversed(revisions):
            downgrade(engine, "-1")
            assert current_revision(engine) != rev
        assert _tables(engine) == set()
    finally:
        engine.dispose()


def test_the_app_upgrades_an_empty_database(empty: Settings) -> None:
    with TestClient(create_app(empty)) as client:
        assert client.get(f"{API}/health").json()["status"] == "ok"
        assert client.post(f"{API}/sessions", json={"seed": 1}).status_code == 201
    engine = _engine(empty)
    try:
        assert _tables(engine) == TABLES
    finally:
        engine.dispose()
    # A second start on the upgraded database changes nothing and keeps the data.
    with TestClient(create_app(empty)) as client:
        assert client.get(f"{API}/health").status_code == 200
    engine = _engine(empty)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 1
    finally:
        engine.dispose()
