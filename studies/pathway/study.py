"""Pathways in the studies that compare rules: one summary per pathway, so that ``mengxi
compare`` (paired seeds) and ``mengxi sweep`` (Dask) run pathways as they run years.

:func:`pathway_summary` reduces a :class:`~studies.pathway.run.PathwayResult` to the figures
a design is judged by, under ``pathway``: summed LOLE and EUE over the years, firm MW (coal
and storage) and every technology's MW in the last year, MW built and retired over the run,
the load-weighted consumer cost per MWh over the years (each year's cost per MWh weighted by
its load) and the mean capacity price (``None`` without a capacity market).
:class:`PathwayTask` runs one pathway as a sweep task or a compare run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from market.rules import MarketRules
from studies.pathway.rules import COAL
from studies.pathway.run import PathwayResult, run_pathway

#: Firm technologies: coal and storage (wind and solar are counted by their credit elsewhere).
FIRM = (*COAL, "storage")

#: The figures ``mengxi compare --years`` and ``mengxi sweep --years`` report by default.
PATHWAY_METRICS = ("pathway.lole_hours_sum", "pathway.eue_mwh_sum", "pathway.firm_mw_last",
                   "pathway.consumer_cost_yuan_per_mwh", "pathway.built_mw_total",
                   "pathway.retired_mw_total", "pathway.capacity_price_yuan_per_kw_yr_mean")


def pathway_summary(result: PathwayResult) -> dict[str, Any]:
    """The summary of a pathway (see the module docstring), JSON-able."""
    years = result.years
    last = years[-1]["installed_mw"]
    loads = [d["load_mwh"] for d in result.details]
    costs = [r["consumer_cost_yuan_per_mwh"] for r in years]
    weighted = [(c, w) for c, w in zip(costs, loads, strict=True) if c is not None and w > 0]
    prices = [r["capacity_price_yuan_per_kw_yr"] for r in years
              if r["capacity_price_yuan_per_kw_yr"] is not None]
    return {"seed": result.seed, "scale": result.scale, "rules_name": result.rules_name,
            "pathway": {
                "first_year": years[0]["year"], "last_year": years[-1]["year"],
                "lole_hours_sum": sum(r["lole_hours"] for r in years),
                "eue_mwh_sum": round(math.fsum(r["eue_mwh"] for r in years), 3),
                "firm_mw_last": round(math.fsum(last[t] for t in FIRM), 3),
                "installed_mw_last": dict(last),
                "built_mw_total": round(math.fsum(sum(r["built_mw"].values()) for r in years),
                                        3),
                "retired_mw_total": round(math.fsum(sum(r["retired_mw"].values())
                                                    for r in years), 3),
                "consumer_cost_yuan_per_mwh": round(
                    math.fsum(c * w for c, w in weighted) / math.fsum(w for _, w in weighted), 4)
                if weighted else None,
                "capacity_price_yuan_per_kw_yr_mean": round(math.fsum(prices) / len(prices), 4)
                if prices else None,
                "standard_lole_hours": result.standard_lole_hours,
            }}


@dataclass(frozen=True)
class PathwayTask:
    """Run the pathway of ``years`` for rules, a seed and a scale: called as a sweep task
    (``task(rules, seed, scale)`` -> summary) and, through :meth:`run`, as a compare run
    (``run(rules, seed, scale=...)`` -> an object with ``.summary``). Picklable for Dask."""

    years: tuple[int, ...]

    def __call__(self, rules: MarketRules, seed: int, scale: float | None) -> dict[str, Any]:
        return pathway_summary(run_pathway(rules, list(self.years), int(seed), scale))

    def run(self, rules: MarketRules, seed: int, scale: float | None = None) -> SimpleNamespace:
        return SimpleNamespace(summary=self(rules, seed, scale))
