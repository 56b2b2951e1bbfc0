"""A year of the Mengxi markets: :func:`run_year` -> :class:`YearResult` (the study contract).

One seed fixes everything: ``numpy.random.SeedSequence(seed)`` spawns independent streams for
the fleet, the profiles, and the strategies' energy, capacity and green decisions, so the same
(rules, seed, scale) gives identical results, byte for byte in every output file.

Order of the year:

1. synthesise the fleet and the hourly profiles (:mod:`agents.fleet`, :mod:`agents.profiles`);
2. the capacity market's derived figures from the year's profiles and price forecast
   (accreditation by technology, Net CONE: :func:`capacity_market`), then the annual capacity
   auction, offers from the strategies (skipped when ``rules.capacity.enabled`` is false);
   payments posted monthly and charged to loads;
3. the hourly energy auctions of the year (:func:`agents.inprocess.runner.run_energy_year`);
4. stress-hour performance penalties (December), storage compensation recovered from loads;
5. monthly coal compensation with failures counted from the forced outages, deductions and
   funding (:mod:`studies.year.markets`);
6. monthly green trading, certificates issued monthly and retired against obligations at
   year end (:mod:`studies.year.green`);
7. the tables and the summary (:mod:`studies.year.tables`; the resolved capacity figures and
   ``reliability``, LOLE and EUE, added here), and market-power metrics from
   ``studies.metrics`` when that module is installed.

Everything is posted to one :class:`~market.ledger.book.Ledger`, whose legs sum to zero.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.fleet import SynthFleet, synthesize_fleet
from agents.inprocess.runner import availability, merit_order_forecast, run_energy_year
from agents.profiles import Profiles, year_profiles
from agents.strategies.assign import Group, assign
from market.capacity.auction import CapacityResult
from market.compensation.scheme import month_periods
from market.errors import SynthesisError
from market.ledger.book import Ledger
from market.rules import MarketRules
from studies.year.contracts import settle_contracts
from studies.year.green import run_green_year
from studies.year.markets import (
    cost_payers,
    expected_margins,
    load_mwh_by_month,
    obligation_cost,
    recover_storage,
    resolve_capacity,
    run_capacity_auction,
    settle_capacity,
    settle_compensation,
    unit_mwh_by_month,
)
from studies.year.tables import (
    bids_table,
    build_summary,
    capacity_record,
    contracts_summary,
    failures_table,
    hourly_table,
    monthly_table,
    rounded,
    units_table,
)

#: A month's load-weighted price divides by at least this much load (MW summed over hours): a
#: guard against dividing by zero in a month without load, not a tolerance on a grid.
MIN_MONTH_LOAD = 1e-9

#: An hour counts towards LOLE when more than this much load (MWh) went unserved: half the
#: 0.001 MW quantity tick, so rounding noise is not a loss of load.
UNSERVED_TOLERANCE_MWH = 0.0005

Progress = Callable[[str, int, int], None]

#: The steps :func:`run_year` reports to ``progress`` (each with its own done/total).
STEPS = ("fleet", "capacity", "energy", "settlement", "compensation", "green", "tables")


@dataclass(frozen=True, eq=False)
class YearResult:
    """A simulated year: ``summary`` (the figures of ``summary.json``), ``hourly`` (columns of
    ``hourly.parquet``, one row per hour), ``units`` (one row per unit), the ``ledger``,
    ``capacity`` (the auction's record, ``None`` when the capacity market is off), ``monthly``
    (compensation and green figures, 12 rows), ``failures`` (the compensation failures) and
    ``bids`` (the energy bids, one row per bid)."""

    summary: dict[str, Any]
    hourly: dict[str, np.ndarray]
    units: dict[str, np.ndarray]
    ledger: Ledger
    capacity: dict[str, Any] | None
    monthly: dict[str, np.ndarray]
    failures: dict[str, np.ndarray]
    bids: dict[str, np.ndarray]


def _check(rules: object, seed: object, scale: object) -> None:
    problems = []
    if not isinstance(rules, MarketRules):
        problems.append(f"rules must be a MarketRules (load_preset), got {type(rules).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        problems.append(f"seed must be an integer >= 0, got {seed!r}")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)
                              or not math.isfinite(scale) or scale <= 0):
        problems.append(f"scale must be a number > 0 (1 is the full Mengxi fleet), got {scale!r}")
    if problems:
        raise SynthesisError(problems)


def _seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def fleet_and_profiles(rules: MarketRules, fleet_ss: np.random.SeedSequence,
                       profile_ss: np.random.SeedSequence, scale: float | None
                       ) -> tuple[SynthFleet, Profiles]:
    """The year's fleet and hourly profiles from their seed streams (one place for
    :func:`run_year` and :func:`resolved_capacity`)."""
    synth = synthesize_fleet(rules, _seed(fleet_ss), scale)
    return synth, year_profiles(synth, rules.meta.year, _seed(profile_ss))


def run_year(rules: MarketRules, seed: int, scale: float | None = None,
             strategies: Mapping[str, Any] | None = None,
             progress: Progress | None = None,
             tables_ready: Callable[[YearResult], None] | None = None,
             hourly_ready: Callable[[dict[str, Any]], None] | None = None) -> YearResult:
    """Simulate one year of ``rules`` (see the module docstring).

    ``scale`` shrinks the fleet (``None``: the rules' own scale); ``strategies`` maps owners,
    technologies or roles to strategies (:mod:`agents.strategies.assign`; default: generators
    at opportunity cost, storage scheduled optimally, green sellers and obligated buyers),
    their parameters defaulting to the rules' ``agents.strategies``; ``progress`` is called as
    ``progress(step, done, total)``; ``tables_ready(result)`` is called once the tables and
    the summary are final but for ``summary["market_power"]`` (the last step), so a caller
    can hand the tables to the plots' processes while the metrics run; ``hourly_ready(hourly)``
    is called with the final hourly table as soon as the energy year is cleared (before its
    settlement), for plots drawn from it alone. Every assumption of
    the simulation is a rule (``fleet``, ``agents``). Raises a
    :class:`~market.errors.MarketError` subclass for bad inputs (seed, scale, strategies).
    """
    _check(rules, seed, scale)
    report = progress or (lambda step, done, total: None)
    fleet_ss, profile_ss, energy_ss, capacity_ss, green_ss = np.random.SeedSequence(
        int(seed)).spawn(5)
    report("fleet", 0, 1)
    synth, profiles = fleet_and_profiles(rules, fleet_ss, profile_ss, scale)
    groups = assign(strategies, synth.fleet.owners, synth.fleet.technologies, synth.n_loads,
                    defaults=rules.agents.strategies.params_by_name())

    def rngs(ss: np.random.SeedSequence) -> dict[str, np.random.Generator]:
        return {g.label: np.random.default_rng(child)
                for g, child in zip(groups, ss.spawn(len(groups)), strict=True)}

    periods = month_periods(profiles.year)
    ledger = Ledger(capacity=1 << 16)
    report("fleet", 1, 1)

    report("capacity", 0, 1)
    year_rules, cone, capacity = capacity_market(rules, synth, profiles, groups,
                                                 rngs(capacity_ss))
    report("capacity", 1, 1)
    # Storage keeps charge for the stress hours of what it cleared, weighing the resolved
    # penalty rate (year_rules carries the derived Net CONE).
    energy = run_energy_year(year_rules, synth, profiles, groups, rngs(energy_ss), ledger,
                             progress=report,
                             capacity_mw=None if capacity is None else capacity.cleared_mw)
    # The hourly table is the energy year's alone (nothing after this changes it).
    hourly = hourly_table(rules, energy, synth, profiles)
    if hourly_ready is not None:
        hourly_ready(hourly)
    report("settlement", 0, 1)
    load_mwh = load_mwh_by_month(profiles)
    unit_mwh = unit_mwh_by_month(profiles, energy.dispatch_mw)
    payers = cost_payers(rules, synth, profiles, energy.export_mw, load_mwh)
    perf = None
    if capacity is not None:
        perf = settle_capacity(ledger, year_rules, capacity, energy, synth, profiles, periods,
                               payers)
    recover_storage(ledger, rules, synth, load_mwh, periods)
    report("settlement", 1, 1)
    report("compensation", 0, 1)
    comp, calls = settle_compensation(ledger, rules, energy, synth, profiles, periods, capacity,
                                      payers, unit_mwh)
    report("compensation", 1, 1)
    report("green", 0, 1)
    load = profiles.system_load_mw
    price = np.nan_to_num(energy.price)
    month_price = np.bincount(profiles.month_index, weights=price * load, minlength=12) / \
        np.maximum(np.bincount(profiles.month_index, weights=load, minlength=12), MIN_MONTH_LOAD)
    export_mwh = np.bincount(profiles.month_index,
                             weights=np.asarray(energy.export_mw, dtype=np.float64), minlength=12)
    green = run_green_year(rules, synth, groups, rngs(green_ss), ledger, periods, unit_mwh,
                           load_mwh, month_price, export_mwh)
    report("green", 1, 1)
    contracts = settle_contracts(ledger, rules, synth, profiles, energy, periods, load_mwh)
    report("tables", 0, 1)
    described = {g.label: g.spec.describe() for g in groups}
    summary = build_summary(rules, int(seed), float(synth.scale), synth, profiles, energy,
                            hourly, capacity, perf, comp, calls, green, ledger, described)
    summary["capacity"].update(capacity_summary(year_rules, cone))
    summary["reliability"] = reliability_summary(rules, energy.curtailed_mwh)
    summary["contracts"] = contracts_summary(contracts)
    units, bids = units_table(year_rules, synth, energy, ledger), bids_table(energy)
    # The tables hold what the year reports: let the year's bid rows and (hour x unit)
    # matrices go before the market-power metrics make their own working copies.
    del energy
    result = YearResult(
        summary=summary, hourly=hourly, units=units, ledger=ledger,
        capacity=capacity_record(capacity), monthly=monthly_table(comp, green),
        failures=failures_table(comp), bids=bids)
    summary.update(rounded(summary))  # figures to the decimals they mean
    if tables_ready is not None:
        tables_ready(result)
    summary["market_power"] = rounded(market_power(result), "market_power")
    report("tables", 1, 1)
    return result


def capacity_market(rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                    groups: list[Group], rngs: Mapping[str, np.random.Generator]
                    ) -> tuple[MarketRules, dict[str, float], CapacityResult | None]:
    """The year's capacity step, before its energy year: the derived accreditation and Net
    CONE from the year's profiles and merit-order forecast (:func:`resolve_capacity`), then
    the auction (``None`` when ``capacity.enabled`` is false). Returns the rules with the
    resolved capacity table (they carry it to the auction, the penalties and the units
    table), the Net CONE figures, and the auction's result."""
    avail, must = availability(synth, profiles, rules)
    forecast = merit_order_forecast(synth, profiles, rules, avail, must)
    resolved, cone = resolve_capacity(rules, synth, profiles, forecast, avail)
    year_rules = rules.model_copy(update={"capacity": resolved})
    if not rules.capacity.enabled:
        return year_rules, cone, None
    margins = expected_margins(synth, profiles, year_rules, forecast, avail)
    risk = obligation_cost(year_rules, synth, profiles, forecast, avail)
    return year_rules, cone, run_capacity_auction(year_rules, synth, groups, rngs, margins, risk)


def resolved_capacity(rules: MarketRules, seed: int | None = None, scale: float | None = None
                      ) -> tuple[MarketRules, dict[str, float], float]:
    """The capacity market a year of ``rules`` would run (seed default ``meta.seed``, scale
    default the rules' own): the rules with the derived accreditation and Net CONE, the Net
    CONE figures, and the requirement (MW). The same fleet and profiles as :func:`run_year`;
    no auction, no energy year."""
    seed = rules.meta.seed if seed is None else seed
    _check(rules, seed, scale)
    fleet_ss, profile_ss = np.random.SeedSequence(int(seed)).spawn(5)[:2]
    synth, profiles = fleet_and_profiles(rules, fleet_ss, profile_ss, scale)
    avail, must = availability(synth, profiles, rules)
    forecast = merit_order_forecast(synth, profiles, rules, avail, must)
    resolved, cone = resolve_capacity(rules, synth, profiles, forecast, avail)
    requirement = float(synth.peak_load_mw) * (1.0 + resolved.reserve_margin)
    return rules.model_copy(update={"capacity": resolved}), cone, requirement


def capacity_summary(year_rules: MarketRules, cone: Mapping[str, float]) -> dict[str, Any]:
    """The summary's resolved capacity figures: ``accreditation`` (technology -> credit in
    [0, 1] as the auction used it), ``accreditation_method``, ``net_cone_yuan_per_kw_yr`` (as
    resolved), ``net_cone_method``, ``gross_cone_yuan_per_kw_yr``,
    ``offer_cap_yuan_per_kw_yr``, ``reference_margin_yuan_per_kw_yr`` and ``demand_curve``
    ([requirement fraction, yuan/kW·yr] points at the resolved Net CONE)."""
    c = year_rules.capacity
    fractions, prices = c.demand_curve()
    return {
        "accreditation": {t: round(float(v), 6) for t, v in c.capacity_credit.items()},
        "accreditation_method": c.accreditation_method,
        "net_cone_yuan_per_kw_yr": float(c.net_cone_yuan_per_kw_yr),
        "net_cone_method": c.net_cone_method,
        "gross_cone_yuan_per_kw_yr": float(c.gross_cone_yuan_per_kw_yr),
        "offer_cap_yuan_per_kw_yr": float(c.offer_cap_yuan_per_kw_yr),
        "reference_margin_yuan_per_kw_yr": round(float(cone["reference_margin"]), 2),
        "demand_curve": [[float(q), round(float(p), 2)] for q, p in
                         zip(fractions.tolist(), prices.tolist(), strict=True)],
    }


def reliability_summary(rules: MarketRules, unserved_mwh: np.ndarray) -> dict[str, Any]:
    """``lole_hours`` (hours with unserved inelastic load), ``eue_mwh`` (unserved energy), the
    standard ``capacity.reliability_standard_lole_hours`` and whether the year meets it."""
    unserved = np.nan_to_num(np.asarray(unserved_mwh, dtype=np.float64))
    lole = int((unserved > UNSERVED_TOLERANCE_MWH).sum())
    standard = float(rules.capacity.reliability_standard_lole_hours)
    return {"lole_hours": lole, "eue_mwh": float(unserved.sum()),
            "standard_lole_hours": standard, "meets_standard": lole <= standard}


def market_power(result: YearResult) -> dict[str, Any]:
    """``studies.metrics.market_power(result)`` when that module exists, else ``{}``."""
    if importlib.util.find_spec("studies.metrics") is None:
        return {}
    metrics = importlib.import_module("studies.metrics")
    return dict(metrics.market_power(result))


def with_summary(result: YearResult, **changes: Any) -> YearResult:
    """A copy of ``result`` with summary keys replaced (the result itself is frozen)."""
    return dataclasses.replace(result, summary={**result.summary, **changes})
