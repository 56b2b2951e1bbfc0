"""The decisions between the years of a pathway: expectations, retirements, investment, and the
year's rules (load growth, policy steps) from the fleet's state.

Expectation rule: a technology's expected margin per kW is the average, over the last
``pathway.expectation_years`` simulated years, of its units' margin (every revenue of the
units table less variable cost) per kW of nameplate (:func:`technology_margins`).

Retirement rule (coal only): in a year, a coal unit falls short when its margin per kW is below
its going-forward cost (``pathway.retirement_avoidable_share`` x its class's fixed cost); after
each year the owners of a class close the share of its units that fell short in every one of
the last ``pathway.retirement_lag_years`` years (the smallest of those years' shares), at most
``pathway.max_retirement_share`` of the class, rounded down (:func:`retirement_units`).

Investment rule: when a candidate's expected margin per kW covers its annualised cost
(:meth:`market.rules.sections.pathway.Candidate.annualised_cost_yuan_per_kw_yr`), owners commit
``pathway.investment_step_share`` of the technology's installed units (at least one), less the
units of that technology already under construction (:func:`investment_units`); a commitment
after year y enters in year y + max(build_years, 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from market.rules import Candidate, MarketRules, PathwayRules

#: The fleet's classes in fleet-table order (the technology names of the units table).
TECHNOLOGIES = ("coal_ultra_supercritical", "coal_supercritical", "coal_subcritical", "wind",
                "solar", "storage")
COAL = TECHNOLOGIES[:3]
#: kW in a MW.
KW_PER_MW = 1000.0


def margin_per_kw(units: Mapping[str, np.ndarray]) -> np.ndarray:
    """float64 (n,) each unit's margin, yuan/kW of nameplate: profit + fixed cost (= every
    revenue less variable cost) over nameplate kW."""
    margin = np.asarray(units["profit_yuan"], dtype=np.float64) + np.asarray(
        units["fixed_cost_yuan"], dtype=np.float64)
    kw = np.asarray(units["nameplate_mw"], dtype=np.float64) * KW_PER_MW
    return np.where(kw > 0, margin / np.where(kw > 0, kw, 1.0), 0.0)


def technology_margins(units: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Margin per kW of nameplate of each technology present (sum of margins / sum of kW)."""
    tech = np.asarray(units["technology"]).astype(str)
    margin = np.asarray(units["profit_yuan"], dtype=np.float64) + np.asarray(
        units["fixed_cost_yuan"], dtype=np.float64)
    kw = np.asarray(units["nameplate_mw"], dtype=np.float64) * KW_PER_MW
    out = {}
    for t in TECHNOLOGIES:
        mask = tech == t
        if mask.any() and kw[mask].sum() > 0:
            out[t] = float(margin[mask].sum() / kw[mask].sum())
    return out


def shortfall_shares(units: Mapping[str, np.ndarray], rules: MarketRules) -> dict[str, float]:
    """For each coal class present: the share of its nameplate whose margin per kW is below
    its going-forward cost per kW (``pathway.retirement_avoidable_share`` x fixed cost)."""
    tech = np.asarray(units["technology"]).astype(str)
    mw = np.asarray(units["nameplate_mw"], dtype=np.float64)
    fixed_per_kw = np.asarray(units["fixed_cost_yuan"], dtype=np.float64) / np.where(
        mw > 0, mw * KW_PER_MW, 1.0)
    short = margin_per_kw(units) < rules.pathway.retirement_avoidable_share * fixed_per_kw
    out = {}
    for t in COAL:
        mask = tech == t
        if mask.any() and mw[mask].sum() > 0:
            out[t] = float(mw[mask & short].sum() / mw[mask].sum())
    return out


def retirement_units(count: int, shares: Sequence[float], lag: int, max_share: float) -> int:
    """Units of a class of ``count`` closing after a year, given the class's shortfall shares
    of the years simulated so far (oldest first): the smallest share of the last ``lag``
    years x count, at most ``max_share`` x count, both rounded down; 0 before ``lag`` years.

    >>> retirement_units(20, [0.1, 0.4, 0.3], lag=2, max_share=0.25)  # min(0.4, 0.3) x 20 = 6
    5
    """
    if len(shares) < lag or count <= 0:
        return 0
    share = min(shares[-lag:])
    return int(min(math.floor(share * count + 1e-9), math.floor(max_share * count + 1e-9)))


def expected_margin(history: Sequence[Mapping[str, float]], technology: str,
                    years: int) -> float | None:
    """Average margin per kW of ``technology`` over the last ``years`` entries of ``history``
    (years where it was present); None when it never was."""
    seen = [h[technology] for h in history[-years:] if technology in h]
    return float(sum(seen) / len(seen)) if seen else None


def investment_units(margin: float | None, candidate: Candidate, discount_rate: float,
                     installed_units: int, step_share: float, under_construction: int) -> int:
    """Units committed to a candidate after a year: when ``margin`` (expected, yuan/kW-yr)
    covers the annualised cost, ``step_share`` x installed units (rounded half-even, at least
    1) less those already under construction; else 0.

    >>> from market.rules import Candidate
    >>> coal = Candidate(overnight_cost_yuan_per_kw=3750.0, life_years=30,
    ...                  fixed_om_share=0.03, build_years=3)  # annualised 414.70 at 7 %
    >>> investment_units(420.0, coal, 0.07, 20, 0.1, 0)
    2
    >>> investment_units(400.0, coal, 0.07, 20, 0.1, 0)
    0
    """
    if margin is None or margin < candidate.annualised_cost_yuan_per_kw_yr(discount_rate):
        return 0
    return max(0, max(1, round(step_share * installed_units)) - under_construction)


