"""``mengxi bench``: clearing latency beside the sort floor and peers, with the targets."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api import timing as bench


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:,.2f} ms"
    return f"{seconds:,.2f} s"


#: Peak resident memory of a fresh process clearing 1e6 orders, whole process (issue 13).
MEMORY_TARGET_MB = 300.0


def register(app: typer.Typer) -> None:
    """Add the ``bench`` command to the ``mengxi`` app."""

    @app.command("bench")
    def bench_command(
        sizes: Annotated[str, typer.Option(
            help="Comma-separated book sizes for uniform clearing.")] = "1000,10000,100000,1000000",
        budget: Annotated[float, typer.Option(
            min=0.05, help="Seconds of timing per case (median over the runs that fit).")] = 1.0,
        peers: Annotated[bool, typer.Option(
            help="Also time the plain-Python reference and the HiGHS LP.")] = True,
        as_json: Annotated[bool, typer.Option(
            "--json", metavar="", help="A flag: print one JSON object on stdout and nothing "
            "else (progress and notes go to stderr).")] = False,
    ) -> None:
        """Measure warm clearing latency side by side in one run and check the targets.

        Exits with status 1 when a target is missed (each one named on stderr), 2 when the
        options are refused.
        """
        try:
            size_list = [int(s) for s in sizes.split(",") if s.strip()]
        except ValueError:
            size_list = []
        if not size_list or any(n <= 0 for n in size_list):
            Console(stderr=True).print(f"[red]error:[/red] --sizes must be positive integers "
                                       f"separated by commas, got {sizes!r}")
            raise typer.Exit(2)
        console = Console(stderr=as_json)
        # With --json, whatever a library writes to stdout (HiGHS's banner is written by C
        # code) goes to stderr instead, so that stdout holds the JSON alone.
        quiet = bench.stdout_to(2) if as_json else contextlib.nullcontext()
        with quiet:
            compile_s, results, mem = run_cases(console, size_list, budget, peers)
        targets = check_targets(results, mem)
        if as_json:
            sys.stdout.write(json.dumps({
                "results": [asdict(r) for r in results], "compile_seconds": compile_s,
                "peak_memory_mb_1e6": mem, "targets": targets}) + "\n")
            sys.stdout.flush()
        else:
            print_tables(console, results, compile_s, mem, targets)
        missed = [t for t in targets if t["met"] is False]
        if missed:
            err = Console(stderr=True)
            for t in missed:
                err.print(f"[red]target missed:[/red] {t['target']}: measured {t['measured']}")
            raise typer.Exit(1)


def run_cases(console: Console, size_list: list[int], budget: float, peers: bool
              ) -> tuple[dict, list[bench.Measurement], dict | None]:
    """Every case of the command, with progress on ``console``."""
    with console.status("compiling in a fresh process (cache off) ..."):
        compile_s = bench.compile_seconds()
    results = []
    for n in size_list:
        with console.status(f"uniform clearing, {n:,} orders ..."):
            results += bench.measure_uniform([n], budget, with_peers=peers)
    with console.status("batched year: 8,760 auctions x 300 orders ..."):
        results.append(bench.measure_batch(budget_s=budget))
    with console.status("capacity clearing, 100,000 offers ..."):
        results += bench.measure_capacity(100_000, budget)
    with console.status("continuous double auction, 1,000,000 events ..."):
        results.append(bench.measure_continuous(1_000_000, budget))
    if 1_000_000 in size_list:
        with console.status("a CSV book of 1,000,000 orders read and cleared ..."):
            results += bench.measure_csv(1_000_000, budget)
    mem = None
    if 1_000_000 in size_list:
        with console.status("peak memory of a fresh process clearing 1e6 orders ..."):
            mem = bench.peak_memory_mb(1_000_000)
    return compile_s, results, mem


def check_targets(results: list[bench.Measurement], mem: dict | None) -> list[dict]:
    """The targets, each met or not, from this run's figures; a target whose case was not run
    (a size left out of ``--sizes``) is not listed."""
    def t(size: int, engine: str) -> float | None:
        for r in results:
            if r.size == size and r.engine == engine and r.case == "uniform":
                return r.median_s
        return None

    out = []
    pub1k = t(1_000, "from_arrays + clear")
    if pub1k is not None:
        out.append({"target": "from_arrays + clear, 1e3 orders <= 40 µs",
                    "measured": _fmt(pub1k), "met": pub1k <= 40e-6})
    pub1m, sort1m = t(1_000_000, "from_arrays + clear"), t(1_000_000, "np.sort (floor)")
    if pub1m is not None and sort1m:
        out.append({"target": "from_arrays + clear, 1e6 orders <= 1.0x np.sort of the prices",
                    "measured": f"{pub1m / sort1m:.2f}x ({_fmt(pub1m)} vs {_fmt(sort1m)})",
                    "met": pub1m <= sort1m})
    csv = {r.engine: r.median_s for r in results if r.case == "csv"}
    read, arrow = csv.get("from_csv + clear"), csv.get("pyarrow read_csv")
    if read is not None and arrow:
        out.append({"target": "CSV book of 1e6 orders read and cleared <= 2x pyarrow's read",
                    "measured": f"{read / arrow:.2f}x ({_fmt(read)} vs {_fmt(arrow)})",
                    "met": read <= 2 * arrow})
    if mem is not None:
        out.append({"target": f"1e6 orders <= {MEMORY_TARGET_MB:.0f} MB peak resident, whole "
                              "process (import, arrays, from_arrays, clear, read results)",
                    "measured": f"{mem['peak_mb']:,.0f} MB",
                    "met": mem["peak_mb"] <= MEMORY_TARGET_MB})
    t1k = t(1_000, "clear")
    if t1k is not None:
        out.append({"target": "clear on a built book, 1e3 orders <= 50 µs",
                    "measured": _fmt(t1k), "met": t1k <= 50e-6})
    t1m = t(1_000_000, "clear")
    if t1m is not None and sort1m:
        out.append({"target": "clear on a built book, 1e6 orders <= 2x np.sort",
                    "measured": f"{t1m / sort1m:.2f}x ({_fmt(t1m)} vs {_fmt(sort1m)})",
                    "met": t1m <= 2 * sort1m})
    for r in results:
        if r.case == "batch" and r.median_s is not None:
            out.append({"target": "batched year (8,760 x 300) <= 100 ms",
                        "measured": _fmt(r.median_s), "met": r.median_s <= 0.1})
    return out


def print_tables(console: Console, results: list[bench.Measurement], compile_s: dict,
                 mem: dict | None, targets: list[dict]) -> None:
    table = Table(title="Clearing latency (warm medians, this machine, this run)")
    for col in ("case", "orders", "engine", "median", "ns/order", "vs floor", "runs", "note"):
        table.add_column(col, no_wrap=True, justify="right" if col in (
            "orders", "median", "ns/order", "vs floor", "runs") else "left")
    floors = {(r.case, r.size): r.median_s for r in results
              if r.engine.startswith(("np.sort", "pyarrow"))}
    for r in results:
        orders = r.size * (300 if r.case == "batch" else 1)
        per = "-" if r.median_s is None else f"{r.median_s / orders * 1e9:,.1f}"
        floor = floors.get((r.case, r.size))
        ratio = "-" if (r.median_s is None or not floor) else f"{r.median_s / floor:.2f}x"
        size = f"{r.size:,} x 300" if r.case == "batch" else f"{r.size:,}"
        table.add_row(r.case, size, r.engine, _fmt(r.median_s), per, ratio, str(r.runs), r.note)
    console.print(table)
    console.print("first call with the Numba cache off (compile): " + ", ".join(
        f"{k} {v:.2f} s" for k, v in compile_s.items()))
    if mem is not None:
        console.print(f"1e6 orders in a fresh process: peak {mem['peak_mb']:,.0f} MB resident "
                      f"(whole process), of which {mem['baseline_mb']:,.0f} MB after the "
                      f"imports and the input arrays")
    tt = Table(title="Targets")
    tt.add_column("target")
    tt.add_column("measured", justify="right")
    tt.add_column("met")
    for row in targets:
        tt.add_row(row["target"], row["measured"], "[green]yes[/]" if row["met"] else "[red]no[/]")
    console.print(tt)
