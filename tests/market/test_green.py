"""Green electricity trading: bilateral contracts, listing, call auction, continuous trading and
obligations, each settled in the certificate registry and the ledger.

Defaults from docs/DOMAIN.md (section 5, green electricity trading and certificates):
premium 20 yuan/MWh (reference range 1-50, not a limit: the market caps neither the premium
nor the certificate price unless a variant sets ``green.premium_cap_yuan_per_mwh`` or
``green.certificate_price_cap_yuan``), unbundled certificate 2 yuan, obligation weight 0.22,
shortfall penalty 50 yuan/MWh [E], 1 certificate = 1 MWh.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.certificates.registry import CertificateRegistry
from market.errors import GreenTradeError
from market.green.auction import GreenOrder, call_auction, pair_fills
from market.green.continuous import GreenContinuousMarket
from market.green.listing import Listing, ListingRequest, fill_listing, listing_fills
from market.green.trading import (
    BilateralContract,
    GreenMarket,
    amount_fen,
    price_half_fen,
    quantity_ticks,
)
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.rules import load_preset

GREEN = load_preset("mengxi").green
#: A variant with both caps set: bundled premium <= 50 yuan/MWh, certificates <= 40 yuan.
CAPPED = load_preset("mengxi").with_overrides({"green.premium_cap_yuan_per_mwh": 50,
                                                "green.certificate_price_cap_yuan": 40}).green


def make_market(rules: Any = GREEN, mwh: tuple[float, float, float] = (1000, 500, 300)
                ) -> GreenMarket:
    reg = CertificateRegistry.from_rules(rules, "2025-01")
    reg.register_units(["W1", "W2", "S1"], ["wind", "wind", "solar"], ["gA", "gB", "gC"])
    reg.issue("2025-01", ["W1", "W2", "S1"], list(mwh))
    return GreenMarket(rules, reg, Ledger())


def state(m: GreenMarket) -> tuple:
    snap = m.registry.snapshot()
    arrays = tuple(v.tobytes() if isinstance(v, np.ndarray) else repr(v) for v in snap.values())
    return arrays, m.ledger.legs().tobytes(), len(m.trades), len(m.contracts)


def held(m: GreenMarket, owner: str) -> float:
    return m.registry.held_ticks(owner) / 1000


def test_rules_defaults_are_the_domain_numbers():
    assert (GREEN.premium_yuan_per_mwh, GREEN.premium_min_yuan_per_mwh,
            GREEN.premium_max_yuan_per_mwh) == (20, 1, 50)
    assert GREEN.obligation_weight == 0.22 and GREEN.listing_fill == "pro_rata"


@pytest.mark.parametrize("value", [1e308, -1e308, 10**400, -(10**400), 1e300, 2.0**60])
def test_price_and_quantity_checks_refuse_huge_numbers_without_overflow(value):
    """1e308 (whose x 200 is infinite) and a 400-digit int (which no float holds) are refused
    with the market's own error, never OverflowError."""
    with pytest.raises(GreenTradeError, match="too large|finite"):
        price_half_fen(value)
    with pytest.raises(GreenTradeError, match="too large|finite"):
        price_half_fen(value, half_ticks=True)
    with pytest.raises(GreenTradeError, match="too large|finite|> 0"):
        quantity_ticks(value, "quantity")


def test_quantity_checks_use_the_grid_not_a_relative_tolerance():
    # 600,000.0004 MWh is 0.4 ticks off the grid: once let through (the tolerance grew with
    # the size), now refused like any other off-grid quantity.
    with pytest.raises(GreenTradeError, match="0.001 MWh grid"):
        quantity_ticks(600_000.0004, "quantity")
    assert quantity_ticks(600_000.001, "quantity") == 600_000_001
    assert quantity_ticks(0.3, "quantity") == 300 and quantity_ticks(2, "quantity", 1000) == 2000
    with pytest.raises(GreenTradeError, match="whole certificates"):
        quantity_ticks(2.5, "quantity", 1000)
    with pytest.raises(GreenTradeError, match="grid"):
        price_half_fen(3_000_000.004)


