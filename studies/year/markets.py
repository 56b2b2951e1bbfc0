"""The annual and monthly money of a simulated year: capacity auction and performance, coal
compensation with failures, and the recovery of storage compensation from loads.

* **Capacity auction** (before the year): every generator and storage owner's strategy offers
  its units (:class:`agents.strategies.CapacityObservation`, with an expected energy margin
  from the shared merit-order forecast); existing coal must offer (the market imputes the
  rest). Payments are posted month by month; each month's payments are charged to loads by
  the rules' cost allocation (peak or energy share).
* **Performance** (:func:`market.capacity.performance.delivered_mw`, by the rules'
  ``capacity.performance_basis``): by default, in every stress hour a cleared unit owes its
  cleared MW and delivers what it had available to the operator: coal its day-ahead offered MW
  unless forced out in that hour, wind and solar their available output, storage its discharge
  plus what it could still discharge from its state of charge. Penalties (stop-loss capped)
  are charged in December and refunded to the loads by the same weights.
* **Compensation calls** (:func:`market.compensation.calls.call_records`, by the rules'
  ``compensation.failure_basis``): by default, each day, every eligible coal unit that was
  dispatched, or offered in a stress hour, has been called for its declared maximum output; it
  fails the call when it was forced out in one of those hours (an outage that began after the
  day-ahead gate). The months are paid, deducted, offset and funded by
  :func:`market.compensation.funding.settle_compensation`.
* **Storage compensation** paid by the operator in the energy settlement is recovered from
  loads each month by their MWh (``cost_allocation``,
  :func:`market.energy.settlement.recover_storage_compensation`).

The money is posted by the market's own functions (:mod:`market.capacity.settlement`,
:mod:`market.compensation.funding`), the same the game's rounds call; this module only reads the
year's data into them. Loads pay under their load id, with no ledger unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from agents.fleet import SynthFleet, fixed_costs
from agents.inprocess.runner import EnergyYear
from agents.observe import capacity_offer_mw, margin_per_kw_yr
from agents.profiles import Profiles
from agents.strategies.assign import Group
from agents.strategies.base import CapacityObservation, CapacityOffers
from agents.strategies.capacity import net_going_forward_cost
from clearing.grid import KW_PER_MW
from market.capacity.accreditation import derive_credits
from market.capacity.auction import (
    CapacityAuction,
    CapacityResult,
    accredited_mw,
    capacity_credits,
)
from market.capacity.performance import (
    PerformanceResult,
    assess_performance,
    balancing_ratio,
    delivered_mw,
)
from market.capacity.settlement import charge_performance, load_weights
from market.capacity.settlement import settle_capacity as settle_capacity_months
from market.compensation.calls import Calls, call_records
from market.compensation.funding import settle_compensation as settle_months
from market.compensation.scheme import CompensationYear, eligible_units
from market.energy.settlement import recover_storage_compensation
from market.errors import StrategyError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.ledger.postings import Postings, monthly_fen
from market.rules import CapacityRules, MarketRules


def expected_margins(synth: SynthFleet, profiles: Profiles, rules: MarketRules,
                     forecast: np.ndarray, available_mw: np.ndarray) -> np.ndarray:
    """Expected energy margin per kW of nameplate over the year, yuan/kW·yr (n,), from the
    forecast: coal (forecast - cost)+ at its expected availability, wind and solar the
    forecast on their output, storage a daily spread of its ``E / P`` dearest and cheapest
    hours plus one compensated cycle a day."""
    rate = float(profiles.outage.mean()) if profiles.outage.size else 0.0
    f = synth.fleet
    energy = np.zeros(len(f))
    power = f.nameplate_mw.astype(np.float64).copy()
    energy[synth.storage_index] = synth.storage_energy_mwh
    power[synth.storage_index] = synth.storage_power_mw
    return margin_per_kw_yr(f.technologies, synth.marginal_cost_yuan_per_mwh, f.nameplate_mw,
                            energy, forecast, available_mw, rate, rules, power_mw=power)


def net_load_mw(synth: SynthFleet, profiles: Profiles, rules: MarketRules,
               available_mw: np.ndarray) -> np.ndarray:
    """float64 (H,) system load + firm exports (bid at the cap) - available wind and solar, MW:
    the net load of :func:`agents.inprocess.runner.merit_order_forecast`."""
    firm = float(synth.export_mw[synth.export_price_yuan_per_mwh
                                 >= rules.energy.price_cap_yuan_per_mwh].sum())
    renew = available_mw[:, synth.wind_index].sum(axis=1) \
        + available_mw[:, synth.solar_index].sum(axis=1)
    return np.asarray(profiles.system_load_mw + firm - renew, dtype=np.float64)


def derived_accreditation(rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                          available_mw: np.ndarray) -> dict[str, float]:
    """Capacity credit by technology measured on the year's profiles
    (:func:`market.capacity.accreditation.derive_credits`): wind and solar over the
    ``capacity.accreditation_hours`` highest net-load hours, storage by its duration against
    the runs of those hours, coal classes 1 - their forced-outage share of the year."""
    f = synth.fleet
    tech = f.technologies.astype(str)
    cap = f.nameplate_mw
    available = {t: available_mw[:, np.flatnonzero(tech == t)].sum(axis=1)
                 for t in ("wind", "solar") if np.any(tech == t)}
    nameplate = {t: float(cap[tech == t].sum()) for t in available}
    coal_tech = tech[synth.coal_index]
    outage = {t: float(profiles.outage[:, coal_tech == t].mean())
              for t in np.unique(coal_tech).tolist() if profiles.outage.size}
    return derive_credits(net_load_mw(synth, profiles, rules, available_mw),
                          rules.capacity.accreditation_hours, available_mw=available,
                          nameplate_mw=nameplate, storage_power_mw=synth.storage_power_mw,
                          storage_energy_mwh=synth.storage_energy_mwh, outage_share=outage)


def reference_margin(rules: MarketRules, profiles: Profiles, forecast: np.ndarray) -> float:
    """Expected energy margin of the reference new unit (``capacity.reference_technology`` at
    ``capacity.reference_marginal_cost_yuan_per_mwh``), yuan/kW·yr, from the year's forecast,
    at the year's coal outage rate (:func:`agents.observe.margin_per_kw_yr`)."""
    c = rules.capacity
    rate = float(profiles.outage.mean()) if profiles.outage.size else 0.0
    one = np.ones(1)
    out = margin_per_kw_yr(np.array([c.reference_technology]),
                           np.array([c.reference_marginal_cost_yuan_per_mwh]), one, one,
                           forecast, np.zeros((forecast.shape[0], 1)), rate, rules)
    return float(out[0])


