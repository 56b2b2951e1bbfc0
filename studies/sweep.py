"""Parameter sweeps on Dask: every point of a grid of rule overrides, for every seed.

``--grid capacity.net_cone_yuan_per_kw_yr=250,330,400`` is one axis; the grid is the cartesian
product of the axes, in the order given. Each (point, seed) is one Dask task that applies the
point's overrides to the base rules (:meth:`MarketRules.with_overrides`, so every rule check
runs), simulates a year and returns its summary (a small dict). Tasks run on a local cluster
of two single-threaded worker processes by default, or on an existing cluster by address.

What is refused up front (:class:`market.errors.StudyInputError`, before any task runs): an
unknown key (with the closest known key), a value that cannot be read as the key's type
(``abc`` for a number, ``1.5`` for a count, ``yes`` for a switch), a key that holds a list or
table, a key or value given twice. A value of the right type that the rules refuse (a ratio
above 1, a cap below the floor together with another axis) fails its point only: the point
is reported with the rules' message and every other point still runs. So does any error
raised inside a task.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import tomllib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearing.jsonable import jsonable
from market.errors import RulesError, StudyInputError
from market.rules import MarketRules
from studies.metrics import KEY_METRICS, seed_problems, summary_value

#: (rules, seed, scale) -> the year's summary dict; :func:`year_summary` by default.
SweepTask = Callable[[MarketRules, int, float | None], Mapping[str, Any]]
#: (step, done, total) -> None.
Progress = Callable[[str, int, int], None]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


# --------------------------------------------------------------------- the grid

@dataclass(frozen=True)
class GridAxis:
    """One swept key: ``values`` typed as the key's value in the rules, ``texts`` as given."""

    key: str
    values: tuple[Any, ...]
    texts: tuple[str, ...]


def _walk(data: Any, key: str) -> tuple[bool, Any]:
    """(found, value) at the dotted key path (``a.b[2].c``) of nested dicts and lists."""
    node = data
    pos = 0
    for match in _SEGMENT.finditer(key):
        if key[pos:match.start()] not in ("", "."):
            return False, None
        name, index = match.groups()
        if name is not None:
            if not isinstance(node, dict) or name not in node:
                return False, None
            node = node[name]
        else:
            i = int(index)
            if not isinstance(node, list | tuple) or not 0 <= i < len(node):
                return False, None
            node = node[i]
        pos = match.end()
    return (pos == len(key) and pos > 0), node


def _typed(key: str, text: str, current: Any) -> tuple[Any, str | None]:
    """``text`` read as the type of ``current``; (value, None) or (None, problem)."""
    try:
        literal = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        literal = None
    if isinstance(current, bool):
        if isinstance(literal, bool):
            return literal, None
        return None, f"{key}: {text!r} is not a switch (write true or false)"
    if isinstance(current, int):
        if isinstance(literal, int) and not isinstance(literal, bool):
            return literal, None
        return None, f"{key}: {text!r} is not a whole number"
    if isinstance(current, float):
        if isinstance(literal, int | float) and not isinstance(literal, bool):
            return float(literal), None
        return None, f"{key}: {text!r} is not a number"
    if isinstance(current, str):
        return (literal if isinstance(literal, str) else text), None
    # an optional value that is unset: read it as TOML, else as text
    return (text if literal is None else literal), None


def _not_single(key: str, current: Any) -> str | None:
    """Why ``key`` cannot be swept (it holds a list or a table), or None."""
    if isinstance(current, list | tuple):
        return (f"{key} is a list; a grid sweeps single values "
                f"(name one element, e.g. {key}[0]...)")
    if isinstance(current, dict):
        return f"{key} is a table; a grid sweeps single values (name a key inside it)"
    return None


