"""``mengxi agents run``: bots that take seats in a game of a running server and play it over
HTTP (:mod:`agents.http.runner`) until the session ends.

Exit status: 0 when every bot saw the session finish; 1 when one stopped early (an error, the
``--timeout``); 2 when the input was refused (an unknown strategy, a session or seat the server
refuses, no free seat).
"""

from __future__ import annotations

import json
import logging
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

EXIT_STOPPED, EXIT_REFUSED = 1, 2

agents_app = typer.Typer(name="agents", help="Bots that play a game of the service over HTTP.",
                         no_args_is_help=True, add_completion=False)


@agents_app.callback()
def _agents() -> None:
    """Bots that play a game of the service over HTTP."""


def _refuse(message: str) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error:[/red] {message}")
    raise typer.Exit(EXIT_REFUSED)


@agents_app.command("run")
def run_command(
    url: Annotated[str, typer.Option(help="The server (http://127.0.0.1:8000) or its API "
                                          "base (.../api/v1).")],
    session: Annotated[str, typer.Option(help="Session id (from the instructor).")],
    count: Annotated[int, typer.Option(min=1, max=1000, help="Number of bots.")] = 1,
    strategy: Annotated[str | None, typer.Option(
        help="A registered strategy for the bots' units or loads of its role "
             "(opportunity_cost, truthful, markup, withholding, learning, storage_optimal, "
             "storage_arbitrage, green_seller, green_buyer); default: each role's default "
             "(opportunity_cost, storage_optimal, green_seller, green_buyer).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the bots' random draws.")] = 0,
    seat: Annotated[list[str] | None, typer.Option(
        help="Take this seat (repeat once per bot); default: the first free seats.")] = None,
    poll: Annotated[bool, typer.Option(
        "--poll", help="Poll the event log instead of following the event stream.")] = False,
    timeout: Annotated[float | None, typer.Option(
        min=0, help="Stop after this many seconds (default: play to the end).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    log_level: Annotated[str, typer.Option(help="Logging level of the bots.")] = "warning",
) -> None:
    """Join COUNT bots to session SESSION of the server at URL; each takes a seat, follows the
    events, bids in every round with the strategies, and stops when the session ends."""
    from agents.http.client import Refusal
    from agents.http.runner import run_bots
    from agents.strategies.base import get_strategy
    from market.errors import StrategyError

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(threadName)s "
                                                         "%(levelname)s %(message)s")
    if strategy is not None:
        try:
            get_strategy(strategy)
        except StrategyError as exc:
            _refuse(str(exc))
    if seat and len(seat) != count:
        _refuse(f"{len(seat)} --seat given for {count} bots; name one seat per bot or none")
    try:
        reports = run_bots(url, session, count, strategy=strategy, seed=seed, seats=seat or None,
                           events="poll" if poll else "stream", deadline_seconds=timeout)
    except Refusal as exc:
        _refuse(f"the server refused to seat the bots: {exc.detail}")
    except httpx.TransportError as exc:
        Console(stderr=True).print(f"[red]error:[/red] cannot reach {url}: {exc}")
        raise typer.Exit(EXIT_STOPPED) from None
    if as_json:
        typer.echo(json.dumps([vars(r) for r in reports], indent=2))
    else:
        table = Table(title=f"bots of session {session}")
        for col in ("seat", "rounds", "stored", "replayed", "retries", "drops", "via",
                    "done"):
            table.add_column(col, no_wrap=True)
        for r in reports:
            table.add_row(r.participant or "-", str(len(r.rounds_bid)), str(r.stored),
                          str(r.replayed), str(r.retries), str(r.stream_drops),
                          "poll" if r.polling else "stream", "yes" if r.finished else "no")
        console = Console(soft_wrap=True, highlight=False)
        console.print(table)
        for r in reports:
            if r.error:
                console.print(f"[red]{r.participant}:[/red] {r.error}")
    if not all(r.finished and r.error is None for r in reports):
        raise typer.Exit(EXIT_STOPPED)


def register(app: typer.Typer) -> None:
    """Add ``agents`` (with ``run``) to the ``mengxi`` app."""
    app.add_typer(agents_app, name="agents")


def main() -> None:
    """``python -m api.cli.agents run ...``: the ``agents`` commands alone."""
    agents_app()


if __name__ == "__main__":  # pragma: no cover
    main()
