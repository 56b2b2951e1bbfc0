"""Green trading that clears, on the in-process year (issue 9, item 5).

Comparative statics at scale 0.03, seed 11 (a whole year each): raising the obligation weight
from the preset's 0.22 to 0.45 raises the certificate price and the bundled premium, and in
every month the bundled premium is at least the certificate price (sellers ask the full value
V bundled, buyers bid at most V for a certificate alone). At 0.22 the market is long
(certificates issued are about twice the obligation), so a certificate is worth about nothing;
at 0.45 supply and obligation are about equal and V is near the penalty.

Bundled contracts are cleared before metering and delivered on min(contract, metered
generation, consumption): contracted = delivered + undelivered, month by month.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from market.ledger.book import Category
from market.rules import load_preset
from studies.year.run import YearResult, run_year

SEED, SCALE = 11, 0.03


@cache
def year(weight: float, strategies: tuple[tuple[str, str], ...] = (),
         overrides: tuple[tuple[str, float], ...] = ()) -> YearResult:
    rules = load_preset("mengxi").with_overrides({"green.obligation_weight": weight,
                                                  **dict(overrides)})
    return run_year(rules, SEED, SCALE, strategies=dict(strategies) or None)


def test_a_higher_obligation_raises_the_certificate_price_and_the_premium():
    low, high = year(0.22).summary["green"], year(0.45).summary["green"]
    assert high["avg_certificate_price_yuan"] > low["avg_certificate_price_yuan"] + 10
    assert high["avg_premium_yuan_per_mwh"] > low["avg_premium_yuan_per_mwh"] + 10
    assert high["avg_premium_yuan_per_mwh"] >= high["avg_certificate_price_yuan"]
    # the penalty bounds what a certificate is worth: no clip at the old 50 is needed
    assert high["avg_premium_yuan_per_mwh"] <= 50.0


@pytest.mark.parametrize("weight", [0.22, 0.45])
def test_the_bundled_premium_is_at_least_the_certificate_price_every_month(weight):
    m = year(weight).monthly
    premium, cert = m["green_premium_yuan_per_mwh"], m["certificate_price_yuan"]
    both = np.isfinite(premium) & np.isfinite(cert)
    assert both.sum() >= 10
    assert (premium[both] >= cert[both]).all()


def test_bundled_delivery_is_tied_to_metered_output_and_consumption():
    y = year(0.45)
    m, g = y.monthly, y.summary["green"]
    assert (m["bundled_contracted_mwh"] > 0).all()
    assert m["bundled_mwh"] + m["bundled_undelivered_mwh"] == pytest.approx(
        m["bundled_contracted_mwh"], abs=1e-6)
    assert g["bundled_contracted_mwh"] == pytest.approx(
        g["bundled_delivered_mwh"] + g["bundled_undelivered_mwh"], abs=1e-3)
    assert g["bundled_delivered_mwh"] == g["bundled_mwh"]
    # delivered green power never exceeds the month's wind and solar output
    month = np.asarray(y.hourly["month"])
    out = np.bincount(month - 1, weights=y.hourly["wind_mw"] + y.hourly["solar_mw"],
                      minlength=12)
    assert (m["bundled_mwh"] <= out + 1e-6).all()
    # the premium is paid on the delivered MWh only: the ledger's green premiums are the
    # delivered MWh x the month's clearing premium
    paid = -sum(v for v in y.ledger.totals_by("participant",
                                               category=Category.GREEN_PREMIUM.value).values()
                if v < 0) / 100
    expected = float(np.nansum(m["bundled_mwh"] * m["green_premium_yuan_per_mwh"]))
    assert paid == pytest.approx(expected, rel=1e-4)
    assert g["registry_problems"] == 0 and y.summary["ledger"]["imbalance_yuan"] == 0


def test_the_long_market_meets_its_obligation_at_a_near_zero_price():
    g = year(0.22).summary["green"]
    assert g["shortfall_mwh"] == 0
    assert g["avg_certificate_price_yuan"] < 1.0


def test_the_previous_green_strategies_still_run_in_the_year():
    old = year(0.22, (("green_sellers", "green_seller_heuristic"),
                      ("green_buyers", "green_buyer_heuristic")))
    names = {v["strategy"] for v in old.summary["strategies"].values()}
    assert {"green_seller_heuristic", "green_buyer_heuristic"} <= names
    assert old.summary["green"]["registry_problems"] == 0


def test_a_variant_with_caps_runs_and_no_price_passes_its_cap():
    capped = year(0.45, (), (("green.premium_cap_yuan_per_mwh", 30.0),
                             ("green.certificate_price_cap_yuan", 20.0)))
    m = capped.monthly
    assert np.nanmax(m["green_premium_yuan_per_mwh"]) <= 30.0
    assert np.nanmax(m["certificate_price_yuan"]) <= 20.0
    assert np.nanmax(m["certificate_price_yuan"]) == 20.0  # V ~ 45 is cut to the cap