def parse_grid(rules: MarketRules, specs: Sequence[str]) -> tuple[GridAxis, ...]:
    """Read ``key=v1,v2,...`` specs into axes, each value typed like the key's value in
    ``rules``. Raises :class:`StudyInputError` listing every problem (see the module doc)."""
    data = rules.model_dump(mode="python")
    problems: list[str] = []
    axes: list[GridAxis] = []
    seen: set[str] = set()
    if not specs:
        problems.append("no grid: give at least one --grid KEY=V1,V2,...")
    for spec in specs:
        key, sep, rest = spec.partition("=")
        key = key.strip()
        texts = [t.strip() for t in rest.split(",")]
        if not sep or not key or not rest.strip():
            problems.append(f"{spec!r}: write KEY=V1,V2,... "
                            f"(e.g. capacity.net_cone_yuan_per_kw_yr=250,330)")
            continue
        if key in seen:
            problems.append(f"{key}: given twice; put all its values in one --grid")
            continue
        seen.add(key)
        found, current = _walk(data, key)
        if not found:
            try:
                rules.with_overrides({key: 0})
                problems.append(f"{key}: not a key of the rules")
            except RulesError as err:
                problems.extend(f"{getattr(p, 'path', key) or key}: "
                                f"{getattr(p, 'message', p)}" for p in err.problems)
            continue
        problem = _not_single(key, current)
        if problem is not None:
            problems.append(problem)
            continue
        if "" in texts:
            problems.append(f"{key}: an empty value in {rest!r}")
            continue
        if len(set(texts)) != len(texts):
            problems.append(f"{key}: a value repeats in {rest!r}")
            continue
        values = []
        for text in texts:
            value, problem = _typed(key, text, current)
            if problem is not None:
                problems.append(problem)
            values.append(value)
        axes.append(GridAxis(key, tuple(values), tuple(texts)))
    if problems:
        raise StudyInputError(problems)
    return tuple(axes)


