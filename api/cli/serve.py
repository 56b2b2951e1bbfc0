"""``mengxi serve``: run the API with uvicorn.

The database is a SQLite file (``./mengxi.sqlite``) unless ``--database-url`` or
``MENGXI_DATABASE_URL`` names another (``postgresql+psycopg://user@host/db``); the server
upgrades it to the newest migration before it takes requests.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.service.settings import Settings


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="SQLAlchemy URL of the database (default: $MENGXI_DATABASE_URL "
                               "or sqlite:///./mengxi.sqlite).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the trading-game API (FastAPI) with uvicorn."""
    import uvicorn

    from api.service.app import create_app

    settings = Settings() if database_url is None else Settings(database_url=database_url)
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level,
                timeout_graceful_shutdown=5)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``mengxi`` app."""
    app.command("serve")(serve_command)


def main() -> None:
    """``python -m api.cli.serve``: the ``serve`` command alone."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("serve")(serve_command)

    @app.callback()
    def _root() -> None:
        """Serve the trading-game API."""

    app()


if __name__ == "__main__":  # pragma: no cover
    main()
