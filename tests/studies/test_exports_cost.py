"""Exports as a participant (issue 10, item 3): with ``fleet.exports.cost_share`` the export
blocks carry that share of their MW in the capacity cost and the coal compensation, so local
consumers pay less of the same total; at 0 exports pay none (the preset)."""

from __future__ import annotations

import pytest

from market.rules import load_preset
from studies.year.run import run_year

SEED, SCALE = 11, 0.03


@pytest.mark.slow
def test_exports_that_share_the_cost_relieve_local_consumers() -> None:
    rules = load_preset("mengxi")
    base = run_year(rules, SEED, SCALE)
    shared = run_year(rules.with_overrides({"fleet.exports.cost_share": 1.0}), SEED, SCALE)
    b, s = base.summary, shared.summary
    assert b["exports"]["paid_yuan"]["capacity"] == 0.0
    assert b["exports"]["paid_yuan"]["compensation"] == 0.0
    assert s["exports"]["paid_yuan"]["capacity"] > 0
    # the same market, the same total: only who pays moves
    assert s["energy"] == b["energy"]
    assert s["capacity"]["payments_yuan"] == b["capacity"]["payments_yuan"]
    local = b["consumer_cost_yuan"]["capacity"] - s["consumer_cost_yuan"]["capacity"]
    assert local > 0
    assert local == pytest.approx(s["exports"]["paid_yuan"]["capacity"], abs=0.05)
    assert (s["consumer_cost_yuan"]["compensation"] + s["exports"]["paid_yuan"]["compensation"]
            == pytest.approx(b["consumer_cost_yuan"]["compensation"], abs=0.05))
    assert shared.ledger.balance() == 0


@pytest.mark.slow
def test_without_a_capacity_market_exports_share_the_coal_compensation() -> None:
    rules = load_preset("mengxi").with_overrides({"capacity.enabled": False})
    base = run_year(rules, SEED, SCALE)
    shared = run_year(rules.with_overrides({"fleet.exports.cost_share": 0.5}), SEED, SCALE)
    b, s = base.summary, shared.summary
    assert b["compensation"]["paid_yuan"] > 0
    assert s["exports"]["paid_yuan"]["compensation"] > 0
    assert (s["consumer_cost_yuan"]["compensation"] + s["exports"]["paid_yuan"]["compensation"]
            == pytest.approx(b["consumer_cost_yuan"]["compensation"], abs=0.05))
