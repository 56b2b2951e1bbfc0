"""``mengxi simulate SCENARIO``: run a year of the Mengxi markets and write its tables and report.

SCENARIO is a preset name (``mengxi``, ``mengxi-2026``, ...) or a rules TOML file. The year runs
with a progress bar, a summary table is printed at the end, and the outputs
(:func:`studies.output.files.write_outputs`: summary.json, ledger.csv/.parquet, hourly.parquet,
units.csv, monthly.csv, failures.csv, capacity.json) and, when ``studies.output.report`` is
installed,
report.html with its plots are written to ``--out`` (default ``out/<scenario>-seed<S>``).

With ``--seeds N`` (N > 1) the year runs for seeds S, S+1, ..., S+N-1 (:mod:`studies.seeds`; in
this process, or on Dask with ``--scheduler``), a table prints each headline figure's mean
over the seeds and its 95 % interval (Student's t), and ``seeds.json`` (every seed's figures
and the spread) and ``seeds.csv`` (one row per seed) are written to ``--out`` (default
``out/<scenario>-seeds<S>-<S+N-1>``); no per-year tables or report.

Refused input (an unknown preset, bad rules file, a negative seed, a scale <= 0, an ``--out``
that is a file or a folder holding files without ``--force``) prints the reason and exits with
status 2, without a traceback and before the year runs. Sums of money print in million yuan
(:mod:`api.cli.output`).
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli import output as fmt
from api.cli.output import EXIT_REFUSED, ForceOpt, check_out
from market.errors import MarketError
from market.rules import MarketRules, load_preset, load_rules

STEP_LABELS = {"fleet": "fleet and profiles", "capacity": "capacity auction",
               "energy": "energy auctions", "settlement": "capacity performance",
               "compensation": "coal compensation", "green": "green trading",
               "tables": "tables and metrics"}


def load_scenario(source: str) -> tuple[MarketRules, str]:
    """Rules from a preset name or a TOML path, and the scenario's short name."""
    path = Path(source)
    if path.suffix == ".toml" or path.is_file() or "/" in source:
        return load_rules(path), path.stem
    return load_preset(source), source


def _refuse(message: str, problems: list[Any] | None = None) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"error: {message}", markup=False)
    for p in problems or []:
        console.print(f"  {p}", markup=False)
    raise typer.Exit(EXIT_REFUSED)


def _num(value: float | None, fmt: str = "{:,.2f}") -> str:
    return "-" if value is None or not math.isfinite(value) else fmt.format(value)


def compensation_paid(k: dict[str, Any]) -> str:
    """The net compensation paid (the money posted), with the gross and what the capacity
    payments offset when they differ from it, all in million yuan."""
    text = fmt.money(k["paid_yuan"])
    if k.get("offset_yuan"):
        text += (f" (gross {fmt.million_yuan(k['gross_yuan'])}, "
                 f"{fmt.million_yuan(k['offset_yuan'])} offset by capacity payments)")
    return text


def compensation_deducted(k: dict[str, Any]) -> str:
    """What failures took from the payments, with the failures and, when the offset left less
    to deduct, the deductions the table asked for."""
    due = k.get("deductions_due_yuan")
    note = f"{k['failures']} failures"
    if due is not None and due != k["deducted_yuan"]:
        note += f"; {fmt.million_yuan(due)} due, already offset"
    return f"{fmt.money(k['deducted_yuan'])} ({note})"


