"""Coal capacity compensation: golden cases worked by hand, and properties.

Golden numbers follow NDRC/NEA notice 1501 of 2023 as summarised in docs/DOMAIN.md section 4:
fixed-cost standard 330 yuan/kW·yr, 30 % recovered in 2024-25 and 50 % from 2026, paid monthly
on the declared maximum output; deductions 10/50/100 % for 2/3/4+ failures a month (Shanghai:
10/20/50/100 % for 2/3/4/5+); three 100 % months in a year end eligibility.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.capacity.auction import CapacityAuction
from market.compensation.funding import fund_compensation, post_compensation_year
from market.compensation.scheme import (
    compensate_year,
    count_failures,
    deduction_fractions,
    eligible_units,
    month_periods,
    monthly_payment_fen,
)
from market.errors import CompensationInputError, MarketError
from market.ledger.book import SYSTEM_OPERATOR, Ledger, allocate_fen
from market.ledger.postings import monthly_fen
from market.rules import load_preset
from market.units import Fleet, Unit

MENGXI = load_preset("mengxi").compensation
SHANGHAI = load_preset("deductions-shanghai").compensation
Y2026 = load_preset("mengxi-2026").compensation
TO_RENEWABLES = load_preset("compensation-charged-to-renewables").compensation
ALL_COAL = load_preset("compensation-all-coal").compensation
PERIODS = month_periods(2025)

#: 330 yuan/kW·yr x 0.30 = 99 yuan/kW·yr; x 600,000 kW = 59,400,000 yuan/yr; / 12 months.
MONTHLY_600MW_FEN = 4_950_000_00


def fleet() -> Fleet:
    """coal-s supports the two wind units; coal-x is ordinary coal; storage is never paid."""
    return Fleet.from_units([
        Unit("coal-s", "genco-a", "coal_supercritical", 600.0,
             supported_units=("wind-1", "wind-2"), pairing_ratio=0.5),
        Unit("coal-x", "genco-b", "coal_subcritical", 350.0),
        Unit("wind-1", "green-1", "wind", 500.0),
        Unit("wind-2", "green-2", "wind", 500.0),
        Unit("bess-1", "genco-b", "storage", 400.0),
    ])


def no_failures(n: int = 5, m: int = 12) -> np.ndarray:
    return np.zeros((n, m), dtype=np.int64)


def with_failures(month_counts: dict[int, int], unit: int = 0) -> np.ndarray:
    f = no_failures()
    for month, count in month_counts.items():
        f[unit, month] = count
    return f


def test_monthly_payment_of_a_600_mw_supporting_unit_is_4_95_million_yuan():
    # 330 x 0.30 x 600,000 kW / 12 = 4,950,000 yuan = 495,000,000 fen
    year = compensate_year(fleet(), MENGXI, no_failures(), PERIODS)
    assert year.gross_fen[0].tolist() == [MONTHLY_600MW_FEN] * 12
    assert year.net_fen[0].sum() == 12 * MONTHLY_600MW_FEN  # 59,400,000 yuan a year
    # only the supporting coal unit is eligible by default
    assert year.gross_fen[1:].sum() == 0
    assert year.summary() == {"coal-s": {"gross": 59_400_000.0, "deduction": 0.0,
                                         "offset": 0.0, "deducted": 0.0,
                                         "net": 59_400_000.0}}


def test_payment_uses_the_declared_maximum_output_not_the_nameplate():
    # declared 500 MW of 600: 99 x 500,000 / 12 = 4,125,000 yuan
    f = Fleet.from_units([Unit("c", "o", "coal_supercritical", 600.0, declared_max_mw=500.0,
                               supported_units=("w",), pairing_ratio=1.0),
                          Unit("w", "o2", "wind", 100.0)])
    assert monthly_payment_fen(f, MENGXI)[0] == 4_125_000_00


def test_2026_recovery_ratio_pays_8_25_million_yuan_a_month():
    # 330 x 0.50 x 600,000 / 12 = 8,250,000 yuan
    year = compensate_year(fleet(), Y2026, no_failures(), PERIODS)
    assert year.gross_fen[0, 0] == 8_250_000_00


@pytest.mark.parametrize(("failures", "net_yuan"), [
    (0, 4_950_000), (1, 4_950_000),
    (2, 4_455_000),   # 10 % off: 4,950,000 - 495,000
    (3, 2_475_000),   # 50 % off
    (4, 0), (7, 0),   # 4 or more: 100 % off
])
def test_deduction_table_of_the_mengxi_preset(failures, net_yuan):
    year = compensate_year(fleet(), MENGXI, with_failures({0: failures}), PERIODS)
    assert year.net_fen[0, 0] == net_yuan * 100
    assert year.deduction_fen[0, 0] == MONTHLY_600MW_FEN - net_yuan * 100
    assert year.net_fen[0, 1] == MONTHLY_600MW_FEN  # the next month is not touched


@pytest.mark.parametrize(("failures", "fraction"), [
    (1, 0.0), (2, 0.10), (3, 0.20), (4, 0.50), (5, 1.0), (9, 1.0)])
def test_shanghai_deduction_table(failures, fraction):
    assert deduction_fractions(np.array([failures]), SHANGHAI)[0] == fraction
    year = compensate_year(fleet(), SHANGHAI, with_failures({3: failures}), PERIODS)
    assert year.deduction_fen[0, 3] == round(MONTHLY_600MW_FEN * fraction)
    if failures == 3:  # 20 % of 4,950,000 = 990,000 yuan deducted
        assert year.net_fen[0, 3] == 3_960_000_00


def test_three_full_losses_end_eligibility_from_the_month_after_the_third():
    # 100 % losses in Feb, Apr and Jun (months 1, 3, 5): paid nothing in those months, and
    # nothing from July (month 6) on, although July onwards has no failures.
    year = compensate_year(fleet(), MENGXI, with_failures({1: 4, 3: 5, 5: 4}), PERIODS)
    assert year.lost_eligibility[0]
    assert year.lost_from_month[0] == 6
    assert year.eligible[0].tolist() == [True] * 6 + [False] * 6
    assert year.net_fen[0].tolist() == [MONTHLY_600MW_FEN, 0, MONTHLY_600MW_FEN, 0,
                                        MONTHLY_600MW_FEN, 0] + [0] * 6
    assert year.gross_fen[0, 6:].sum() == 0


def test_two_full_losses_and_a_half_loss_keep_eligibility():
    year = compensate_year(fleet(), MENGXI, with_failures({1: 4, 3: 4, 5: 3}), PERIODS)
    assert not year.lost_eligibility[0]
    assert year.lost_from_month[0] == -1
    assert year.eligible[0].all()
    assert year.net_fen[0, 5] == MONTHLY_600MW_FEN // 2
    assert year.net_fen[0, 11] == MONTHLY_600MW_FEN


def test_third_full_loss_in_december_ends_eligibility_for_next_year():
    year = compensate_year(fleet(), MENGXI, with_failures({0: 4, 6: 4, 11: 4}), PERIODS)
    assert year.eligible[0].all()
    assert year.lost_eligibility[0] and year.lost_from_month[0] == 12
    nxt = compensate_year(fleet(), MENGXI, no_failures(), month_periods(2026),
                          excluded=year.lost_eligibility)
    assert nxt.net_fen[0].sum() == 0


def test_count_failures_from_call_records():
    f = fleet()
    # coal-s is called 4 times in March (month 2): delivers, fails, fails, and is asked for
    # 700 MW (above its declared 600) delivering 600 -- not a failure: nobody is asked for more
    # than the declared maximum. One failure in May.
    counts = count_failures(
        f, ["coal-s", "coal-s", "coal-s", "coal-s", "coal-s", "coal-x"],
        np.array([2, 2, 2, 2, 4, 2]),
        called_mw=np.array([600.0, 600.0, 550.0, 700.0, 600.0, 350.0]),
        delivered_mw=np.array([600.0, 420.0, 549.0, 600.0, 0.0, 350.0]))
    assert counts.shape == (5, 12)
    assert counts[0, 2] == 2 and counts[0, 4] == 1 and counts.sum() == 3
    year = compensate_year(f, MENGXI, counts, PERIODS)
    assert year.net_fen[0, 2] == 4_455_000_00  # two failures: 10 %


def test_count_failures_refuses_bad_records():
    with pytest.raises(MarketError, match="not in the fleet"):
        count_failures(fleet(), ["nope"], np.array([0]), np.array([1.0]), np.array([1.0]))
    with pytest.raises(CompensationInputError, match="month_index"):
        count_failures(fleet(), ["coal-s"], np.array([12]), np.array([1.0]), np.array([1.0]))


def test_funding_splits_exactly_to_the_fen_across_loads_by_mwh():
    # 495,000,000 fen a month over I&C loads weighing 1 : 2 : 4 MWh (the residential load is
    # not charged): exact shares 70,714,285.71 / 141,428,571.43 / 282,857,142.86; floors sum
    # to 494,999,998, and the 2 fen left go to the largest remainders (.86, then .71).
    year = compensate_year(fleet(), MENGXI, no_failures(), PERIODS)
    mwh = np.tile(np.array([[100.0], [200.0], [400.0], [900.0]]), (1, 12))
    funding = fund_compensation(year, fleet(), MENGXI, load_ids=["ic-1", "ic-2", "ic-3", "home"],
                                load_mwh=mwh,
                                industrial_commercial=np.array([True, True, True, False]))
    jan = [(p, int(a)) for p, per, a in zip(funding.payers, funding.periods, funding.amount_fen,
                                            strict=True) if per == "2025-01"]
    assert jan == [("ic-1", 70_714_286), ("ic-2", 141_428_571), ("ic-3", 282_857_143)]
    assert funding.by_payer().keys() == {"ic-1", "ic-2", "ic-3"}
    assert funding.amount_fen.sum() == year.net_fen.sum()


def test_funding_by_supported_renewables_pro_rata_to_output():
    year = compensate_year(fleet(), TO_RENEWABLES, no_failures(), PERIODS)
    out = np.zeros((5, 12))
    out[2, :] = 300.0   # wind-1
    out[3, :] = 100.0   # wind-2: 3 : 1
    out[2:4, 5] = 0.0   # a windless June: equal shares
    funding = fund_compensation(year, fleet(), TO_RENEWABLES, renewable_mwh=out)
    rows = {(u, p): int(a) for u, p, a in zip(funding.units, funding.periods,
                                              funding.amount_fen, strict=True)}
    assert rows[("wind-1", "2025-01")] == 371_250_000  # 3/4 of 495,000,000 fen
    assert rows[("wind-2", "2025-01")] == 123_750_000
    assert rows[("wind-1", "2025-06")] == rows[("wind-2", "2025-06")] == 247_500_000
    assert funding.by_payer() == {"green-1": 12 * 495_000_000 - 11 * 123_750_000
                                  - 247_500_000,
                                  "green-2": 11 * 123_750_000 + 247_500_000}


def test_all_coal_variant_pays_unsupporting_coal_too():
    assert eligible_units(fleet(), MENGXI).tolist() == [True, False, False, False, False]
    assert eligible_units(fleet(), ALL_COAL).tolist() == [True, True, False, False, False]
    year = compensate_year(fleet(), ALL_COAL, no_failures(), PERIODS)
    assert year.gross_fen[1, 0] == 2_887_500_00  # 99 x 350,000 / 12 = 2,887,500 yuan


def test_disabled_mechanism_pays_nothing():
    off = MENGXI.model_copy(update={"enabled": False})
    assert compensate_year(fleet(), off, no_failures(), PERIODS).net_fen.sum() == 0


def test_no_double_payment_capacity_market_pays_first_and_compensation_tops_up():
    # coal-s also earns 36,000,000 yuan a year in the capacity market = 3,000,000 a month:
    # compensation pays only the 1,950,000 above it, so the unit gets 4,950,000, not 7,950,000.
    cap = np.array([36_000_000_00, 0, 0, 0, 0], dtype=np.int64)
    year = compensate_year(fleet(), MENGXI, no_failures(), PERIODS,
                           capacity_monthly_fen=monthly_fen(cap))
    assert year.offset_fen[0, 0] == 3_000_000_00
    assert year.net_fen[0, 0] == 1_950_000_00
    # a capacity payment above the compensation leaves nothing to top up (never below zero)
    big = np.array([120_000_000_00, 0, 0, 0, 0], dtype=np.int64)
    year = compensate_year(fleet(), MENGXI, with_failures({0: 2}), PERIODS,
                           capacity_monthly_fen=monthly_fen(big))
    assert year.net_fen[0].sum() == 0
    # the offset takes the whole gross first, so the deduction due moves no money
    assert year.offset_fen[0, 0] == MONTHLY_600MW_FEN
    assert year.deduction_fen[0, 0] == MONTHLY_600MW_FEN // 10  # due: 2 failures, 10 %
    assert year.deducted_fen[0].sum() == 0
    # the rule allows both: paid in full
    both = MENGXI.model_copy(update={"offset": "none"})
    assert both.allow_double_payment and not MENGXI.allow_double_payment
    year = compensate_year(fleet(), both, no_failures(), PERIODS,
                           capacity_monthly_fen=monthly_fen(big))
    assert year.net_fen[0, 0] == MONTHLY_600MW_FEN


def test_a_fully_offset_unit_has_no_compensation_legs_in_the_ledger():
    # coal-s earns 120,000,000 yuan a year of capacity payments, more than its compensation,
    # and fails 4 times in January (100 % due): no money moves, so nothing is posted.
    big = np.array([120_000_000_00, 0, 0, 0, 0], dtype=np.int64)
    year = compensate_year(fleet(), MENGXI, with_failures({0: 4}), PERIODS,
                           capacity_monthly_fen=monthly_fen(big))
    assert year.net_fen.sum() == 0 and year.deducted_fen.sum() == 0
    assert year.deduction_fen[0, 0] == MONTHLY_600MW_FEN  # kept as due, for the failures log
    funding = fund_compensation(year, fleet(), MENGXI, load_ids=["ic"],
                                load_mwh=np.full((1, 12), 5.0))
    ledger = Ledger()
    post_compensation_year(ledger, year, funding)
    assert ledger.n_entries == 0


def test_with_no_offset_deductions_move_money():
    # offset = "none": the same unit and failures, paid on top of its capacity payment; the
    # January deduction (100 %) is money not paid, so the ledger pays 11 months.
    big = np.array([120_000_000_00, 0, 0, 0, 0], dtype=np.int64)
    both = MENGXI.model_copy(update={"offset": "none"})
    year = compensate_year(fleet(), both, with_failures({0: 4}), PERIODS,
                           capacity_monthly_fen=monthly_fen(big))
    assert year.offset_fen.sum() == 0
    assert year.deducted_fen[0, 0] == MONTHLY_600MW_FEN == year.deduction_fen[0, 0]
    funding = fund_compensation(year, fleet(), both, load_ids=["ic"],
                                load_mwh=np.full((1, 12), 5.0))
    ledger = Ledger()
    post_compensation_year(ledger, year, funding)
    by_cat = ledger.totals_by(("participant", "category"))
    assert by_cat[("genco-a", "compensation")] == 11 * MONTHLY_600MW_FEN
    assert ("genco-a", "deduction") not in by_cat
    assert ledger.totals_by("participant", period="2025-01").get("genco-a", 0) == 0


def test_offset_rule_reads_the_old_allow_double_payment_key_and_keeps_the_json():
    from market.rules import CompensationRules
    assert CompensationRules.model_validate({"allow_double_payment": True}).offset == "none"
    assert CompensationRules.model_validate(
        {"allow_double_payment": False}).offset == "capacity_payment"
    with pytest.raises(ValueError, match="allow_double_payment"):
        CompensationRules.model_validate({"allow_double_payment": False, "offset": "none"})
    # the JSON (and so the sha256 of a rule set and a saved session's rules) is unchanged
    assert MENGXI.model_dump(mode="json")["allow_double_payment"] is False
    assert "offset" not in MENGXI.model_dump(mode="json")
    assert MENGXI.model_dump()["offset"] == "capacity_payment"


def test_no_double_payment_with_a_cleared_capacity_auction():
    # coal-s (600 MW supercritical, 528 MW accredited) clears in a pay-as-bid capacity auction
    # that is short of supply (2,300 MW wanted), paid its offer of 100 yuan/kW·yr:
    # 528 x 100,000 = 52,800,000 yuan a year = 4,400,000 a month, so the compensation only
    # tops it up by 550,000 a month to the 4,950,000 compensation.
    f = fleet()
    a = CapacityAuction(load_preset("capacity-pay-as-bid").capacity, f, 2000.0)
    a.submit("coal-s", 528, 100)
    a.submit("coal-x", 297.5, 100)
    res = a.clear()
    assert res.payment_fen[0] == 52_800_000_00
    year = compensate_year(f, MENGXI, no_failures(), PERIODS,
                           capacity_monthly_fen=monthly_fen(res.payment_fen))
    assert year.net_fen[0].tolist() == [550_000_00] * 12
    assert year.net_fen[0, 0] + res.payment_fen[0] // 12 == MONTHLY_600MW_FEN


def test_ledger_postings_net_paid_and_funded_sum_to_zero():
    # Jan: 3 failures (50 %); everything else clean; one I&C load pays it all. Only the net
    # payment is posted: no deduction entries.
    year = compensate_year(fleet(), MENGXI, with_failures({0: 3}), PERIODS)
    funding = fund_compensation(year, fleet(), MENGXI, load_ids=["ic"],
                                load_mwh=np.full((1, 12), 5.0))
    ledger = Ledger()
    post_compensation_year(ledger, year, funding)
    ledger.check_balanced()
    assert ledger.balance() == 0
    by_cat = ledger.totals_by(("participant", "category"))
    assert by_cat[("genco-a", "compensation")] == 12 * MONTHLY_600MW_FEN - MONTHLY_600MW_FEN // 2
    assert ("genco-a", "deduction") not in by_cat
    assert by_cat[("ic", "cost_allocation")] == -(12 * MONTHLY_600MW_FEN - MONTHLY_600MW_FEN // 2)
    assert ledger.totals_by("participant")[SYSTEM_OPERATOR] == 0
    assert ledger.totals_by("participant", period="2025-01")["genco-a"] == 2_475_000_00


def test_refused_funding_posts_nothing():
    year = compensate_year(fleet(), MENGXI, no_failures(), PERIODS)
    with pytest.raises(CompensationInputError, match="weights sum to zero"):
        fund_compensation(year, fleet(), MENGXI, load_ids=["ic"], load_mwh=np.zeros((1, 12)))
    with pytest.raises(CompensationInputError, match="shape"):
        compensate_year(fleet(), MENGXI, no_failures(m=11), PERIODS)


# ------------------------------------------------------------------------------- properties

@st.composite
def years(draw):
    """Failures, capacity payments and load MWh for the test fleet over 12 months."""
    failures = np.array(draw(st.lists(st.integers(0, 6), min_size=60, max_size=60)),
                        dtype=np.int64).reshape(5, 12)
    cap = np.array(draw(st.lists(st.integers(0, 10**10), min_size=5, max_size=5)),
                   dtype=np.int64)
    n_loads = draw(st.integers(1, 5))
    mwh = np.array(draw(st.lists(st.floats(0.001, 1e6), min_size=12 * n_loads,
                                 max_size=12 * n_loads))).reshape(n_loads, 12)
    rules = draw(st.sampled_from([MENGXI, SHANGHAI, Y2026, ALL_COAL]))
    return failures, cap, mwh, rules


@settings(max_examples=150, deadline=None)
@given(years())
@pytest.mark.slow
def test_property_no_double_payment_and_balanced_ledger(case):
    failures, cap, mwh, rules = case
    year = compensate_year(fleet(), rules, failures, PERIODS, capacity_monthly_fen=monthly_fen(cap))
    cap_month = np.array([allocate_fen(int(c), np.ones(12)) for c in cap])
    after_deduction = year.gross_fen - year.deduction_fen
    assert np.all(year.net_fen >= 0)
    # each unit-month gets the larger of its capacity payment and its compensation, never both
    assert np.array_equal(year.net_fen + cap_month, np.maximum(cap_month, after_deduction))
    assert np.all((year.net_fen == 0) | (cap_month == 0) | (year.offset_fen == cap_month))
    # gross = offset + deducted + net, every part >= 0, and never more deducted than due
    assert np.array_equal(year.gross_fen,
                          year.offset_fen + year.deducted_fen + year.net_fen)
    assert np.all(year.deducted_fen >= 0) and np.all(year.deducted_fen <= year.deduction_fen)
    loads = [f"load-{k}" for k in range(len(mwh))]
    funding = fund_compensation(year, fleet(), rules, load_ids=loads, load_mwh=mwh)
    assert funding.amount_fen.sum() == year.net_fen.sum()
    ledger = Ledger()
    post_compensation_year(ledger, year, funding)
    assert ledger.balance() == 0
    for period in PERIODS:
        assert ledger.balance(period) == 0
    assert ledger.totals_by("participant").get(SYSTEM_OPERATOR, 0) == 0