def resolve_capacity(rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                     forecast: np.ndarray, available_mw: np.ndarray
                     ) -> tuple[CapacityRules, dict[str, float]]:
    """The capacity rules with the derived values filled in (``accreditation_method`` and
    ``net_cone_method`` "derived"), and the figures behind them: ``gross_cone``,
    ``reference_margin`` (yuan/kW·yr) and ``net_cone`` as resolved."""
    c = rules.capacity
    credits = derived_accreditation(rules, synth, profiles, available_mw) \
        if c.accreditation_method == "derived" else None
    margin = reference_margin(rules, profiles, forecast)
    cone = max(c.gross_cone_yuan_per_kw_yr - margin, 0.0) if c.net_cone_method == "derived" \
        else c.net_cone_yuan_per_kw_yr
    resolved = c.resolved(net_cone_yuan_per_kw_yr=round(cone, 2), capacity_credit=credits)
    return resolved, {"gross_cone": c.gross_cone_yuan_per_kw_yr, "reference_margin": margin,
                      "net_cone": resolved.net_cone_yuan_per_kw_yr}


def obligation_cost(rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                    forecast: np.ndarray, available_mw: np.ndarray) -> np.ndarray:
    """What a capacity obligation is expected to cost each unit, yuan per accredited kW·yr
    (n,), from what every owner can see before the auction: the forecast's stress hours
    (forecast price at or above ``energy.stress_price_threshold_yuan_per_mwh``) and the
    unit's expected delivery in them (``rules.capacity`` as resolved).

    * Delivered per accredited MW in a forecast stress hour, ``a / c`` (``c`` its credit):
      coal ``a`` = 1 - its class's forced-outage share; wind and solar their available
      output over nameplate in the hour; storage ``a = c`` (its credit is already de-rated by
      duration, so it is expected to deliver it).
    * Owed per accredited MW: 1, or the hour's expected balancing ratio with
      ``capacity.balancing_ratio`` (load + firm exports over the requirement, at most 1).
    * Penalty: the penalty rate x the expected shortfall, ``sum_h max(owed - a/c, 0)`` MWh
      per accredited MW, capped at the stop-loss on a payment at the offer cap.
    * Bonus forgone (``capacity.performance_bonus``): committed output up to what is owed earns
      no bonus, so ``sum_h min(a/c, owed)`` x the expected bonus rate, the penalty rate scaled
      down when the fleet's expected shortfall cannot fund its expected excess.
    """
    c = rules.capacity
    fleet = synth.fleet
    n = len(fleet)
    threshold = rules.energy.stress_price_threshold_yuan_per_mwh
    stress = np.asarray(forecast, dtype=np.float64) >= threshold
    if not stress.any():
        return np.zeros(n)
    credit = capacity_credits(fleet, c)
    tech = fleet.technologies.astype(str)
    hours = int(stress.sum())
    delivered = np.ones((hours, n))  # per nameplate MW
    cap = np.where(fleet.nameplate_mw > 0, fleet.nameplate_mw, 1.0)
    for t in ("wind", "solar"):
        cols = np.flatnonzero(tech == t)
        delivered[:, cols] = available_mw[stress][:, cols] / cap[cols]
    coal = synth.coal_index
    if profiles.outage.size and coal.shape[0]:
        coal_tech = tech[coal]
        for t in np.unique(coal_tech).tolist():
            delivered[:, coal[coal_tech == t]] = 1.0 - float(
                profiles.outage[:, coal_tech == t].mean())
    delivered[:, synth.storage_index] = credit[synth.storage_index]
    per_accredited = delivered / np.where(credit > 0, credit, 1.0)[None, :]
    owed = np.ones(hours)
    if c.balancing_ratio:
        firm = float(synth.export_mw[synth.export_price_yuan_per_mwh
                                     >= rules.energy.price_cap_yuan_per_mwh].sum())
        requirement = float(synth.peak_load_mw) * (1.0 + c.reserve_margin)
        owed = balancing_ratio(profiles.system_load_mw[stress] + firm, requirement)
    rate = c.penalty_rate_yuan_per_mwh()
    short = np.maximum(owed[:, None] - per_accredited, 0.0).sum(axis=0)
    cost = np.minimum(short * rate / KW_PER_MW,
                      c.stop_loss_multiple * c.offer_cap_yuan_per_kw_yr)
    if c.performance_bonus:
        accredited = credit * fleet.nameplate_mw
        short_mwh = float((short * accredited).sum())
        excess_mwh = float((np.maximum(per_accredited - owed[:, None], 0.0)
                            * accredited[None, :]).sum())
        bonus_rate = rate * min(1.0, short_mwh / excess_mwh) if excess_mwh > 0 else 0.0
        cost = cost + np.minimum(per_accredited, owed[:, None]).sum(axis=0) \
            * bonus_rate / KW_PER_MW
    return np.where(credit > 0, cost, 0.0)


