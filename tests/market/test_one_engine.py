"""One market engine: the same units, bids and outages settled by a game session and by the
simulated year's market functions give the same ledger entries for capacity, compensation and
performance (kinds, payers, payees, units, memos and amounts in fen).

The case: four January days. coal-1 (genco-a, 600 MW, supports wind-1) is derated to 300 MW at
18:00 on the first three days and at 10:00 on the first (three failed dispatched days under
``daily_outage``, four failed test-call hours under ``hourly_available``); coal-2
(genco-b, 400 MW) offers at 1,400 yuan/MWh at 20:00, so it is available but only partly
dispatched in that stress hour (the two performance bases differ there); bess-1 (store-a,
100 MW) holds its initial charge. Loads ind-1 (buyer-a) and com-1 (buyer-b) peak at 1,150 MW
at 18:00-20:00, which makes those hours stress hours.

The game side plays the rounds as the service does (open, bid, close, clear); the year side
clears the same bids with :func:`market.energy.auction.clear_energy` and settles them the way
:mod:`studies.year.markets` does, with the year's array inputs. Loads are named alike on both
sides (payer: the owner, unit: the load id) since that is a caller's choice, not a definition.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from market.capacity.auction import CapacityAuction
from market.capacity.performance import assess_performance, delivered_mw
from market.capacity.settlement import charge_performance, load_weights, settle_capacity
from market.compensation.calls import call_records
from market.compensation.funding import settle_compensation
from market.compensation.scheme import eligible_units
from market.energy.auction import BUY, SELL, EnergyBids, clear_energy
from market.ledger.book import Ledger
from market.ledger.postings import Postings, monthly_fen
from market.rules import MarketRules, load_preset
from market.session.game import Load, Profiles, RoundSpec, Session
from market.units import Fleet, Unit

MENGXI = load_preset("mengxi")
DAYS, H = 4, 96
PERIOD = "2025-01"
CALL_HOURS = (10, 18, 42, 66, 90)
SETTLED = ("capacity_payment", "performance_penalty", "compensation")
SETTLED_MEMOS = ("capacity market cost", "capacity market penalties refunded",
                 "coal capacity compensation funding")
CAPACITY_OFFERS = {"genco-a": [("coal-1", 540.0, 50.0)], "genco-b": [("coal-2", 352.0, 80.0)],
                   "green-a": [("wind-1", 20.0, 0.0)], "store-a": [("bess-1", 60.0, 100.0)]}
DAY_LOAD = np.array([600.0] * 18 + [1000.0, 1000.0, 900.0] + [600.0] * 3)
WIND = np.array([100.0] * 18 + [50.0, 50.0, 100.0] + [100.0] * 3)


def fleet() -> Fleet:
    return Fleet.from_units([
        Unit("coal-1", "genco-a", "coal_ultra_supercritical", 600.0,
             supported_units=("wind-1",), pairing_ratio=0.5),
        Unit("coal-2", "genco-b", "coal_supercritical", 400.0),
        Unit("wind-1", "green-a", "wind", 200.0),
        Unit("bess-1", "store-a", "storage", 100.0),
    ])


def loads() -> list[Load]:
    demand = np.tile(DAY_LOAD, DAYS)
    return [Load("ind-1", "buyer-a", demand * 0.6), Load("com-1", "buyer-b", demand * 0.4)]


def available() -> dict[str, np.ndarray]:
    coal_1 = np.full(H, 600.0)
    coal_1[[10, 18, 42, 66]] = 300.0  # derated on days 0-2 at 18:00, and at 10:00 on day 0
    return {"coal-1": coal_1, "wind-1": np.tile(WIND, DAYS)}


def energy_bids() -> dict[str, list[dict[str, Any]]]:
    avail = available()
    out: dict[str, list[dict[str, Any]]] = {"genco-a": [], "genco-b": [], "green-a": []}
    for h in range(H):
        out["genco-a"].append({"unit": "coal-1", "hour": h, "price": 250.0,
                               "quantity": float(avail["coal-1"][h])})
        price = 1400.0 if h % 24 == 20 else 300.0
        out["genco-b"].append({"unit": "coal-2", "hour": h, "price": price, "quantity": 400.0})
        out["green-a"].append({"unit": "wind-1", "hour": h, "price": 0.0,
                               "quantity": float(avail["wind-1"][h])})
    return out


def game(rules: MarketRules) -> Session:
    """The case played through a session, as the service drives it."""
    plan = [RoundSpec("capacity", "capacity"),
            RoundSpec("energy", "energy", tuple(range(H))),
            RoundSpec("compensation-01", "compensation", month=1)]
    profiles = Profiles([1] * H, {k: tuple(v) for k, v in available().items()},
                        call_hours=CALL_HOURS)
    s = Session(rules, fleet(), loads(), profiles, plan, seed=1,
                storage_soc_start_fraction=rules.fleet.storage.initial_soc_fraction)
    for p in ("genco-a", "genco-b", "green-a", "store-a", "buyer-a", "buyer-b"):
        s.join(p)
    bids = {"capacity": {p: [{"unit": u, "quantity": q, "price": c} for u, q, c in offers]
                         for p, offers in CAPACITY_OFFERS.items()},
            "energy": energy_bids()}
    for rid in ("capacity", "energy"):
        s.open_round(rid)
        for p, batch in bids[rid].items():
            s.submit_bids(p, rid, batch)
        s.close_gate(rid)
        s.clear_round(rid)
    assert s.next_round() is None  # the compensation step ran after the energy round
    return s


def year(rules: MarketRules, performance_basis: str | None = None) -> Ledger:
    """The same month settled the way the simulated year settles (studies.year.markets)."""
    f, lds = fleet(), loads()
    ledger = Ledger()
    demand = np.array([ld.demand_mw for ld in lds]).T  # (H, L)
    peak = float(demand.sum(axis=1).max())
    auction = CapacityAuction(rules.capacity, f, peak)
    for offers in CAPACITY_OFFERS.values():
        for unit, mw, price in offers:
            auction.submit(unit, mw, price)
    result = auction.clear()
    # the energy hours: the same offers, loads inelastic at the value of lost load
    avail = np.repeat(f.nameplate_mw[None, :], H, axis=0)
    for uid, mw in available().items():
        avail[:, f.index_of(uid)] = mw
    avail[:, f.index_of("wind-1")] = available()["wind-1"]
    rows = [(b["hour"], p, b["unit"], SELL, b["price"], b["quantity"])
            for p, bs in energy_bids().items() for b in bs]
    voll = rules.fleet.loads.value_of_lost_load_yuan_per_mwh
    rows += [(h, ld.participant, ld.load_id, BUY, voll, ld.demand_mw[h])
             for ld in lds for h in range(H)]
    hour, who, unit, side, price, qty = (np.array(c) for c in zip(*rows, strict=True))
    bids = EnergyBids.from_arrays(hour.astype(np.int64), who.astype(str), unit.astype(str),
                                  side.astype(np.int8), price.astype(float), qty.astype(float),
                                  rules=rules, n_hours=H)
    cleared = clear_energy(bids, H, rules, available_mw=avail.sum(axis=1),
                           load_mw=demand.sum(axis=1))
    n = len(f)
    sold, offered = np.zeros((H, n)), np.zeros((H, n))
    for k, u in enumerate(unit.tolist()):
        if u in f.unit_ids:
            sold[hour[k], f.index_of(u)] += cleared.accepted_mw[k]
            offered[hour[k], f.index_of(u)] += qty[k]
    # money, as studies.year.markets posts it
    payers, units = [ld.participant for ld in lds], [ld.load_id for ld in lds]
    weights = load_weights(rules.capacity.cost_allocation, peak_mw=demand.max(axis=0),
                           energy_mwh=demand.sum(axis=0))
    batch = Postings()
    settle_capacity(batch, result, [PERIOD], [1], payers, weights, units=units)
    stress = np.flatnonzero(cleared.stress)
    st = f.technologies == "storage"
    energy_mwh = f.nameplate_mw * rules.fleet.storage.energy_mwh / rules.fleet.storage.unit_size_mw
    soc = np.where(st, energy_mwh * rules.fleet.storage.initial_soc_fraction, 0.0)
    delivered = delivered_mw(performance_basis or rules.capacity.performance_basis,
                             f.technologies, sold_mw=sold[stress], bought_mw=np.zeros_like(
                                 sold[stress]), offered_mw=offered[stress],
                             available_mw=avail[stress],
                             soc_after_mwh=np.repeat(soc[None, :], len(stress), axis=0),
                             power_mw=np.where(st, f.nameplate_mw, 0.0))
    perf = assess_performance(result, delivered.T, rules.capacity)
    charge_performance(batch, perf, PERIOD, payers, weights, units=units)
    batch.post(ledger)
    idx = np.flatnonzero(eligible_units(f, rules.compensation))
    tests = np.isin(np.arange(H), CALL_HOURS)
    calls = call_records(rules.compensation.failure_basis, f.unit_ids[idx],
                         f.declared_max_mw[idx], sold_mw=sold[:, idx],
                         offered_mw=offered[:, idx], available_mw=avail[:, idx],
                         stress=cleared.stress, month_index=np.zeros(H, dtype=np.int64),
                         day_of_hour=np.arange(H) // 24, test_hours=tests)
    settle_compensation(ledger, f, rules.compensation, calls, [PERIOD],
                        capacity_monthly_fen=monthly_fen(result.payment_fen)[:, :1],
                        load_ids=payers, load_mwh=demand.sum(axis=0)[:, None],
                        industrial_commercial=np.ones(len(lds), dtype=bool),
                        renewable_mwh=sold.sum(axis=0)[:, None])
    return ledger


def entries(ledger: Ledger) -> list[tuple[Any, ...]]:
    """Capacity, compensation and performance legs, sorted: (period, category, participant,
    counterparty, unit, memo, amount_fen)."""
    cols = ledger.columns()
    keep = [k for k in range(ledger.n_entries)
            if cols["category"][k] in SETTLED or cols["memo"][k] in SETTLED_MEMOS]
    return sorted((cols["period"][k], cols["category"][k], cols["participant"][k],
                   cols["counterparty"][k], cols["unit"][k] or "", cols["memo"][k],
                   int(cols["amount_fen"][k])) for k in keep)


VARIANTS = {
    "default": {},
    "classroom": {"capacity.performance_basis": "dispatched",
                  "compensation.failure_basis": "hourly_available",
                  "compensation.offset": "none"},
    "paid in both": {"compensation.offset": "none"},
}


@pytest.mark.parametrize("name", VARIANTS)
def test_game_and_year_post_the_same_entries(name):
    rules = MENGXI.with_overrides(VARIANTS[name])
    played, ledger = game(rules), year(rules)
    got, want = entries(played.ledger), entries(ledger)
    kinds = {e[1] for e in want}
    assert {"capacity_payment", "performance_penalty", "cost_allocation"} <= kinds
    # compensation moves money only where neither the capacity payment (the default offsets
    # it all in this case) nor the deduction (all of it for the classroom's hourly failures)
    # takes it, so only "paid in both" posts compensation
    assert ("compensation" in kinds) == (name == "paid in both")
    assert got == want


def test_the_case_tells_the_definitions_apart():
    """The comparison would fail if one driver kept another definition: under the default the
    outage days are three failed calls (a 50 % deduction; four failed hours would be 100 %),
    and coal-2's undispatched offer at
    20:00 is a shortfall only when delivery is net dispatch."""
    played = game(MENGXI)
    comp = {u["unit"]: u for u in played.result("compensation-01")["units"]}
    assert (comp["coal-1"]["failures"], comp["coal-1"]["fraction"]) == (3, 0.5)
    assert entries(year(MENGXI, performance_basis="dispatched")) != entries(played.ledger)
    both = MENGXI.with_overrides({"compensation.offset": "none"})  # deductions move money
    hourly = both.with_overrides({"compensation.failure_basis": "hourly_available"})
    assert entries(year(hourly)) != entries(game(both).ledger)


def test_new_rule_parameters_at_their_default_leave_the_rules_hash_alone():
    assert "performance_basis" not in MENGXI.to_json()
    changed = MENGXI.with_overrides({"capacity.performance_basis": "dispatched"})
    assert changed.sha256() != MENGXI.sha256()
    assert MarketRules.model_validate_json(changed.to_json()) == changed
