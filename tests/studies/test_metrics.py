"""Market-power metrics on tiny hand-made arrays, each figure worked out by hand in a comment,
plus properties that hold for any input (hypothesis)."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studies.metrics import (
    capacity_accepted_mw,
    hhi,
    market_power,
    markup_by_owner,
    residual_supply,
    summary_value,
    supply_by_owner_hour,
)
from studies.year.tables import rounded

# --------------------------------------------------------------------- HHI


def test_hhi_by_hand():
    # A 60, B 30 (two rows of 20 and 10), C 10: shares .6 .3 .1
    # -> 10,000 * (.36 + .09 + .01) = 4,600
    owners = np.array(["A", "B", "C", "B"])
    q = np.array([60.0, 20.0, 10.0, 10.0])
    assert hhi(owners, q) == pytest.approx(4600.0)


def test_hhi_monopoly_duopoly_and_nothing_traded():
    assert hhi(["A", "A"], [3.0, 5.0]) == 10_000.0
    assert hhi(["A", "B"], [7.0, 7.0]) == pytest.approx(5_000.0)
    # an owner with zero accepted has no share
    assert hhi(["A", "B"], [7.0, 0.0]) == 10_000.0
    assert math.isnan(hhi([], []))
    assert math.isnan(hhi(["A", "B"], [0.0, 0.0]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABCDEFG"), st.integers(0, 1000)), min_size=1,
                max_size=40), st.integers(1, 50))
def test_hhi_bounds_and_invariance(rows, factor):
    owners = np.array([o for o, _ in rows])
    q = np.array([float(x) for _, x in rows])
    h = hhi(owners, q)
    if q.sum() == 0:
        assert math.isnan(h)
        return
    n_active = len({o for o, x in rows if x > 0})
    assert 10_000 / n_active - 1e-6 <= h <= 10_000 + 1e-6
    # shares do not change with the unit of measure or the order of the rows
    assert hhi(owners, q * factor) == pytest.approx(h)
    perm = np.random.default_rng(factor).permutation(q.size)
    assert hhi(owners[perm], q[perm]) == pytest.approx(h)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30))
def test_hhi_of_n_equal_owners_is_10000_over_n(n):
    assert hhi([f"g{i}" for i in range(n)], [5.0] * n) == pytest.approx(10_000 / n)


# --------------------------------------------------------------------- pivotal and RSI


def test_residual_supply_by_hand():
    # One hour: A offers 60, B 30, C 10 (total 100); demand 80.
    # others: A 40, B 70, C 90 -> RSI min(40, 70, 90) / 80 = 0.5
    # pivotal when demand 80 > others: A (40) yes, B (70) yes, C (90) no.
    # Second hour: demand 50: others 40 < 50 only for A; RSI 40/50 = 0.8.
    supply = np.array([[60.0, 30.0, 10.0], [60.0, 30.0, 10.0]])
    rsi, pivotal = residual_supply(supply, np.array([80.0, 50.0]))
    assert rsi.tolist() == pytest.approx([0.5, 0.8])
    assert pivotal.tolist() == [[True, True, False], [True, False, False]]


def test_residual_supply_without_demand_is_undefined_and_pivots_nobody():
    rsi, pivotal = residual_supply(np.array([[10.0, 5.0]]), np.array([0.0]))
    assert math.isnan(rsi[0])
    assert not pivotal.any()


def test_residual_supply_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="n_hours"):
        residual_supply(np.ones((3, 2)), np.ones(2))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 500), min_size=1, max_size=5), min_size=1, max_size=6)
       .filter(lambda rows: len({len(r) for r in rows}) == 1),
       st.data())
def test_some_owner_is_pivotal_exactly_when_rsi_is_below_one(rows, data):
    supply = np.array(rows, dtype=float)
    demand = np.array(data.draw(st.lists(st.integers(1, 2000), min_size=len(rows),
                                         max_size=len(rows))), dtype=float)
    rsi, pivotal = residual_supply(supply, demand)
    assert (pivotal.any(axis=1) == (rsi < 1)).all()
    # an owner is pivotal exactly when the market cannot clear without it
    others = supply.sum(axis=1, keepdims=True) - supply
    assert (pivotal == (others < demand[:, None])).all()


def test_supply_by_owner_hour_sums_rows():
    # hour 0: owner 1 offers 5 + 7; hour 2: owner 0 offers 3
    out = supply_by_owner_hour(np.array([0, 0, 2]), np.array([1, 1, 0]),
                               np.array([5.0, 7.0, 3.0]), n_hours=3, n_owners=2)
    assert out.tolist() == [[0.0, 12.0], [0.0, 0.0], [3.0, 0.0]]


# --------------------------------------------------------------------- markups


def test_markup_by_hand_with_zero_costs_left_out():
    # A: 10 MW at 110 over cost 100 (0.1) and 30 MW at 150 over 100 (0.5)
    #    -> (10 * 0.1 + 30 * 0.5) / 40 = 16 / 40 = 0.4
    # B: zero-cost wind at -50 only: undefined -> None
    # C: 20 MW at 90 over 100 (-0.1); a NaN-cost row (a load) and a must-run block at the
    #    floor (-50 over cost 100: price-taking) left out -> -0.1
    out = markup_by_owner(
        np.array(["A", "A", "B", "C", "C", "C"]),
        np.array([110.0, 150.0, -50.0, 90.0, 1500.0, -50.0]),
        np.array([100.0, 100.0, 0.0, 100.0, np.nan, 100.0]),
        np.array([10.0, 30.0, 50.0, 20.0, 40.0, 70.0]),
    )
    assert out["A"] == pytest.approx(0.4)
    assert out["B"] is None
    assert out["C"] == pytest.approx(-0.1)
    assert list(out) == ["A", "B", "C"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 500), st.integers(1, 100)),
                min_size=1, max_size=30), st.integers(-50, 300))
def test_a_uniform_markup_is_every_owners_markup(rows, percent):
    owners = np.array([o for o, _, _ in rows])
    cost = np.array([float(c) for _, c, _ in rows])
    weight = np.array([float(w) for _, _, w in rows])
    price = cost * (1 + percent / 100)
    out = markup_by_owner(owners, price, cost, weight)
    assert set(out) == set(owners.tolist())
    for value in out.values():
        assert value == pytest.approx(percent / 100)


# --------------------------------------------------------------------- capacity


def test_capacity_accepted_by_hand():
    # 100 MW at 50, then 60 and 40 MW both at 80; 130 MW cleared:
    # the 50 offer is taken whole (100), 30 MW are left for the 80 level,
    # shared 60:40 -> 18 and 12; the 90 offer gets nothing.
    out = capacity_accepted_mw(np.array([60.0, 100.0, 40.0, 25.0]),
                               np.array([80.0, 50.0, 80.0, 90.0]), 130.0)
    assert out.tolist() == pytest.approx([18.0, 100.0, 12.0, 0.0])
    assert capacity_accepted_mw(np.array([10.0]), np.array([1.0]), 50.0).tolist() == [10.0]
    assert capacity_accepted_mw(np.array([10.0]), np.array([1.0]), 0.0).tolist() == [0.0]


# --------------------------------------------------------------------- a whole year


def tiny_year(side_words: bool = False, capacity: bool = True) -> SimpleNamespace:
    """Three hours, two gencos (g1, g2) and a retailer (r1); hours 1 and 2 are stress hours."""
    sell, buy = ("sell", "buy") if side_words else (1, -1)
    rows = [
        # hour, owner, unit, side, price, quantity, accepted, cost
        (0, "g1", "coal-1", sell, 100.0, 50.0, 50.0, 100.0),
        (0, "g1", "coal-1", sell, -50.0, 30.0, 30.0, 100.0),  # must-run at the floor
        (0, "g2", "wind-1", sell, 0.0, 50.0, 30.0, 0.0),
        (0, "r1", "", buy, 1500.0, 80.0, 80.0, np.nan),
        (1, "g1", "coal-1", sell, 300.0, 60.0, 60.0, 200.0),
        (1, "g2", "wind-1", sell, 0.0, 40.0, 40.0, 0.0),
        (1, "r1", "", buy, 1500.0, 120.0, 100.0, np.nan),
        (2, "g1", "coal-1", sell, 200.0, 60.0, 30.0, 200.0),
        (2, "g1", "coal-1", sell, 500.0, 20.0, 0.0, 250.0),
        (2, "g2", "storage-1", sell, 220.0, 40.0, 40.0, 200.0),
        (2, "r1", "", buy, 1500.0, 70.0, 70.0, np.nan),
    ]
    cols = list(zip(*rows, strict=True))
    bids = {
        "hour": np.array(cols[0], dtype=np.int64),
        "owner": np.array(cols[1]),
        "unit_id": np.array(cols[2]),
        "side": np.array(cols[3]) if side_words else np.array(cols[3], dtype=np.int8),
        "price_yuan_per_mwh": np.array(cols[4]),
        "quantity_mw": np.array(cols[5]),
        "accepted_mw": np.array(cols[6]),
        "marginal_cost_yuan_per_mwh": np.array(cols[7]),
    }
    hourly = {"hour": np.arange(3), "stress": np.array([False, True, True])}
    units = {
        "unit_id": np.array(["coal-1", "wind-1", "solar-1", "storage-1"]),
        "owner": np.array(["g1", "g2", "g1", "g2"]),
        "technology": np.array(["coal_supercritical", "wind", "solar", "storage"]),
        "energy_mwh": np.array([140.0, 110.0, 90.0, 40.0]),
    }
    cap = {
        "offers": {"unit_id": np.array(["coal-1", "wind-1", "storage-1"]),
                   "mw": np.array([100.0, 60.0, 40.0]),
                   "price_yuan_per_kw_yr": np.array([50.0, 80.0, 80.0])},
        "demand_points": [[90.0, 200.0], [150.0, 0.0]],
        "price": 80.0,
        "cleared_mw": 130.0,
    } if capacity else None
    return SimpleNamespace(bids=bids, hourly=hourly, units=units, capacity=cap)


@pytest.mark.parametrize("side_words", [False, True])
def test_market_power_of_a_tiny_year_by_hand(side_words):
    mp = market_power(tiny_year(side_words))
    # energy: accepted sells g1 50+30+60+30+0 = 170, g2 30+40+40 = 110 of 280
    #   -> 10,000 * (170^2 + 110^2) / 280^2 = 10,000 * 41,000 / 78,400
    assert mp["hhi"]["energy"] == pytest.approx(1e4 * 41_000 / 78_400)
    # stress hours only: g1 60+30 = 90, g2 40+40 = 80 of 170
    #   -> 10,000 * (8,100 + 6,400) / 28,900
    assert mp["hhi"]["energy_stress_hours"] == pytest.approx(1e4 * 14_500 / 28_900)
    # capacity: 130 MW cleared; coal-1 (g1) 100 at 50 whole; at 80 wind-1 and storage-1 (g2)
    #   share 30 MW -> g2 30; 10,000 * (100^2 + 30^2) / 130^2
    assert mp["hhi"]["capacity"] == pytest.approx(1e4 * 10_900 / 16_900)
    # green: wind-1 (g2) 110 MWh, solar-1 (g1) 90 MWh -> 10,000 * (.55^2 + .45^2) = 5,050
    assert mp["hhi"]["green"] == pytest.approx(5050.0)

    assert mp["stress_hours"] == 2
    # hour 1: offered g1 60, g2 40; demand (accepted buys) 100: others 40 and 60, both < 100
    #   -> both pivotal, RSI 40/100 = 0.4
    # hour 2: offered g1 60+20 = 80, g2 40; demand 70: others 40 (< 70: g1 pivotal) and
    #   80 (> 70: g2 not) -> RSI 40/70
    assert mp["pivotal"]["share_of_stress_hours"] == 1.0
    assert mp["pivotal"]["by_owner"] == {"g1": 1.0, "g2": 0.5}
    assert mp["rsi"]["min"] == pytest.approx(0.4)
    assert mp["rsi"]["mean"] == pytest.approx((0.4 + 40 / 70) / 2)
    assert mp["rsi"]["share_below_screen"] == 1.0

    # markups (cost > 0, price > 0: the must-run block at -50 is left out):
    #   g1 offered: 50*0 + 60*0.5 + 60*0 + 20*1.0 = 50 over 190 MW;
    #   accepted: 60*0.5 = 30 over 50+60+30 = 140; g2: storage 220 over 200 = 0.1 both ways.
    m = mp["markup"]
    assert m["offered_by_owner"]["g1"] == pytest.approx(50 / 190)
    assert m["accepted_by_owner"]["g1"] == pytest.approx(30 / 140)
    assert m["offered_by_owner"]["g2"] == pytest.approx(0.1)
    assert m["accepted_by_owner"]["g2"] == pytest.approx(0.1)
    # the fleet: (50 + 4) / (190 + 40) offered, (30 + 4) / (140 + 40) accepted
    assert m["offered_all"] == pytest.approx(54 / 230)
    assert m["accepted_all"] == pytest.approx(34 / 180)
    json.dumps(mp, allow_nan=False)  # JSON-able, no NaN


def test_market_power_without_capacity_market_or_stress_hours():
    year = tiny_year(capacity=False)
    year.hourly["stress"] = np.zeros(3, dtype=bool)
    mp = market_power(year)
    assert mp["hhi"]["capacity"] is None
    assert mp["hhi"]["energy_stress_hours"] is None
    assert mp["stress_hours"] == 0
    assert mp["pivotal"]["share_of_stress_hours"] is None
    assert mp["pivotal"]["by_owner"] == {"g1": None, "g2": None}
    assert mp["rsi"]["min"] is None
    json.dumps(mp, allow_nan=False)


def test_market_power_follows_hour_labels_not_row_order():
    # hours labelled 100..102 and bid rows shuffled: the same figures as hours 0..2
    year = tiny_year()
    base = market_power(year)
    perm = np.random.default_rng(3).permutation(year.bids["hour"].size)
    year.bids = {k: v[perm] for k, v in year.bids.items()}
    year.bids["hour"] = year.bids["hour"] + 100
    year.hourly["hour"] = year.hourly["hour"] + 100
    assert _flat(market_power(year)) == pytest.approx(_flat(base))


def _flat(tree, prefix=""):
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# --------------------------------------------------------------------- summary paths


def test_summary_value_reads_dotted_paths():
    summary = {"energy": {"avg_price_yuan_per_mwh": 312.5, "stress_hours": 7},
               "capacity": {"clearing_price_yuan_per_kw_yr": None},
               "renewable_share": 0.31, "rules_name": "mengxi"}
    assert summary_value(summary, "energy.avg_price_yuan_per_mwh") == 312.5
    assert summary_value(summary, "energy.stress_hours") == 7.0
    assert summary_value(summary, "renewable_share") == 0.31
    assert summary_value(summary, "capacity.clearing_price_yuan_per_kw_yr") is None
    with pytest.raises(KeyError, match="energy.nope"):
        summary_value(summary, "energy.nope")
    with pytest.raises(KeyError, match="not a number"):
        summary_value(summary, "rules_name")
    with pytest.raises(KeyError, match="not a table"):
        summary_value(summary, "renewable_share.x")


# --------------------------------------------------------------------- a real year


def test_real_year_truthful_offers_have_zero_markup_and_a_marked_up_owner_shows_it():
    from market.rules import load_preset
    from studies.year.run import run_year

    rules = load_preset("mengxi")
    truthful = run_year(rules, 1, scale=0.01).summary["market_power"]
    # every generator offers at its marginal cost (must-run at the floor is left out)
    assert truthful["markup"]["offered_all"] == pytest.approx(0.0, abs=1e-9)
    for value in truthful["markup"]["offered_by_owner"].values():
        assert value is None or value == pytest.approx(0.0, abs=1e-9)
    for value in truthful["hhi"].values():
        assert value is None or 0 < value <= 10_000
    json.dumps(truthful, allow_nan=False)

    marked = run_year(rules, 1, scale=0.01, strategies={"genco-1": ("markup", {"markup": 0.2})})
    offered = marked.summary["market_power"]["markup"]["offered_by_owner"]
    assert offered["genco-1"] == pytest.approx(0.2, abs=1e-4)  # prices on the 0.01 grid
    assert offered["genco-2"] == pytest.approx(0.0, abs=1e-9)
    # the summary holds the figures rounded to the decimals they mean
    assert rounded(market_power(marked), "market_power") == marked.summary["market_power"]