def run_capacity_auction(rules: MarketRules, synth: SynthFleet, groups: list[Group],
                         rngs: Mapping[str, np.random.Generator], margins: np.ndarray,
                         obligation_cost_yuan_per_kw_yr: np.ndarray | None = None
                         ) -> CapacityResult:
    """Every generator and storage owner offers its units; the auction clears by the rules
    (``rules.capacity`` as resolved by :func:`resolve_capacity`). A unit's going-forward cost
    is ``fleet.going_forward_cost_share`` of its fixed cost. Every owner sees the same forecast
    of the uniform price: every unit's net going-forward cost (from the shared margins)
    cleared against the demand curve. ``obligation_cost_yuan_per_kw_yr`` (n,): what the
    obligation is expected to cost each unit (:func:`obligation_cost`; default none), added
    to its offer and to the forecast."""
    fleet, cap_rules = synth.fleet, rules.capacity
    risk = obligation_cost_yuan_per_kw_yr
    auction = CapacityAuction(cap_rules, fleet, synth.peak_load_mw)
    accredited = accredited_mw(fleet, cap_rules)
    credit = capacity_credits(fleet, cap_rules)
    going = fixed_costs(fleet.technologies, rules) * rules.fleet.going_forward_cost_share
    must = fleet.is_coal & fleet.existing & cap_rules.must_offer_existing_coal
    costs = net_going_forward_cost(going, margins, credit, rules, risk)
    expected = auction.forecast_uniform_price(costs)
    for g in groups:
        if g.role not in ("generator", "storage") or g.spec.strategy.capacity is None:
            continue
        idx = g.members
        obs = CapacityObservation(g.owner, fleet.unit_ids[idx], fleet.technologies[idx],
                                  accredited[idx], credit[idx], going[idx], margins[idx],
                                  must[idx], expected_price_yuan_per_kw_yr=expected,
                                  expected_obligation_cost_yuan_per_kw_yr=None if risk is None
                                  else risk[idx])
        offers = g.spec.strategy.capacity(obs, rules, rngs[g.label], g.spec.param_dict())
        if not isinstance(offers, CapacityOffers) or np.shape(offers.mw) != idx.shape:
            raise StrategyError(f"{g.label} ({g.spec.name}) must return CapacityOffers of "
                                f"{idx.shape[0]} units")
        mw = capacity_offer_mw(np.asarray(offers.mw), accredited[idx])  # the auction's MW grid
        for k in np.flatnonzero(mw > 0).tolist():
            auction.submit(str(fleet.unit_ids[idx[k]]), float(mw[k]),
                           float(offers.price_yuan_per_kw_yr[k]))
    return auction.clear()


