"""``mengxi simulate SCENARIO``: run a year of the Mengxi markets and write its tables and report.

SCENARIO is a preset name (``mengxi``, ``mengxi-2026``, ...) or a rules TOML file. The year runs
with a progress bar, a summary table is printed at the end, and the outputs
(:func:`studies.output.files.write_outputs`: summary.json, ledger.csv/.parquet, hourly.parquet,
units.csv, monthly.csv, failures.csv, capacity.json) and, when ``studies.output.report`` is
installed,
report.html with its plots are written to ``--out`` (default ``out/<scenario>-seed<S>``).
Refused input (unknown preset, bad rules file, a negative seed, a scale <= 0) prints the reason
and exits with status 2, without a traceback.
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

from market.errors import MarketError
from market.rules import MarketRules, load_preset, load_rules

EXIT_REFUSED = 2

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


def _money(yuan: float | None) -> str:
    if yuan is None:
        return "-"
    if abs(yuan) >= 1e8:
        return f"{yuan / 1e8:,.2f} yi yuan"  # 1 yi = 100 million
    return f"{yuan:,.0f} yuan"


def _num(value: float | None, fmt: str = "{:,.2f}") -> str:
    return "-" if value is None or not math.isfinite(value) else fmt.format(value)


def compensation_paid(k: dict[str, Any]) -> str:
    """The net compensation paid (the money posted), with the gross and what the capacity
    payments offset when they differ from it."""
    text = _money(k["paid_yuan"])
    if k.get("offset_yuan"):
        text += f" (gross {_money(k['gross_yuan'])}, {_money(k['offset_yuan'])} offset by " \
                "capacity payments)"
    return text


def compensation_deducted(k: dict[str, Any]) -> str:
    """What failures took from the payments, with the failures and, when the offset left less
    to deduct, the deductions the table asked for."""
    due = k.get("deductions_due_yuan")
    note = f"{k['failures']} failures"
    if due is not None and due != k["deducted_yuan"]:
        note += f"; {_money(due)} due, already offset"
    return f"{_money(k['deducted_yuan'])} ({note})"


def summary_table(summary: dict[str, Any]) -> Table:
    """The key figures of a year's summary as a rich table."""
    e, c, k, g = (summary[x] for x in ("energy", "capacity", "compensation", "green"))
    cost = summary["consumer_cost_yuan"]
    table = Table("figure", "value", title=f"{summary['rules_name']}  seed {summary['seed']}  "
                  f"scale {summary['scale']:g}  {summary['hours']} h")
    rows = [
        ("energy price, load-weighted", f"{_num(e['avg_price_yuan_per_mwh'])} yuan/MWh"),
        ("stress hours", str(e["stress_hours"])),
        ("unserved energy", f"{_num(e['curtailed_mwh'], '{:,.0f}')} MWh"),
        ("capacity price", "no capacity market" if not c["enabled"]
         else f"{_num(c['clearing_price_yuan_per_kw_yr'])} yuan/kW-yr"),
        ("capacity cleared", f"{_num(c['cleared_mw'], '{:,.0f}')} MW"),
        ("capacity penalties", _money(c["penalties_yuan"])),
        ("compensation paid (net)", compensation_paid(k)),
        ("compensation deducted", compensation_deducted(k)),
        ("certificates issued / retired",
         f"{_num(g['certificates_issued'], '{:,.0f}')} / "
         f"{_num(g['certificates_retired'], '{:,.0f}')}"),
        ("green premium", f"{_num(g['avg_premium_yuan_per_mwh'])} yuan/MWh"),
        ("renewable share", _num(None if summary["renewable_share"] is None
                                 else 100 * summary["renewable_share"], "{:.1f} %")),
        ("consumer cost", _money(cost["total"])),
        ("ledger imbalance", f"{summary['ledger']['imbalance_yuan']:.2f} yuan"),
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
) -> None:
    """Simulate a year of the Mengxi markets; write tables, ledger and report."""
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
    strategies: dict[str, str] = {}
    for item in strategy or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            _refuse(f"--strategy must be KEY=NAME (e.g. genco-1=markup), got {item!r}")
        strategies[key.strip()] = value.strip()
    seed = rules.meta.seed if seed is None else seed
    out_dir = out if out is not None else Path("out") / f"{name}-seed{seed}"
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
    # The plots' child processes load matplotlib on the other core while the year runs.
    workers = importlib.import_module("studies.output.plots").start_workers() \
        if has_report else []
    try:
        try:
            with bar:
                result = run_year(rules, seed, scale, strategies=strategies or None,
                                  progress=progress)
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


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the ``mengxi`` app."""
    app.command("simulate")(simulate_command)
