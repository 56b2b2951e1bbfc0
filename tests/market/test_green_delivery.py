"""Bundled green power as a monthly contract: cleared before metering, delivered after it on
min(contract, metered generation, consumption); the rest is settled as energy only.

Hand-worked case: wind unit W1 (owner gA) is metered at 100 MWh in January and solar S1 (gC)
at 50 MWh. Contracts cleared at a uniform premium of 25 yuan/MWh: W1 -> L1 60 MWh,
W1 -> L2 90 MWh, S1 -> L2 40 MWh.

* W1's 100 MWh are short of its 150 MWh of contracts: shared pro rata, 40 to L1, 60 to L2.
* L1 consumes 30 MWh: its one contract gets at most 30. L2 consumes 1,000 MWh: no limit.
* Delivered: W1 -> L1 min(60, 40, 30) = 30; W1 -> L2 min(90, 60, 1000) = 60;
  S1 -> L2 min(40, 50, 1000) = 40. Premiums 30 x 25 = 750, 60 x 25 = 1,500, 40 x 25 = 1,000
  yuan; 30 + 30 + 0 = 60 MWh undelivered, settled as energy only.
"""

from __future__ import annotations

import numpy as np
import pytest

from market.certificates.registry import CertificateRegistry
from market.errors import GreenTradeError
from market.green import GreenMarket, GreenOrder, contract_auction, deliver_contracts
from market.green.delivery import delivered_ticks, share_capped
from market.ledger.book import Ledger
from market.rules import load_preset

GREEN = load_preset("mengxi").green


def market() -> GreenMarket:
    reg = CertificateRegistry.from_rules(GREEN, "2025-01")
    reg.register_units(["W1", "W2", "S1"], ["wind", "wind", "solar"], ["gA", "gB", "gC"])
    return GreenMarket(GREEN, reg, Ledger())


def contracted(m: GreenMarket):
    out = contract_auction(m, [GreenOrder("gA", 20, 150, "W1"), GreenOrder("gC", 22, 40, "S1")],
                           [GreenOrder("L1", 30, 60), GreenOrder("L2", 28, 130)], "2025-01",
                           energy_price_yuan_per_mwh=250.0)
    return out


def test_contracts_clear_before_metering_and_move_nothing():
    m = market()
    out = contracted(m)
    assert out.premium_yuan_per_mwh == 25.0  # midpoint of the last ask 22 and the last bid 28
    assert [(c.seller, c.unit, c.buyer, c.contracted_mwh) for c in out.contracts] == [
        ("gA", "W1", "L1", 60.0), ("gA", "W1", "L2", 90.0), ("gC", "S1", "L2", 40.0)]
    assert all(c.delivered_ticks is None for c in out.contracts)
    assert m.trades == [] and m.ledger.n_payments == 0
    assert m.registry.held_ticks("L1") == 0  # no certificate exists yet


def test_delivery_is_min_of_contract_generation_and_consumption():
    m = market()
    contracted(m)
    m.registry.issue("2025-01", ["W1", "S1"], [100.0, 50.0])
    done = deliver_contracts(m, "2025-01", {"W1": 100.0, "S1": 50.0},
                             {"L1": 30.0, "L2": 1000.0})
    assert [c.delivered_mwh for c in done] == [30.0, 60.0, 40.0]
    assert [c.undelivered_mwh for c in done] == [30.0, 30.0, 0.0]
    assert [t.premium_fen for t in m.trades] == [75_000, 150_000, 100_000]
    assert [c.trade for c in done] == [t.trade for t in m.trades]
    assert m.registry.held_ticks("L1") == 30_000 and m.registry.held_ticks("L2") == 100_000
    assert m.ledger.totals_by("participant")["gA"] == 225_000 and m.ledger.balance() == 0
    # W1 kept its 10 undelivered certificates, never sold: they can go unbundled
    assert m.registry.sellable_ticks("gA", "W1") == 10_000
    m.registry.check_invariants()
    assert deliver_contracts(m, "2025-01", {"W1": 100.0}, {"L1": 30.0}) == []  # once only


def test_no_output_or_no_certificates_means_energy_only():
    m = market()
    contracted(m)
    # S1 metered 50 MWh but no certificates were issued for it: nothing of it can be delivered
    m.registry.issue("2025-01", ["W1"], [200.0])
    done = deliver_contracts(m, "2025-01", {"W1": 200.0, "S1": 50.0}, {"L1": 100.0, "L2": 100.0})
    assert [c.delivered_mwh for c in done] == [60.0, 90.0, 0.0]
    assert done[2].trade is None and len(m.trades) == 2


def test_contract_auction_refusals_change_nothing():
    m = market()
    for offers, message in [([GreenOrder("gA", 20, 10)], "names the unit"),
                            ([GreenOrder("gA", 20, 10, "S1")], "belongs to 'gC'"),
                            ([GreenOrder("gA", 20, 10, "X9")], "not registered"),
                            ([GreenOrder("gA", -1, 10, "W1")], ">= 0")]:
        with pytest.raises(GreenTradeError, match=message):
            contract_auction(m, offers, [GreenOrder("L1", 30, 10)], "2025-01")
    assert m.bundled_contracts == []


def test_share_capped_and_delivered_ticks_by_hand():
    assert share_capped(np.array([60, 90, 40]), np.array([0, 0, 1]),
                        np.array([100, 50])).tolist() == [40, 60, 40]
    assert share_capped(np.array([1, 1, 1]), np.array([0, 0, 0]),
                        np.array([2])).tolist() == [1, 1, 0]  # ties to the earlier contract
    got = delivered_ticks(np.array([60, 90, 40]), ["W1", "W1", "S1"], ["L1", "L2", "L2"],
                          {"W1": 100, "S1": 50}, {"L1": 30, "L2": 1000})
    assert got.tolist() == [30, 60, 40]
