"""The double-entry ledger: fen rounding, zero-sum periods, totals, refusals, round trip, and
exact pro-rata allocation (``allocate_fen``)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.errors import LedgerError, MarketError
from market.ledger.book import (
    ENTRY_DTYPE,
    SYSTEM_OPERATOR,
    Category,
    Ledger,
    allocate_fen,
    yuan_to_fen,
)

PARTIES = ["coal_01", "wind_07", "load_03", "storage_02", SYSTEM_OPERATOR]
PERIODS = ["2025-01", "2025-02", "2025-03"]


def decimal_fen(amount: float | int) -> int:
    """Reference: the amount as the decimal it is written as, rounded half-even to the fen."""
    return int((Decimal(repr(amount)) * 100).quantize(Decimal(1), ROUND_HALF_EVEN))


def state(ledger: Ledger) -> tuple:
    return (ledger.legs().tobytes(), ledger.names(), ledger.n_payments)


# --------------------------------------------------------------------- posting, by hand

def test_one_payment_is_two_balanced_legs():
    ledger = Ledger()
    # A load pays the operator its share of capacity cost: 1,234.565 yuan. In fen that is
    # 123,456.5, a tie, rounded half to even: 123,456 fen.
    ledger.post("2025-01", "load_03", SYSTEM_OPERATOR, Category.COST_ALLOCATION, 1234.565,
                memo="capacity cost January")
    e = ledger.entries()
    assert e.dtype == ENTRY_DTYPE
    assert e["participant"].tolist() == ["load_03", SYSTEM_OPERATOR]
    assert e["counterparty"].tolist() == [SYSTEM_OPERATOR, "load_03"]
    assert e["amount_fen"].tolist() == [-123456, 123456]
    assert e["category"].tolist() == ["cost_allocation"] * 2
    assert e["unit"].tolist() == [None, None]
    assert ledger.balance() == 0 and ledger.balance("2025-01") == 0
    assert ledger.n_payments == 1 and ledger.n_entries == 2


@pytest.mark.parametrize(("yuan", "fen"), [
    (1.005, 100),      # 100.5 fen, a tie: to the even 100 (its binary value is just below)
    (2.675, 268),      # 267.5 fen: to the even 268 (its binary value is just below, too)
    (0.125, 12),       # 12.5 fen: to 12
    (0.135, 14),       # 13.5 fen: to 14
    (3, 300),          # integers are exact
    (10**11, 10**13),
    (0.004, 0),        # rounds to zero: skipped
])
def test_amounts_round_half_even_once_at_posting(yuan, fen):
    ledger = Ledger()
    ledger.post("2025-01", "a", "b", "energy", yuan)
    if fen == 0:
        assert ledger.n_entries == 0
    else:
        assert ledger.totals_by("participant") == {"a": -fen, "b": fen}


def test_zero_amount_is_skipped():
    ledger = Ledger()
    ledger.post("2025-01", "a", "b", Category.ENERGY, 0.0)
    assert ledger.n_entries == 0 and ledger.balance() == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"amount_yuan": float("nan")}, "NaN"),
    ({"amount_yuan": float("inf")}, "infinite"),
    ({"amount_yuan": -1.0}, "negative"),
    ({"amount_yuan": -5}, "negative"),
    ({"amount_yuan": 1e20}, "too large"),
    ({"category": "bonus"}, "not a ledger category"),
    ({"payer": ""}, "non-empty"),
    ({"payee": "a"}, "cannot pay itself"),
])
def test_refusals_say_why_and_change_nothing(kwargs, message):
    ledger = Ledger()
    ledger.post("2025-01", "a", "b", "energy", 10.0)
    before = state(ledger)
    args = {"period": "2025-02", "payer": "a", "payee": "b", "category": "energy",
            "amount_yuan": 1.0}
    args.update(kwargs)
    with pytest.raises(LedgerError, match=message) as info:
        ledger.post(**args)
    assert isinstance(info.value, MarketError) and isinstance(info.value, ValueError)
    assert state(ledger) == before


def test_post_many_refuses_the_whole_batch_and_names_every_bad_row():
    ledger = Ledger()
    before = state(ledger)
    with pytest.raises(LedgerError) as info:
        ledger.post_many("2025-01", ["a", "b", "c"], SYSTEM_OPERATOR,
                         ["energy", "nonsense", "energy"], np.array([1.0, 2.0, np.nan]))
    text = str(info.value)
    assert "row 1: category 'nonsense'" in text and "row 2: amount is NaN" in text
    assert state(ledger) == before


def test_post_many_broadcasts_scalars_and_keeps_units():
    ledger = Ledger()
    n = ledger.post_many("2025-03", np.array(["wind_07", "coal_01", "wind_07"]), SYSTEM_OPERATOR,
                         Category.PERFORMANCE_PENALTY, np.array([1.0, 0.0, 2.5]),
                         memo="stress hour", unit=np.array(["W7", None, "W7b"], dtype=object))
    assert n == 2  # the zero amount is skipped
    assert ledger.totals_by(("participant", "unit")) == {
        ("wind_07", "W7"): -100, ("wind_07", "W7b"): -250,
        (SYSTEM_OPERATOR, "W7"): 100, (SYSTEM_OPERATOR, "W7b"): 250}


def test_post_many_refuses_arrays_of_different_lengths():
    with pytest.raises(LedgerError, match="1-D array of 3"):
        Ledger().post_many("p", ["a", "b", "c"], ["x", "y"], "energy", 1.0)


def test_exact_fen_amounts():
    ledger = Ledger()
    ledger.post_fen("2025-01", "a", "b", "deduction", 12345)
    with pytest.raises(LedgerError, match="integers"):
        ledger.post_many("2025-01", "a", "b", "energy", amount_fen=1.5)
    with pytest.raises(LedgerError, match="exactly one"):
        ledger.post_many("2025-01", "a", "b", "energy", 1.0, amount_fen=100)
    assert ledger.totals_by("participant") == {"a": -12345, "b": 12345}


def test_a_year_of_hourly_payments_posts_in_one_call():
    """8,760 hours x 20 loads = 175,200 payments from arrays (no loop per entry)."""
    rng = np.random.default_rng(7)
    n = 8760 * 20
    loads = np.array([f"load_{i:02d}" for i in range(20)])[rng.integers(0, 20, n)]
    months = np.array([f"2025-{m:02d}" for m in range(1, 13)])[np.arange(n) * 12 // n]
    amounts = np.round(rng.uniform(0, 5e4, n), 2)
    ledger = Ledger()
    ledger.post_many(months, loads, SYSTEM_OPERATOR, Category.ENERGY, amounts)
    assert ledger.n_payments == int((amounts > 0).sum())
    by_period = ledger.totals_by("period")
    assert len(by_period) == 12 and set(by_period.values()) == {0}
    # What the operator received equals the decimal amounts, exactly.
    expected = int(np.rint(amounts * 100).astype(np.int64).sum())
    assert ledger.totals_by("participant")[SYSTEM_OPERATOR] == expected


def test_totals_by_each_key_and_filters():
    ledger = Ledger()
    ledger.post("2025-01", "load_03", SYSTEM_OPERATOR, "capacity_payment", 100)
    ledger.post("2025-01", SYSTEM_OPERATOR, "coal_01", "capacity_payment", 100)
    ledger.post("2025-02", "load_03", "wind_07", "green_premium", 20, unit="W7")
    assert ledger.totals_by("period") == {"2025-01": 0, "2025-02": 0}
    assert ledger.totals_by("participant") == {"load_03": -12000, SYSTEM_OPERATOR: 0,
                                               "coal_01": 10000, "wind_07": 2000}
    assert ledger.totals_by("counterparty")["load_03"] == 12000
    assert ledger.totals_by("category") == {"capacity_payment": 0, "green_premium": 0}
    assert ledger.totals_by("participant", category=Category.GREEN_PREMIUM) == {
        "load_03": -2000, "wind_07": 2000}
    assert ledger.totals_by("category", participant="load_03") == {
        "capacity_payment": -10000, "green_premium": -2000}
    assert ledger.totals_by(("period", "participant"), period="2025-02") == {
        ("2025-02", "load_03"): -2000, ("2025-02", "wind_07"): 2000}
    assert ledger.totals_by("participant", period="1999-01") == {}
    with pytest.raises(LedgerError, match="cannot total by"):
        ledger.totals_by("colour")


def test_records_round_trip():
    ledger = Ledger()
    ledger.post("2025-01", "a", "b", "energy", 1.005, memo="x", unit="U1")
    ledger.post("2025-02", "b", SYSTEM_OPERATOR, "obligation_penalty", 77.77)
    records = ledger.to_records()
    assert records[0] == {"period": "2025-01", "payer": "a", "payee": "b", "category": "energy",
                          "amount_fen": 100, "memo": "x", "unit": "U1"}
    again = Ledger.from_records(records)
    assert again.to_records() == records
    assert again.entry_records() == ledger.entry_records()
    with pytest.raises(LedgerError, match="unknown"):
        Ledger.from_records([{**records[0], "colour": "red"}])


# --------------------------------------------------------------------- properties

payments = st.lists(
    st.tuples(st.sampled_from(PERIODS), st.sampled_from(PARTIES), st.sampled_from(PARTIES),
              st.sampled_from(list(Category)),
              st.one_of(st.integers(0, 10**9),
                        st.floats(0, 1e9, allow_nan=False, allow_infinity=False))),
    max_size=40)


@settings(max_examples=150, deadline=None)
@given(payments, st.booleans())
def test_any_sequence_of_posts_sums_to_zero_per_period(posts, batched):
    ledger = Ledger(capacity=2)
    posts = [p for p in posts if p[1] != p[2]]
    if batched and posts:
        cols = list(zip(*posts, strict=True))
        ledger.post_many(np.array(cols[0]), np.array(cols[1]), np.array(cols[2]),
                         np.array(cols[3], dtype=object), np.array(cols[4], dtype=object))
    else:
        for period, payer, payee, cat, amount in posts:
            ledger.post(period, payer, payee, cat, amount)
    for period in PERIODS:
        assert ledger.balance(period) == 0
    assert ledger.balance() == 0
    ledger.check_balanced()
    # Each party's net equals the reference decimal rounding of what it received and paid.
    expected: dict[str, int] = {}
    for _, payer, payee, _, amount in posts:
        fen = decimal_fen(amount)
        if fen:
            expected[payer] = expected.get(payer, 0) - fen
            expected[payee] = expected.get(payee, 0) + fen
    assert ledger.totals_by("participant") == expected
    assert Ledger.from_records(ledger.to_records()).to_records() == ledger.to_records()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 1e9, allow_nan=False, allow_infinity=False), max_size=30))
def test_float_conversion_matches_the_decimal_reference(amounts):
    fen, problems = yuan_to_fen(np.array(amounts, dtype=np.float64))
    assert not problems
    assert fen.tolist() == [decimal_fen(a) for a in amounts]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PARTIES), st.floats(-1e3, 1e3)), min_size=1,
                max_size=10))
def test_a_refused_batch_changes_nothing(rows):
    ledger = Ledger()
    ledger.post("2025-01", "a", "b", "energy", 5.0)
    before = state(ledger)
    amounts = np.array([a for _, a in rows] + [float("nan")])
    payers = np.array([p for p, _ in rows] + ["a"])
    with pytest.raises(LedgerError):
        ledger.post_many("2025-02", payers, "zz_payee", "energy", amounts)
    assert state(ledger) == before


# --------------------------------------------------------------------- allocate_fen

def test_allocate_by_hand():
    # 100 fen in three equal shares: 33.33 each; the one fen left goes to the lowest index.
    assert allocate_fen(100, np.array([1, 1, 1])).tolist() == [34, 33, 33]
    # 1,000 fen by 1:2:3 -> 166.67, 333.33, 500: remainders .67 and .33; the .67 gets the fen.
    assert allocate_fen(1000, np.array([1.0, 2.0, 3.0])).tolist() == [167, 333, 500]
    assert allocate_fen(0, [0.0, 0.0]).tolist() == [0, 0]
    assert allocate_fen(-7, [1, 2]).tolist() == [-2, -5]
    assert allocate_fen(5, [0, 3, 0]).tolist() == [0, 5, 0]


@pytest.mark.parametrize(("weights", "message"), [
    ([1.0, float("nan")], "finite"), ([1.0, -1.0], ">= 0"), ([0.0, 0.0], "sum to zero"),
    ([], "sum to zero"),
])
def test_allocate_refuses_bad_weights(weights, message):
    with pytest.raises(LedgerError, match=message):
        allocate_fen(10, np.array(weights, dtype=np.float64))
    with pytest.raises(LedgerError, match="integer"):
        allocate_fen(1.5, [1.0])  # type: ignore[arg-type]


def reference_allocation(total: int, weights: list[float]) -> list[int]:
    w = [Fraction(x) for x in weights]
    s = sum(w)
    quotas = [total * x / s for x in w]
    base = [q.numerator // q.denominator for q in quotas]
    left = total - sum(base)
    order = sorted(range(len(w)), key=lambda i: (-(quotas[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return base


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**15),
       st.one_of(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=25),
                 st.lists(st.integers(0, 10**6).map(float), min_size=1, max_size=25),
                 st.lists(st.integers(0, 2**40), min_size=1, max_size=25)))
def test_allocate_is_exact_and_largest_remainder(total, weights):
    if not any(w > 0 for w in weights):
        weights = [*weights, 1]
    w = np.array(weights)
    out = allocate_fen(total, w)
    assert out.dtype == np.int64
    assert int(out.sum()) == total
    assert out.tolist() == reference_allocation(total, [float(x) if isinstance(x, float) else x
                                                        for x in weights])
    assert (out[w == 0] == 0).all()