@dataclass
class FleetState:
    """The fleet between years, in scale-1 units of each class's unit size.

    ``counts``: units in the markets by class; ``backup_mw``: closed coal kept as emergency
    backup, MW at scale 1, by class; ``pipeline``: (first year online, class, units) committed
    and not yet online; ``storage_cohorts``: entry year -> storage MW at scale 1."""

    counts: dict[str, int]
    backup_mw: dict[str, float] = field(default_factory=dict)
    pipeline: list[tuple[int, str, int]] = field(default_factory=list)
    storage_cohorts: dict[int, float] = field(default_factory=dict)

    @classmethod
    def initial(cls, rules: MarketRules, year: int) -> FleetState:
        f = rules.fleet
        counts = {t: c.unit_count for t, c in f.generator_classes().items()}
        counts["storage"] = f.storage.unit_count
        return cls(counts=counts, backup_mw={t: 0.0 for t in COAL},
                   storage_cohorts={year: f.storage.unit_count * f.storage.unit_size_mw})


def unit_size_mw(rules: MarketRules, technology: str) -> float:
    """Nameplate of one scale-1 unit of ``technology``."""
    if technology == "storage":
        return rules.fleet.storage.unit_size_mw
    return rules.fleet.generator_classes()[technology].unit_size_mw


def storage_rate(pathway: PathwayRules, cohorts: Mapping[int, float], year: int,
                 paid_years: int, base: float) -> float:
    """The MW-weighted storage discharge compensation of ``year``: each cohort's rate
    (:meth:`PathwayRules.cohort_rate`) while ``year - entry < paid_years``, 0 after; ``base``
    when no storage is installed or no cohorts are given."""
    total = sum(cohorts.values())
    if total <= 0 or not pathway.storage_cohorts:
        return base
    paid = sum(mw * (pathway.cohort_rate(entry) or 0.0) for entry, mw in cohorts.items()
               if year - entry < paid_years)
    return round(paid / total, 2)


def year_rules(base: MarketRules, state: FleetState, year: int, first_year: int) -> MarketRules:
    """The rules of ``year``: the base rules with the fleet's unit counts, the grown peak load,
    the compensation recovery ratio and storage compensation of the year's policy steps, and
    the year as the simulated and delivery year."""
    p = base.pathway
    overrides: dict[str, Any] = {f"fleet.{t}.unit_count": int(n) for t, n in state.counts.items()}
    overrides.update({
        "meta.year": year,
        "capacity.delivery_year": year,
        "fleet.loads.peak_mw": base.fleet.loads.peak_mw
        * (1.0 + p.load_growth_per_year) ** (year - first_year),
        "compensation.recovery_ratio": p.recovery_ratio(year, base.compensation.recovery_ratio),
        "energy.storage_discharge_compensation_yuan_per_mwh": storage_rate(
            p, state.storage_cohorts, year, base.energy.storage_compensation_years,
            base.energy.storage_discharge_compensation_yuan_per_mwh),
    })
    return base.with_overrides(overrides)


@dataclass(frozen=True)
class Decisions:
    """What owners decide after a year: units closed by coal class, units committed by
    technology (policy + economic), and those entering next year."""

    retired: dict[str, int]
    committed: dict[str, int]


def decide(base: MarketRules, state: FleetState, year: int,
           margins: Sequence[Mapping[str, float]], shortfalls: Sequence[Mapping[str, float]],
           auctioned: Sequence[str] = ()) -> Decisions:
    """Retirements and commitments after ``year`` (see the module docstring), updating
    ``state``: closed units leave ``counts`` (to ``backup_mw`` when
    ``pathway.retired_to_backup``), commitments join ``pipeline``. Technologies in
    ``auctioned`` enter only through forward capacity auctions
    (:mod:`studies.pathway.forward`), not by the investment rule; policy targets still apply."""
    p = base.pathway
    retired: dict[str, int] = {}
    for t in COAL:
        shares = [s.get(t, 0.0) for s in shortfalls]
        n = retirement_units(state.counts[t], shares, p.retirement_lag_years,
                             p.max_retirement_share)
        if n:
            retired[t] = n
            state.counts[t] -= n
            if p.retired_to_backup:
                state.backup_mw[t] = state.backup_mw.get(t, 0.0) + n * unit_size_mw(base, t)
    committed: dict[str, int] = {}
    for t, candidate in p.candidates().items():
        building = sum(u for _, tech, u in state.pipeline if tech == t)
        n = 0 if t in auctioned else investment_units(
            expected_margin(margins, t, p.expectation_years), candidate, p.discount_rate,
            state.counts[t], p.investment_step_share, building)
        target = {"wind": p.wind_target_mw_per_year, "solar": p.solar_target_mw_per_year}.get(t)
        if target:
            n += round(target / unit_size_mw(base, t))
        if n:
            committed[t] = n
            state.pipeline.append((year + max(candidate.build_years, 1), t, n))
    return Decisions(retired=retired, committed=committed)


def enter(base: MarketRules, state: FleetState, year: int) -> dict[str, int]:
    """Projects whose first year is ``year`` join the markets; returns units by class."""
    entering: dict[str, int] = {}
    kept = []
    for online, t, n in state.pipeline:
        if online <= year:
            entering[t] = entering.get(t, 0) + n
            state.counts[t] += n
            if t == "storage":
                state.storage_cohorts[year] = state.storage_cohorts.get(year, 0.0) + \
                    n * unit_size_mw(base, t)
        else:
            kept.append((online, t, n))
    state.pipeline[:] = kept
    return entering
