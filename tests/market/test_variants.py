"""Each named rule variant loads and gives a different outcome from the ``mengxi`` preset on the
same small game: same fleet, loads, profiles (coal-1's three failed test calls in January), the
same bids, round by round, compensation failures counted per test-call hour (the case of
``test_session.py``, whose docstring works the capacity
auction and the compensation by hand).

Preset outcome, by hand (fen = 0.01 yuan):

* capacity: price 100 yuan/kW-yr, 1,972.065 MW cleared; coal-1 paid 900 MW x 100 = 90 M yuan a
  year, 7.5 M a month;
* compensation of coal-1 (the only unit registered as supporting a base): 330 x 0.30 x 1,000 MW
  / 12 = 8.25 M yuan a month; January: 3 failures, 50 % = 4.125 M deducted, the rest offset by
  the capacity payment, net 0; February: offset 7.5 M, net 0.75 M, charged to industrial and
  commercial load.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from market.ledger.book import SYSTEM_OPERATOR
from market.rules import load_preset
from market.session.game import Session
from tests.market.test_session import game_plan, new_session, play

#: The case's hand-worked compensation counts failed test calls hour by hour.
CLASSROOM = {"compensation.failure_basis": "hourly_available"}
VARIANTS = ("mengxi-2026", "vertical-demand", "capacity-pay-as-bid", "capacity-clock",
            "compensation-all-coal", "deductions-shanghai", "compensation-charged-to-renewables",
            "no-capacity-market")


@cache
def played(name: str) -> Session:
    """The game played under preset ``name`` (the capacity round left out where the rules
    disable the market, as a game's plan would)."""
    rules = load_preset(name).with_overrides(CLASSROOM)
    plan = [r for r in game_plan() if r.kind != "capacity" or rules.capacity.enabled]
    return play(new_session(rules, plan))


def by(s: Session, category: str, who: str) -> int:
    """Net fen of ``who`` in ``category`` over the session (+ received)."""
    return s.ledger.totals_by("participant", category=category).get(who, 0)


def unit_row(s: Session, round_id: str, unit: str) -> dict[str, Any]:
    return next(u for u in s.result(round_id)["units"] if u["unit"] == unit)


def funding_payers(s: Session) -> dict[str, int]:
    out: dict[str, int] = {}
    for rid in ("compensation-01", "compensation-02"):
        for f in s.result(rid)["funding"]:
            out[f["payer"]] = out.get(f["payer"], 0) + f["amount_fen"]
    return out


@pytest.fixture(scope="module")
def preset() -> Session:
    return played("mengxi")


def test_the_preset_outcome_by_hand(preset):
    cap = preset.result("capacity")
    assert cap["price_yuan_per_kw_yr"] == 100.0
    assert cap["round_log"] is None
    jan = unit_row(preset, "compensation-01", "coal-1")
    feb = unit_row(preset, "compensation-02", "coal-1")
    assert (jan["deduction_fen"], jan["net_fen"]) == (412_500_000, 0)
    assert feb["net_fen"] == 75_000_000
    assert set(funding_payers(preset)) == {"buyer-a", "buyer-b"}  # industrial/commercial
    assert sum(funding_payers(preset).values()) == 75_000_000


@pytest.mark.parametrize("name", VARIANTS)
def test_every_variant_loads_and_changes_its_rules(name):
    rules = load_preset(name)
    assert rules.meta.name == name
    assert rules.sha256() != load_preset("mengxi").sha256()
    played(name).ledger.check_balanced()
    assert played(name).registry.invariant_report().ok


def test_mengxi_2026_pays_more_compensation_and_less_storage_compensation(preset):
    """50 % recovery: 330 x 0.5 x 1,000 MW / 12 = 13.75 M yuan a month; February's net is
    13.75 - 7.5 = 6.25 M instead of 0.75 M. The 2026 storage cohort earns 280 yuan/MWh
    discharged instead of 350, on the same dispatch."""
    s = played("mengxi-2026")
    assert unit_row(s, "compensation-02", "coal-1")["gross_fen"] == 1_375_000_000
    assert unit_row(s, "compensation-02", "coal-1")["net_fen"] == 625_000_000
    assert sum(funding_payers(s).values()) == 625_000_000 > sum(funding_payers(preset).values())
    assert by(s, "compensation", "genco-a") > by(preset, "compensation", "genco-a")
    new, old = by(s, "storage_compensation", "store-a"), by(preset, "storage_compensation",
                                                            "store-a")
    assert 0 < new < old and new * 350 == pytest.approx(old * 280, abs=350)
    assert s.result("compensation-01")["period"] == "2026-01"


def test_vertical_demand_buys_the_requirement_and_no_more(preset):
    """The vertical curve takes RR = 1,840 MW at any price up to 495; the sloped one buys
    1,972.065 MW at 100. Same price (100 is the marginal offer either way), fewer MW paid."""
    s, p = played("vertical-demand").result("capacity"), preset.result("capacity")
    assert s["demand"]["shape"] == "vertical"
    assert s["total_cleared_mw"] == 1840.0 < p["total_cleared_mw"]
    assert s["price_yuan_per_kw_yr"] == p["price_yuan_per_kw_yr"] == 100.0
    assert s["total_annual_payment_fen"] < p["total_annual_payment_fen"]


def test_pay_as_bid_pays_each_offer_its_own_price(preset):
    """Same quantities; coal-1 (offered at 50) is paid 50, not 100: 45 M yuan instead of 90 M,
    and the total paid falls."""
    s, p = played("capacity-pay-as-bid").result("capacity"), preset.result("capacity")
    assert s["format"] == "pay_as_bid"
    assert s["total_cleared_mw"] == p["total_cleared_mw"]
    coal = unit_row(played("capacity-pay-as-bid"), "capacity", "coal-1")
    assert coal["annual_payment_fen"] == 900 * 50 * 1000 * 100
    assert s["total_annual_payment_fen"] < p["total_annual_payment_fen"]


def test_clock_keeps_a_round_log(preset):
    """A descending clock from 495 by 5 yuan/kW-yr: its rounds are in the result (the sealed
    auction has none), and it ends at the sealed price or above (the top of the range)."""
    s, p = played("capacity-clock").result("capacity"), preset.result("capacity")
    assert s["format"] == "clock"
    assert p["round_log"] is None and s["round_log"]
    assert len(s["round_log"]) >= (495 - 100) / 5
    assert s["price_yuan_per_kw_yr"] >= p["price_yuan_per_kw_yr"]


def test_all_coal_compensates_the_coal_that_supports_nothing(preset):
    """coal-2 (600 MW): 330 x 0.3 x 600,000 kW / 12 = 4.95 M yuan a month, less its capacity
    payment 528 MW x 100 / 12 = 4.4 M: net 0.55 M a month; genco-b gets nothing under the
    preset."""
    s = played("compensation-all-coal")
    assert by(preset, "compensation", "genco-b") == 0
    assert by(s, "compensation", "genco-b") > 0
    row = unit_row(s, "compensation-01", "coal-2")
    assert row["eligible"] and row["gross_fen"] == 495_000_000
    assert row["net_fen"] == 495_000_000 - 440_000_000
    assert sum(funding_payers(s).values()) > sum(funding_payers(preset).values())


def test_shanghai_deducts_less_for_three_failures(preset):
    """Three failures cost 20 % of the month in Shanghai's table, 50 % in the preset's."""
    s = played("deductions-shanghai")
    row, base = (unit_row(x, "compensation-01", "coal-1") for x in (s, preset))
    assert (row["failures"], row["fraction"], base["fraction"]) == (3, 0.2, 0.5)
    assert row["deduction_fen"] == 165_000_000 < base["deduction_fen"]
    # only the net is posted: less deducted, so at least as much compensation paid
    assert row["net_fen"] >= base["net_fen"]
    assert by(s, "compensation", "genco-a") >= by(preset, "compensation", "genco-a")


def test_compensation_charged_to_the_supported_renewables(preset):
    """February's 0.75 M yuan is paid by wind-1's owner (the unit coal-1 supports) instead of
    the industrial and commercial loads."""
    s = played("compensation-charged-to-renewables")
    assert set(funding_payers(preset)) == {"buyer-a", "buyer-b"}
    assert funding_payers(s) == {"green-a": 75_000_000}
    memo = "coal capacity compensation funding"
    paid = s.ledger.totals_by(("participant", "memo"), category="cost_allocation")
    base = preset.ledger.totals_by(("participant", "memo"), category="cost_allocation")
    assert paid[("green-a", memo)] == -75_000_000 and ("green-a", memo) not in base
    assert ("buyer-a", memo) not in paid and base[("buyer-a", memo)] < 0


def test_no_capacity_market_runs_no_auction_and_compensation_is_not_offset(preset):
    """No capacity round in the log, no capacity payment; coal-1's compensation is no longer
    topped up from a capacity payment: January nets 8.25 - 4.125 = 4.125 M, February 8.25 M."""
    s = played("no-capacity-market")
    kinds = [r["kind"] for r in s.round_list()]
    assert "capacity" not in kinds and "capacity" in [r["kind"] for r in preset.round_list()]
    assert by(s, "capacity_payment", SYSTEM_OPERATOR) == 0
    assert by(preset, "capacity_payment", SYSTEM_OPERATOR) < 0
    assert unit_row(s, "compensation-01", "coal-1")["net_fen"] == 412_500_000
    assert unit_row(s, "compensation-02", "coal-1")["net_fen"] == 825_000_000
    assert sum(funding_payers(s).values()) == 1_237_500_000 > sum(funding_payers(preset)
                                                                  .values())
