"""The tables of a simulated year (hourly, units, monthly, failures, bids, capacity) and its
summary, built from what the markets recorded and from the ledger."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agents.fleet import SynthFleet, emission_factors, fixed_costs
from agents.inprocess.runner import EnergyYear
from agents.profiles import Profiles
from clearing.grid import KW_PER_MW, from_ticks
from market.capacity.auction import CapacityResult, accredited_mw
from market.capacity.performance import PerformanceResult
from market.compensation.calls import Calls
from market.compensation.scheme import CompensationYear, eligible_units
from market.energy.settlement import STORAGE_RECOVERY_MEMO
from market.ledger.book import Category, Ledger
from market.rules import MarketRules
from studies.year.contracts import ContractsYear
from studies.year.green import GreenYear

#: cost_allocation memos of the capacity market and of the coal compensation funding.
CAPACITY_MEMOS = ("capacity market cost", "capacity market penalties refunded")
COMPENSATION_MEMO = "coal capacity compensation funding"


def served_load_mw(energy: EnergyYear) -> np.ndarray:
    """float64 (H,): MW the loads bought in each hour (their accepted bids; exports and
    storage charging excluded), the MWh their energy bill is for."""
    a, h = energy.actors, len(energy.price)
    total = np.zeros(h, dtype=np.float64)
    for rows, accepted in energy.rows:
        actor = rows[1]
        load = (actor >= a.n_units) & (actor < a.n_units + a.n_loads)
        total += np.bincount(rows[0][load], weights=accepted[load].astype(np.float64),
                             minlength=h)[:h]
    return total * energy.quantity_tick


def hourly_table(rules: MarketRules, energy: EnergyYear, synth: SynthFleet,
                 profiles: Profiles) -> dict[str, Any]:
    """Per-hour columns (H,): ``load_mw`` is demand as bid, ``served_load_mw`` what the loads
    bought (energy cost = sum of price x served load), ``unserved_mw`` inelastic demand not
    served (lost load), ``curtailed_mw`` wind and solar available but not dispatched; output by
    technology (``coal_mw``, ``wind_mw``, ``solar_mw``, ``storage_discharge_mw``) and
    ``storage_charge_mw``, ``storage_soc_mwh`` (the storage fleet's energy stored at the end
    of each hour); ``co2_t`` the coal units' emissions (dispatch x the class's
    ``co2_t_per_mwh``); plus ``month``, ``forecast_yuan_per_mwh``, stress and reserve margin."""
    d, a = energy.dispatch_mw, energy.available_mw
    w, s, st = synth.wind_index, synth.solar_index, synth.storage_index
    renew_cut = (a[:, w].sum(axis=1) - d[:, w].sum(axis=1)
                 + a[:, s].sum(axis=1) - d[:, s].sum(axis=1))
    factors = emission_factors(np.asarray(synth.fleet.technologies), rules)
    return {
        "hour": np.arange(profiles.n_hours, dtype=np.int64),
        "month": profiles.month.astype(np.int64),
        "price_yuan_per_mwh": energy.price,
        "load_mw": profiles.system_load_mw,
        "served_load_mw": served_load_mw(energy),
        "unserved_mw": energy.curtailed_mwh,
        "coal_mw": d[:, synth.coal_index].sum(axis=1),
        "wind_mw": d[:, w].sum(axis=1),
        "solar_mw": d[:, s].sum(axis=1),
        "storage_discharge_mw": d[:, st].sum(axis=1),
        "storage_charge_mw": energy.charge_mw[:, st].sum(axis=1),
        "storage_soc_mwh": energy.soc_mwh[1:].sum(axis=1),  # (H + 1, n_storage): after each h
        "export_mw": energy.export_mw,
        "wind_available_mw": a[:, w].sum(axis=1),
        "solar_available_mw": a[:, s].sum(axis=1),
        "curtailed_mw": np.maximum(renew_cut, 0.0),
        "co2_t": d @ factors,
        "stress": energy.stress.copy(),
        "reserve_margin": energy.reserve_margin,
        "forecast_yuan_per_mwh": energy.forecast,
    }


def unit_ledger(ledger: Ledger, synth: SynthFleet) -> dict[str, np.ndarray]:
    """Net fen (int64 (n_units,)) received by each unit's owner for the unit, by category."""
    cols = ledger.columns()
    fleet = synth.fleet
    index = {u: i for i, u in enumerate(fleet.unit_ids.tolist())}
    unit = np.array([index.get(u, -1) if u is not None else -1 for u in cols["unit"].tolist()])
    mine = unit >= 0
    mine[mine] = cols["participant"][mine] == fleet.owners[unit[mine]]
    out: dict[str, np.ndarray] = {}
    for cat in np.unique(cols["category"][mine]).tolist():
        rows = mine & (cols["category"] == cat)
        fen = np.zeros(len(fleet), dtype=np.int64)
        np.add.at(fen, unit[rows], cols["amount_fen"][rows])
        out[cat] = fen
    return out