def test_exact_money_helpers():
    assert price_half_fen(20.0) == 4000 and price_half_fen(18.015, half_ticks=True) == 3603
    with pytest.raises(GreenTradeError, match="grid"):
        price_half_fen(18.015)
    with pytest.raises(GreenTradeError, match="finite"):
        price_half_fen(float("nan"))
    # 66.667 MWh x 20 yuan = 1,333.34 yuan; 0.001 MWh x 18.015 yuan = 1.8015 fen -> 2 fen.
    assert amount_fen(4000, 66667) == 133334 and amount_fen(3603, 1) == 2
    # At 0.01 yuan/MWh: 0.25 MWh is 0.25 fen -> 0; 0.5 MWh is 0.5 fen -> 0 (half to even);
    # 1.5 MWh is 1.5 fen -> 2.
    assert [amount_fen(2, t) for t in (250, 500, 1500)] == [0, 0, 2]


# --------------------------------------------------------------------- bilateral

def test_bilateral_contract_by_hand():
    m = make_market()
    # 10.5 MWh of bundled green power at 300 yuan/MWh energy + 25 premium: the buyer pays the
    # seller 10.5 x 25 = 262.50 yuan of premium; the energy part is recorded, not posted here.
    # 5 unbundled certificates at 2 yuan = 10.00 yuan as a certificate sale.
    trades = m.bilateral([BilateralContract("gA", "L1", "bundled", 10.5, 25.0, 300.0),
                          BilateralContract("gB", "L2", "unbundled", 5, 2.0, unit="W2")],
                         "2025-02")
    assert [t.premium_fen for t in trades] == [26250, 1000]
    assert trades[0].price_yuan_per_mwh == 325.0 and trades[1].price_yuan_per_mwh is None
    assert m.ledger.totals_by(("participant", "category")) == {
        ("L1", "green_premium"): -26250, ("gA", "green_premium"): 26250,
        ("L2", "certificate_sale"): -1000, ("gB", "certificate_sale"): 1000}
    assert held(m, "L1") == 10.5 and held(m, "L2") == 5
    table = m.trades_table()
    assert table["mode"].tolist() == ["bilateral"] * 2
    assert np.isnan(table[1]["energy_price_yuan_per_mwh"])
    m.registry.check_invariants()


@pytest.mark.parametrize(("contract", "message"), [
    (BilateralContract("gA", "L1", "bundled", 10, -0.5), ">= 0"),
    (BilateralContract("gA", "L1", "bundled", 10, float("nan")), "finite"),
    (BilateralContract("gA", "L1", "bundled", 10, 20.001), "grid"),
    (BilateralContract("gA", "L1", "unbundled", 2.5, 2.0), "whole certificates"),
    (BilateralContract("gA", "gA", "bundled", 10, 20.0), "itself"),
    (BilateralContract("gA", "L1", "bundled", -1, 20.0), "> 0"),
    (BilateralContract("gA", "L1", "bundled", 10, 20.0, float("inf")), "energy price"),
    (BilateralContract("gA", "L1", "unbundled", 1, 2.0, 300.0), "no energy price"),
    (BilateralContract("gA", "L1", "spot", 1, 2.0), "product"),
    (BilateralContract("gA", "L1", "bundled", 2000, 20.0), "cannot sell 2000 MWh"),
])
def test_bilateral_refusals_change_nothing(contract, message):
    m = make_market()
    m.bilateral([BilateralContract("gC", "L9", "bundled", 1, 20.0)], "2025-01")
    before = state(m)
    with pytest.raises(GreenTradeError, match=message):
        m.bilateral([BilateralContract("gB", "L2", "bundled", 1, 20.0), contract], "2025-02")
    assert state(m) == before


# --------------------------------------------------------------------- listing

def test_listing_pro_rata_by_hand():
    m = make_market()
    # 100 MWh listed at a 20 yuan premium; requests 80 and 40 (120 > 100), filled pro rata:
    # 100 x 80/120 = 66.6666... and 100 x 40/120 = 33.3333... MWh. In 0.001 MWh ticks the
    # floors are 66,666 and 33,333 (one tick left); the larger remainder (.67) gets it:
    # 66.667 and 33.333 MWh, exactly 100. Premiums 66.667 x 20 = 1,333.34 yuan and
    # 33.333 x 20 = 666.66 yuan: 2,000 yuan in all.
    trades = fill_listing(m, Listing("gA", "bundled", 100, 20.0, 282.9),
                          [ListingRequest("L1", 80), ListingRequest("L2", 40)], "2025-02")
    assert [t.quantity_ticks for t in trades] == [66667, 33333]
    assert [t.quantity_mwh for t in trades] == [66.667, 33.333]
    assert [t.premium_fen for t in trades] == [133334, 66666]
    assert {t.price_yuan_per_mwh for t in trades} == {302.9}
    assert held(m, "L1") == 66.667 and held(m, "L2") == 33.333
    assert m.ledger.totals_by("participant")["gA"] == 200000
    assert m.registry.sellable_ticks("gA") == 900000
    m.registry.check_invariants()


