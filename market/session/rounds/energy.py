"""The energy round: its bid checks, one batched clearing of the round's hours, settlement,
and the capacity performance check of the stress hours found.

* **Checks**: a unit sells (storage may also buy) up to its available MW in the hour, rounded
  down to the quantity tick; a load buys up to its demand rounded to the *nearest* tick (as the
  simulated year and the bots round it); prices on the price tick within the rules' floor and
  cap; a storage unit's batch stays feasible whatever part is accepted (see
  :func:`_storage`).

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
  the loads by the capacity cost-allocation weights (system operator -> load). The rules'
  ``capacity.balancing_ratio`` and ``capacity.performance_bonus`` apply as in the simulated
  year; a bonus is recomputed the same way and its change paid (or taken back).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np

from clearing.grid import (
    GRID_TOLERANCE_TICKS,
    HOURS_PER_DAY,
    floor_ticks,
    from_ticks,
    on_grid,
    scaled,
)
from clearing.jsonable import jsonable
from market.capacity.performance import (
    Committed,
    assess_performance,
    balancing_ratio,
    delivered_mw,
)
from market.capacity.settlement import charge_performance
from market.energy.auction import BUY, SELL, EnergyBids, clear_energy
from market.energy.settlement import recover_storage_compensation, settle_energy
from market.errors import EnergyBidError
from market.ledger.book import SYSTEM_OPERATOR, Category
from market.session.bids import Bid, hours_text, not_named, owner_problem
from market.session.books import SessionBooks
from market.session.results import EnergyRoundResult
from market.session.rounds.registry import BidRound, Entries, Problem, register
from market.session.setup import RoundSpec


class Energy(BidRound):
    """The ``energy`` kind (see the module docstring)."""

    name: ClassVar[str] = "energy"

    def validate(self, s: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
                 rows: list[int]) -> list[Problem]:
        return _validate(s, participant, spec, bids, rows)

    def clear(self, s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
        return _clear(s, spec, entries)


def _validate(session: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
              rows: list[int]) -> list[Problem]:
    rules = session.rules
    pt, qt = float(rules.ticks.price_yuan), float(rules.ticks.quantity_mw)
    cap, floor = rules.energy.price_cap_yuan_per_mwh, rules.energy.price_floor_yuan_per_mwh
    hours = set(spec.hours)
    used: dict[tuple[str, int, str], float] = {}
    out: list[Problem] = []
    for i in rows:
        b = bids[i]
        why = not_named(b, spec, "counterparty")
        if b.hour is None or b.hour not in hours:
            why.append(f"hour {b.hour!r} is not cleared in this round; allowed hours: "
                       f"{hours_text(spec.hours)}")
        owner = owner_problem(session, participant, b.unit)
        if owner:
            why.append(owner)
        if not on_grid(b.price, pt) or not floor <= b.price <= cap:
            why.append(f"price {b.price!r} yuan/MWh must be on the {pt:g} yuan grid within "
                       f"[{floor:g}, {cap:g}]")
        if not (on_grid(b.quantity, qt) and b.quantity > 0):
            why.append(f"quantity {b.quantity!r} MW must be > 0 on the {qt:g} MW grid")
        if not why:
            why += _energy_limit(session, b, used)
        out += [(i, w) for w in why]
    bad = {i for i, _ in out}
    good = [i for i in rows if i not in bad]
    out += _storage(session, bids, good)
    if not out and good:
        out += _energy_intake(session, participant, spec, [bids[i] for i in good], good)
    return out


def _energy_intake(session: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
                   index: list[int]) -> list[Problem]:
    """The energy market's own intake checks, so that a stored batch always clears."""
    local = {h: k for k, h in enumerate(spec.hours)}
    try:
        EnergyBids.from_arrays(
            [local[b.hour or 0] for b in bids], participant, [b.unit or "" for b in bids],
            [1 if b.side == "sell" else -1 for b in bids], [b.price for b in bids],
            [b.quantity for b in bids], rules=session.rules, n_hours=len(spec.hours))
    except EnergyBidError as exc:
        return [(index[row] if row is not None else index[0], why)
                for row, why in exc.problems]
    return []


def _ticks(mw: float, tick: float) -> int:
    """An on-grid quantity (or a sum of them) in whole ticks."""
    return int(np.rint(scaled(mw, tick)))


def _within(limit_mw: float, tick: float) -> int:
    """Most ticks a total may reach under the float ``limit_mw``: the limit rounded down,
    counting a value :data:`~clearing.grid.GRID_TOLERANCE_TICKS` below a grid point as on it."""
    return int(floor_ticks(max(limit_mw, 0.0), tick, GRID_TOLERANCE_TICKS))


