"""A pathway: the one engine's year (:func:`studies.year.run.run_year`) for each year of a
range, with entry and exit between the years (:mod:`studies.pathway.rules`).

Order of a pathway year y: projects committed for y enter; the year's rules are the base rules
with the fleet's unit counts, grown load and the policy steps of y; the year runs with its own
seed (``SeedSequence(seed).spawn(n_years)[k]``, so every design run with the same seed sees the
same weather and outages year by year); closed coal kept as emergency backup serves unserved
load after the year (``pathway.backup_availability`` of its MW in each hour, at its cost
``pathway.backup_cost_yuan_per_kw_yr`` charged to consumers); then owners retire and commit;
then, with ``pathway.capacity_lead_years`` k >= 1, the forward capacity auction for year y + k
is held (:mod:`studies.pathway.forward`), and a year from the (k+1)-th on is paid by the
auction that bought it instead of running its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from market.errors import SynthesisError
from market.rules import MarketRules
from studies.pathway.forward import Book, auctioned, hold_auction, year_payments
from studies.pathway.rules import (
    KW_PER_MW,
    TECHNOLOGIES,
    FleetState,
    decide,
    enter,
    shortfall_shares,
    technology_margins,
    unit_size_mw,
    year_rules,
)
from studies.year.run import UNSERVED_TOLERANCE_MWH, run_year

#: Consumer cost components of the year's summary, then the backup's.
COST_COMPONENTS = ("energy", "capacity", "compensation", "green", "storage_compensation",
                   "contracts", "backup")

Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class PathwayResult:
    """``years``: one record per year, the rows of ``pathway.json`` (pinned keys);
    ``details``: one row per year of extra figures (backup MW, cost components per MWh,
    energy price, LOLE before backup, peak load); ``rules_name``, ``seed``, ``scale``."""

    years: list[dict[str, Any]]
    details: list[dict[str, Any]]
    rules_name: str
    seed: int
    scale: float
    standard_lole_hours: float
    auctions: list[dict[str, Any]] = field(default_factory=list)
    """With ``pathway.capacity_lead_years`` >= 1: each forward auction held (delivery year,
    price, requirement, cleared MW, offered MW by kind, candidate units built)."""


def parse_years(text: str) -> list[int]:
    """``"2025-2035"`` (or a single ``"2025"``) as the list of years. Raises ValueError naming
    ``--years``."""
    parts = text.split("-")
    try:
        first, last = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, -1)
    except ValueError:
        first, last = 0, -1
    if not 2000 <= first <= last <= 2100:
        raise ValueError(f"--years must be FIRST-LAST with 2000 <= FIRST <= LAST <= 2100 "
                         f"(e.g. 2025-2035), got {text!r}")
    return list(range(first, last + 1))


def year_seeds(seed: int, n: int) -> list[int]:
    """The seed of each pathway year, spawned from ``seed``."""
    return [int(ss.generate_state(1, dtype=np.uint32)[0])
            for ss in np.random.SeedSequence(int(seed)).spawn(n)]


def _mw(value: float) -> float:
    return round(float(value), 3)


def run_pathway(rules: MarketRules, years: list[int], seed: int, scale: float | None = None,
                progress: Progress | None = None) -> PathwayResult:
    """Simulate ``years`` (consecutive) of ``rules`` with entry and exit between them (see the
    module docstring). MW figures are at the run's scale. ``progress(year, done, total)``."""
    if not years or any(b != a + 1 for a, b in zip(years, years[1:], strict=False)):
        raise SynthesisError(["years must be a non-empty run of consecutive years"])
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SynthesisError([f"seed must be an integer >= 0, got {seed!r}"])
    run_scale = rules.fleet.scale if scale is None else float(scale)
    if not math.isfinite(run_scale) or run_scale <= 0:
        raise SynthesisError([f"scale must be a number > 0, got {scale!r}"])
    p = rules.pathway
    state = FleetState.initial(rules, years[0])
    margins: list[dict[str, float]] = []
    shortfalls: list[dict[str, float]] = []
    records, details = [], []
    retired_before: dict[str, int] = {}
    lead = p.capacity_lead_years if rules.capacity.enabled else 0
    book, capacity_revenue, auctions = Book(), [], []
    by_auction = auctioned(rules)
    for k, (year, year_seed) in enumerate(zip(years, year_seeds(seed, len(years)), strict=True)):
        if progress:
            progress(year, k, len(years))
        entering = enter(rules, state, year)
        rules_y = year_rules(rules, state, year, years[0])
        forward_paid = lead > 0 and year >= years[0] + lead
        if forward_paid:  # bought by a forward auction: no auction of its own
            rules_y = rules_y.with_overrides({"capacity.enabled": False})
        result = run_year(rules_y, year_seed, run_scale)
        units, summary = result.units, result.summary
        cost = dict(summary["consumer_cost_yuan"])
        if forward_paid:
            units, paid, offset = forward_money(rules, book, year, state, units)
            cost["capacity"] = float(cost.get("capacity", 0.0)) + paid
            cost["compensation"] = float(cost.get("compensation", 0.0)) - offset
        if lead > 0:
            capacity_revenue.append(capacity_per_kw(units))
        margins.append(technology_margins(units))
        shortfalls.append(shortfall_shares(units, rules_y))

        tech = np.asarray(units["technology"]).astype(str)
        nameplate = np.asarray(units["nameplate_mw"], dtype=np.float64)
        installed = {t: _mw(nameplate[tech == t].sum()) for t in TECHNOLOGIES}
        backup_mw = sum(state.backup_mw.values()) * run_scale
        unserved = np.nan_to_num(np.asarray(result.hourly["unserved_mw"], dtype=np.float64))
        served_by_backup = np.minimum(unserved, backup_mw * p.backup_availability)
        left = unserved - served_by_backup
        load_mwh = float(summary["energy"]["load_mwh"])
        cost["backup"] = backup_mw * KW_PER_MW * p.backup_cost_yuan_per_kw_yr
        total_cost = sum(float(cost.get(c, 0.0)) for c in COST_COMPONENTS)
        peak = rules_y.fleet.loads.peak_mw * run_scale
        accredited = float(np.asarray(units["accredited_mw"], dtype=np.float64).sum())
        cap = summary["capacity"]
        records.append({
            "year": year,
            "capacity_price_yuan_per_kw_yr": (
                book.prices.get(year, 0.0) if forward_paid
                else float(cap["clearing_price_yuan_per_kw_yr"]) if rules_y.capacity.enabled
                else None),
            "built_mw": {t: _mw(entering.get(t, 0) * unit_size_mw(rules, t) * run_scale)
                         for t in TECHNOLOGIES},
            "retired_mw": {t: _mw(retired_before.get(t, 0) * unit_size_mw(rules, t) * run_scale)
                           for t in TECHNOLOGIES},
            "installed_mw": installed,
            "lole_hours": int((left > UNSERVED_TOLERANCE_MWH).sum()),
            "eue_mwh": _mw(left.sum()),
            "consumer_cost_yuan_per_mwh": round(total_cost / load_mwh, 4) if load_mwh > 0
            else None,
            "reserve_margin": round(accredited / peak - 1.0, 6),
        })
        details.append({
            "year": year,
            "backup_mw": _mw(backup_mw),
            "backup_served_mwh": _mw(served_by_backup.sum()),
            "lole_hours_before_backup": int(summary["reliability"]["lole_hours"]),
            "peak_load_mw": _mw(peak),
            "load_mwh": _mw(load_mwh),
            "avg_energy_price_yuan_per_mwh": round(
                float(summary["energy"]["avg_price_yuan_per_mwh"]), 4),
            "compensation_recovery_ratio": rules_y.compensation.recovery_ratio,
            "storage_compensation_yuan_per_mwh":
                rules_y.energy.storage_discharge_compensation_yuan_per_mwh,
            **{f"cost_{c}_yuan_per_mwh": round(float(cost.get(c, 0.0)) / load_mwh, 4)
               if load_mwh > 0 else 0.0 for c in COST_COMPONENTS},
            **{f"margin_{t}_yuan_per_kw_yr": round(margins[-1].get(t, math.nan), 4)
               for t in TECHNOLOGIES},
        })
        del result
        if year != years[-1]:
            # transition: entry online before the first forward delivery is by the
            # investment rule, as at k = 0
            skip = tuple(t for t in by_auction if year + max(
                p.candidates()[t].build_years, 1) >= years[0] + lead)
            decisions = decide(rules, state, year, margins, shortfalls, skip)
            retired_before = decisions.retired
            if lead > 0:
                auctions.append(hold_auction(
                    rules, state, book, year, years[0], summary["capacity"], margins,
                    capacity_revenue, fixed_per_kw(units)).record)
    if progress:
        progress(years[-1], len(years), len(years))
    return PathwayResult(years=records, details=details, rules_name=rules.meta.name,
                         seed=int(seed), scale=run_scale,
                         standard_lole_hours=float(rules.capacity.reliability_standard_lole_hours),
                         auctions=auctions)