def summary_table(summary: dict[str, Any]) -> Table:
    """The key figures of a year's summary as a rich table."""
    e, c, k, g = (summary[x] for x in ("energy", "capacity", "compensation", "green"))
    cost = summary["consumer_cost_yuan"]
    table = Table("figure", "value", title=f"{summary['rules_name']}  seed {summary['seed']}  "
                  f"scale {summary['scale']:g}  {summary['hours']} h")
    rows = [
        ("energy price, load-weighted", f"{_num(e['avg_price_yuan_per_mwh'])} yuan/MWh"),
        ("stress hours", str(e["stress_hours"])),
        ("unserved energy", f"{_num(e['unserved_mwh'], '{:,.0f}')} MWh"),
        ("capacity price", "no capacity market" if not c["enabled"]
         else f"{_num(c['clearing_price_yuan_per_kw_yr'])} yuan/kW-yr"),
        ("capacity cleared", f"{_num(c['cleared_mw'], '{:,.0f}')} MW"),
        ("capacity penalties", fmt.money(c["penalties_yuan"])),
        ("compensation paid (net)", compensation_paid(k)),
        ("compensation deducted", compensation_deducted(k)),
        ("certificates issued / retired",
         f"{_num(g['certificates_issued'], '{:,.0f}')} / "
         f"{_num(g['certificates_retired'], '{:,.0f}')}"),
        ("green premium", f"{_num(g['avg_premium_yuan_per_mwh'])} yuan/MWh"),
        ("renewable share", _num(None if summary["renewable_share"] is None
                                 else 100 * summary["renewable_share"], "{:.1f} %")),
        ("consumer cost", fmt.money(cost["total"])),
        ("ledger imbalance", fmt.money(summary["ledger"]["imbalance_yuan"])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def simulate_command(
    scenario: Annotated[str, typer.Argument(
        metavar="SCENARIO", help="A preset name (e.g. mengxi) or a rules TOML file.")],
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Random seed; default: the rules' meta.seed.")] = None,
    scale: Annotated[float | None, typer.Option(
        "--scale", help="Fleet scale (1 = the full Mengxi fleet, 0.01 a small system with the "
                        "same shares); default: the rules' own.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Output directory; default out/<scenario>-seed<S>.")] = None,
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", help="KEY=NAME: owner, technology or role KEY plays strategy NAME "
                           "(e.g. genco-1=markup, genco-1=policy:out/learn/policy.json); "
                           "repeatable.")] = None,
    force: ForceOpt = False,
    seeds: Annotated[int, typer.Option(
        "--seeds", min=1, help="Run N years, seeds S, S+1, ..., S+N-1, and print each "
                               "headline figure's mean and 95 % interval; write seeds.json "
                               "and seeds.csv.")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="With --seeds: run the years as tasks on this Dask scheduler (tcp://host:8786), "
             "or on a local cluster of two worker processes with 'local'; default: one "
             "after another in this process.")] = None,
) -> None:
    """Simulate a year of the Mengxi markets; write tables, ledger and report."""
    check_out(out, force)
    from clearing.kernels import warm
    from studies.output.files import write_outputs
    from studies.year import run_year

    if seed is not None and seed < 0:
        _refuse(f"--seed must be an integer >= 0, got {seed}")
    if scale is not None and not (math.isfinite(scale) and scale > 0):
        _refuse(f"--scale must be a number > 0 (1 is the full fleet), got {scale}")
    try:
        rules, name = load_scenario(scenario)
    except MarketError as err:
        _refuse(f"cannot load scenario {scenario!r}", getattr(err, "problems", None)
                or [str(err)])
        return
    try:
        strategies = fmt.parse_strategies(strategy)
    except ValueError as err:
        _refuse(str(err))
        return
    if scheduler is not None and seeds == 1:
        _refuse("--scheduler runs the years of --seeds N on Dask; give --seeds 2 or more")
    seed = rules.meta.seed if seed is None else seed
    if seeds > 1:
        simulate_seeds(rules, name, list(range(seed, seed + seeds)), scale, out, strategies,
                       scheduler)
        return
    out_dir = out if out is not None else Path("out") / f"{name}-seed{seed}"
    check_out(out_dir, force, explicit=out is not None)
    console = Console(highlight=False)
    bar = Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, transient=True)
    tasks: dict[str, Any] = {}

    def progress(step: str, done: int, total: int) -> None:
        if step == "capacity" and done == total:
            # A fresh install: the energy year's batched clearing is being compiled by the
            # child; wait for it rather than compile it a second time.
            warm.wait_for(compiling, "clear_batched")
        if step not in tasks:
            tasks[step] = bar.add_task(STEP_LABELS.get(step, step), total=total)
        bar.update(tasks[step], completed=done, total=total)

    has_report = importlib.util.find_spec("studies.output.report") is not None
    # On a fresh install, a child compiles the kernels the year calls last (clearing.kernels.warm).
    compiling = warm.start()
    # The plots' child processes load matplotlib on the other core while the year runs, and
    # get the year's tables before its last step (the market-power metrics).
    plots = importlib.import_module("studies.output.plots") if has_report else None
    workers = plots.start_workers() if plots is not None else []

    def tables_ready(result: Any) -> None:
        if plots is not None:
            plots.send_year(workers, result, out_dir / "plots")

    def hourly_ready(hourly: Any) -> None:
        if plots is not None:
            plots.send_hourly(workers, hourly, out_dir / "plots")

    try:
        try:
            with bar:
                result = run_year(rules, seed, scale, strategies=strategies or None,
                                  progress=progress, tables_ready=tables_ready,
                                  hourly_ready=hourly_ready)
        except MarketError as err:
            _refuse(str(err).splitlines()[0], getattr(err, "problems", None))
            return
        console.print(summary_table(result.summary))
        write_outputs(result, out_dir)
        written = f"outputs written to {out_dir}"
        if has_report:
            report = importlib.import_module("studies.output.report").write_report(
                result, out_dir, plot_worker=workers)
            written += f" (report: {report})"
        console.print(written)
    finally:
        warm.stop(compiling)
        for w in workers:
            w.close()