def units_table(rules: MarketRules, synth: SynthFleet, energy: EnergyYear,
                ledger: Ledger) -> dict[str, np.ndarray]:
    """Per-unit columns (n_units,) in fleet order (see the contract); fixed costs from
    :func:`agents.fleet.fixed_costs`."""
    fleet = synth.fleet
    n = len(fleet)
    money = unit_ledger(ledger, synth)

    def yuan(cat: str) -> np.ndarray:
        return money.get(cat, np.zeros(n, dtype=np.int64)) / 100.0

    mwh = energy.dispatch_mw.sum(axis=0)
    contracts = yuan(Category.CONTRACT_DIFFERENCE) + yuan(Category.MECHANISM_SETTLEMENT)
    cost = np.asarray(synth.marginal_cost_yuan_per_mwh, dtype=np.float64)
    variable = np.where(fleet.is_coal, cost * mwh, 0.0)
    fixed = fixed_costs(fleet.technologies, rules) * fleet.nameplate_mw * KW_PER_MW
    revenue = (yuan("energy") + yuan("capacity_payment") + yuan("performance_penalty")
               + yuan("performance_bonus")
               + yuan("compensation") + yuan("green_premium")
               + yuan("certificate_sale") + yuan("storage_compensation")
               + yuan("cost_allocation") + contracts)
    comp = eligible_units(fleet, rules.compensation)
    return {
        "unit_id": fleet.unit_ids.astype(str), "owner": fleet.owners.astype(str),
        "technology": fleet.technologies.astype(str), "nameplate_mw": fleet.nameplate_mw.copy(),
        "accredited_mw": accredited_mw(fleet, rules.capacity),
        "declared_max_mw": fleet.declared_max_mw.copy(),
        "supporting": fleet.is_supporting.copy(), "compensation_eligible": comp,
        "marginal_cost_yuan_per_mwh": cost.copy(), "energy_mwh": mwh,
        "energy_revenue_yuan": yuan("energy"), "capacity_revenue_yuan": yuan("capacity_payment"),
        "performance_penalty_yuan": -yuan("performance_penalty"),
        "performance_bonus_yuan": yuan("performance_bonus"),
        # The net compensation, the only compensation money that moves (its gross, offset and
        # deductions are per unit and month in failures.csv and by month in monthly.csv).
        "compensation_yuan": yuan("compensation"),
        "green_revenue_yuan": yuan("green_premium") + yuan("certificate_sale"),
        "storage_compensation_yuan": yuan("storage_compensation"),
        # differences of coal CfDs and of the mechanism price (received +, paid -)
        "contracts_yuan": contracts,
        "funding_charge_yuan": -yuan("cost_allocation"),
        "variable_cost_yuan": variable, "fixed_cost_yuan": fixed,
        "profit_yuan": revenue - variable - fixed,
        "fixed_cost_recovery": np.where(fixed > 0, (revenue - variable)
                                        / np.where(fixed > 0, fixed, 1.0), np.nan),
    }


def monthly_table(comp: CompensationYear, green: GreenYear) -> dict[str, np.ndarray]:
    """Per-month columns (12,). Compensation: gross = offset + deducted + paid (net, the money
    posted); ``compensation_deductions_due_yuan`` is what the deduction table asks for the
    month's failures, whether or not the offset left anything to deduct."""
    return {
        "month": np.arange(1, 13, dtype=np.int64),
        "compensation_paid_yuan": comp.net_fen.sum(axis=0) / 100.0,
        "compensation_gross_yuan": comp.gross_fen.sum(axis=0) / 100.0,
        "compensation_deducted_yuan": comp.deducted_fen.sum(axis=0) / 100.0,
        "compensation_offset_yuan": comp.offset_fen.sum(axis=0) / 100.0,
        "compensation_deductions_due_yuan": comp.deduction_fen.sum(axis=0) / 100.0,
        "failures": comp.failures.sum(axis=0).astype(np.int64),
        "certificates_issued": green.issued.copy(), "certificates_traded": green.traded.copy(),
        "certificates_retired": green.retired.copy(),
        "bundled_mwh": green.bundled_mwh.copy(),
        "green_premium_yuan_per_mwh": green.premium.copy(),
        "certificate_price_yuan": green.certificate_price.copy(),
        "bundled_contracted_mwh": green.bundled_contracted_mwh.copy(),
        "bundled_undelivered_mwh": green.bundled_undelivered_mwh.copy(),
        "certificate_value_yuan": green.certificate_value.copy(),
    }