def _per_kw(units: Mapping[str, np.ndarray], column: str) -> dict[str, float]:
    tech = np.asarray(units["technology"]).astype(str)
    value = np.asarray(units[column], dtype=np.float64)
    kw = np.asarray(units["nameplate_mw"], dtype=np.float64) * KW_PER_MW
    return {t: float(value[tech == t].sum() / kw[tech == t].sum()) for t in TECHNOLOGIES
            if (tech == t).any() and kw[tech == t].sum() > 0}


def capacity_per_kw(units: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Capacity revenue per kW of nameplate by technology present."""
    return _per_kw(units, "capacity_revenue_yuan")


def fixed_per_kw(units: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Fixed cost per kW of nameplate by technology present."""
    return _per_kw(units, "fixed_cost_yuan")


def forward_money(base: MarketRules, book: Book, year: int, state: FleetState,
                  units: Mapping[str, np.ndarray]
                  ) -> tuple[dict[str, np.ndarray], float, float]:
    """A forward-delivered year's units table with its capacity payments
    (:func:`studies.pathway.forward.year_payments`) added to ``capacity_revenue_yuan`` and
    ``profit_yuan``, and, under ``compensation.offset = "capacity_payment"``, the offset
    min(compensation, payment) taken from ``compensation_yuan`` and ``profit_yuan``; and the
    yuan paid and offset in total."""
    pay = year_payments(book, year, state, base, units)
    comp = np.asarray(units["compensation_yuan"], dtype=np.float64)
    offset = np.zeros_like(pay)
    if base.compensation.enabled and base.compensation.offset == "capacity_payment":
        offset = np.minimum(np.maximum(comp, 0.0), pay)
    out = dict(units)
    out["capacity_revenue_yuan"] = np.asarray(units["capacity_revenue_yuan"],
                                              dtype=np.float64) + pay
    out["compensation_yuan"] = comp - offset
    out["profit_yuan"] = np.asarray(units["profit_yuan"], dtype=np.float64) + pay - offset
    return out, float(pay.sum()), float(offset.sum())
