"""Paired comparisons of two rule sets: the same seeds under A and under B.

Each seed gives one simulated year under each rule set; the weather, outages and agents' draws
follow the seed, so the per-seed difference B - A removes most of the noise the two years share.
For every metric (a dotted path of the summary, :data:`studies.metrics.KEY_METRICS` by default)
the comparison reports the mean of A, of B, the mean difference and its two-sided 95 %
confidence interval from Student's t with n - 1 degrees of freedom:
``mean ± t(0.975, n-1) · sd / sqrt(n)``. A rule set compared with itself gives differences of
exactly zero and intervals [0, 0].

The t quantile and distribution function come from :mod:`scipy.stats` (imported when first
needed, so importing this module stays cheap).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from market.errors import StudyInputError
from studies.metrics import KEY_METRICS, seed_problems, summary_value

#: (step, done, total) -> None, as ``run_year`` takes it.
Progress = Callable[[str, int, int], None]
#: (rules, seed, scale) -> an object with a ``summary`` dict: ``run_year`` or a stand-in.
RunYear = Callable[..., Any]


# --------------------------------------------------------------------- Student's t

def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    from scipy.special import betainc

    return float(betainc(a, b, x))


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` > 0 degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    from scipy.stats import t as student_t

    return float(student_t.cdf(t, df))


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` > 0 degrees of freedom (0 < p < 1):
    ``t_quantile(0.975, 9)`` = 2.2621571627982.... Lower quantiles are the negated upper ones,
    so ``t_quantile(1 - p, df) == -t_quantile(p, df)`` exactly."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    from scipy.stats import t as student_t

    return float(student_t.ppf(p, df))


# --------------------------------------------------------------------- paired statistics

@dataclass(frozen=True)
class MetricDifference:
    """One metric of a comparison. ``n`` counts the seeds where the metric is defined under
    both rule sets; means and the interval are over those seeds (``None`` when n is too small:
    no pair for the means, fewer than two for the interval)."""

    metric: str
    n: int
    mean_a: float | None
    mean_b: float | None
    mean_diff: float | None
    std_diff: float | None
    ci_low: float | None
    ci_high: float | None


def paired_difference(metric: str, a: Sequence[float | None], b: Sequence[float | None],
                      confidence: float = 0.95) -> MetricDifference:
    """Mean of ``b - a`` over the pairs where both are numbers, with its t-based interval."""
    if len(a) != len(b):
        raise ValueError(f"{metric}: {len(a)} values under A but {len(b)} under B")
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    n = len(pairs)
    if n == 0:
        return MetricDifference(metric, 0, None, None, None, None, None, None)
    xs = [x for x, _ in pairs]
    ys = [y for _, y in pairs]
    diffs = [y - x for x, y in pairs]
    mean = math.fsum(diffs) / n
    if n < 2:
        return MetricDifference(metric, n, math.fsum(xs) / n, math.fsum(ys) / n, mean,
                                None, None, None)
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in diffs) / (n - 1))
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n)
    return MetricDifference(metric, n, math.fsum(xs) / n, math.fsum(ys) / n, mean, sd,
                            mean - half, mean + half)


# --------------------------------------------------------------------- running a comparison

@dataclass(frozen=True)
class Comparison:
    """Both rule sets over the same seeds. ``values_a[metric]`` and ``values_b[metric]`` hold
    one value per seed (in ``seeds`` order; ``None`` where undefined); ``rows`` one
    :class:`MetricDifference` per metric, B - A."""

    name_a: str
    name_b: str
    sha256_a: str
    sha256_b: str
    seeds: tuple[int, ...]
    scale: float | None
    metrics: tuple[str, ...]
    values_a: dict[str, list[float | None]] = field(repr=False)
    values_b: dict[str, list[float | None]] = field(repr=False)
    rows: tuple[MetricDifference, ...] = ()
    strategies_a: dict[str, str] = field(default_factory=dict)
    strategies_b: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what ``comparison.json`` holds)."""
        return {"a": {"rules_name": self.name_a, "rules_sha256": self.sha256_a,
                      "strategies": self.strategies_a},
                "b": {"rules_name": self.name_b, "rules_sha256": self.sha256_b,
                      "strategies": self.strategies_b},
                "seeds": list(self.seeds), "scale": self.scale, "difference": "b - a",
                "confidence": 0.95, "metrics": [asdict(r) for r in self.rows],
                "values_a": self.values_a, "values_b": self.values_b}


def _default_run() -> RunYear:
    from studies.year.run import run_year  # the year engine, imported when first needed

    return run_year


def _metric_values(summary: Mapping[str, Any], metrics: Sequence[str]
                   ) -> tuple[list[float | None], list[str]]:
    values: list[float | None] = []
    problems = []
    for m in metrics:
        try:
            values.append(summary_value(summary, m))
        except KeyError as err:
            values.append(None)
            problems.append(f"metric {err.args[0]}")
    return values, problems