def test_listing_first_come_by_hand():
    m = make_market(GREEN.model_copy(update={"listing_fill": "first_come"}))
    trades = fill_listing(m, Listing("gA", "bundled", 100, 20.0),
                          [ListingRequest("L1", 80), ListingRequest("L2", 40),
                           ListingRequest("L3", 5)], "2025-02")
    assert [(t.buyer, t.quantity_mwh) for t in trades] == [("L1", 80), ("L2", 20)]


def test_unbundled_listing_fills_whole_certificates():
    m = make_market()
    # 10 certificates at 2 yuan, four requests of 3: 2.5 each; floors 2 and two left over,
    # equal remainders go to the earlier requests: 3, 3, 2, 2.
    trades = fill_listing(m, Listing("gB", "unbundled", 10, 2.0),
                          [ListingRequest(f"L{i}", 3) for i in range(4)], "2025-02")
    assert [t.quantity_mwh for t in trades] == [3, 3, 2, 2]
    assert [t.premium_fen for t in trades] == [600, 600, 400, 400]
    assert set(m.ledger.totals_by("category")) == {Category.CERTIFICATE_SALE.value}


@pytest.mark.parametrize(("listing", "requests", "message"), [
    (Listing("gA", "bundled", 100, -5.0), [ListingRequest("L1", 1)], ">= 0"),
    (Listing("gA", "bundled", 5000, 20.0), [ListingRequest("L1", 1)], "cannot list 5000"),
    (Listing("gA", "bundled", 100, 20.0), [ListingRequest("gA", 1)], "other than the seller"),
    (Listing("gA", "unbundled", 100, 2.0), [ListingRequest("L1", 0.5)], "whole certificates"),
    (Listing("gA", "bundled", 100, 20.0), [ListingRequest("L1", float("nan"))], "finite"),
    (Listing("gA", "unbundled", 10, 2.0, 282.9), [ListingRequest("L1", 1)],
     "an unbundled certificate has no energy price"),
])
def test_listing_refusals_change_nothing(listing, requests, message):
    m = make_market()
    before = state(m)
    with pytest.raises(GreenTradeError, match=message):
        fill_listing(m, listing, requests, "2025-02")
    assert state(m) == before


def test_bought_green_power_is_not_sold_again_as_certificates():
    m = make_market()
    fill_listing(m, Listing("gA", "bundled", 100, 20.0), [ListingRequest("L1", 100)], "2025-02")
    before = state(m)
    with pytest.raises(GreenTradeError, match="holds 0 MWh"):
        fill_listing(m, Listing("L1", "unbundled", 10, 2.0), [ListingRequest("L2", 10)],
                     "2025-02")
    with pytest.raises(GreenTradeError, match="sold once"):
        m.bilateral([BilateralContract("L1", "L2", "unbundled", 10, 2.0)], "2025-02")
    assert state(m) == before


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**5), max_size=12),
       st.sampled_from(["pro_rata", "first_come"]))
def test_listing_fills_are_exact(listed, requests, rule):
    req = np.array(requests, dtype=np.int64)
    got = listing_fills(listed, req, rule)
    assert int(got.sum()) == min(listed, int(req.sum()))
    assert (got >= 0).all() and (got <= req).all()
    if req.sum() > listed and rule == "pro_rata":
        quota = listed * req / req.sum()
        assert (np.abs(got - quota) < 1).all()
    if rule == "first_come":
        full = np.flatnonzero(got < req)
        assert full.size == 0 or (got[full[0] + 1:] == 0).all()


# --------------------------------------------------------------------- call auction