def _storage(session: SessionBooks, bids: list[Bid], rows: list[int]) -> list[Problem]:
    """A storage unit's bids must stay feasible whatever part is accepted: in the round, its
    discharge offered <= its state of charge (MWh), efficiency x charge bid <= the room left,
    each day's discharge (this batch plus what earlier rounds dispatched that day) <= max
    cycles x energy, and never both sides in one hour. Days are session hour // 24."""
    rules = session.rules.energy
    tick = float(session.rules.ticks.quantity_mw)
    energy = {str(session.fleet.unit_ids[i]): e for i, e in session.storage_energy_mwh().items()}
    soc = session.storage_soc_mwh()
    discharged = session.daily_discharge_mwh()
    out: list[Problem] = []
    for unit, e in energy.items():
        mine = [i for i in rows if bids[i].unit == unit]
        if not mine:
            continue
        sell = [i for i in mine if bids[i].side == "sell"]
        buy = [i for i in mine if bids[i].side == "buy"]
        hours_of = {side: {int(bids[i].hour or 0) for i in rows_}
                    for side, rows_ in (("sell", sell), ("buy", buy))}
        both = sorted(hours_of["sell"] & hours_of["buy"])
        for h in both:
            out.append((max(i for i in mine if bids[i].hour == h),
                        f"storage {unit!r} both charges and discharges in hour {h}; bid one "
                        "side per hour"))
        total = sum(bids[i].quantity for i in sell)
        if sell and _ticks(total, tick) > _within(soc[unit], tick):
            out.append((sell[-1], f"storage {unit!r} offers {total:g} MWh of discharge in this "
                                  f"round but holds {soc[unit]:g} MWh; allowed total <= "
                                  f"{soc[unit]:g} MWh"))
        room = (e - soc[unit]) / rules.storage_round_trip_efficiency
        total = sum(bids[i].quantity for i in buy)
        if buy and _ticks(total, tick) > _within(room, tick):
            out.append((buy[-1], f"storage {unit!r} bids to charge {total:g} MWh in this round "
                                 f"but has room for {room:g} MWh (energy {e:g} MWh, "
                                 f"{rules.storage_round_trip_efficiency:g} round-trip); allowed "
                                 f"total <= {room:g} MWh"))
        limit = rules.storage_max_cycles_per_day * e
        for day in sorted({bids[i].hour // HOURS_PER_DAY for i in sell}):  # type: ignore[operator]
            rows_day = [i for i in sell
                        if bids[i].hour // HOURS_PER_DAY == day]  # type: ignore[operator]
            total = sum(bids[i].quantity for i in rows_day)
            done = float(discharged[session.fleet.index_of(unit), day])
            if _ticks(total, tick) + _ticks(done, tick) > _within(limit, tick):
                left = max(limit - done, 0.0)
                out.append((rows_day[-1], f"storage {unit!r} offers {total:g} MWh of discharge "
                                          f"on day {day}, which with the {done:g} MWh it "
                                          "discharged that day in earlier rounds is above "
                                          f"{rules.storage_max_cycles_per_day:g} full cycles "
                                          f"({limit:g} MWh); allowed total <= {left:g} MWh"))
    return out


def bid_limit_ticks(s: SessionBooks, asset: str, hour: int) -> int:
    """Most quantity ticks ``asset`` may bid in ``hour`` (session hour index): a unit its
    available MW rounded *down* to the tick; a load its demand rounded to the *nearest* tick
    (half a tick up at most; the simulated year and the bots round a load's demand so)."""
    tick = float(s.rules.ticks.quantity_mw)
    mw = s.energy_limit_mw(asset, hour)
    if s.technology_of(asset) == "load":
        return int(np.rint(scaled(mw, tick)))
    return int(floor_ticks(mw, tick))


def _energy_limit(session: SessionBooks, b: Bid, used: dict[tuple[str, int, str], float]
                  ) -> list[str]:
    assert b.unit is not None and b.hour is not None
    tech = session.technology_of(b.unit)
    if tech == "load" and b.side != "buy":
        return [f"load {b.unit!r} buys energy; side must be 'buy'"]
    if tech not in ("load", "storage") and b.side != "sell":
        return [f"{tech} unit {b.unit!r} sells energy; side must be 'sell' (only storage "
                "and loads buy)"]
    tick = float(session.rules.ticks.quantity_mw)
    limit_ticks = bid_limit_ticks(session, b.unit, b.hour)
    limit = float(from_ticks(limit_ticks, tick))
    key = (b.unit, b.hour, b.side)
    total = used.get(key, 0.0) + b.quantity
    used[key] = total
    if _ticks(total, tick) > limit_ticks:
        what = ("demand rounded to the nearest tick" if tech == "load"
                else "available capacity rounded down to the tick")
        return [f"{b.side} quantity of {b.unit!r} in hour {b.hour} totals {total:g} MW in this "
                f"batch, above its {what}, {limit:g} MW; allowed 0 < total <= {limit:g} MW"]
    return []


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
    inelastic = float(s.rules.energy.inelastic_bid())  # the inelastic bid of every driver
    for ld in s.loads:
        for h in spec.hours:
            rest = ld.demand_mw[h] - bought.get((ld.load_id, h), 0.0)
            ticks = int(floor_ticks(rest, tick))
            if ticks > 0:
                add(h, ld.participant, ld.load_id, "buy", inelastic,
                    float(from_ticks(ticks, tick)), True)
    cols["local"] = [local[h] for h in cols["hour"]]
    return cols


def _clear(s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
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
                  storage_energy_mwh=storage or None, day_of_hour=hours // HOURS_PER_DAY)
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
        "hours": [int(h) for h in hours],
        "price_yuan_per_mwh": jsonable(result.price), "volume_mwh": jsonable(result.volume_mwh),
        "curtailed_mwh": jsonable(result.curtailed_mwh),
        "reserve_margin": jsonable(result.reserve_margin),
        "stress_hours": [int(hours[h]) for h in result.stress_hours],
        "bids": [{"participant": cols["participant"][j], "unit": cols["unit"][j],
                  "hour": cols["hour"][j], "side": cols["side"][j], "price": cols["price"][j],
                  "quantity": cols["quantity"][j], "imputed": cols["imputed"][j],
                  "accepted_mw": jsonable(accepted[j])} for j in range(len(bids))],
        "dispatch": [{"unit": u, "hour": h, "mw": mw}
                     for (u, h), mw in sorted(dispatch.items(), key=lambda x: (x[0][1], x[0][0]))],
    }
    pending = EnergyRoundResult(round_id=spec.round_id, settlement={}, performance=None,
                                **json.loads(json.dumps(out)))
    out["performance"] = _performance(s, spec, pending)
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


def _performance(s: SessionBooks, spec: RoundSpec, this: EnergyRoundResult
                 ) -> dict[str, Any] | None:
    """Charge the increase of the year's capacity penalties (see the module docstring)."""
    cap = s.capacity_result()
    if cap is None or not this.stress_hours:
        return None
    earlier = s.energy_results()  # the rounds cleared before this one
    stress = np.array(sorted({h for res in [*earlier, this] for h in res.stress_hours}),
                      dtype=np.int64)
    n = len(s.fleet)
    power = np.where(s.fleet.technologies == "storage", s.fleet.nameplate_mw, 0.0)
    delivered = delivered_mw(
        s.rules.capacity.performance_basis, s.fleet.technologies,
        sold_mw=s.sold_mw(this)[:, stress].T, bought_mw=s.bought_mw(this)[:, stress].T,
        offered_mw=s.offered_mw(this)[:, stress].T, available_mw=s.available[:, stress].T,
        soc_after_mwh=s.storage_soc_path_mwh(this)[:, stress].T, power_mw=power)
    units = cap.units
    committed = Committed(
        unit_ids=s.fleet.unit_ids, owners=s.fleet.owners,
        cleared_mw=np.array([u["cleared_mw"] for u in units], dtype=np.float64),
        payment_fen=np.array([u["annual_payment_fen"] for u in units], dtype=np.int64))
    scale = None
    if s.rules.capacity.balancing_ratio:
        needed = s.demand_mw().sum(axis=0)[stress]
        scale = balancing_ratio(needed, float(committed.cleared_mw.sum()))
    perf = assess_performance(committed, delivered.T, s.rules.capacity, hour_scale=scale)
    charged = np.zeros(n, dtype=np.int64)
    bonus_paid = np.zeros(n, dtype=np.int64)
    for res in earlier:
        if res.performance:
            charged += np.array(res.performance["charged_fen"], dtype=np.int64)
            bonus_paid += np.array(res.performance.get("bonus_change_fen", [0] * n),
                                   dtype=np.int64)
    period = s.period(s.profiles.month_of_hour[spec.hours[-1]])
    payers, load_units = s.load_payers()
    due, bonus = charge_performance(s.ledger, perf, period, payers, s.capacity_weights(),
                                    units=load_units, charged_fen=charged,
                                    bonus_paid_fen=bonus_paid)
    return {"stress_hours": stress.tolist(), "shortfall_mwh": jsonable(perf.shortfall_mwh),
            "penalty_fen": jsonable(perf.penalty_fen), "charged_fen": jsonable(due),
            "bonus_fen": jsonable(perf.bonus_fen), "bonus_change_fen": jsonable(bonus)}


register(Energy())
