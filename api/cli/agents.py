"""``mengxi agents run``: bots that take seats in a game of a running server and play it over
HTTP (:mod:`agents.http.runner`) until the session ends.

Exit status: 0 when every bot saw the session finish; 1 when one stopped early (an error, the
``--timeout``); 2 when the input was refused (an unknown strategy, a session or seat the server
refuses, no free seat).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli import output as fmt
from api.cli.output import ForceOpt, check_out

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
    import httpx  # here, not at the top: every other command starts without it

    from agents.http.client import Refusal
    from agents.http.runner import run_bots
    from agents.strategies.assign import strategy_named
    from market.errors import StrategyError

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(threadName)s "
                                                         "%(levelname)s %(message)s")
    if strategy is not None:
        try:
            strategy_named(strategy)  # a policy:PATH is loaded here
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


def year_capacity_step(rules: Any, synth: Any, profiles: Any, groups: Any, rngs: Any
                       ) -> tuple[Any, Any]:
    """The year's capacity step for the learning environment
    (:data:`agents.learning.env.CapacityStep`): :func:`studies.year.run.capacity_market`,
    returning the rules with the resolved capacity table and the MW each unit cleared."""
    from studies.year.run import capacity_market

    year_rules, _, result = capacity_market(rules, synth, profiles, groups, rngs)
    return year_rules, None if result is None else result.cleared_mw


def learn_command(
    scenario: Annotated[str, typer.Argument(
        metavar="SCENARIO", help="A preset name (e.g. mengxi) or a rules TOML file.")],
    owner: Annotated[str, typer.Option(help="The learning owner (a generator owner).")] =
        "genco-1",
    steps: Annotated[int, typer.Option(
        min=1, help="Environment steps (days) to train for, the baseline's episode "
                    "included.")] = 600,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Seed of the world and the search; default: the rules' meta.seed.")] = None,
    scale: Annotated[float, typer.Option(help="Fleet scale (1 = the full fleet).")] = 0.1,
    days: Annotated[int, typer.Option(min=1, help="Days of an episode.")] = 7,
    start_day: Annotated[int, typer.Option(min=0, help="First day of the episode "
                                                       "(0 = 1 January).")] = 0,
    out: Annotated[Path | None, typer.Option(
        help="Output directory; default out/learn-<scenario>-<owner>-seed<S>.")] = None,
    capacity: Annotated[bool, typer.Option(
        "--capacity/--no-capacity", help="Run the year's capacity auction before the "
                                         "episode (when the rules enable it).")] = True,
    force: ForceOpt = False,
) -> None:
    """Train OWNER's bidding policy on SCENARIO with CMA-ES (everyone else on their
    strategies); write policy.json (usable as --strategy OWNER=policy:PATH), curve.csv and
    curve.png."""
    import math

    from agents.learning.single import OwnerEnv
    from agents.learning.train import improvement, train, write_outputs
    from api.cli.simulate import load_scenario
    from market.errors import MarketError

    check_out(out, force)
    if not (math.isfinite(scale) and scale > 0):
        _refuse(f"--scale must be a number > 0 (1 is the full fleet), got {scale}")
    try:
        rules, name = load_scenario(scenario)
        seed = rules.meta.seed if seed is None else seed
        out_dir = out if out is not None else Path("out") / f"learn-{name}-{owner}-seed{seed}"
        check_out(out_dir, force, explicit=out is not None)
        env = OwnerEnv(rules, owner, scale=scale, seed=seed, days=days, start_day=start_day,
                       capacity=year_capacity_step if capacity else None)
        console = Console(highlight=False)

        def progress(generation: int, used: int, best: float) -> None:
            console.print(f"generation {generation}: {used} steps, best profit "
                          f"{fmt.money(best)}")

        result = train(env, steps=steps, seed=seed, progress=progress)
    except MarketError as err:
        problems = getattr(err, "problems", None)
        head = str(err).splitlines()[0].rstrip(":")
        _refuse(head + ("" if not problems else ": " + "; ".join(map(str, problems))))
        return
    paths = write_outputs(result, out_dir, {
        "scenario": scenario, "owner": owner, "seed": seed, "scale": scale, "days": days,
        "start_day": start_day, "capacity_auction": capacity, "trainer": "cma"})
    table = Table("figure", "value", title=f"{owner} learning on {name}, seed {seed}")
    table.add_row("baseline profit (opportunity-cost offers)",
                  fmt.money(result.baseline_profit_yuan))
    table.add_row("learned profit", fmt.money(result.best_profit_yuan))
    table.add_row("improvement", f"{100 * improvement(result):+.1f} %")
    table.add_row("blocks' mean position, base (0) to cap (1)",
                  ", ".join(f"{v:.2f}" for v in result.fractions.mean(axis=0)))
    table.add_row("steps", str(result.steps))
    console.print(table)
    console.print(f"policy: {paths['policy']} (use --strategy {owner}=policy:"
                  f"{paths['policy']}); curve: {paths['curve_csv']}, {paths['curve_png']}")


def register(app: typer.Typer) -> None:
    """Add ``agents`` (with ``run``) and ``learn`` to the ``mengxi`` app."""
    app.add_typer(agents_app, name="agents")
    app.command("learn")(learn_command)


def main() -> None:
    """``python -m api.cli.agents run ...``: the ``agents`` commands alone."""
    agents_app()


if __name__ == "__main__":  # pragma: no cover
    main()