def test_call_auction_marginal_offer_sets_the_premium():
    m = make_market()
    # Offers: gA 30 MWh at 18, gB 50 at 22. Bids: L1 40 at 25, L2 40 at 20.
    # Below 20 demand is 80 against 30 supplied; between 20 and 22 it is 40 against 30; at 22
    # supply reaches 80: gB is marginal and sells 10, so the premium is 22 and 40 MWh trade.
    # L2 (20 < 22) gets nothing. Merit-order pairing: gA -> L1 30 MWh, gB -> L1 10 MWh.
    out = call_auction(m, [GreenOrder("gA", 18, 30), GreenOrder("gB", 22, 50)],
                       [GreenOrder("L1", 25, 40), GreenOrder("L2", 20, 40)], "bundled",
                       "2025-02", energy_price_yuan_per_mwh=282.9)
    assert out.premium_yuan_per_mwh == 22.0 and out.result.volume == 40
    assert [(t.seller, t.buyer, t.quantity_mwh) for t in out.trades] == [
        ("gA", "L1", 30), ("gB", "L1", 10)]
    assert [t.premium_fen for t in out.trades] == [66000, 22000]  # 30 x 22, 10 x 22 yuan
    assert held(m, "L1") == 40 and held(m, "L2") == 0
    m.registry.check_invariants()


def test_call_auction_midpoint_on_half_a_tick():
    m = make_market()
    # One offer at 18.01 and one bid at 18.02 for 10 MWh: any premium in [18.01, 18.02]
    # clears; the midpoint is 18.015 yuan/MWh, and 10 x 18.015 = 180.15 yuan.
    out = call_auction(m, [GreenOrder("gA", 18.01, 10)], [GreenOrder("L1", 18.02, 10)],
                       "bundled", "2025-02")
    assert out.premium_yuan_per_mwh == pytest.approx(18.015)
    assert out.trades[0].premium_fen == 18015


def test_call_auction_of_certificates_and_no_cross():
    m = make_market()
    out = call_auction(m, [GreenOrder("gB", 10, 100), GreenOrder("gC", 15, 100)],
                       [GreenOrder("L1", 30, 120), GreenOrder("L2", 12, 50)], "unbundled",
                       "2025-02")
    assert out.premium_yuan_per_mwh == 15.0
    assert [(t.seller, t.quantity_mwh, t.premium_fen) for t in out.trades] == [
        ("gB", 100, 150000), ("gC", 20, 30000)]
    none = call_auction(m, [GreenOrder("gA", 30, 10)], [GreenOrder("L3", 20, 10)], "unbundled",
                        "2025-02")
    assert none.trades == [] and none.premium_yuan_per_mwh is None


@pytest.mark.parametrize(("offers", "bids", "message"), [
    ([GreenOrder("gA", 20, 10)], [GreenOrder("L1", -1, 10)], r"bid 0 \('L1'\).*>= 0"),
    ([GreenOrder("gA", -0.5, 10)], [GreenOrder("L1", 20, 10)], r"offer 0 .*>= 0"),
    ([GreenOrder("gA", float("nan"), 10)], [GreenOrder("L1", 20, 10)], "finite"),
    ([GreenOrder("gA", 20, 1001)], [GreenOrder("L1", 20, 10)], "holds 1000 MWh"),
    ([GreenOrder("gA", 20, 10, "S1")], [GreenOrder("L1", 20, 10)], "of unit 'S1'"),
    ([GreenOrder("gA", 20, 10)], [GreenOrder("gA", 25, 10)], "both offers and bids"),
])
def test_call_auction_refusals_change_nothing(offers, bids, message):
    m = make_market()
    before = state(m)
    with pytest.raises(GreenTradeError, match=message):
        call_auction(m, offers, bids, "bundled", "2025-02")
    assert state(m) == before


def test_no_price_limit_by_default_premiums_and_certificates_clear_above_the_old_range():
    """The preset caps nothing: a 500 yuan/MWh premium and a 120 yuan certificate clear (the old
    reference range 1-50 is not a clip)."""
    m = make_market()
    assert m.premium_limits == (0.0, None) and m.price_limits("unbundled") == (0.0, None)
    out = call_auction(m, [GreenOrder("gA", 400, 10)], [GreenOrder("L1", 600, 10)], "bundled",
                       "2025-02")
    assert out.premium_yuan_per_mwh == 500 and out.trades[0].premium_fen == 500_000
    out = call_auction(m, [GreenOrder("gB", 120, 3)], [GreenOrder("L2", 120, 3)], "unbundled",
                       "2025-02")
    assert out.premium_yuan_per_mwh == 120 and held(m, "L2") == 3


