"""Sloped-demand capacity clearing (docs/CLEARING.md, "Other kernels") against its contract.

Kernel vs the slow reference on generated markets, vs a quadratic program solved by HiGHS,
the equilibrium conditions at the reported price, and golden cases worked by hand, among them
the Mengxi defaults of docs/DOMAIN.md.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing import OrderBook, OrderBookError
from clearing.capacity import CapacityResult, DemandCurve, clear_capacity
from clearing.errors import ClearingInputError
from clearing.kernels import capacity as kernel
from clearing.reference import reference_capacity
from clearing.reference.lp import lp_capacity
from clearing.uniform import PRICE_RULES

RULES = ["midpoint", "supply", "demand"]

# The Mengxi defaults (docs/DOMAIN.md, sandbox defaults [E]): Net CONE 330 yuan/kW·yr, requirement
# RR = peak 45,000 MW x 1.15 = 51,750 MW; points (495 at 0.97 RR), (248 at 1.03 RR), (0 at 1.10 RR).
RR = 45_000 * 1.15
MENGXI = [(0.97 * RR, 495.0), (1.03 * RR, 248.0), (1.10 * RR, 0.0)]  # 50,197.5 / 53,302.5 / 56,925


# ----------------------------------------------------------------------- generated markets

@st.composite
def curves(draw, huge: bool = False):
    """Curve points in ticks: sloped, vertical, Mengxi-shaped, single point or flat pieces."""
    top_q = 10**15 if huge else 60_000
    top_p = 10**7 if huge else 60_000
    kind = draw(st.sampled_from(["sloped", "sloped", "steep", "vertical", "mengxi", "one_point"]))
    if kind == "steep":  # many price ticks per quantity tick: crossings floor far in price
        top_q = 10**12 if huge else 60
    if kind == "vertical":  # the vertical-demand variant [(R, cap), (R, 0)]
        r = draw(st.integers(0, top_q))
        return [(r, draw(st.integers(1, top_p))), (r, 0)]
    if kind == "mengxi":  # the Mengxi shape, scaled: RR a multiple of 200 ticks keeps it exact
        rr = 200 * draw(st.integers(1, top_q // 220))
        return [(rr * 97 // 100, 49_500), (rr * 103 // 100, 24_800), (rr * 110 // 100, 0)]
    if kind == "one_point":
        return [(draw(st.integers(0, top_q)), draw(st.integers(0, top_p)))]
    m = draw(st.integers(1, 5))
    levels = draw(st.lists(st.integers(0, top_q), min_size=1, max_size=3))
    qs = sorted(draw(st.lists(st.one_of(st.sampled_from(levels), st.integers(0, top_q)),
                              min_size=m, max_size=m)))
    plevels = draw(st.lists(st.integers(0, top_p), min_size=1, max_size=3))
    ps = sorted(draw(st.lists(st.one_of(st.sampled_from(plevels), st.integers(0, top_p)),
                              min_size=m, max_size=m)), reverse=True)
    points = [(qs[0], ps[0])]
    for q, p in zip(qs[1:], ps[1:], strict=True):
        if (q, p) != points[-1]:
            points.append((q, p))
    return points


@st.composite
def markets(draw, max_offers: int = 30, huge: bool = False):
    """(price ticks, quantity ticks, curve): heavy ties, one offer, supply far short of or far
    above demand, offers above the curve's first price."""
    curve = draw(curves(huge=huge))
    shape = draw(st.sampled_from(["mixed", "one", "short", "long", "above", "ties"]))
    n = 1 if shape == "one" else draw(st.integers(0, max_offers))
    top_p = 10**7 if huge else 70_000
    if shape == "ties":
        levels = draw(st.lists(st.integers(0, top_p), min_size=1, max_size=3))
        prices = draw(st.lists(st.sampled_from(levels), min_size=n, max_size=n))
    else:
        prices = draw(st.lists(st.integers(0, top_p), min_size=n, max_size=n))
    if shape == "above":  # every other offer priced above the curve's first price
        prices = [p + (curve[0][1] + 1 if k % 2 else 0) for k, p in enumerate(prices)]
    top_q = {"short": 100, "long": 40_000}.get(shape, 8_000)
    if huge:
        top_q = 10**15
    qtys = draw(st.lists(st.integers(1, top_q), min_size=n, max_size=n))
    return np.array(prices, dtype=np.int64), np.array(qtys, dtype=np.int64), curve