def load_mwh_by_month(profiles: Profiles) -> np.ndarray:
    """float64 (n_loads, 12): each load's MWh per month."""
    out = np.zeros((profiles.load_mw.shape[1], 12))
    np.add.at(out.T, profiles.month_index, profiles.load_mw)
    return out


def unit_mwh_by_month(profiles: Profiles, mw: np.ndarray) -> np.ndarray:
    """float64 (n_units, 12) from an (H, n_units) MW matrix."""
    out = np.zeros((mw.shape[1], 12))
    np.add.at(out.T, profiles.month_index, mw)
    return out


def realtime_available_mw(energy: EnergyYear, synth: SynthFleet,
                          profiles: Profiles) -> np.ndarray:
    """float64 (H, n) MW each unit could actually run at: coal its nameplate unless forced out
    in the hour, the others their day-ahead availability."""
    out = energy.available_mw.copy()
    coal = synth.coal_index
    out[:, coal] = synth.fleet.nameplate_mw[coal][None, :] * ~profiles.outage
    return out


@dataclass(frozen=True)
class Payers:
    """Who is charged the capacity cost and the coal compensation: the loads, then (when
    ``fleet.exports.cost_share`` > 0) the export blocks for that share of their MW. Per payer:
    ``ids``, ``peak_mw``, ``mwh_by_month`` (n, 12) and ``industrial_commercial``."""

    ids: list[str]
    peak_mw: np.ndarray
    mwh_by_month: np.ndarray
    industrial_commercial: np.ndarray


def cost_payers(rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                export_mw: np.ndarray, mwh: np.ndarray) -> Payers:
    """The :class:`Payers` of the year; ``export_mw`` (H,) the exports cleared each hour,
    split over the blocks by their size; ``mwh`` the loads' :func:`load_mwh_by_month`."""
    ids = synth.load_ids.astype(str).tolist()
    peak = profiles.load_mw.max(axis=0)
    industrial = np.asarray(synth.load_industrial_commercial, dtype=bool)
    share = rules.fleet.exports.cost_share
    block = np.asarray(synth.export_mw, dtype=np.float64)
    if share <= 0 or block.size == 0 or block.sum() <= 0:
        return Payers(ids, peak, mwh, industrial)
    monthly = np.bincount(profiles.month_index, weights=np.asarray(export_mw, dtype=np.float64),
                          minlength=12)
    export_mwh = share * (block / block.sum())[:, None] * monthly[None, :]
    return Payers(ids + synth.export_ids.astype(str).tolist(),
                  np.concatenate([peak, share * block]), np.vstack([mwh, export_mwh]),
                  np.concatenate([industrial, np.ones(block.size, dtype=bool)]))