def test_caps_when_a_variant_sets_them_refuse_orders_naming_the_rule():
    m = make_market(CAPPED)
    assert m.premium_limits == (0.0, 50.0) and m.price_limits("unbundled") == (0.0, 40.0)
    before = state(m)
    with pytest.raises(GreenTradeError, match=r"bid 0 .*green\.premium_cap_yuan_per_mwh = 50"):
        call_auction(m, [GreenOrder("gA", 20, 10)], [GreenOrder("L1", 50.01, 10)], "bundled",
                     "2025-02")
    with pytest.raises(GreenTradeError, match=r"green\.certificate_price_cap_yuan = 40"):
        call_auction(m, [GreenOrder("gA", 20, 10)], [GreenOrder("L1", 45, 10)], "unbundled",
                     "2025-02")
    with pytest.raises(GreenTradeError, match="certificate_price_cap_yuan"):
        fill_listing(m, Listing("gB", "unbundled", 10, 41.0), [ListingRequest("L1", 1)],
                     "2025-02")
    with pytest.raises(GreenTradeError, match="premium_cap_yuan_per_mwh"):
        m.bilateral([BilateralContract("gA", "L1", "bundled", 10, 60.0)], "2025-02")
    with pytest.raises(GreenTradeError, match="certificate_price_cap_yuan"):
        GreenContinuousMarket(m, "unbundled", "2025-02").submit("L1", "buy", 40.5, 1)
    assert state(m) == before
    # at the cap is allowed; a 45 yuan premium is fine for bundled (its cap is 50)
    out = call_auction(m, [GreenOrder("gA", 45, 10)], [GreenOrder("L1", 50, 10)], "bundled",
                       "2025-02")
    assert out.premium_yuan_per_mwh == 47.5


def test_pair_fills_by_hand():
    si, bi, q = pair_fills(np.array([30, 0, 10]), np.array([25, 15]))
    assert (si.tolist(), bi.tolist(), q.tolist()) == ([0, 0, 2], [0, 1, 1], [25, 5, 10])


orders = st.lists(st.tuples(st.integers(1, 50), st.integers(1, 2000)), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(orders, orders, st.sampled_from(["bundled", "unbundled"]))
def test_call_auction_settles_exactly_what_cleared(offer_rows, bid_rows, product):
    m = make_market(mwh=(3000, 3000, 3000))
    sellers = ["gA", "gB", "gC"]
    offers = [GreenOrder(sellers[i % 3], p, q / 10 if product == "bundled" else q / 4 // 1 + 1)
              for i, (p, q) in enumerate(offer_rows[:3])]
    bids = [GreenOrder(f"L{i}", p, q / 10) if product == "bundled"
            else GreenOrder(f"L{i}", p, q // 7 + 1) for i, (p, q) in enumerate(bid_rows)]
    out = call_auction(m, offers, bids, product, "2025-02")
    acc = out.result.accepted_ticks * (1 if product == "bundled" else 1000)
    for i, o in enumerate(offers):
        sold = sum(t.quantity_ticks for t in out.trades if t.seller == o.participant)
        assert sold == acc[i]
    for j, b in enumerate(bids):
        got = sum(t.quantity_ticks for t in out.trades if t.buyer == b.participant)
        assert got == acc[len(offers) + j] == m.registry.held_ticks(b.participant)
    assert {t.premium_yuan_per_mwh for t in out.trades} <= {out.premium_yuan_per_mwh}
    assert m.ledger.balance() == 0
    m.registry.check_invariants()


# --------------------------------------------------------------------- continuous

def test_continuous_trades_at_the_resting_premium():
    m = make_market()
    c = GreenContinuousMarket(m, "bundled", "2025-02", energy_price_yuan_per_mwh=282.9)
    assert c.submit("gA", "sell", 22.0, 60).trades == []
    assert c.submit("gB", "sell", 21.0, 50).trades == []
    # A buy of 80 at 25 lifts gB's 50 at 21 first, then 30 of gA's 60 at 22.
    fill = c.submit("L1", "buy", 25.0, 80)
    assert [(t.seller, t.quantity_mwh, t.premium_yuan_per_mwh, t.premium_fen)
            for t in fill.trades] == [("gB", 50, 21.0, 105000), ("gA", 30, 22.0, 66000)]
    assert c.cancel(1) == 30  # gA's remaining 30 MWh
    assert held(m, "L1") == 80 and m.ledger.balance() == 0
    m.registry.check_invariants()


def test_continuous_refusals_and_unbacked_sells():
    m = make_market()
    c = GreenContinuousMarket(m, "unbundled", "2025-02")
    c.submit("gB", "sell", 3.0, 400)
    before = state(m)
    for args, message in [(("gB", "sell", 3.0, 200), "not covered"),
                          (("gB", "buy", 4.0, 1), "own resting order"),
                          (("L1", "buy", -1.0, 1), ">= 0"),
                          (("L1", "buy", 3.0, 1.5), "whole certificates"),
                          (("L1", "hold", 3.0, 1), "side")]:
        with pytest.raises(GreenTradeError, match=message):
            c.submit(*args)
        assert state(m) == before
    # gB sells 300 certificates elsewhere: its resting 400 are no longer backed and are
    # cancelled before the next order can match them.
    m.bilateral([BilateralContract("gB", "L7", "unbundled", 300, 2.0)], "2025-02")
    fill = c.submit("L1", "buy", 3.0, 10)
    assert fill.cancelled_unbacked == [1] and fill.trades == []
    m.registry.check_invariants()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["gA", "gB", "L1", "L2"]),
                          st.sampled_from(["buy", "sell"]), st.integers(1, 50),
                          st.integers(1, 800)), max_size=25))
