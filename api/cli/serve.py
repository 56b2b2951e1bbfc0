"""``mengxi serve``: run the API with uvicorn; ``mengxi db``: the database's migrations.

The database is a SQLite file (``./mengxi.sqlite``) unless ``--database-url`` or
``MENGXI_DATABASE_URL`` names another (``postgresql+psycopg://user@host/db``). ``mengxi db
upgrade`` brings it to the newest migration (``mengxi db current`` prints where it is). One
server process upgrades it itself before it takes requests; ``mengxi serve --workers N`` runs
the upgrade once, then starts N worker processes that do not migrate
(``MENGXI_MIGRATE_ON_START=false``), so workers never race to create the tables. (The
upgrade is also safe when several processes run it at once: see
:mod:`api.service.db.migrate`.)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the service (FastAPI, SQLAlchemy) is imported by the commands that use it
    from api.service.settings import Settings

DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="SQLAlchemy URL of the database (default: $MENGXI_DATABASE_URL "
                           "or sqlite:///./mengxi.sqlite).")]


def _settings(database_url: str | None) -> Settings:
    from api.service.settings import Settings

    return Settings() if database_url is None else Settings(database_url=database_url)


def db_upgrade(
    database_url: DatabaseUrl = None,
    revision: Annotated[str, typer.Option(help="Revision to upgrade to.")] = "head",
) -> None:
    """Upgrade the database to the newest migration (or --revision); creates the tables of
    an empty database and the PostgreSQL schema ($MENGXI_DATABASE_SCHEMA) when set."""
    from api.service.db.engine import make_engine
    from api.service.db.migrate import current_revision, upgrade

    settings = _settings(database_url)
    engine = make_engine(settings.database_url, settings.database_schema)
    try:
        upgrade(engine, revision, settings.database_schema)
        typer.echo(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


def db_current(database_url: DatabaseUrl = None) -> None:
    """Print the revision the database is at (None for an empty one)."""
    from api.service.db.engine import make_engine
    from api.service.db.migrate import current_revision

    settings = _settings(database_url)
    engine = make_engine(settings.database_url, settings.database_schema)
    try:
        typer.echo(str(current_revision(engine)))
    finally:
        engine.dispose()


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Worker processes; with more than one, the database is upgraded "
                            "once before they start.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the trading-game API (FastAPI) with uvicorn."""
    import uvicorn

    from api.service.app import create_app

    if workers == 1:
        app = create_app(_settings(database_url))
        uvicorn.run(app, host=host, port=port, log_level=log_level,
                    timeout_graceful_shutdown=5)
        return
    db_upgrade(database_url)
    # The workers read their settings from the environment: same database, no migration.
    if database_url is not None:
        os.environ["MENGXI_DATABASE_URL"] = database_url
    os.environ["MENGXI_MIGRATE_ON_START"] = "false"
    # A worker imports the whole market before it answers uvicorn's health check: give it a
    # minute (the default 5 s kills and restarts workers that start together on 2 cores).
    uvicorn.run("api.service.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, timeout_graceful_shutdown=5,
                timeout_worker_healthcheck=60)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``db`` group to the ``mengxi`` app."""
    app.command("serve")(serve_command)
    db = typer.Typer(help="The service's database: migrations.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    db.command("current")(db_current)
    app.add_typer(db, name="db")


def main() -> None:
    """``python -m api.cli.serve``: the ``serve`` command and the ``db`` group alone."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)

    @app.callback()
    def _root() -> None:
        """Serve the trading-game API."""

    app()


if __name__ == "__main__":  # pragma: no cover
    main()
