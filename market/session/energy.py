"""Energy rounds of a session: one batched clearing of the round's hours, settlement, and the
capacity performance check of the stress hours found.

* **Bids**: the participants' stored bids, then each load's **inelastic rest**: its demand in an
  hour minus the blocks it bid there, entered as a buy at the value of lost load (DESIGN.md:
  loads bid price-responsive blocks plus inelastic demand at the cap). A unit nobody bid for
  offers nothing. Load blocks carry the load id as ``unit_id`` so the ledger names the load.
* **Clearing**: :func:`market.energy.auction.clear_energy` on the round's hours (local indices
  0..k-1), with the hour's available capacity (sum over units) and demand for the reserve-margin
  stress test; **settlement** by :func:`market.energy.auction.settle_energy` in the month of each
  hour,
  storage discharge compensated within the daily cycle cap (days = session hour // 24).
* **Storage** starts ``storage_soc_start_fraction`` full (energy = nameplate x the rules'
  ``fleet.storage`` hours); its state of charge follows the cleared dispatch.
* **Capacity performance** (when a capacity round has cleared): in every stress hour so far a
  unit owes its cleared MW and delivers its net dispatch; the year's penalties
  (:func:`~market.capacity.performance.assess_performance`, stop-loss included) are recomputed
  over all stress hours and the increase is charged (owner -> system operator) and refunded to
  the loads by the capacity cost-allocation weights (system operator -> load).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from clearing.book import from_ticks
from market.capacity.performance import Committed, assess_performance, delivered_mw
from market.capacity.settlement import charge_performance
from market.energy.auction import BUY, SELL, EnergyBids, clear_energy
from market.energy.settlement import recover_storage_compensation, settle_energy
from market.ledger.book import SYSTEM_OPERATOR, Category
from market.session.books import SessionBooks
from market.session.rounds import Entries, py
from market.session.setup import RoundSpec


def _rows(s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, list[Any]]:
    local = {h: k for k, h in enumerate(spec.hours)}
    cols: dict[str, list[Any]] = {k: [] for k in ("hour", "participant", "unit", "side",
                                                  "price", "quantity", "imputed")}

    def add(hour: int, who: str, unit: str, side: str, price: float, qty: float,
            imputed: bool) -> None:
        for key, v in zip(cols, (hour, who, unit, side, price, qty, imputed), strict=True):
            cols[key].append(v)

    bought: dict[tuple[str, int], float] = {}
    for who, bids in entries:
        for b in bids:
            add(b["hour"], who, b["unit"], b["side"], b["price"], b["quantity"], False)
            if b["side"] == "buy":
                key = (b["unit"], b["hour"])
                bought[key] = bought.get(key, 0.0) + b["quantity"]
    tick = float(s.rules.ticks.quantity_mw)
    voll = float(s.rules.fleet.loads.value_of_lost_load_yuan_per_mwh)
    for ld in s.loads:
        for h in spec.hours:
            rest = ld.demand_mw[h] - bought.get((ld.load_id, h), 0.0)
            ticks = int(np.floor(rest / tick + 1e-9))
            if ticks > 0:
                add(h, ld.participant, ld.load_id, "buy", voll,
                    float(from_ticks(ticks, tick)), True)
    cols["local"] = [local[h] for h in cols["hour"]]
    return cols


def clear_energy_round(s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
    rules = s.rules
    cols = _rows(s, spec, entries)
    k = len(spec.hours)
    side = np.array([SELL if x == "sell" else BUY for x in cols["side"]], dtype=np.int8)
    bids = EnergyBids.from_arrays(
        np.array(cols["local"], dtype=np.int64), np.array(cols["participant"], dtype=str),
        np.array(cols["unit"], dtype=str), side, np.array(cols["price"], dtype=np.float64),
        np.array(cols["quantity"], dtype=np.float64), rules=rules, n_hours=k)
    hours = np.array(spec.hours, dtype=np.int64)
    result = clear_energy(bids, k, rules, available_mw=s.available[:, hours].sum(axis=0),
                          load_mw=s.demand_mw()[:, hours].sum(axis=0))
    storage = {str(s.fleet.unit_ids[i]): e for i, e in s.storage_energy_mwh().items()}
    start = s.ledger.n_entries
    settle_energy(result, bids, s.ledger, [s.period(s.profiles.month_of_hour[h]) for h in hours],
                  storage_energy_mwh=storage or None, day_of_hour=hours // 24)
    _recover_storage(s, spec, start)
    accepted = result.accepted_mw
    dispatch: dict[tuple[str, int], float] = {}
    units = set(s.fleet.unit_ids.tolist())
    for j, unit in enumerate(cols["unit"]):
        if unit in units and accepted[j] > 0:
            key = (unit, cols["hour"][j])
            dispatch[key] = dispatch.get(key, 0.0) + float(accepted[j]) * (
                1.0 if side[j] == SELL else -1.0)
    out = {
        "kind": "energy", "hours": [int(h) for h in hours],
        "price_yuan_per_mwh": py(result.price), "volume_mwh": py(result.volume_mwh),
        "curtailed_mwh": py(result.curtailed_mwh), "reserve_margin": py(result.reserve_margin),
        "stress_hours": [int(hours[h]) for h in result.stress_hours],
        "bids": [{"participant": cols["participant"][j], "unit": cols["unit"][j],
                  "hour": cols["hour"][j], "side": cols["side"][j], "price": cols["price"][j],
                  "quantity": cols["quantity"][j], "imputed": cols["imputed"][j],
                  "accepted_mw": py(accepted[j])} for j in range(len(bids))],
        "dispatch": [{"unit": u, "hour": h, "mw": mw}
                     for (u, h), mw in sorted(dispatch.items(), key=lambda x: (x[0][1], x[0][0]))],
    }
    out["performance"] = _performance(s, spec, json.loads(json.dumps(out)))
    return out


def _recover_storage(s: SessionBooks, spec: RoundSpec, start: int) -> None:
    """Charge the storage compensation this round paid to the loads, by their MWh in the
    round's hours of each month (``energy.storage_compensation_recovery``)."""
    if s.rules.energy.storage_compensation_recovery == "none":
        return
    paid: dict[str, int] = {}
    cols = s.ledger.columns()
    for period, who, cat, fen in zip(cols["period"][start:].tolist(),
                                     cols["participant"][start:].tolist(),
                                     cols["category"][start:].tolist(),
                                     cols["amount_fen"][start:].tolist(), strict=True):
        if who == SYSTEM_OPERATOR and cat == Category.STORAGE_COMPENSATION.value:
            paid[period] = paid.get(period, 0) - int(fen)
    if not paid:
        return
    periods = list(paid)
    hours_of = {p: [h for h in spec.hours if s.period(s.profiles.month_of_hour[h]) == p]
                for p in periods}
    mwh = np.array([[sum(ld.demand_mw[h] for h in hours_of[p]) for p in periods]
                    for ld in s.loads])
    payers, units = s.load_payers()
    recover_storage_compensation(s.ledger, periods, [paid[p] for p in periods], payers, mwh,
                                 units)


