"""One rule set over several seeds: each headline figure's mean and its 95 % interval.

``mengxi simulate SCENARIO --seeds N`` runs the year of the same rules for N seeds and reports,
for every headline figure of the year's summary (:data:`HEADLINE`, the figures ``mengxi
simulate`` prints), the mean over the seeds and a 95 % confidence interval of that mean.

* **Seeds** are consecutive integers: ``first, first + 1, ..., first + N - 1`` (the seeds
  ``mengxi compare`` and ``mengxi sweep`` take). Each is a year's own seed: ``run_year``
  spawns its weather, fleet, outage and agent streams from ``SeedSequence(seed)``, so seed 7
  here is exactly ``mengxi simulate --seed 7``, and consecutive seeds give independent years.
* **Interval**: Student's t, ``mean ± t(0.975, n - 1) · sd / sqrt(n)`` with the sample
  standard deviation over the n seeds where the figure is defined (``None`` where a figure is
  null, such as the capacity price without a capacity market); the t quantile is
  :func:`studies.compare.t_quantile` (scipy). It is the uncertainty of the mean over seeds,
  not the range a single year falls in. With n < 2 there is no interval (``low`` and ``high``
  are ``None``).
* **Where**: one year after another in this process by default; with ``scheduler`` (an
  address, or ``"local"`` for a local cluster of two worker processes) or a Dask ``client``,
  each seed is one task of :func:`studies.sweep.run_sweep` (a sweep with no grid axes).

:func:`run_seeds` returns one :class:`SeedRecord` per seed, :func:`spread` the statistics,
:func:`write_seeds` ``seeds.json`` (the records and the spread) and ``seeds.csv`` (one row per
seed), byte for byte the same for the same rules, seeds and scale.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from clearing.jsonable import jsonable
from market.errors import StudyInputError
from market.rules import MarketRules
from studies.metrics import seed_problems, summary_value

#: (step, done, total) -> None.
Progress = Callable[[str, int, int], None]
#: (rules, seed, scale, strategies) -> the year's summary dict.
YearSummary = Callable[[MarketRules, int, float | None, Mapping[str, str] | None],
                       Mapping[str, Any]]

#: The headline figures of a year's summary: (dotted path, label as ``mengxi simulate`` prints
#: it, unit). Sums of money are in yuan.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("energy.avg_price_yuan_per_mwh", "energy price, load-weighted", "yuan/MWh"),
    ("energy.stress_hours", "stress hours", "h"),
    ("energy.unserved_mwh", "unserved energy", "MWh"),
    ("capacity.clearing_price_yuan_per_kw_yr", "capacity price", "yuan/kW-yr"),
    ("capacity.cleared_mw", "capacity cleared", "MW"),
    ("capacity.penalties_yuan", "capacity penalties", "yuan"),
    ("compensation.paid_yuan", "compensation paid (net)", "yuan"),
    ("compensation.deducted_yuan", "compensation deducted", "yuan"),
    ("green.certificates_issued", "certificates issued", "certificates"),
    ("green.certificates_retired", "certificates retired", "certificates"),
    ("green.avg_premium_yuan_per_mwh", "green premium", "yuan/MWh"),
    ("renewable_share", "renewable share", "fraction"),
    ("consumer_cost_yuan.total", "consumer cost", "yuan"),
    ("ledger.imbalance_yuan", "ledger imbalance", "yuan"),
)
FIGURES: tuple[str, ...] = tuple(path for path, _, _ in HEADLINE)
CONFIDENCE = 0.95


@dataclass(frozen=True)
class SeedRecord:
    """One seed's year: ``figures`` maps each path of :data:`FIGURES` to its value (``None``
    where the summary holds null)."""

    seed: int
    figures: dict[str, float | None]


def year_summary(rules: MarketRules, seed: int, scale: float | None,
                 strategies: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``run_year(rules, seed, scale, strategies).summary``: the default year."""
    from studies.year.run import run_year  # the year engine, imported when first needed

    return run_year(rules, seed, scale, strategies=strategies).summary


def record(seed: int, summary: Mapping[str, Any]) -> SeedRecord:
    """The headline figures of one year's summary (a ``KeyError`` if one is missing)."""
    return SeedRecord(int(seed), {path: summary_value(summary, path) for path in FIGURES})


def _sweep_task(year: YearSummary, strategies: Mapping[str, str] | None,
                rules: MarketRules, seed: int, scale: float | None) -> Mapping[str, Any]:
    return year(rules, seed, scale, strategies)


def run_seeds(rules: MarketRules, seeds: Sequence[int], scale: float | None = None, *,
              strategies: Mapping[str, str] | None = None, scheduler: str | None = None,
              client: Any = None, year: YearSummary | None = None,
              progress: Progress | None = None) -> tuple[SeedRecord, ...]:
    """Simulate ``rules`` once per seed (``scale``: the fleet scale, ``None`` the rules' own;
    ``strategies`` as ``run_year`` takes them) and return the records in ``seeds`` order.

    In this process unless ``scheduler`` or ``client`` is given (see the module docstring).
    ``year`` replaces :func:`year_summary` (a test's stand-in). Raises
    :class:`StudyInputError` for no seeds, a repeated or negative seed, or any year that fails
    (on Dask, every failed seed with its message).
    """
    seeds = tuple(int(s) for s in seeds)
    problems = seed_problems(seeds, "give at least one (two for an interval)")
    if problems:
        raise StudyInputError(problems)
    year = year or year_summary
    if scheduler is None and client is None:
        out = []
        for done, seed in enumerate(seeds, start=1):
            out.append(record(seed, year(rules, seed, scale, strategies)))
            if progress is not None:
                progress("seeds", done, len(seeds))
        return tuple(out)
    from studies.sweep import run_sweep

    result = run_sweep(rules, (), seeds, scale, metrics=FIGURES,
                       scheduler=None if scheduler == "local" else scheduler, client=client,
                       task=partial(_sweep_task, year, strategies), progress=progress)
    failed = [f"seed {r.seed}: {r.error}" for r in result.rows if r.summary is None]
    if failed:
        raise StudyInputError(failed)
    return tuple(record(r.seed, r.summary) for r in result.rows if r.summary is not None)