def grid_points(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values as an overrides dict; the last axis varies
    fastest."""
    keys = [a.key for a in axes]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(a.values for a in axes))]


# --------------------------------------------------------------------- the task

def year_summary(rules: MarketRules, seed: int, scale: float | None) -> dict[str, Any]:
    """The default sweep task: ``run_year(rules, seed, scale).summary``."""
    from studies.year.run import run_year  # the year engine, imported on the worker

    return run_year(rules, seed, scale=scale).summary


def run_point(task: SweepTask, rules: MarketRules, overrides: Mapping[str, Any], seed: int,
              scale: float | None) -> tuple[str, Any]:
    """Apply ``overrides`` and run ``task``; ``("ok", summary)`` or ``("failed", message)``.

    Runs on a worker: every error is caught and returned as text, so one failing point never
    takes the sweep down and nothing unpicklable travels back.
    """
    try:
        point_rules = rules.with_overrides(dict(overrides)) if overrides else rules
        return "ok", dict(task(point_rules, seed, scale))
    except Exception as err:  # reported with its point, the rest go on
        return "failed", f"{type(err).__name__}: {err}"


# --------------------------------------------------------------------- the sweep

@dataclass(frozen=True)
class SweepRow:
    """One (point, seed): ``point`` numbers the grid points, ``overrides`` its values;
    ``status`` is ``"ok"`` (``summary`` set) or ``"failed"`` (``error`` set)."""

    point: int
    overrides: dict[str, Any]
    seed: int
    status: str
    summary: dict[str, Any] | None
    error: str | None

    def metric(self, path: str) -> float | None:
        """The summary's number at ``path``; None when failed, null or absent."""
        if self.summary is None:
            return None
        try:
            return summary_value(self.summary, path)
        except KeyError:
            return None


@dataclass(frozen=True)
class SweepResult:
    """Every (point, seed) of a sweep, ordered by point then seed."""

    rules_name: str
    rules_sha256: str
    axes: tuple[GridAxis, ...]
    seeds: tuple[int, ...]
    scale: float | None
    metrics: tuple[str, ...]
    rows: tuple[SweepRow, ...]

    @property
    def failed(self) -> tuple[SweepRow, ...]:
        return tuple(r for r in self.rows if r.status != "ok")

    def point_table(self) -> list[dict[str, Any]]:
        """One dict per grid point: its overrides, ``ok`` and ``failed`` seed counts, the
        distinct error messages and the mean of each metric over the seeds that ran."""
        out = []
        for point, group in itertools.groupby(self.rows, key=lambda r: r.point):
            rows = list(group)
            ok = [r for r in rows if r.status == "ok"]
            entry: dict[str, Any] = {"point": point, **rows[0].overrides, "ok": len(ok),
                                     "failed": len(rows) - len(ok),
                                     "errors": sorted({r.error for r in rows if r.error})}
            for m in self.metrics:
                values = [v for v in (r.metric(m) for r in ok) if v is not None]
                entry[m] = math.fsum(values) / len(values) if values else None
            out.append(entry)
        return out


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, client: Any = None, n_workers: int = 2,
                connect_timeout: str = "10s") -> Iterator[Any]:
    """A Dask ``Client``: ``client`` itself (left open), one connected to ``scheduler`` (an
    address such as ``tcp://10.0.0.5:8786``), or a new local cluster of ``n_workers``
    single-threaded worker processes; the last two are closed on exit. An unreachable
    scheduler raises :class:`StudyInputError` after ``connect_timeout``."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            remote = Client(scheduler, timeout=connect_timeout)
        except (OSError, TimeoutError) as err:
            raise StudyInputError([f"cannot reach the Dask scheduler at {scheduler}: {err}"]
                                  ) from None
        with remote:
            yield remote
        return
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as local:
        yield local


def run_sweep(rules: MarketRules, axes: Sequence[GridAxis], seeds: Sequence[int],
              scale: float | None = None, *, metrics: Sequence[str] = KEY_METRICS,
              scheduler: str | None = None, client: Any = None, task: SweepTask | None = None,
              n_workers: int = 2, progress: Progress | None = None) -> SweepResult:
    """Run every grid point of ``axes`` for every seed on Dask and gather the summaries.

    ``task(rules, seed, scale)`` returns a summary (:func:`year_summary` by default; a test
    may pass another). A point whose overrides the rules refuse, or whose task raises, is a
    ``failed`` row with the message; the others finish. Raises :class:`StudyInputError` for
    no seeds, repeated seeds, a scale that is not > 0 or an unreachable scheduler.
    """
    seeds = tuple(int(s) for s in seeds)
    problems = seed_problems(seeds)
    if scale is not None and not (isinstance(scale, int | float) and math.isfinite(scale)
                                  and scale > 0):
        problems.append(f"scale must be a number > 0 (1 is the full Mengxi fleet), "
                        f"got {scale!r}")
    if problems:
        raise StudyInputError(problems)
    task = task or year_summary
    points = grid_points(axes)
    jobs = [(i, point, seed) for i, point in enumerate(points) for seed in seeds]
    results: dict[tuple[int, int], tuple[str, Any]] = {}
    token = uuid.uuid4().hex[:12]  # keys unique on a shared cluster
    with dask_client(scheduler, client, n_workers) as dask:
        from distributed import as_completed

        futures = {dask.submit(run_point, task, rules, point, seed, scale, pure=False,
                               key=f"mengxi-sweep-{token}-{i}-{seed}"): (i, seed)
                   for i, point, seed in jobs}
        for done, future in enumerate(as_completed(futures), start=1):
            try:
                results[futures[future]] = future.result()
            except Exception as err:  # a lost worker fails its point only
                results[futures[future]] = ("failed", f"{type(err).__name__}: {err}")
            if progress is not None:
                progress("sweep", done, len(jobs))
    rows = []
    for i, point, seed in jobs:
        status, payload = results[(i, seed)]
        ok = status == "ok"
        rows.append(SweepRow(i, point, seed, status, payload if ok else None,
                             None if ok else str(payload)))
    return SweepResult(rules.meta.name, rules.sha256(), tuple(axes), seeds, scale,
                       tuple(metrics), tuple(rows))


# --------------------------------------------------------------------- output files

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def one_line(message: str | None) -> str:
    """An error message on one line (rules errors list their problems on several)."""
    return " ".join(part.strip() for part in (message or "").splitlines() if part.strip())


def write_sweep(result: SweepResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``sweep.csv`` (one row per point and seed: keys, seed, status, error, metrics),
    ``sweep.json`` (the same with every summary) and ``sweep.png`` into ``out_dir``."""
    import csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "sweep.csv", "json": out / "sweep.json", "png": out / "sweep.png"}
    keys = [a.key for a in result.axes]
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["point", *keys, "seed", "status", "error", *result.metrics])
        for r in result.rows:
            writer.writerow([r.point, *(_cell(r.overrides[k]) for k in keys), r.seed, r.status,
                             one_line(r.error), *(_cell(r.metric(m)) for m in result.metrics)])
    data = {
        "rules_name": result.rules_name, "rules_sha256": result.rules_sha256,
        "grid": {a.key: list(a.values) for a in result.axes},
        "seeds": list(result.seeds), "scale": result.scale, "metrics": list(result.metrics),
        "points": result.point_table(),
        "rows": [{"point": r.point, "overrides": r.overrides, "seed": r.seed,
                  "status": r.status, "error": r.error, "summary": r.summary}
                 for r in result.rows],
    }
    paths["json"].write_text(json.dumps(jsonable(data), indent=2, sort_keys=True, allow_nan=False)
                             + "\n", encoding="utf-8")
    plot_sweep(result).savefig(paths["png"], format="png", metadata={"Software": None})
    return paths