def _performance(s: SessionBooks, spec: RoundSpec, this: dict[str, Any]) -> dict[str, Any] | None:
    """Charge the increase of the year's capacity penalties (see the module docstring)."""
    cap = next((r.result for r in s.rounds.values()
                if r.spec.kind == "capacity" and r.result is not None), None)
    if cap is None or not this["stress_hours"]:
        return None
    earlier = s.energy_results()  # the rounds cleared before this one
    stress = np.array(sorted({h for res in [*earlier, this] for h in res["stress_hours"]}),
                      dtype=np.int64)
    n = len(s.fleet)
    power = np.where(s.fleet.technologies == "storage", s.fleet.nameplate_mw, 0.0)
    delivered = delivered_mw(
        s.rules.capacity.performance_basis, s.fleet.technologies,
        sold_mw=s.sold_mw(this)[:, stress].T, bought_mw=s.bought_mw(this)[:, stress].T,
        offered_mw=s.offered_mw(this)[:, stress].T, available_mw=s.available[:, stress].T,
        soc_after_mwh=s.storage_soc_path_mwh(this)[:, stress].T, power_mw=power)
    units = cap["units"]
    committed = Committed(
        unit_ids=s.fleet.unit_ids, owners=s.fleet.owners,
        cleared_mw=np.array([u["cleared_mw"] for u in units], dtype=np.float64),
        payment_fen=np.array([u["annual_payment_fen"] for u in units], dtype=np.int64))
    perf = assess_performance(committed, delivered.T, s.rules.capacity)
    charged = np.zeros(n, dtype=np.int64)
    for res in earlier:
        if res.get("performance"):
            charged += np.array(res["performance"]["charged_fen"], dtype=np.int64)
    period = s.period(s.profiles.month_of_hour[spec.hours[-1]])
    payers, load_units = s.load_payers()
    due = charge_performance(s.ledger, perf, period, payers, s.capacity_weights(),
                             units=load_units, charged_fen=charged)
    return {"stress_hours": stress.tolist(), "shortfall_mwh": py(perf.shortfall_mwh),
            "penalty_fen": py(perf.penalty_fen), "charged_fen": py(due)}