def spread(records: Sequence[SeedRecord], confidence: float = CONFIDENCE
           ) -> dict[str, dict[str, float | int | None]]:
    """Per figure of :data:`FIGURES`: ``mean``, ``low`` and ``high`` (the t interval of the
    mean, see the module docstring) and ``n``, the seeds where the figure is defined."""
    from studies.compare import t_quantile

    out: dict[str, dict[str, float | int | None]] = {}
    for path in FIGURES:
        values = [v for v in (r.figures.get(path) for r in records) if v is not None]
        n = len(values)
        mean = math.fsum(values) / n if n else None
        low = high = None
        if mean is not None and n >= 2:
            sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
            half = t_quantile(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n)
            low, high = mean - half, mean + half
        out[path] = {"mean": mean, "low": low, "high": high, "n": n}
    return out


def seeds_json(rules: MarketRules, scale: float | None, records: Sequence[SeedRecord],
               strategies: Mapping[str, str] | None = None) -> str:
    """The text of ``seeds.json``: the rules' name and hash, scale, seeds, strategies, the
    interval's definition, each seed's figures and the spread; keys sorted, indent 2."""
    data = {
        "rules_name": rules.meta.name, "rules_sha256": rules.sha256(), "scale": scale,
        "seeds": [r.seed for r in records], "strategies": dict(strategies or {}),
        "confidence": CONFIDENCE, "interval": "student-t of the mean over seeds",
        "units": {path: unit for path, _, unit in HEADLINE},
        "records": [{"seed": r.seed, **r.figures} for r in records],
        "spread": spread(records),
    }
    return json.dumps(jsonable(data), indent=2, sort_keys=True, allow_nan=False) + "\n"


def seeds_csv(records: Sequence[SeedRecord]) -> str:
    """The text of ``seeds.csv``: a ``seed`` column and one column per figure (its dotted
    path; empty where null), one row per seed."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["seed", *FIGURES])
    for r in records:
        writer.writerow([r.seed, *("" if r.figures[p] is None else repr(r.figures[p])
                                   for p in FIGURES)])
    return buf.getvalue()


def _shown(value: float | None, unit: str) -> tuple[str, str]:
    """(value as the page shows it, unit): yuan as million yuan, a fraction as %."""
    from studies.output.figures.canvas import MONEY_DIVISOR, MONEY_UNIT
    from studies.output.report import format_value

    if unit == "yuan":
        return format_value(None if value is None else value / MONEY_DIVISOR), MONEY_UNIT
    if unit == "fraction":
        return format_value(None if value is None else 100.0 * value), "%"
    return format_value(value), unit


def seeds_html(rules: MarketRules, scale: float | None, records: Sequence[SeedRecord]) -> str:
    """The text of ``seeds.html``: the spread of every headline figure (mean, 95 % interval,
    n) and each seed's figures, rendered with Jinja2 (``templates/seeds.html.j2``)."""
    from studies.output.report import report_environment

    stats = spread(records)
    rows = []
    for path, label, unit in HEADLINE:
        s = stats[path]
        mean, shown_unit = _shown(s["mean"], unit)
        low, _ = _shown(s["low"], unit)
        high, _ = _shown(s["high"], unit)
        interval = "\u2014" if s["low"] is None else f"{low} to {high}"
        rows.append({"label": label, "unit": shown_unit, "mean": mean, "interval": interval,
                     "n": s["n"]})
    per_seed = [{"seed": r.seed, "cells": [_shown(r.figures.get(p), u)[0]
                                            for p, _, u in HEADLINE]} for r in records]
    return report_environment().get_template("seeds.html.j2").render(
        rules_name=rules.meta.name, rules_sha256=rules.sha256(),
        seeds=[r.seed for r in records], scale_text="the rules' own" if scale is None
        else f"{scale:g}", rows=rows, per_seed=per_seed)


def write_seeds(out_dir: str | Path, rules: MarketRules, scale: float | None,
                records: Sequence[SeedRecord], strategies: Mapping[str, str] | None = None
                ) -> dict[str, Path]:
    """Write ``seeds.json``, ``seeds.csv`` and ``seeds.html`` (the spread as a page) into
    ``out_dir`` (created); their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "seeds.json", "csv": out / "seeds.csv", "html": out / "seeds.html"}
    paths["json"].write_bytes(seeds_json(rules, scale, records, strategies).encode("utf-8"))
    paths["csv"].write_bytes(seeds_csv(records).encode("utf-8"))
    paths["html"].write_bytes(seeds_html(rules, scale, records).encode("utf-8"))
    return paths
