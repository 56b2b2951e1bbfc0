"""Where ``mengxi simulate mengxi`` spends its time and memory: phase -> seconds, MB.

Run: ``python benchmarks/main_job_phases.py [--scale 1] [--seed S] [--out DIR]``. It does what
the command does, in the same order (imports, the year's steps as ``run_year`` reports them,
the summary table, the files, the report with its plots, drawn by the plots' child process
when the tree has one) and prints one line per phase: wall and CPU seconds of this process,
the resident size at its end and the process's peak so far (``VmRSS`` / ``VmHWM`` from
``/proc/self/status``, MB); then the CPU seconds of this process and of its children. Run it
twice: the first run of a fresh install also compiles the Numba kernels. For the command's
own figures use ``/usr/bin/time -v mengxi simulate mengxi`` (wall clock, maximum resident set
size).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

T0 = time.perf_counter()
C0 = time.process_time()


def _status_mb() -> tuple[float, float]:
    rss = hwm = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return rss, hwm


class Phases:
    """Wall time and memory at the end of each phase."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float, float]] = []
        self.last = T0
        self.last_cpu = C0

    def mark(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        rss, hwm = _status_mb()
        self.rows.append((name, now - self.last, cpu - self.last_cpu, rss, hwm))
        self.last, self.last_cpu = now, cpu

    def table(self) -> str:
        lines = [f"{'phase':<28}{'wall s':>8}{'CPU s':>8}{'RSS MB':>9}{'peak MB':>9}"]
        for name, s, cpu, rss, hwm in self.rows:
            lines.append(f"{name:<28}{s:>8.2f}{cpu:>8.2f}{rss:>9.0f}{hwm:>9.0f}")
        lines.append(f"{'total':<28}{time.perf_counter() - T0:>8.2f}"
                     f"{time.process_time() - C0:>8.2f}")
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", default="/tmp/mengxi-phases")
    parser.add_argument("--json", action="store_true", help="print the phases as JSON")
    args = parser.parse_args()
    ph = Phases()
    from rich.console import Console

    import api.cli  # noqa: F401  (what the console script imports first)
    from api.cli.simulate import load_scenario, summary_table

    ph.mark("imports (api.cli)")
    from studies.output.files import write_outputs
    from studies.year import run_year

    ph.mark("imports (studies)")
    rules, _ = load_scenario("mengxi")
    seed = rules.meta.seed if args.seed is None else args.seed
    try:  # as the command does: the plots' child processes, started before the year
        from studies.output.plots import start_workers
    except ImportError:  # an older tree (for before/after runs): plots drawn in-process
        start_workers = None
    worker = start_workers() if start_workers is not None else None
    seen: set[str] = set()

    def progress(step: str, done: int, total: int) -> None:
        if done == total and step not in seen and not (extra and step == "tables"):
            seen.add(step)
            ph.mark(f"year: {step}")

    out = Path(args.out)
    extra = {}
    if worker is not None:  # as the command does: the plots get the tables before the metrics
        from studies.output.plots import send_hourly, send_year

        def tables_ready(result: object) -> None:
            ph.mark("year: tables")
            send_year(worker, result, out / "plots")

        def hourly_ready(hourly: object) -> None:  # the early plots, drawn during settlement
            send_hourly(worker, hourly, out / "plots")

        extra["tables_ready"] = tables_ready
        extra["hourly_ready"] = hourly_ready
    result = run_year(rules, seed, args.scale, progress=progress, **extra)
    if extra:
        ph.mark("year: market power")
    Console(file=open("/dev/null", "w")).print(summary_table(result.summary))
    ph.mark("summary table")
    write_outputs(result, out)
    ph.mark("files")
    from studies.output.report import write_report

    if worker is not None:
        write_report(result, out, plot_worker=worker)
    else:
        write_report(result, out)
    ph.mark("report and plots")
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (f"CPU s: this process {own.ru_utime + own.ru_stime:.2f}, "
           f"child processes {kids.ru_utime + kids.ru_stime:.2f}")
    if args.json:
        print(json.dumps([{"phase": n, "s": round(s, 3), "cpu_s": round(c, 3),
                           "rss_mb": round(r), "peak_mb": round(h)}
                          for n, s, c, r, h in ph.rows]))
    else:
        print(ph.table())
        print(cpu)


if __name__ == "__main__":
    main()