def test_continuous_books_balance(orders_in):
    m = make_market(mwh=(300, 200, 100))
    c = GreenContinuousMarket(m, "bundled", "2025-02")
    for who, side, premium, q in orders_in:
        before = state(m)
        try:
            c.submit(who, side, float(premium), q / 4)
        except GreenTradeError:
            assert state(m) == before
    assert m.ledger.balance() == 0
    m.registry.check_invariants()
    for t in m.trades:
        assert 1 <= t.premium_yuan_per_mwh <= 50 and t.seller in ("gA", "gB")


# --------------------------------------------------------------------- obligations

def test_obligation_by_hand():
    m = make_market(mwh=(30000, 15000, 300))
    m.bilateral([BilateralContract("gA", "load_big", "unbundled", 30000, 2.0),
                 BilateralContract("gB", "load_short", "unbundled", 15000, 2.0)], "2025-12")
    # Both consume 100,000 MWh; weight 0.22 -> each must retire 22,000 MWh of certificates.
    # load_big holds 30,000: retires 22,000, keeps 8,000, pays nothing.
    # load_short holds 15,000: retires all, is 7,000 MWh short: 7,000 x 50 = 350,000 yuan.
    out = m.settle_obligations(["load_big", "load_short", "load_none"],
                               [100000, 100000, 0], "2025")
    assert out.obligation_mwh.tolist() == [22000, 22000, 0]
    assert out.retired_mwh.tolist() == [22000, 15000, 0]
    assert out.shortfall_mwh.tolist() == [0, 7000, 0]
    assert out.penalty_fen.tolist() == [0, 35_000_000, 0]
    assert held(m, "load_big") == 8000 and held(m, "load_short") == 0
    assert m.ledger.totals_by(("participant", "category"), period="2025") == {
        ("load_short", "obligation_penalty"): -35_000_000,
        (SYSTEM_OPERATOR, "obligation_penalty"): 35_000_000}
    assert m.registry.retirements()["ticks"].sum() == 37_000_000
    m.registry.check_invariants()


@pytest.mark.parametrize(("loads", "consumption", "message"), [
    (["a", "b"], [1.0, float("nan")], "finite"),
    (["a", "b"], [1.0, -5.0], "finite"),
    (["a", "a"], [1.0, 2.0], "once"),
    (["a"], [1.0, 2.0], "consumption values"),
])
def test_obligation_refusals_change_nothing(loads, consumption, message):
    m = make_market()
    m.bilateral([BilateralContract("gA", "a", "unbundled", 100, 2.0)], "2025-06")
    before = state(m)
    with pytest.raises(GreenTradeError, match=message):
        m.settle_obligations(loads, consumption, "2025")
    assert state(m) == before
