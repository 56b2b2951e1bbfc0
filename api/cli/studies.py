"""``mengxi compare``, ``mengxi sweep``, ``mengxi calibrate`` and ``mengxi pathway``: the market
designer's studies from the shell.

``mengxi pathway SCENARIO --years 2025-2035`` runs the year for each year with entry and exit
between them (:mod:`studies.pathway`) and with ``--out DIR`` writes ``pathway.json``,
``pathway.csv``, ``pathway.parquet`` and ``report.html``.

``mengxi calibrate SCENARIO`` finds the capacity reserve margin that meets the rules'
reliability standard (:mod:`studies.calibrate`), prints every simulated year of the search and
with ``--out DIR`` writes ``calibration.json``, ``calibration.csv`` and ``calibrated.toml``
(the rules with ``capacity.reserve_margin`` set); it exits 1 when no margin tried meets it.

``mengxi compare A B --seeds N`` simulates both rule sets on the same N seeds and prints the
paired differences B - A with 95 % confidence intervals; ``mengxi sweep SCENARIO --grid
KEY=V1,V2 ...`` runs a grid of rule overrides on Dask. With ``--years FIRST-LAST`` both run
pathways instead of single years (:mod:`studies.pathway.study`: paired seeds, the pathway's
figures). ``--out DIR`` writes CSV, JSON and a PNG. Refused input (an unknown preset, key or
metric, a value of the wrong type, no seeds, an unreachable scheduler) prints every problem and
exits with status 2; a sweep in which some points failed prints them and exits with status 1
after writing everything.

Every command checks ``--out`` before it runs anything (:mod:`api.cli.output`: a file, or a folder
that holds files without ``--force``, is refused with status 2); tables print sums of money in
million yuan (:mod:`api.cli.output`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli import output as fmt
from api.cli.output import ForceOpt, check_out
from market.errors import MarketError
from market.rules import MarketRules, load_preset, load_rules

# studies.compare, studies.sweep (Dask) and studies.output.report (matplotlib) are imported by
# the commands that use them, so that every other ``mengxi`` command starts without them.

EXIT_REFUSED = fmt.EXIT_REFUSED
EXIT_POINTS_FAILED = 1

SeedsOpt = Annotated[int, typer.Option("--seeds", min=1, help="Number of seeds (years) per "
                                       "rule set or grid point: FIRST_SEED, FIRST_SEED+1, ...")]
FirstSeedOpt = Annotated[int, typer.Option("--first-seed", min=0, help="The first seed.")]
ScaleOpt = Annotated[float | None, typer.Option(
    "--scale",
    help="Fleet scale (0.01: a small system, every class's share kept); default: the year's own.")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Write CSV, JSON and PNG into this directory.")]
MetricOpt = Annotated[list[str] | None, typer.Option(
    "--metric", metavar="PATH",
    help="A summary figure to report, as a dotted path (repeatable); default: the key "
         "figures (prices, stress hours, capacity, compensation, certificates, consumer "
         "cost, HHI, RSI).")]


YearsOpt = Annotated[str | None, typer.Option(
    "--years", metavar="FIRST-LAST",
    help="Run a pathway of these years (e.g. 2025-2035: entry and exit between the years) "
         "for each seed instead of one year; default figures: the pathway's (summed LOLE "
         "and EUE, firm MW in the last year, consumer cost per MWh, MW built and retired, "
         "mean capacity price).")]


def _pathway_task(years: str | None) -> Any:
    """The :class:`studies.pathway.study.PathwayTask` of ``--years`` (None without it);
    a bad range is refused with exit 2, one line."""
    if years is None:
        return None
    from studies.pathway.run import parse_years
    from studies.pathway.study import PathwayTask

    try:
        return PathwayTask(tuple(parse_years(years)))
    except ValueError as err:
        fmt.refuse(str(err))


def _load(source: str) -> MarketRules:
    """A rules file (a path, or a name ending in .toml) or a preset name."""
    path = Path(source)
    if path.is_file() or source.endswith(".toml") or "/" in source:
        return load_rules(path)
    return load_preset(source)


def _refuse(err: MarketError) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    problems = getattr(err, "problems", None)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        console.print(f"refused: {count}", markup=False, soft_wrap=True)
        for p in problems:
            console.print(f"  {p}", markup=False, soft_wrap=True)
    else:
        console.print(f"refused: {err}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_REFUSED)


def _progress(console: Console, label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def compare_command(
    a: Annotated[str, typer.Argument(metavar="A", help="Rules file or preset name.")],
    b: Annotated[str, typer.Argument(metavar="B", help="Rules file or preset name.")],
    seeds: SeedsOpt = 5,
    first_seed: FirstSeedOpt = 0,
    scale: ScaleOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    metric: MetricOpt = None,
    strategy: Annotated[list[str] | None, typer.Option(
        "--strategy", metavar="KEY=NAME",
        help="Owner, technology or role KEY plays strategy NAME in A and B (e.g. "
             "genco-1=markup, genco-1=policy:out/learn/policy.json); repeatable.")] = None,
    strategy_b: Annotated[list[str] | None, typer.Option(
        "--strategy-b", metavar="KEY=NAME",
        help="As --strategy, for B only (over --strategy): e.g. mengxi against mengxi with "
             "--strategy-b genco-1=policy:PATH compares a learned bidder with the default "
             "one.")] = None,
    years: YearsOpt = None,
) -> None:
    """Run A and B on the same seeds; print B - A with 95 % confidence intervals."""
    check_out(out, force)
    pathway = _pathway_task(years)
    if pathway is not None and (strategy or strategy_b):
        fmt.refuse("--years runs pathways with each role's default strategy; --strategy and "
                   "--strategy-b apply to single years")
    try:
        both = fmt.parse_strategies(strategy)
        only_b = fmt.parse_strategies(strategy_b, "--strategy-b")
    except ValueError as err:
        fmt.refuse(str(err))
    from studies.compare import compare_rules, write_comparison
    from studies.metrics import KEY_METRICS
    from studies.pathway.study import PATHWAY_METRICS

    console = Console(highlight=False)
    try:
        rules_a, rules_b = _load(a), _load(b)
        seed_list = list(range(first_seed, first_seed + seeds))
        with _progress(Console(stderr=True), "years") as bar:
            task = bar.add_task("compare", total=2 * seeds)
            result = compare_rules(
                rules_a, rules_b, seed_list, scale,
                tuple(metric or (KEY_METRICS if pathway is None else PATHWAY_METRICS)),
                progress=lambda _step, done, _total: bar.update(task, completed=done),
                strategies_a=both or None, strategies_b={**both, **only_b} or None,
                run=None if pathway is None else pathway.run)
    except MarketError as err:
        _refuse(err)
        return
    caption = "\n".join(filter(None, (
        f"A = {a} ({rules_a.sha256()[:12]}), B = {b} ({rules_b.sha256()[:12]})",
        fmt.money_caption(result.metrics))))
    table = fmt.figures_table(
        f"B - A over seeds {seed_list[0]}..{seed_list[-1]} (paired, 95 % CI)", ["metric"],
        ["A", "B", "B - A", "95 % CI", "n"], interval_column="95 % CI", caption=caption)
    for r in result.rows:
        table.add_row(r.metric, fmt.figure(r.metric, r.mean_a), fmt.figure(r.metric, r.mean_b),
                      fmt.figure(r.metric, r.mean_diff),
                      fmt.interval(r.metric, r.ci_low, r.ci_high), str(r.n))
    console.print(table)
    if out is not None:
        for path in write_comparison(result, out).values():
            console.print(f"wrote {path}", markup=False, soft_wrap=True)


def sweep_command(
    scenario: Annotated[str, typer.Argument(help="Rules file or preset name (the base).")],
    grid: Annotated[list[str], typer.Option(
        "--grid", metavar="KEY=V1,V2,...",
        help="A rule key and the values to sweep, e.g. "
             "--grid capacity.net_cone_yuan_per_kw_yr=250,330,400 (repeatable: the grid is "
             "every combination).")],
    seeds: SeedsOpt = 1,
    first_seed: FirstSeedOpt = 0,
    scale: ScaleOpt = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="A running Dask scheduler (tcp://host:8786); default: a local cluster of two "
             "worker processes.")] = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    metric: MetricOpt = None,
    years: YearsOpt = None,
) -> None:
    """Run every point of a grid of rule overrides on Dask; one table, failed points listed."""
    check_out(out, force)
    pathway = _pathway_task(years)
    from studies.metrics import KEY_METRICS
    from studies.pathway.study import PATHWAY_METRICS
    from studies.sweep import PLOT_METRICS, one_line, parse_grid, run_sweep, write_sweep

    console = Console(highlight=False)
    metrics = tuple(metric or (KEY_METRICS if pathway is None else PATHWAY_METRICS))
    try:
        rules = _load(scenario)
        axes = parse_grid(rules, grid)
        seed_list = list(range(first_seed, first_seed + seeds))
        n_points = 1
        for axis in axes:
            n_points *= len(axis.values)
        with _progress(Console(stderr=True), "grid points x seeds") as bar:
            task = bar.add_task("sweep", total=n_points * seeds)
            result = run_sweep(
                rules, axes, seed_list, scale, metrics=metrics, scheduler=scheduler,
                task=pathway,
                progress=lambda _step, done, _total: bar.update(task, completed=done))
    except MarketError as err:
        _refuse(err)
        return
    shown = list(metric) if metric else (
        [m for m in PLOT_METRICS if m in metrics] if pathway is None else list(metrics[:4]))
    table = fmt.figures_table(
        f"sweep of {scenario} ({rules.sha256()[:12]}): mean over seeds "
        f"{seed_list[0]}..{seed_list[-1]}", [a.key for a in axes], ["seeds ok", *shown],
        caption=fmt.money_caption(shown))
    texts = {axis.key: dict(zip(axis.values, axis.texts, strict=True)) for axis in axes}
    for row in result.point_table():
        ok = f"{row['ok']}/{row['ok'] + row['failed']}"
        table.add_row(*(texts[a.key][row[a.key]] for a in axes), ok,
                      *(fmt.figure(m, row[m]) for m in shown))
    console.print(table)
    failed = [row for row in result.point_table() if row["failed"]]
    for row in failed:
        where = ", ".join(f"{a.key}={texts[a.key][row[a.key]]}" for a in axes)
        for message in row["errors"]:
            console.print(f"failed: {where}: {one_line(message)}", markup=False, soft_wrap=True)
    if out is not None:
        for path in write_sweep(result, out).values():
            console.print(f"wrote {path}", markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(EXIT_POINTS_FAILED)


def calibrate_command(
    scenario: Annotated[str, typer.Argument(help="Rules file or preset name.")],
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, help="Random seed of every year tried; default: the rules' "
                              "meta.seed.")] = None,
    scale: ScaleOpt = None,
    tolerance: Annotated[float, typer.Option(
        "--tolerance", min=0.001, max=0.5,
        help="Stop when the bracket of peak-load multiples is narrower than this.")] = 0.01,
    max_runs: Annotated[int, typer.Option(
        "--max-runs", min=2, max=40, help="At most this many simulated years.")] = 14,
    out: OutOpt = None,
    force: ForceOpt = False,
) -> None:
    """Find the reserve margin at which the simulated LOLE meets the reliability standard."""
    check_out(out, force)
    import csv
    import json

    from studies.calibrate import calibrate_reserve_margin

    console = Console(highlight=False)
    try:
        rules = _load(scenario)
        chosen = rules.meta.seed if seed is None else seed
        with _progress(Console(stderr=True), "years simulated") as bar:
            task = bar.add_task("calibrate", total=max_runs)
            result = calibrate_reserve_margin(
                rules, chosen, scale, tolerance=tolerance, max_runs=max_runs,
                progress=lambda _run: bar.advance(task))
    except MarketError as err:
        _refuse(err)
        return
    standard = result.standard_lole_hours
    table = fmt.figures_table(
        f"reserve margin for LOLE <= {standard:g} h: {scenario}, seed {result.seed}", [],
        ["peak\nx", "peak\nMW", "accredited\nMW", "reserve\nmargin", "LOLE\nh", "EUE\nMWh",
         "ok"])
    for r in sorted(result.runs, key=lambda r: r.peak_multiple):
        table.add_row(f"{r.peak_multiple:.4f}", f"{r.peak_mw:,.0f}", f"{r.accredited_mw:,.0f}",
                      f"{r.reserve_margin:.1%}", str(r.lole_hours), f"{r.eue_mwh:,.1f}",
                      "yes" if r.meets(standard) else "no")
    console.print(table)
    if result.found is None:
        console.print(f"no load tried meets the standard of {standard:g} h LOLE",
                      markup=False, soft_wrap=True)
    else:
        note = "" if result.bracketed else " (not bracketed: no run above it misses)"
        console.print(f"reserve margin that meets the standard: "
                      f"{result.found.reserve_margin:.1%}{note}; the rules give "
                      f"{rules.capacity.reserve_margin:.1%}", markup=False, soft_wrap=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "calibration.json").write_text(json.dumps(result.as_dict(), indent=2) + "\n",
                                              encoding="utf-8")
        with (out / "calibration.csv").open("w", newline="", encoding="utf-8") as fh:
            rows = [vars(r) for r in result.runs]
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        (out / "calibrated.toml").write_text(result.rules.to_toml(), encoding="utf-8")
        for name in ("calibration.json", "calibration.csv", "calibrated.toml"):
            console.print(f"wrote {out / name}", markup=False, soft_wrap=True)
    if result.found is None:
        raise typer.Exit(EXIT_POINTS_FAILED)


def pathway_command(
    scenario: Annotated[str, typer.Argument(help="Rules file or preset name.")],
    years: Annotated[str, typer.Option(
        "--years", help="Years to simulate, FIRST-LAST (entry and exit between them).")
    ] = "2025-2035",
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, help="Random seed of the pathway (each year's seed is spawned from "
                              "it); default: the rules' meta.seed.")] = None,
    scale: ScaleOpt = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write pathway.json, pathway.csv, pathway.parquet and report.html "
                      "(with plots/) into this directory.")] = None,
    force: ForceOpt = False,
) -> None:
    """Simulate a decade: the year for each year, with retirements, investment, load growth
    and policy steps between the years (the rules' [pathway] table)."""
    from studies.pathway.output import write_pathway
    from studies.pathway.run import parse_years, run_pathway

    check_out(out, force)
    console = Console(highlight=False)
    try:
        year_list = parse_years(years)
    except ValueError as err:
        fmt.refuse(str(err))
    try:
        rules = _load(scenario)
        chosen = rules.meta.seed if seed is None else seed
        with _progress(Console(stderr=True), "years simulated") as bar:
            task = bar.add_task("pathway", total=len(year_list))
            result = run_pathway(rules, year_list, chosen, scale,
                                 progress=lambda _y, done, _n: bar.update(task, completed=done))
    except MarketError as err:
        _refuse(err)
        return
    # Two tables, the fleet and the market, so that each fits 80 columns with whole numbers.
    head = f"pathway {years}: {scenario}, seed {result.seed}, scale {result.scale:g}"
    fleet = fmt.figures_table(head, [], ["year", "coal\nMW", "wind+solar\nMW", "storage\nMW",
                                         "built\nMW", "retired\nMW"])
    market = fmt.figures_table("", [],
                               ["year", "capacity price\nyuan/kW-yr", "reserve\nmargin",
                                "LOLE\nh", "EUE\nMWh", "consumer cost\nyuan/MWh"])
    for r in result.years:
        cap = r["capacity_price_yuan_per_kw_yr"]
        inst = r["installed_mw"]
        fleet.add_row(
            str(r["year"]), f"{sum(v for t, v in inst.items() if t.startswith('coal')):,.0f}",
            f"{inst['wind'] + inst['solar']:,.0f}", f"{inst['storage']:,.0f}",
            f"{sum(r['built_mw'].values()):,.0f}", f"{sum(r['retired_mw'].values()):,.0f}")
        market.add_row(
            str(r["year"]), fmt.NONE if cap is None else f"{cap:,.2f}",
            f"{r['reserve_margin']:.1%}", str(r["lole_hours"]), f"{r['eue_mwh']:,.1f}",
            f"{r['consumer_cost_yuan_per_mwh']:,.2f}")
    console.print(fleet)
    console.print(market)
    if out is not None:
        write_pathway(result, out)
        console.print(f"outputs written to {out} (report: {out / 'report.html'})", markup=False,
                      soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``compare``, ``sweep``, ``calibrate`` and ``pathway`` to the ``mengxi`` app."""
    app.command("compare")(compare_command)
    app.command("sweep")(sweep_command)
    app.command("calibrate")(calibrate_command)
    app.command("pathway")(pathway_command)
