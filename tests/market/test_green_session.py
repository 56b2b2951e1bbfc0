"""The game's bundled green round follows the year's delivery rule: a cleared pair delivers
min(contract, the seller's never-sold certificates (its metered output), the buyer's
consumption of the month), the rest is energy only.

Case (the small game of ``test_session.py`` up to January's green round): green-b offers
80 MWh of wind-2 at 15 yuan/MWh; buyer-a bids 60 MWh at 31 and genco-b (which owns no load,
so consumes nothing) 50 at 30. Demand is 110 > 80 at 30 and 60 < 80 above: the premium is
genco-b's 30; the pairs are green-b -> buyer-a 60 and green-b -> genco-b 20. Delivered:
buyer-a 60 (its loads consume far more in January); genco-b 0: no trade, no premium, no
certificates; green-b keeps the 20 MWh of certificates for later.
"""

from __future__ import annotations

from tests.market.test_session import new_session, play_round


def test_a_bundled_round_delivers_only_what_the_buyer_consumes():
    s = new_session()
    while (rid := s.next_round()) != "green-01":
        play_round(s, rid)
    before = s.green_market.registry.sellable_ticks("green-b", "wind-2")
    s.open_round("green-01")
    s.submit_bids("green-b", "green-01",
                  [{"side": "sell", "unit": "wind-2", "price": 15, "quantity": 80}])
    s.submit_bids("buyer-a", "green-01", [{"side": "buy", "price": 31, "quantity": 60}])
    s.submit_bids("genco-b", "green-01", [{"side": "buy", "price": 30, "quantity": 50}])
    s.close_gate("green-01")
    res = s.clear_round("green-01")
    assert res["premium_yuan_per_mwh"] == 30.0
    assert [(t["seller"], t["buyer"], t["quantity_mwh"], t["contracted_mwh"])
            for t in res["trades"]] == [("green-b", "buyer-a", 60.0, 60.0)]
    assert res["volume_mwh"] == 60.0
    contracts = s.green_market.bundled_contracts
    assert [(c.buyer, c.contracted_mwh, c.delivered_mwh) for c in contracts] == [
        ("buyer-a", 60.0, 60.0), ("genco-b", 20.0, 0.0)]
    assert s.green_market.registry.held_ticks("genco-b") == 0
    assert s.green_market.registry.sellable_ticks("green-b", "wind-2") == before - 60_000
    assert s.ledger.totals_by("participant", category="green_premium").get("genco-b", 0) == 0
