"""Run the service's Alembic migrations from code (no ``alembic.ini`` needed).

``mengxi db upgrade`` runs :func:`upgrade` (``mengxi serve --workers N`` runs it once before
starting the workers; a single-process app runs it on start). It is safe when several
processes start at once: on PostgreSQL the upgrade holds a transaction-level advisory lock
(:data:`MIGRATION_LOCK`), so the second waits for the first and then finds the database up to
date; on SQLite the upgrade is one ``BEGIN IMMEDIATE`` transaction. By hand::

    mengxi db upgrade [--revision REV] | mengxi db current
    python -m api.service.db.migrate upgrade [REVISION]       # default head
    python -m api.service.db.migrate downgrade REVISION       # e.g. base
    python -m api.service.db.migrate revision -m "message"    # autogenerate from
    api/service/db/tables.py

each on ``MENGXI_DATABASE_URL`` (default: the SQLite file ``./mengxi.sqlite``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from api.service.db.engine import WRITE_OPTION, make_engine
from api.service.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The key of the PostgreSQL advisory lock that migrations (and schema creation) hold.
MIGRATION_LOCK = 0x6D656E6778690001  # "mengxi" and 1


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _serialised(conn: Connection) -> None:
    """Make the migration transaction on ``conn`` the only one at a time (PostgreSQL: wait,
    without the app's lock and statement timeouts, for the advisory lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL lock_timeout = 0"))
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def upgrade(engine: Engine, revision: str = "head", schema: str | None = None) -> None:
    """Upgrade the database of ``engine`` to ``revision`` in one transaction, creating the
    PostgreSQL ``schema`` first when given; safe against concurrent upgrades (see above)."""
    cfg = alembic_config()
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        _serialised(conn)
        if schema and conn.dialect.name == "postgresql":
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the database of ``engine`` to ``revision``."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty one)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.service.db.migrate")
    parser.add_argument("action", choices=["upgrade", "downgrade", "revision", "current"])
    parser.add_argument("revision", nargs="?")
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    settings = Settings()
    engine = make_engine(settings.database_url, settings.database_schema)
    try:
        if args.action == "upgrade":
            upgrade(engine, args.revision or "head", settings.database_schema)
        elif args.action == "downgrade":
            downgrade(engine, args.revision or "base")
        elif args.action == "current":
            print(current_revision(engine))  # noqa: T201
        else:
            cfg = alembic_config()
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.revision(cfg, message=args.message, autogenerate=True)
    finally:
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    main()