def curve_arrays(curve):
    return (np.array([q for q, _ in curve], dtype=np.int64),
            np.array([p for _, p in curve], dtype=np.int64))


def run_kernel(prices, qtys, curve, time_priority=False, rule="midpoint", seq=None):
    seq = np.arange(len(prices), dtype=np.int64) if seq is None else seq
    cq, cp = curve_arrays(curve)
    status, vol, lo, hi, x2, welfare, acc = kernel.clear_capacity(
        prices, qtys, seq, cq, cp, time_priority, PRICE_RULES[rule])
    if status != kernel.STATUS_TRADE:
        return int(vol), None, None, [int(a) for a in acc], float(welfare)
    return int(vol), int(x2), (int(lo), int(hi)), [int(a) for a in acc], float(welfare)


def book_of(prices, qtys, ids=None, sequence=None):
    ids = list(range(len(prices))) if ids is None else ids
    return OrderBook.from_arrays(ids, [1] * len(prices), prices, qtys, sequence=sequence)


def public(prices, qtys, curve, **kwargs) -> CapacityResult:
    """Clear tick arrays through the public wrapper (0.01 yuan/kW·yr, 0.001 MW)."""
    book = book_of(np.asarray(prices) / 100, np.asarray(qtys) / 1000)
    return clear_capacity(book, [(q / 1000, p / 100) for q, p in curve], **kwargs)


# ----------------------------------------------------------------------- vs the reference

