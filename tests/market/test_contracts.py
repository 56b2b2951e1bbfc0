"""Contracts settled as differences (issue 10 item 2): hand-worked coal CfD and mechanism-price
settlements, the mechanism auction, the ledger's balance, the strike's band, bad input named."""

from __future__ import annotations

import numpy as np
import pytest

from market.contracts import (
    CoalCfd,
    ContractError,
    MechanismContract,
    coal_strike,
    mechanism_auction,
    settle_coal_cfds,
    settle_mechanism,
)
from market.errors import RulesError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.rules import load_preset


def test_golden_coal_cfd_strike_300_market_250_100_mwh_pays_the_seller_5000():
    ledger = Ledger()
    cfd = CoalCfd(seller="genco-1", buyer="load-001", unit="coal_usc-001", strike=300.0,
                  mwh=np.array([100.0]))
    fen = settle_coal_cfds(ledger, "2025-01", [cfd], np.array([250.0]))
    assert fen.tolist() == [500_000]
    assert ledger.totals_by("participant") == {"genco-1": 500_000, "load-001": -500_000}
    assert ledger.totals_by("category") == {"contract_difference": 0}


def test_coal_cfd_above_the_strike_pays_the_buyer_over_hours():
    """Strike 300: hour 1 at 350 on 100 MWh (-5,000), hour 2 at 280 on 50 MWh (+1,000):
    the seller pays the buyer 4,000 yuan."""
    ledger = Ledger()
    cfd = CoalCfd("genco-1", "load-001", None, 300.0, np.array([100.0, 50.0]))
    assert settle_coal_cfds(ledger, "2025-01", [cfd], np.array([350.0, 280.0])).tolist() == [
        -400_000]
    assert ledger.totals_by("participant") == {"genco-1": -400_000, "load-001": 400_000}


def test_golden_mechanism_price_settlement_and_system_charge():
    """Stock wind at 282.9 yuan/MWh on 80 % of output. Hour 1: spot 200, 100 MWh ->
    82.9 x 80 = 6,632 to the project; hour 2: spot 400, 50 MWh -> -117.1 x 40 = -4,684.
    Net 1,948 yuan paid by the system, charged to loads by MWh: 300 and 100 MWh -> 1,461 and
    487 yuan. The system operator ends at zero."""
    ledger = Ledger()
    rules = load_preset("mengxi")
    c = MechanismContract(owner="genco-1", unit="wind-001",
                          price=rules.contracts.mechanism_stock_price_yuan_per_mwh,
                          volume_share=rules.contracts.mechanism_stock_volume_share)
    s = settle_mechanism(ledger, "2025-01", [c], np.array([[100.0], [50.0]]),
                         np.array([200.0, 400.0]), ["load-001", "load-002"],
                         np.array([300.0, 100.0]))
    assert s.project_fen.tolist() == [194_800]
    assert s.charge_fen.tolist() == [146_100, 48_700]
    totals = ledger.totals_by("participant")
    assert totals == {"genco-1": 194_800, "load-001": -146_100, "load-002": -48_700,
                      SYSTEM_OPERATOR: 0}


def test_mechanism_refunds_loads_when_projects_pay_back():
    ledger = Ledger()
    c = MechanismContract("genco-2", "solar-001", 250.0, 1.0)
    s = settle_mechanism(ledger, "2025-07", [c], np.array([[10.0]]), np.array([350.0]),
                         ["load-001"], np.array([5.0]))
    assert s.project_fen.tolist() == [-100_000] and s.charge_fen.tolist() == [-100_000]
    assert ledger.totals_by("participant") == {"genco-2": -100_000, "load-001": 100_000,
                                               SYSTEM_OPERATOR: 0}
    assert {Category("mechanism_settlement"), Category("mechanism_charge")} <= set(Category)


def test_mechanism_auction_is_uniform_price_from_the_cheapest():
    mw, price = mechanism_auction(np.array([100.0, 50.0, 80.0]),
                                  np.array([250.0, 200.0, 270.0]), 120.0)
    assert mw.tolist() == [70.0, 50.0, 0.0] and price == 250.0
    mw, price = mechanism_auction(np.array([100.0]), np.array([250.0]), 0.0)
    assert mw.tolist() == [0.0] and price is None
    mw, price = mechanism_auction(np.array([100.0, 50.0]), np.array([250.0, 200.0]), 1000.0)
    assert mw.tolist() == [100.0, 50.0] and price == 250.0


def test_coal_strike_stays_in_the_benchmark_band():
    rules = load_preset("mengxi")
    assert coal_strike(rules) == 282.9
    assert coal_strike(rules.with_overrides({"contracts.coal_strike_float": 0.1})) == 311.19
    with pytest.raises(RulesError) as err:
        rules.with_overrides({"contracts.coal_strike_float": 0.25})
    assert "contracts.coal_strike_float" in str(err.value)


def test_bad_inputs_are_named_and_nothing_is_posted():
    ledger = Ledger()
    good = CoalCfd("genco-1", "load-001", None, 300.0, np.array([1.0, 2.0]))
    bad = CoalCfd("genco-1", "genco-1", None, 300.0, np.array([-1.0, 2.0]))
    with pytest.raises(ContractError, match="seller and buyer") as err:
        settle_coal_cfds(ledger, "2025-01", [good, bad], np.array([200.0, 200.0]))
    assert "mwh" in str(err.value)
    with pytest.raises(ContractError, match="hours"):
        settle_coal_cfds(ledger, "2025-01", [good], np.array([200.0]))
    with pytest.raises(ContractError, match=r"contracts\[0\].volume_share"):
        settle_mechanism(ledger, "2025-01", [MechanismContract("g", "w", 280.0, 1.5)],
                         np.array([[1.0]]), np.array([200.0]), ["load-001"], np.array([1.0]))
    with pytest.raises(ContractError, match="output_mwh"):
        settle_mechanism(ledger, "2025-01", [MechanismContract("g", "w", 280.0, 0.5)],
                         np.array([1.0]), np.array([200.0]), ["load-001"], np.array([1.0]))
    with pytest.raises(ContractError, match="demand_mw"):
        mechanism_auction(np.array([1.0]), np.array([1.0]), -5.0)
    assert len(ledger.entries()) == 0