def failures_table(comp: CompensationYear) -> dict[str, np.ndarray]:
    """The failures log: one row per unit and month with failures (fleet order, then month),
    with what they cost: ``fraction`` of the deduction table, ``deduction_due_yuan`` (gross x
    fraction, the would-be deduction), and the month's ``gross_yuan``, ``offset_yuan``,
    ``deducted_yuan`` (what the failures actually took) and ``paid_yuan`` (net)."""
    u, m = np.nonzero(comp.failures > 0)

    def yuan(fen: np.ndarray) -> np.ndarray:
        return fen[u, m] / 100.0

    return {"unit_id": comp.unit_ids[u].astype(str), "month": (m + 1).astype(np.int64),
            "failures": comp.failures[u, m].astype(np.int64),
            "eligible": comp.eligible[u, m].copy(), "fraction": comp.fraction[u, m].copy(),
            "deduction_due_yuan": yuan(comp.deduction_fen), "gross_yuan": yuan(comp.gross_fen),
            "offset_yuan": yuan(comp.offset_fen), "deducted_yuan": yuan(comp.deducted_fen),
            "paid_yuan": yuan(comp.net_fen)}


def calls_summary(calls: Calls) -> dict[str, int]:
    return {"calls": int(calls.unit_ids.shape[0]),
            "failed_calls": int((calls.delivered_mw < calls.called_mw).sum())}


def bids_table(energy: EnergyYear) -> dict[str, np.ndarray]:
    """Every energy bid row of the year (static rows, then the adaptive and storage rows).

    Columns, from the year's integer rows: ``owner`` and ``unit_id`` are object arrays of
    ``str`` (each row refers to its actor's name; a year has millions of rows and a few hundred
    actors), prices and quantities decoded from their ticks as the bids were
    (:func:`clearing.grid.from_ticks`)."""
    a = energy.actors
    rows = [r for r, _ in energy.rows]

    def cat(k: int) -> np.ndarray:
        return np.concatenate([r[k] for r in rows])

    actor = cat(1)
    return {"hour": cat(0), "owner": a.owner.astype(object)[actor],
            "unit_id": a.label.astype(object)[actor], "side": cat(4),
            "price_yuan_per_mwh": np.asarray(from_ticks(cat(2), energy.price_tick)),
            "quantity_mw": np.asarray(from_ticks(cat(3), energy.quantity_tick)),
            "accepted_mw": np.concatenate([acc for _, acc in energy.rows])
            * energy.quantity_tick,
            "marginal_cost_yuan_per_mwh": a.marginal_cost[actor]}


def capacity_record(result: CapacityResult | None) -> dict[str, Any] | None:
    """What the contract's ``capacity`` holds (None without a capacity market)."""
    if result is None:
        return None
    offers = result.offers
    return {
        "offers": {"unit_id": result.unit_ids[offers.unit].astype(str),
                   "mw": offers.mw.copy(),
                   "price_yuan_per_kw_yr": offers.price_yuan_per_kw_yr.copy(),
                   "imputed": offers.imputed.copy(), "accepted_mw": result.accepted_mw.copy()},
        "demand_points": [[float(q), float(p)] for q, p in zip(
            result.demand.quantity_mw.tolist(), result.demand.price_yuan_per_kw_yr.tolist(),
            strict=True)],
        "requirement_mw": float(result.demand.requirement_mw),
        "price": result.price_yuan_per_kw_yr, "cleared_mw": result.total_cleared_mw,
        "format": result.format,
    }


def contracts_summary(contracts: ContractsYear | None) -> dict[str, Any]:
    """The summary's ``contracts``: whether they settled, the coal strike and contracted MWh,
    and the yuan moved (coal CfDs to the sellers, mechanism to the projects, the mechanism's
    charge to loads; negative the other way)."""
    if contracts is None:
        return {"enabled": False}
    return {"enabled": True, "coal_strike_yuan_per_mwh": contracts.strike,
            "coal_contracted_mwh": float(contracts.coal_mwh.sum()),
            "coal_difference_yuan": int(contracts.coal_fen.sum()) / 100.0,
            "mechanism_paid_yuan": int(contracts.mechanism_fen.sum()) / 100.0,
            "mechanism_charge_yuan": int(contracts.charge_fen.sum()) / 100.0}