#: Metrics drawn in ``sweep.png`` when the sweep reports them (at most four panels).
PLOT_METRICS = ("energy.avg_price_yuan_per_mwh", "consumer_cost_yuan.total",
                "capacity.clearing_price_yuan_per_kw_yr", "renewable_share")


def plot_sweep(result: SweepResult) -> Any:
    """Up to four panels, one per metric (:data:`PLOT_METRICS` first, then the sweep's
    others): the mean over seeds against the first axis, one line per combination of the
    other axes; failed points are left out and counted in the title."""
    from matplotlib.figure import Figure

    table = result.point_table()
    wanted = [m for m in PLOT_METRICS if m in result.metrics] + [
        m for m in result.metrics if m not in PLOT_METRICS]
    shown = [m for m in wanted if any(row[m] is not None for row in table)][:4]
    fig = Figure(figsize=(12.0, 8.0), dpi=100, layout="constrained")
    failed = sum(1 for row in table if row["ok"] == 0)
    fig.suptitle(f"Sweep of {result.rules_name} over {len(result.seeds)} seed(s)"
                 + (f"; {failed} point(s) failed, not drawn" if failed else ""))
    if not shown or not result.axes:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no metric to draw", ha="center", va="center")
        return fig
    first, rest = result.axes[0], result.axes[1:]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in first.values)
    xs = list(first.values) if numeric else list(range(len(first.values)))
    for k, metric in enumerate(shown):
        ax = fig.add_subplot(2, 2, k + 1)
        for combo in itertools.product(*(a.values for a in rest)):
            fixed = dict(zip((a.key for a in rest), combo, strict=True))
            ys = []
            for value in first.values:
                row = next(r for r in table if r[first.key] == value
                           and all(r[key] == v for key, v in fixed.items()))
                ys.append(math.nan if row[metric] is None else row[metric])
            label = ", ".join(f"{key.rsplit('.', 1)[-1]}={v}" for key, v in fixed.items())
            ax.plot(xs, ys, marker="o", label=label or None)
        if not numeric:
            ax.set_xticks(xs, list(first.texts))
        ax.set_xlabel(first.key)
        ax.set_title(metric, fontsize=10)
        ax.grid(True, alpha=0.3)
        if rest:
            ax.legend(fontsize=8)
    return fig