@settings(max_examples=300, deadline=None)
@given(markets(), st.booleans(), st.sampled_from(RULES))
def test_kernel_matches_reference(market, time_priority, rule):
    prices, qtys, curve = market
    vol, x2, rng, acc, welfare = run_kernel(prices, qtys, curve, time_priority, rule)
    r_vol, r_x2, r_rng, r_acc, r_welfare = reference_capacity(
        prices, qtys, curve, None, time_priority, rule)
    assert (vol, x2, rng) == (r_vol, r_x2, r_rng)
    assert acc == r_acc
    assert welfare == pytest.approx(float(r_welfare), rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(markets(max_offers=15, huge=True), st.sampled_from(RULES))
def test_kernel_matches_reference_when_products_overflow_int64(market, rule):
    # Curve and offers of 10**15 ticks: the crossing and the pro-rata products pass 2**63.
    prices, qtys, curve = market
    vol, x2, rng, acc, welfare = run_kernel(prices, qtys, curve, rule=rule)
    r_vol, r_x2, r_rng, r_acc, r_welfare = reference_capacity(prices, qtys, curve, rule=rule)
    assert (vol, x2, rng, acc) == (r_vol, r_x2, r_rng, r_acc)
    assert welfare == pytest.approx(float(r_welfare), rel=1e-9, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(markets(), st.sampled_from(RULES), st.sampled_from(["uniform", "pay_as_bid"]))
def test_public_wrapper_matches_reference(market, rule, pricing):
    prices, qtys, curve = market
    r = public(prices, qtys, curve, price_rule=rule, pricing=pricing)
    r_vol, r_x2, r_rng, r_acc, r_welfare = reference_capacity(prices, qtys, curve, rule=rule)
    assert list(r.accepted_ticks) == r_acc
    assert r.cleared_mw == pytest.approx(r_vol / 1000, abs=1e-9)
    if r_x2 is None:
        assert r.price is None and r.price_range is None and r.welfare == 0.0
        assert np.isnan(r.settlement_price).all()
        return
    assert r.price == pytest.approx(r_x2 / 200, abs=1e-9)
    assert r.price_range == pytest.approx((r_rng[0] / 100, r_rng[1] / 100), abs=1e-9)
    # welfare in yuan/yr: tick units x 0.01 yuan/kW·yr x 0.001 MW x 1,000 kW/MW
    assert r.welfare == pytest.approx(float(r_welfare) * 0.01, rel=1e-9, abs=1e-6)
    own = prices / 100 if pricing == "pay_as_bid" else np.full(len(prices), r_x2 / 200)
    taken = np.asarray(r_acc) > 0
    assert np.allclose(r.settlement_price[taken], own[taken])
    assert np.isnan(r.settlement_price[~taken]).all()


# ----------------------------------------------------------------------- vs an LP (HiGHS)

STEPS = 400  # steps per sloped segment of the curve in the LP


@settings(max_examples=150, deadline=None)
@given(markets(max_offers=25))
def test_welfare_equals_lp(market):
    # Tolerance: the steps' bound (above), plus the kernel's floor of the crossing to the
    # 0.001 MW tick, which may leave less than one tick of surplus (at most the curve's first
    # price x 0.001 MW), plus 1e-9 of the welfare for HiGHS.
    prices, qtys, curve = market
    p_mw = [(q / 1000, p / 100) for q, p in curve]
    r = public(prices, qtys, curve)
    welfare, cleared, bound = lp_capacity(prices / 100, qtys / 1000, p_mw, STEPS)
    one_tick = max(max(p for _, p in p_mw), 0) * 0.001
    slack = bound + 1e-9 * max(1.0, abs(welfare))
    assert r.welfare / 1000 <= welfare + slack
    assert r.welfare / 1000 >= welfare - one_tick - slack
    # Among welfare-maximising quantities the kernel takes the largest, floored to the tick;
    # the LP's steps may shift its quantity by up to one step.
    step = max([(qb - qa) / STEPS for (qa, _), (qb, _) in zip(p_mw, p_mw[1:], strict=False)],
               default=0.0)
    assert r.cleared_mw >= cleared - 0.001 - step - 1e-9 * max(1.0, cleared)


# ----------------------------------------------------------------------- equilibrium

@settings(max_examples=200, deadline=None)
@given(markets(), st.sampled_from(RULES))
def test_equilibrium_conditions_hold_at_the_price(market, rule):
    prices, qtys, curve = market
    vol, x2, rng, acc, _ = run_kernel(prices, qtys, curve, rule=rule)
    assert sum(acc) == vol
    if x2 is None:
        assert vol == 0
        return
    assert 2 * rng[0] <= x2 <= 2 * rng[1]
    for p, q, a in zip(prices, qtys, acc, strict=True):
        assert 0 <= a <= q
        if 2 * p < x2:
            assert a == q, "an offer below the price is fully accepted"
        if 2 * p > x2:
            assert a == 0, "an offer above the price gets nothing"
    # The cleared MW is on the curve at the price: no more than demanded at or above it.
    cq, cp = curve_arrays(curve)
    whole, _ = kernel.demand_at(cq, cp, x2 // 2)
    assert vol <= whole


# ----------------------------------------------------------------------- golden cases

def test_golden_mengxi_curve_crosses_the_marginal_step():
    # Mengxi curve: A (50,197.5 MW, 495), B (53,302.5, 248), C (56,925, 0); slope of AB is
    # 247 / 3,105 yuan/kW·yr per MW. Offers U1 30,000 MW at 100, U2 20,000 at 200, U3 10,000
    # at 300: cumulative 30,000 / 50,000 / 60,000 MW.
    # 1. Up to 50,000 MW the curve is flat at 495 (left of A) above 100 and 200: U1, U2 in.
    # 2. U3's price 300 is met on AB at 50,197.5 + (495 - 300) x 3,105 / 247
    #    = 50,197.5 + 2,451.315789... = 52,648.815789... MW, inside U3's step.
    # 3. Floored to 0.001 MW: 52,648.815; U3 accepted 2,648.815 MW; price = U3's 300.
    # 4. Welfare: flat 495 x 50,197.5 = 24,847,762.5; AB trapezoid over 2,451.315 MW from 495
    #    to 495 - 2,451.315 x 247 / 3,105 = 300.0000628 -> 974,397.79; cost 100 x 30,000
    #    + 200 x 20,000 + 300 x 2,648.815 = 7,794,644.5; total 18,027,515.79 MW·yuan/kW·yr
    #    = 18,027,515,790 yuan/yr.
    r = clear_capacity((["U1", "U2", "U3"], [30_000, 20_000, 10_000], [100, 200, 300]), MENGXI)
    assert r.price == 300.0 and r.price_range == (300.0, 300.0)
    assert r.cleared_mw == 52_648.815
    assert list(r.accepted) == [30_000.0, 20_000.0, 2_648.815]
    end = Fraction(495) - Fraction(2_451_315, 1000) * Fraction(247, 3_105)
    exact = (Fraction(495) * Fraction(50_197_5, 10) + Fraction(2_451_315, 1000) * (495 + end) / 2
             - Fraction(7_794_644_5, 10)) * 1000
    assert r.welfare == pytest.approx(float(exact), rel=1e-12)
    assert r.welfare == pytest.approx(18_027_515_790, rel=1e-9)


def test_golden_mengxi_curve_passes_between_steps():
    # Offers U1 30,000 MW at 100, U2 20,000 at 200, U3 2,000 at 300, U4 5,000 at 400.
    # At 52,000 MW (U1..U3 all in) the curve is at 495 - (52,000 - 50,197.5) x 247 / 3,105
    # = 495 - 143.38727... = 351.61272...: above U3's 300, below U4's 400, so the curve
    # crosses in the supply gap. Cleared 52,000 MW; price the curve's, floored to 0.01: 351.61.
    r = clear_capacity((["U1", "U2", "U3", "U4"], [30_000, 20_000, 2_000, 5_000],
                        [100, 200, 300, 400]), MENGXI)
    assert r.cleared_mw == 52_000.0 and list(r.accepted) == [30_000, 20_000, 2_000, 0]
    assert r.price == 351.61 and r.price_range == (351.61, 351.61)
    # Exactly at the kink B (53,302.5 MW) the curve's price is 248, inside the gap [200, 300].
    r = clear_capacity(([1, 2], [53_302.5, 10_000], [200, 300]), MENGXI)
    assert r.cleared_mw == 53_302.5 and r.price == 248.0


def test_golden_vertical_demand_overlapping_a_supply_gap_uses_the_price_rule():
    # Vertical variant [(RR, 495), (RR, 0)], RR = 51,750 MW. U1 30,000 MW at 100, U2 21,750 at
    # 200 end exactly at RR; U3 10,000 at 300 is not needed. The supply gap [200, 300] and the
    # vertical demand (any price up to 495) overlap on [200, 300]: midpoint 250, supply 200,
    # demand 300.
    curve = DemandCurve.vertical(RR, 495.0)
    offers = (["U1", "U2", "U3"], [30_000, 21_750, 10_000], [100, 200, 300])
    r = clear_capacity(offers, curve)
    assert r.cleared_mw == 51_750.0 and r.price_range == (200.0, 300.0) and r.price == 250.0
    assert clear_capacity(offers, curve, price_rule="supply").price == 200.0
    assert clear_capacity(offers, curve, price_rule="demand").price == 300.0
    # With U2 at 25,000 MW the requirement ends inside U2's step: U2 gets 21,750 at its 200.
    r = clear_capacity((["U1", "U2", "U3"], [30_000, 25_000, 10_000], [100, 200, 300]), curve)
    assert r.price == 200.0 and list(r.accepted) == [30_000, 21_750, 0]


def test_golden_supply_far_above_demand_shares_pro_rata():
    # 100 offers of 1,000 MW at 50. The curve reaches 50 on BC: 53,302.5 + (248 - 50) x
    # 3,622.5 / 248 = 56,194.657258... MW, floored 56,194.657 = 56,194,657 ticks. Pro rata:
    # 561,946.57 ticks each -> 561,946, the 57 ticks left go to the equal remainders in
    # sequence order: the first 57 offers get one more. Price 50.
    r = clear_capacity((np.arange(100), np.full(100, 1_000.0), np.full(100, 50.0)), MENGXI)
    assert r.price == 50.0 and r.cleared_mw == 56_194.657
    assert list(r.accepted_ticks) == [561_947] * 57 + [561_946] * 43
    # Time priority: the first 56 offers in full, the 57th gets 194.657 MW.
    t = clear_capacity((np.arange(100), np.full(100, 1_000.0), np.full(100, 50.0)), MENGXI,
                       priority="time")
    assert list(t.accepted) == [1_000.0] * 56 + [194.657] + [0.0] * 43


def test_golden_supply_far_short_clears_at_the_first_price():
    # One offer of 10,000 MW at 100: the curve is flat at 495 left of A, so all 10,000 MW
    # clear; supply allows [100, oo), the curve 495 there: price 495.
    r = clear_capacity((["U1"], [10_000], [100]), MENGXI)
    assert r.cleared_mw == 10_000.0 and r.price == 495.0
    assert r.welfare == (495 - 100) * 10_000 * 1_000


def test_golden_offers_above_the_first_price_never_clear():
    # An offer at 500 is above every price of the curve (at most 495): nothing clears.
    r = clear_capacity((["U1"], [10_000], [500]), MENGXI)
    assert r.price is None and r.cleared_mw == 0.0 and r.welfare == 0.0
    # Beside a cheap offer: 10,000 MW at 100 clear; the gap [100, 500] meets the flat 495.
    r = clear_capacity((["U1", "U2"], [10_000, 50_000], [100, 500]), MENGXI)
    assert list(r.accepted) == [10_000.0, 0.0] and r.price == 495.0


def test_golden_offers_at_the_first_price_clear_for_volume():
    # 60,000 MW offered at exactly 495: zero surplus, but the largest welfare-maximising
    # quantity is the whole flat piece, up to A = 50,197.5 MW. Price 495, welfare 0.
    r = clear_capacity((["U1"], [60_000], [495]), MENGXI)
    assert r.cleared_mw == 50_197.5 and r.price == 495.0 and r.welfare == 0.0


def test_golden_steep_curve_floored_crossing_keeps_the_marginal_price():
    # Curve (0 MW, 100) -> (0.010 MW, 0): 100 yuan/kW·yr per 0.010 MW, 1,000 price ticks per
    # quantity tick. A: 0.003 MW at 0; B: 0.005 MW at 65. The curve meets B's 65 at
    # (100 - 65) / 100 x 0.010 = 0.0035 MW, inside B's step (0.003 to 0.008 MW). Floored to
    # 0.003 MW, B gets nothing, but B is still the marginal offer: price 65, not the curve's
    # 70 at 0.003 MW (which is above B's price, so B would want in).
    r = clear_capacity((["A", "B"], [0.003, 0.005], [0, 65]), [(0.0, 100.0), (0.010, 0.0)])
    assert r.cleared_mw == 0.003 and list(r.accepted) == [0.003, 0.0]
    assert r.price == 65.0 and r.price_range == (65.0, 65.0)


def test_golden_no_offers_and_no_demand():
    assert clear_capacity(([], [], []), MENGXI).price is None
    r = clear_capacity((["U1"], [10], [0]), [(0.0, 495.0)])  # a curve with no quantity
    assert r.price is None and r.cleared_mw == 0.0


def test_pay_as_bid_same_quantities_own_prices():
    offers = (["U1", "U2", "U3"], [30_000, 20_000, 10_000], [100, 200, 300])
    u = clear_capacity(offers, MENGXI)
    p = clear_capacity(offers, MENGXI, pricing="pay_as_bid")
    assert np.array_equal(u.accepted_ticks, p.accepted_ticks)
    assert list(p.settlement_price) == [100.0, 200.0, 300.0]
    assert list(u.settlement_price) == [300.0, 300.0, 300.0]


# ----------------------------------------------------------------------- invariances

@settings(max_examples=100, deadline=None)
@given(markets(), st.randoms(use_true_random=False), st.booleans())
def test_same_result_for_any_input_order(market, rnd, time_priority):
    prices, qtys, curve = market
    n = len(prices)
    perm = list(range(n))
    rnd.shuffle(perm)
    perm = np.array(perm, dtype=np.int64)
    seq = np.arange(n, dtype=np.int64)  # each offer keeps its sequence, so ties break alike
    a = run_kernel(prices, qtys, curve, time_priority, seq=seq)
    b = run_kernel(prices[perm], qtys[perm], curve, time_priority, seq=seq[perm])
    assert a[:3] == b[:3]
    assert a[4] == pytest.approx(b[4], rel=1e-12, abs=1e-9)
    assert [a[3][i] for i in perm] == b[3]


def test_same_result_twice_and_for_a_shuffled_book():
    rng = np.random.default_rng(11)
    n = 20_000
    prices = rng.integers(0, 50_000, n) / 100
    mw = rng.integers(1, 5_000, n) / 1000
    curve = [(0.97 * 30, 495.0), (1.03 * 30, 248.0), (1.10 * 30, 0.0)]
    book = OrderBook.from_arrays(np.arange(n), np.ones(n), prices, mw)
    r1, r2 = clear_capacity(book, curve), clear_capacity(book, curve)
    assert (r1.price, r1.cleared_mw, r1.welfare) == (r2.price, r2.cleared_mw, r2.welfare)
    assert np.array_equal(r1.accepted_ticks, r2.accepted_ticks)
    perm = rng.permutation(n)
    shuffled = OrderBook.from_arrays(np.arange(n)[perm], np.ones(n), prices[perm], mw[perm],
                                     sequence=np.arange(n)[perm])
    r3 = clear_capacity(shuffled, curve)
    assert (r3.price, r3.cleared_mw) == (r1.price, r1.cleared_mw)
    assert np.array_equal(r3.accepted_ticks, r1.accepted_ticks[perm])
    ref = reference_capacity(book.price_ticks[:1_000], book.quantity_ticks[:1_000],
                             [(29_100, 49_500), (30_900, 24_800), (33_000, 0)])
    sub = clear_capacity(OrderBook.from_arrays(np.arange(1_000), np.ones(1_000), prices[:1_000],
                                               mw[:1_000]), curve)
    assert list(sub.accepted_ticks) == ref[3] and sub.price == ref[1] / 200


# ----------------------------------------------------------------------- refusals

def test_offers_above_the_cap_are_refused_listing_each():
    offers = (["U1", "U2", "U3"], [100, 200, 300], [500, 300, 600])
    with pytest.raises(OrderBookError) as err:
        clear_capacity(offers, MENGXI, offer_cap=495)
    assert [p.row for p in err.value.problems] == [0, 2]
    assert "above the price cap 495" in str(err.value)
    assert clear_capacity(offers, MENGXI, offer_cap=600).cleared_mw == 200.0  # 500, 600 > 495


def test_buy_orders_are_refused():
    book = OrderBook.from_arrays(["U1", "L1", "L2"], [1, -1, -1], [1, 2, 3], [1, 1, 1])
    with pytest.raises(OrderBookError) as err:
        clear_capacity(book, MENGXI)
    assert [p.row for p in err.value.problems] == [1, 2] and "offers" in str(err.value)


@pytest.mark.parametrize("points, fragment", [
    ([], "at least one point"),
    ([(1.0, float("nan"))], "not finite"),
    ([(float("inf"), 1.0)], "not finite"),
    ([(-1.0, 1.0)], "negative MW"),
    ([(2.0, 5.0), (1.0, 4.0)], "below the previous"),
    ([(1.0, 5.0), (2.0, 6.0)], "above the previous"),
    ([(1.0, 5.0), (1.0, 5.0)], "repeats point 0"),
    ([(1.0, "5")], "pair of numbers"),
    ([(1.0,)], "pair of numbers"),
    (5, "sequence of (MW, price) pairs"),
])
def test_bad_curves_are_refused(points, fragment):
    with pytest.raises(ClearingInputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        DemandCurve.from_points(points)


def test_curve_problems_are_all_listed_and_off_grid_points_refused():
    with pytest.raises(ClearingInputError) as err:
        DemandCurve.from_points([(3.0, 5.0), (2.0, 6.0), (1.0, 7.0)])
    assert str(err.value).count("below the previous") == 2
    assert str(err.value).count("above the previous") == 2
    with pytest.raises(ClearingInputError, match="0.001 grid"):
        clear_capacity(([1], [1], [1]), [(1.0001, 5.0)])
    with pytest.raises(ClearingInputError, match="0.01 grid"):
        clear_capacity(([1], [1], [1]), [(1.0, 5.001)])


@pytest.mark.parametrize("kwargs, fragment", [
    ({"pricing": "discriminatory"}, "pricing must be one of"),
    ({"price_rule": "average"}, "price_rule must be one of"),
    ({"priority": "random"}, "priority must be one of"),
    ({"offer_cap": 10.001}, "tick grid"),
])
def test_bad_options_are_refused(kwargs, fragment):
    with pytest.raises(ClearingInputError, match=fragment):
        clear_capacity(([1], [1], [1]), MENGXI, **kwargs)


def test_bad_offers_are_refused():
    with pytest.raises(ClearingInputError, match="OrderBook or a tuple"):
        clear_capacity([1, 2], MENGXI)  # type: ignore[arg-type]
    with pytest.raises(OrderBookError, match="zero"):
        clear_capacity(([1], [0.0], [1]), MENGXI)