def decimals_for(key: str) -> int | None:
    """Decimals a figure means, by its name's unit: yuan to the fen, prices and intensities
    per unit to 4, MW, MWh and tonnes to 3 (the quantity grid); None for a name without a
    unit. The summary's rounding and the CSV files' formats both read it."""
    if "_per_" in key:
        return 4
    if key.endswith("_yuan"):
        return 2
    if key.endswith(("_mw", "_mwh", "_t")):
        return 3
    return None


def rounded(value: Any, key: str = "", decimals: int = 6) -> Any:
    """``value`` (a summary, nested dicts and lists) with every float rounded to the decimals
    its key means (:func:`decimals_for`), or its enclosing key's (``consumer_cost_yuan``'s
    components), else 6 (shares, ratios, strategy parameters); a negative zero becomes 0.0."""
    own = decimals_for(key)
    places = decimals if own is None else own
    if isinstance(value, dict):
        return {k: rounded(v, str(k), places) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, key, places) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return round(value, places) + 0.0
    return value


def _f(x: Any) -> float | None:
    """A JSON-able float (None for NaN or infinite)."""
    v = float(x)
    return v if math.isfinite(v) else None


def consumer_cost(ledger: Ledger, synth: SynthFleet) -> dict[str, float]:
    """What the loads paid, yuan, by component (a refund counts negative)."""
    return paid_by(ledger, synth.load_ids)


def paid_by(ledger: Ledger, payers: np.ndarray) -> dict[str, float]:
    """What ``payers`` (participant ids) paid, yuan, by component (a refund counts
    negative): energy, capacity, compensation, green, storage compensation, contracts and the
    total."""
    cols = ledger.columns()
    loads = np.isin(cols["participant"].astype(str), np.asarray(payers).astype(str))
    cat, memo, fen = cols["category"], cols["memo"], -cols["amount_fen"]

    def paid(mask: np.ndarray) -> float:
        return int(fen[loads & mask].sum()) / 100.0

    alloc = cat == "cost_allocation"
    out = {
        "energy": paid(cat == "energy"),
        "capacity": paid(alloc & np.isin(memo, CAPACITY_MEMOS)),
        "compensation": paid(alloc & (memo == COMPENSATION_MEMO)),
        "green": paid(np.isin(cat, ("green_premium", "certificate_sale", "obligation_penalty"))),
        "storage_compensation": paid(alloc & (memo == STORAGE_RECOVERY_MEMO)),
        "contracts": paid(np.isin(cat, (Category.CONTRACT_DIFFERENCE,
                                        Category.MECHANISM_CHARGE))),
    }
    out["total"] = round(sum(out.values()), 2)
    return out