def compare_rules(rules_a: Any, rules_b: Any, seeds: Sequence[int], scale: float | None = None,
                  metrics: Sequence[str] = KEY_METRICS, *, run: RunYear | None = None,
                  progress: Progress | None = None,
                  strategies_a: Mapping[str, Any] | None = None,
                  strategies_b: Mapping[str, Any] | None = None) -> Comparison:
    """Run ``rules_a`` and ``rules_b`` (``MarketRules``) on every seed and compare the metrics.

    ``run(rules, seed, scale=scale)`` simulates one year (``studies.year.run.run_year`` by
    default), with ``strategies=`` the side's ``strategies_a`` or ``strategies_b`` when given
    (owner, technology or role -> strategy name, e.g. ``{"genco-1": "policy:PATH"}``): the
    same rules with a learned bidder against the truthful one is a comparison too. Raises
    :class:`StudyInputError` for no seeds, repeated seeds, or a metric that is not a number
    in the summaries (checked on the first seed, before the rest run).
    """
    seeds = tuple(int(s) for s in seeds)
    metrics = tuple(metrics)
    problems = seed_problems(seeds, "give at least one (two for a confidence interval)")
    if not metrics:
        problems.append("no metrics to compare")
    if problems:
        raise StudyInputError(problems)
    run = run or _default_run()
    values_a: dict[str, list[float | None]] = {m: [] for m in metrics}
    values_b: dict[str, list[float | None]] = {m: [] for m in metrics}
    total = 2 * len(seeds)
    sides = ((rules_a, values_a, strategies_a), (rules_b, values_b, strategies_b))
    for i, seed in enumerate(seeds):
        for j, (rules, store, strategies) in enumerate(sides):
            extra = {} if not strategies else {"strategies": dict(strategies)}
            summary = run(rules, seed, scale=scale, **extra).summary
            row, bad = _metric_values(summary, metrics)
            if bad:
                raise StudyInputError(sorted(set(bad)))
            for m, v in zip(metrics, row, strict=True):
                store[m].append(v)
            if progress is not None:
                progress("compare", 2 * i + j + 1, total)
    rows = tuple(paired_difference(m, values_a[m], values_b[m]) for m in metrics)
    return Comparison(rules_a.meta.name, rules_b.meta.name, rules_a.sha256(), rules_b.sha256(),
                      seeds, scale, metrics, values_a, values_b, rows,
                      {str(k): str(v) for k, v in (strategies_a or {}).items()},
                      {str(k): str(v) for k, v in (strategies_b or {}).items()})


# --------------------------------------------------------------------- output files

CSV_COLUMNS = ("metric", "n", "mean_a", "mean_b", "mean_diff", "std_diff", "ci_low", "ci_high")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _absolute(value: float) -> str:
    """A difference as a short label: thousands separators, four significant digits."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def relative_label(row: MetricDifference) -> str:
    """The y label of a metric in :func:`plot_comparison`: the metric alone when its change
    is drawn as a percentage of A; with a zero mean under A, where no percentage exists, the
    absolute change and its interval ``(A = 0; B - A = 12.5, 95 % CI [3.1, 21.9])``; with no
    seed defining it under both, ``(no data)``."""
    if row.mean_diff is None or row.mean_a is None:
        return f"{row.metric} (no data)"
    if row.mean_a == 0.0:
        ci = ("" if row.ci_low is None or row.ci_high is None
              else f", 95 % CI [{_absolute(row.ci_low)}, {_absolute(row.ci_high)}]")
        return f"{row.metric} (A = 0; B \u2212 A = {_absolute(row.mean_diff)}{ci})"
    return row.metric


def plot_comparison(comparison: Comparison) -> Any:
    """A forest plot: each metric's mean difference B - A as a percentage of its mean under A,
    with the 95 % interval; a metric whose mean under A is zero has no percentage and is
    labelled with its absolute change instead (:func:`relative_label`)."""
    from matplotlib.figure import Figure

    rows = comparison.rows
    fig = Figure(figsize=(10.0, 1.5 + 0.4 * max(len(rows), 1)), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(f"{comparison.name_b} \u2212 {comparison.name_a}, paired over "
                 f"{len(comparison.seeds)} seeds (mean and 95 % CI, % of A)")
    labels = []
    for i, r in enumerate(rows):
        y = len(rows) - 1 - i
        labels.append(relative_label(r))
        if r.mean_diff is None or r.mean_a is None or r.mean_a == 0.0:
            continue
        scale = 100.0 / abs(r.mean_a)
        ax.plot([r.mean_diff * scale], [y], "o", color="#2b8cbe")
        if r.ci_low is not None and r.ci_high is not None:
            ax.plot([r.ci_low * scale, r.ci_high * scale], [y, y], color="#2b8cbe", lw=2)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(np.arange(len(rows))[::-1], labels, fontsize=9)
    ax.set_xlabel("difference B \u2212 A, % of the mean under A")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def write_comparison(comparison: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Write ``comparison.csv`` (one row per metric), ``comparison.json`` (everything, per-seed
    values too) and ``comparison.png`` into ``out_dir``; returns their paths by kind."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "comparison.csv", "json": out / "comparison.json",
             "png": out / "comparison.png"}
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in comparison.rows:
            writer.writerow([_csv_cell(getattr(r, c)) for c in CSV_COLUMNS])
    paths["json"].write_text(json.dumps(comparison.to_dict(), indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
    plot_comparison(comparison).savefig(paths["png"], format="png", metadata={"Software": None})
    return paths