def seeds_table(title: str, spread: dict[str, dict[str, Any]]) -> Table:
    """Each headline figure's mean over the seeds and its 95 % interval as a rich table; sums
    of money in million yuan, the unit in the figure's name."""
    from studies.seeds import HEADLINE

    table = fmt.figures_table(title, ["figure"], ["mean", "95 % interval", "n"],
                              interval_column="95 % interval")
    for path, label, unit in HEADLINE:
        s = spread[path]
        shown_unit = fmt.MONEY_UNIT if fmt.is_money(path) else unit
        table.add_row(f"{label}, {shown_unit}", fmt.figure(path, s["mean"]),
                      fmt.interval(path, s["low"], s["high"]), str(s["n"]))
    return table


def simulate_seeds(rules: MarketRules, name: str, seed_list: list[int], scale: float | None,
                   out: Path | None, strategies: dict[str, str], scheduler: str | None) -> None:
    """``simulate --seeds N``: run the seeds, print the spread, write seeds.json and .csv."""
    from studies.seeds import run_seeds, spread, write_seeds

    first, last = seed_list[0], seed_list[-1]
    out_dir = out if out is not None else Path("out") / f"{name}-seeds{first}-{last}"
    check_out(out_dir, True)  # a file in the way; the default folder is the command's own
    console = Console(highlight=False)
    bar = Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, transient=True)
    try:
        with bar:
            task = bar.add_task("years (seeds)", total=len(seed_list))
            records = run_seeds(
                rules, seed_list, scale, strategies=strategies or None, scheduler=scheduler,
                progress=lambda _step, done, _total: bar.update(task, completed=done))
    except MarketError as err:
        _refuse(str(err).splitlines()[0], getattr(err, "problems", None))
        return
    scale_text = "" if scale is None else f", scale {scale:g}"
    console.print(seeds_table(f"{rules.meta.name}, seeds {first}..{last}{scale_text}: mean, "
                              "95 % interval (t)", spread(records)))
    paths = write_seeds(out_dir, rules, scale, records, strategies or None)
    console.print(f"wrote {paths['json']}, {paths['csv']} and {paths['html']}", markup=False,
                  soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the ``mengxi`` app."""
    app.command("simulate")(simulate_command)