def build_summary(rules: MarketRules, seed: int, scale: float, synth: SynthFleet,
                  profiles: Profiles, energy: EnergyYear, hourly: dict[str, Any],
                  capacity: CapacityResult | None, perf: PerformanceResult | None,
                  comp: CompensationYear, calls: Calls, green: GreenYear,
                  ledger: Ledger, strategies: dict[str, Any]) -> dict[str, Any]:
    """The summary dict of the contract (JSON-able, NaN as None)."""
    price = np.nan_to_num(energy.price)
    load = profiles.system_load_mw
    gen = hourly["coal_mw"].sum() + hourly["wind_mw"].sum() + hourly["solar_mw"].sum()
    renew = hourly["wind_mw"].sum() + hourly["solar_mw"].sum()
    served = float(hourly["served_load_mw"].sum())
    discharge = float(hourly["storage_discharge_mw"].sum())
    co2 = float(hourly["co2_t"].sum())
    unserved = _f(energy.curtailed_mwh.sum())
    cost = consumer_cost(ledger, synth)
    report = green.registry.invariant_report()
    t = report.totals
    trades = green.market.trades
    bundled = [x for x in trades if x.product == "bundled"]
    unbundled = [x for x in trades if x.product == "unbundled"]

    def avg(rows: list[Any]) -> float | None:
        q = sum(r.quantity_ticks for r in rows)
        return _f(sum(r.premium_yuan_per_mwh * r.quantity_ticks for r in rows) / q) if q else None

    obligation = green.obligations
    return {
        "seed": int(seed), "scale": float(scale), "hours": int(profiles.n_hours),
        "year": int(profiles.year), "rules_name": rules.meta.name,
        "rules_sha256": rules.sha256(), "strategies": strategies,
        "energy": {
            "avg_price_yuan_per_mwh": _f((price * load).sum() / load.sum()),
            "simple_avg_price_yuan_per_mwh": _f(price.mean()),
            "max_price_yuan_per_mwh": _f(price.max()), "min_price_yuan_per_mwh": _f(price.min()),
            "stress_hours": int(energy.stress.sum()),
            "unserved_mwh": unserved,
            "renewable_curtailed_mwh": _f(hourly["curtailed_mw"].sum()),
            "load_mwh": _f(load.sum()), "served_load_mwh": _f(served),
            "generation_excl_storage_mwh": _f(gen),
            "export_mwh": _f(energy.export_mw.sum()),
            "storage_discharge_mwh": _f(hourly["storage_discharge_mw"].sum()),
            "storage_charge_mwh": _f(hourly["storage_charge_mw"].sum()),
            # The names before issue 14, kept for older readers (summary keys are pinned):
            # curtailed_mwh is unserved_mwh, generation_mwh is generation_excl_storage_mwh.
            "curtailed_mwh": unserved,
            "generation_mwh": _f(gen),
        },
        "emissions": {
            "co2_t": _f(co2),
            "intensity_t_per_mwh": _f(co2 / (gen + discharge)) if gen + discharge > 0
            else None,
        },
        "capacity": {
            "enabled": capacity is not None,
            "clearing_price_yuan_per_kw_yr": None if capacity is None
            else _f(capacity.price_yuan_per_kw_yr) if capacity.price_yuan_per_kw_yr is not None
            else None,
            "cleared_mw": 0.0 if capacity is None else _f(capacity.total_cleared_mw),
            "requirement_mw": None if capacity is None else _f(capacity.demand.requirement_mw),
            "payments_yuan": 0.0 if capacity is None else capacity.total_payment_fen / 100.0,
            "penalties_yuan": 0.0 if perf is None else perf.total_penalty_fen / 100.0,
            "bonus_yuan": 0.0 if perf is None else perf.total_bonus_fen / 100.0,
        },
        # gross = offset + deducted + paid; paid is the only money posted (see
        # studies.output.files for each key's meaning).
        "compensation": {
            "paid_yuan": int(comp.net_fen.sum()) / 100.0,
            "gross_yuan": int(comp.gross_fen.sum()) / 100.0,
            "deducted_yuan": int(comp.deducted_fen.sum()) / 100.0,
            "offset_yuan": int(comp.offset_fen.sum()) / 100.0,
            "deductions_due_yuan": int(comp.deduction_fen.sum()) / 100.0,
            "failures": int(comp.failures.sum()), **calls_summary(calls),
            "units_eligible": int(comp.eligible.any(axis=1).sum()),
            "units_lost_eligibility": int(comp.lost_eligibility.sum()),
        },
        "green": {
            "certificates_issued": _f(t["issued"]), "certificates_retired": _f(t["retired"]),
            "certificates_held": _f(t["held"]), "certificates_expired": _f(t["expired"]),
            "certificates_traded": _f(green.traded.sum()),
            "bundled_mwh": _f(green.bundled_mwh.sum()),
            "bundled_contracted_mwh": _f(green.bundled_contracted_mwh.sum()),
            "bundled_delivered_mwh": _f(green.bundled_mwh.sum()),
            "bundled_undelivered_mwh": _f(green.bundled_undelivered_mwh.sum()),
            "avg_premium_yuan_per_mwh": avg(bundled),
            "avg_certificate_price_yuan": avg(unbundled),
            "obligation_mwh": _f(obligation.obligation_mwh.sum()),
            "shortfall_mwh": _f(obligation.shortfall_mwh.sum()),
            "shortfall_penalty_yuan": int(obligation.penalty_fen.sum()) / 100.0,
            "registry_problems": len(report.problems),
            "exported_mwh": _f(green.exported_mwh.sum()),
        },
        "renewable_share": _f(renew / gen) if gen > 0 else None,
        "consumer_cost_yuan": cost,
        "exports": {"cost_share": float(rules.fleet.exports.cost_share),
                    "energy_mwh": _f(energy.export_mw.sum()),
                    "paid_yuan": paid_by(ledger, synth.export_ids)},
        "consumer_cost_yuan_per_mwh": {k: _f(v / served) if served > 0 else None
                                       for k, v in cost.items()},
        "ledger": {"imbalance_yuan": ledger.balance() / 100.0,
                   "payments": int(ledger.n_payments), "entries": int(ledger.n_entries)},
    }
