"""A year at a small scale is the full market in miniature (issue 9, item 4), and its coal
compensation books only money that moves (item 3).

The slow test runs the ``mengxi`` preset at scale 0.01 and at scale 1 once each (about 15 s
and 25 s): the load-weighted price must be within 15 % and the renewable share within 5
points. The fleet's proportions at every scale are checked fast in
``tests/agents/test_fleet.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from market.rules import load_preset
from studies.year import run_year

RULES = load_preset("mengxi")
SEED = 20231005


@pytest.fixture(scope="module")
def small():
    return run_year(RULES, SEED, 0.01)


@pytest.mark.slow
def test_scale_001_keeps_the_price_and_the_renewable_share_of_scale_1(small):
    full = run_year(RULES, SEED, 1.0)
    p_small = small.summary["energy"]["avg_price_yuan_per_mwh"]
    p_full = full.summary["energy"]["avg_price_yuan_per_mwh"]
    assert abs(p_small - p_full) <= 0.15 * abs(p_full), (p_small, p_full)
    r_small, r_full = small.summary["renewable_share"], full.summary["renewable_share"]
    assert abs(r_small - r_full) <= 0.05, (r_small, r_full)
    # not the old small market: prices at the floor most of the year, renewables curtailed
    floor = RULES.energy.price_floor_yuan_per_mwh
    assert np.count_nonzero(small.hourly["price_yuan_per_mwh"] <= floor) < 500


@pytest.mark.slow
def test_the_year_posts_only_net_compensation_and_the_tables_agree(small):
    k = small.summary["compensation"]
    assert k["gross_yuan"] > 0
    assert k["gross_yuan"] == pytest.approx(k["offset_yuan"] + k["deducted_yuan"]
                                            + k["paid_yuan"])
    assert k["deducted_yuan"] <= k["deductions_due_yuan"]
    cols = small.ledger.columns()
    comp = cols["category"] == "compensation"
    assert "deduction" not in set(cols["category"].tolist())
    posted = int(cols["amount_fen"][comp & (cols["participant"] != "system_operator")].sum())
    assert posted / 100 == pytest.approx(k["paid_yuan"])
    assert small.units["compensation_yuan"].sum() == pytest.approx(k["paid_yuan"])
    assert small.monthly["compensation_paid_yuan"].sum() == pytest.approx(k["paid_yuan"])
    # a unit whose payment is offset in full has no compensation entry at all
    units = set(cols["unit"][comp].tolist())
    paid = dict(zip(small.units["unit_id"].tolist(), small.units["compensation_yuan"].tolist(),
                    strict=True))
    for uid in small.units["unit_id"][small.units["compensation_eligible"]].tolist():
        assert (uid in units) == (paid[uid] > 0), uid
    f = small.failures
    if len(f["unit_id"]):
        assert np.allclose(f["gross_yuan"], f["offset_yuan"] + f["deducted_yuan"]
                           + f["paid_yuan"])
        assert np.all(f["deducted_yuan"] <= f["deduction_due_yuan"] + 1e-9)


@pytest.mark.slow
def test_with_no_offset_the_deductions_move_money():
    rules = RULES.with_overrides({"compensation.offset": "none"})
    k = run_year(rules, SEED, 0.01).summary["compensation"]
    assert k["offset_yuan"] == 0 and k["failures"] > 0
    assert k["deducted_yuan"] == k["deductions_due_yuan"] > 0
    assert k["paid_yuan"] == pytest.approx(k["gross_yuan"] - k["deducted_yuan"])
