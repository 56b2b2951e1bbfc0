"""Storage in the energy market: schedules feasible under any partial acceptance, the state of
charge, and the discharge compensation.

Defaults from docs/DOMAIN.md section 6: 400 MW / 1,600 MWh units, 85 % round trip, at most
1.5 full cycles a day [S], 350 yuan/MWh discharged (2025 cohort) and 280 (2026 cohort) [S].
The SOC model books the whole round-trip loss on charging:
soc' = soc + 0.85 x charge - discharge.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing.grid import from_ticks
from market.energy.auction import (
    BUY,
    SELL,
    EnergyBids,
    EnergyResult,
    clear_energy,
    settle_energy,
)
from market.energy.storage import TOLERANCE_MWH, clip_schedule, track_soc
from market.errors import StorageLimitError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.rules import load_preset

RULES = load_preset("mengxi")
E, P = 1600.0, 400.0
ETA = 0.85


def with_energy(**update):
    return RULES.model_copy(update={"energy": RULES.energy.model_copy(update=update)})


# ------------------------------------------------------------------ the schedule, by hand

def test_discharge_is_limited_to_the_energy_stored_at_the_start():
    # 150 MWh stored: wanted 100, 500 (cut to the 400 MW power first), 100 -> 100, 50, 0.
    d, c = clip_schedule(np.array([100.0, 500.0, 100.0]), 150.0, E, P, RULES)
    assert list(d) == [100.0, 50.0, 0.0] and list(c) == [0.0, 0.0, 0.0]


def test_charge_is_limited_to_the_room_at_the_start_after_losses():
    # 1,500 of 1,600 MWh stored: 100 MWh of room takes 100 / 0.85 = 117.647 MWh of charge,
    # rounded down to the 0.001 MW grid.
    d, c = clip_schedule(np.array([-300.0, -300.0]), 1500.0, E, P, RULES)
    assert list(c) == [117.647, 0.0] and list(d) == [0.0, 0.0]
    assert c.sum() * ETA <= 100.0


def test_charge_in_a_window_is_not_discharged_in_the_same_window():
    # Empty at the start: charging is allowed, discharging later the same day is not (the
    # charge bid might not be accepted); the next day the energy is there.
    day1 = np.r_[np.full(4, -P), np.full(4, P)]
    d, c = clip_schedule(day1, 0.0, E, P, RULES)
    assert list(c) == [P] * 4 + [0.0] * 4 and d.sum() == 0
    soc = track_soc(c, d, 0.0, E, P, RULES)
    d2, _ = clip_schedule(np.full(4, P), soc[-1], E, P, RULES, hour_offset=24)
    assert d2.sum() == pytest.approx(4 * P * ETA)


def test_daily_cycle_limit_cuts_discharge_per_calendar_day():
    # Half a cycle a day (800 MWh) from a full 1,600 MWh over a two-day window at 200 MW:
    # day 0 stops at 800, day 1 has the other 800 of the start-of-window energy.
    rules = with_energy(storage_max_cycles_per_day=0.5)
    d, _ = clip_schedule(np.full(48, 200.0), E, E, P, rules)
    assert d[:24].sum() == 800.0 and d[24:].sum() == 800.0
    assert list(d[:5]) == [200.0] * 4 + [0.0]
    # Starting at hour 12 the first day is only 12 hours long.
    d, _ = clip_schedule(np.full(24, 200.0), E, E, P, rules, hour_offset=12)
    assert d[:12].sum() == 800.0 and d[12:].sum() == 800.0


# ------------------------------------------------------------------ the SOC path

def test_track_soc_applies_the_round_trip_efficiency():
    soc = track_soc(np.array([100.0, 0.0, 0.0]), np.array([0.0, 0.0, 85.0]), 0.0, E, P, RULES)
    assert soc == pytest.approx([0.0, 85.0, 85.0, 0.0])
    two = track_soc(np.zeros((2, 2)), np.array([[10.0, 0.0], [0.0, 5.0]]), [10.0, 5.0], E, P,
                    RULES)
    assert two.shape == (3, 2) and two[-1] == pytest.approx([0.0, 0.0])


@pytest.mark.parametrize("charge, discharge, soc0, words", [
    ([0.0, 0.0], [100.0, 100.0], 150.0, "below 0"),
    ([400.0, 400.0], [0.0, 0.0], 1000.0, "above the energy"),
    ([401.0, 0.0], [0.0, 0.0], 0.0, "above power"),
    ([0.0, 0.0], [0.0, 400.5], 1000.0, "above power"),
    ([10.0, 0.0], [10.0, 0.0], 500.0, "same hour"),
    ([-1.0, 0.0], [0.0, 0.0], 500.0, "negative"),
])
def test_track_soc_refuses_each_violation(charge, discharge, soc0, words):
    with pytest.raises(StorageLimitError, match=words) as info:
        track_soc(np.array(charge), np.array(discharge), soc0, E, P, RULES,
                  unit_ids=["bess-1"], hour_offset=100)
    assert "unit bess-1, hour 10" in str(info.value)


def test_track_soc_refuses_more_than_the_daily_cycles():
    # Full at the start: discharge 4 h (1,600 MWh), refill (4 x 400 + 282.352 MWh, x 0.85 =
    # 1,599.9992), discharge 3 h (1,200): 2,800 MWh in a day > 1.5 x 1,600 = 2,400.
    charge = np.r_[np.zeros(4), np.full(4, 400.0), [282.352], np.zeros(3)]
    discharge = np.r_[np.full(4, 400.0), np.zeros(5), np.full(3, 400.0)]
    with pytest.raises(StorageLimitError, match="full cycles") as info:
        track_soc(charge, discharge, E, E, P, RULES)
    assert len(info.value.problems) == 1 and "day 0" in info.value.problems[0]
    # The same path over two days (hours 18..29) is within 1.5 cycles on each day.
    track_soc(charge, discharge, E, E, P, RULES, hour_offset=18)
    with pytest.raises(StorageLimitError, match="outside"):
        track_soc(charge, discharge, E + 1.0, E, P, RULES)


# ------------------------------------------------------------------ partial acceptance

@st.composite
def storage_case(draw):
    n_units = draw(st.integers(1, 3))
    hours = draw(st.integers(1, 30))
    energy = np.array(draw(st.lists(st.sampled_from([100.0, 400.5, 1600.0]),
                                    min_size=n_units, max_size=n_units)))
    power = np.array(draw(st.lists(st.sampled_from([25.0, 100.0, 400.0]), min_size=n_units,
                                   max_size=n_units)))
    soc0 = energy * np.array(draw(st.lists(st.floats(0, 1), min_size=n_units,
                                           max_size=n_units)))
    desired = np.array(draw(st.lists(st.lists(st.floats(-600, 600), min_size=n_units,
                                              max_size=n_units), min_size=hours,
                                     max_size=hours)))
    accept = np.array(draw(st.lists(st.lists(st.floats(0, 1), min_size=n_units,
                                             max_size=n_units), min_size=hours,
                                    max_size=hours)))
    offset = draw(st.integers(0, 47))
    cycles = draw(st.sampled_from([0.3, 1.0, 1.5]))
    return energy, power, soc0, desired, accept, offset, cycles


@settings(max_examples=150, deadline=None)
@given(storage_case())
def test_any_partial_acceptance_of_the_schedule_stays_within_limits(case):
    energy, power, soc0, desired, accept, offset, cycles = case
    rules = with_energy(storage_max_cycles_per_day=cycles)
    d, c = clip_schedule(desired, soc0, energy, power, rules, hour_offset=offset)
    assert ((d >= 0) & (c >= 0) & (d <= power) & (c <= power)).all()
    assert not ((d > 0) & (c > 0)).any()
    # Each hour's bid accepted in any share, on the 0.001 MW grid.
    acc_d = np.floor(d * accept * 1000) / 1000
    acc_c = np.floor(c * accept * 1000) / 1000
    for got_c, got_d in ((acc_c, acc_d), (c, d), (c, 0 * d), (0 * c, d), (0 * c, 0 * d)):
        soc = track_soc(got_c, got_d, soc0, energy, power, rules, hour_offset=offset)
        assert (soc >= -TOLERANCE_MWH).all() and (soc <= energy + TOLERANCE_MWH).all()
    days = (offset + np.arange(d.shape[0])) // 24
    for day in np.unique(days):
        assert (d[days == day].sum(axis=0) <= cycles * energy + TOLERANCE_MWH).all()


@st.composite
def market_days(draw):
    n_days = draw(st.integers(1, 3))
    soc0 = draw(st.floats(0, E))
    desired = np.array(draw(st.lists(st.sampled_from([-400.0, -150.0, 0.0, 150.0, 400.0]),
                                     min_size=24 * n_days, max_size=24 * n_days)))
    load = np.array(draw(st.lists(st.sampled_from([0.0, 150.0, 300.0, 700.0]),
                                  min_size=24 * n_days, max_size=24 * n_days)))
    supply_price = draw(st.sampled_from([-50.0, 0.0, 200.0, 300.0]))
    storage_prices = draw(st.sampled_from([(200.0, 300.0), (300.0, 200.0), (-50.0, 1500.0)]))
    return soc0, desired, load, supply_price, storage_prices


@settings(max_examples=60, deadline=None)
@given(market_days())
def test_day_by_day_through_the_market_the_soc_stays_feasible(case):
    """Each day: bids from the SOC at its start, one batched clear, the accepted dispatch
    tracked; the storage is often marginal, so partly accepted."""
    soc, desired, load, supply_price, (sell_p, buy_p) = case
    for day in range(desired.shape[0] // 24):
        hours = slice(24 * day, 24 * day + 24)
        dis, chg = clip_schedule(desired[hours], soc, E, P, RULES)
        store = schedule_bids(dis, chg, sell_p, buy_p)
        coal = EnergyBids.from_arrays(np.arange(24), "genco", "coal", np.full(24, SELL),
                                      np.full(24, supply_price), np.full(24, 300.0),
                                      rules=RULES, n_hours=24)
        wanted = np.flatnonzero(load[hours] > 0)
        demand = EnergyBids.from_arrays(wanted, "load", "", np.full(wanted.size, BUY),
                                        np.full(wanted.size, 1500.0), load[hours][wanted],
                                        rules=RULES, n_hours=24)
        bids = EnergyBids.concat([store, coal, demand])
        res = clear_energy(bids, 24, RULES)
        charge, discharge = dispatch(res, bids, "bess")
        path = track_soc(charge, discharge, soc, E, P, RULES, hour_offset=24 * day)
        rows = bids.unit_id == "bess"
        assert charge.sum() + discharge.sum() == pytest.approx(res.accepted_mw[rows].sum())
        soc = float(path[-1])


def schedule_bids(discharge: np.ndarray, charge: np.ndarray, sell_price: float,
                  buy_price: float) -> EnergyBids:
    """One unit's clipped schedule (24 hours) as plain rows, the way the year's runner turns
    it into bids: discharge sold at ``sell_price``, charge bought at ``buy_price``."""
    sell, buy = np.flatnonzero(discharge > 0), np.flatnonzero(charge > 0)
    hours = np.concatenate([sell, buy])
    return EnergyBids.from_arrays(
        hours, "store", "bess", np.r_[np.full(sell.size, SELL), np.full(buy.size, BUY)],
        np.r_[np.full(sell.size, sell_price), np.full(buy.size, buy_price)],
        np.r_[discharge[sell], charge[buy]], rules=RULES, n_hours=24)


def dispatch(result: EnergyResult, bids: EnergyBids, unit: str
             ) -> tuple[np.ndarray, np.ndarray]:
    """Accepted (charge, discharge) MW of ``unit`` by hour: its buys and its sells."""
    out = []
    for side in (BUY, SELL):
        rows = np.flatnonzero((bids.unit_id == unit) & (bids.side == side))
        ticks = np.bincount(bids.hour[rows], weights=result.accepted_ticks[rows],
                            minlength=result.n_hours).astype(np.int64)
        out.append(np.asarray(from_ticks(ticks, bids.quantity_tick)))
    return out[0], out[1]


# ------------------------------------------------------------------ compensation

def storage_bids(rules=RULES):
    """48 hours. Day 0: bess-1 sells 400 MW in hours 0-7 (3,200 MWh, more than the 1.5 x 1,600
    = 2,400 MWh a day that earn compensation) beside 50 MW of coal, for a 450 MW load; in hour 8
    it charges 100 MW from coal (price 100: coal is marginal). Day 1: it sells 400 MW in hour
    24 to a 500 MW load (price: the cap, 100 MW curtailed)."""
    rows = ([(h, "store-1", "bess-1", SELL, 100.0, 400.0) for h in range(8)]
            + [(h, "genco", "coal", SELL, 100.0, 50.0) for h in range(8)]
            + [(h, "load", "", BUY, 1500.0, 450.0) for h in range(8)]
            + [(8, "genco", "coal", SELL, 100.0, 200.0),
               (8, "store-1", "bess-1", BUY, 1500.0, 100.0),
               (24, "store-1", "bess-1", SELL, 100.0, 400.0),
               (24, "load", "", BUY, 1500.0, 500.0)])
    return EnergyBids.from_arrays(*zip(*rows, strict=True), rules=rules, n_hours=48)


@pytest.mark.parametrize("preset, rate", [("mengxi", 350), ("mengxi-2026", 280)])
def test_discharge_compensation_is_capped_at_the_daily_cycles(preset, rate):
    rules = load_preset(preset)
    bids = storage_bids(rules)
    res = clear_energy(bids, 48, rules)
    assert res.accepted_mw[:8].sum() == 3200.0
    ledger = Ledger()
    periods = ["2025-01"] * 24 + ["2025-02"] * 24
    out = settle_energy(res, bids, ledger, periods, storage_energy_mwh={"bess-1": E})
    comp = ledger.totals_by(("period", "participant", "unit"),
                            category=Category.STORAGE_COMPENSATION)
    # Day 0: 2,400 of 3,200 MWh paid (hours 0-5); day 1: 400 MWh, in February.
    assert comp[("2025-01", "store-1", "bess-1")] == 2400 * rate * 100
    assert comp[("2025-02", "store-1", "bess-1")] == 400 * rate * 100
    assert comp[("2025-01", SYSTEM_OPERATOR, "bess-1")] == -2400 * rate * 100
    assert out.compensated_mwh == {"bess-1": 2800.0} and out.storage_payments == 2
    assert not any(who == "genco" for _, who, _ in comp)
    assert ledger.balance("2025-01") == 0 and ledger.balance("2025-02") == 0
    # Energy is settled as for any seller and buyer: in hour 8 the storage pays for its charge
    # (100 MWh x 100 yuan, no compensation); in hour 24 it is paid the cap for 400 MWh.
    energy = ledger.totals_by(("participant", "unit", "period"), category=Category.ENERGY)
    assert energy[("store-1", "bess-1", "2025-02")] == 400 * 1500 * 100
    assert res.accepted_mw[25] == 100.0 and res.price[8] == 100.0


def test_compensation_follows_the_day_boundaries_it_is_given():
    bids = storage_bids()
    res = clear_energy(bids, 48, RULES)
    ledger = Ledger()
    # Hours 0-3 on one day (1,600 MWh), 4-47 on the next (1,600 + 400): both under the cap.
    days = np.r_[np.zeros(4, dtype=np.int64), np.ones(44, dtype=np.int64)]
    out = settle_energy(res, bids, ledger, "2025-01", storage_energy_mwh={"bess-1": E},
                        day_of_hour=days)
    assert out.compensated_mwh == {"bess-1": 1600.0 + 2000.0}
    no_storage = settle_energy(res, bids, Ledger(), "2025-01")
    assert no_storage.storage_payments == 0 and no_storage.compensated_mwh == {}