def settle_capacity(ledger: Ledger, rules: MarketRules, result: CapacityResult,
                    energy: EnergyYear, synth: SynthFleet, profiles: Profiles,
                    periods: list[str], payers: Payers) -> PerformanceResult:
    """Post the year's capacity payments monthly (loads charged each month), assess
    performance over the stress hours and charge penalties in December, refunded to loads
    (and to exports for their :func:`cost_payers` share)."""
    weights = load_weights(rules.capacity.cost_allocation, peak_mw=payers.peak_mw,
                           energy_mwh=payers.mwh_by_month.sum(axis=1))
    loads = payers.ids
    batch = Postings()
    settle_capacity_months(batch, result, periods, list(range(1, len(periods) + 1)), loads,
                           weights)
    stress = np.flatnonzero(energy.stress)
    scale = None
    if rules.capacity.balancing_ratio:
        scale = balancing_ratio(profiles.load_mw[stress].sum(axis=1) + energy.export_mw[stress],
                                float(result.cleared_mw.sum()))
    perf = assess_performance(result, delivered_in(rules, energy, synth, profiles, stress).T,
                              rules.capacity, hour_scale=scale)
    charge_performance(batch, perf, periods[-1], loads, weights)
    batch.post(ledger)
    return perf


def delivered_in(rules: MarketRules, energy: EnergyYear, synth: SynthFleet, profiles: Profiles,
                 hours: np.ndarray) -> np.ndarray:
    """MW each unit delivered in ``hours`` by the rules' ``capacity.performance_basis``:
    float64 (len(hours), n_units) (see the module docstring)."""
    n = len(synth.fleet)
    soc = np.zeros((hours.shape[0], n))
    power = np.zeros(n)
    st = synth.storage_index
    if st.shape[0]:
        soc[:, st] = energy.soc_mwh[hours + 1]
        power[st] = synth.storage_power_mw
    return delivered_mw(rules.capacity.performance_basis, synth.fleet.technologies,
                        sold_mw=energy.dispatch_mw[hours], bought_mw=energy.charge_mw[hours],
                        offered_mw=energy.offered_mw[hours],
                        available_mw=realtime_available_mw(energy, synth, profiles)[hours],
                        soc_after_mwh=soc, power_mw=power)


def compensation_calls(rules: MarketRules, energy: EnergyYear, synth: SynthFleet,
                       profiles: Profiles) -> Calls:
    """The call records of the year (see the module docstring)."""
    fleet = synth.fleet
    idx = np.flatnonzero(eligible_units(fleet, rules.compensation))
    available = realtime_available_mw(energy, synth, profiles)
    return call_records(rules.compensation.failure_basis, fleet.unit_ids[idx],
                        fleet.declared_max_mw[idx], sold_mw=energy.dispatch_mw[:, idx],
                        offered_mw=energy.offered_mw[:, idx], available_mw=available[:, idx],
                        stress=energy.stress, month_index=profiles.month_index,
                        day_of_hour=np.arange(profiles.n_hours) // 24)


def settle_compensation(ledger: Ledger, rules: MarketRules, energy: EnergyYear,
                        synth: SynthFleet, profiles: Profiles, periods: list[str],
                        capacity: CapacityResult | None, payers: Payers,
                        unit_mwh: np.ndarray) -> tuple[CompensationYear, Calls]:
    """Count failures from the calls, compensate, fund (:func:`cost_payers`) and post the
    year; ``unit_mwh`` each unit's :func:`unit_mwh_by_month` of its dispatch."""
    calls = compensation_calls(rules, energy, synth, profiles)
    year, _ = settle_months(
        ledger, synth.fleet, rules.compensation, calls, periods,
        capacity_monthly_fen=None if capacity is None else monthly_fen(capacity.payment_fen),
        load_ids=payers.ids, load_mwh=payers.mwh_by_month,
        industrial_commercial=payers.industrial_commercial,
        renewable_mwh=unit_mwh)
    return year, calls


def recover_storage(ledger: Ledger, rules: MarketRules, synth: SynthFleet,
                    load_mwh: np.ndarray, periods: list[str]) -> None:
    """Charge each month's storage compensation to loads by their MWh that month (unless the
    rules' ``energy.storage_compensation_recovery`` is ``"none"``)."""
    if rules.energy.storage_compensation_recovery == "none":
        return
    paid = [-ledger.totals_by("participant", period=period,
                              category=Category.STORAGE_COMPENSATION).get(SYSTEM_OPERATOR, 0)
            for period in periods]
    recover_storage_compensation(ledger, periods, paid, synth.load_ids.tolist(), load_mwh)
