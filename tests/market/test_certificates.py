"""The certificate registry: monthly issue with carry, sales (once), retirement, expiry and the
books (issued = held + retired + expired, per owner and in total), and the registry's JSON form
(``to_dict``/``from_dict``: exact round trip, the same behaviour after a restore, refusals).

Golden numbers follow docs/DOMAIN.md section 5 (green trading and certificates): 1 certificate =
1 MWh, issued monthly per whole MWh with the remainder carried over, valid 2 years, none for
independent storage.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.certificates.registry import (
    EXPIRED,
    HELD,
    RETIRED,
    SOLD_BUNDLED,
    SOLD_UNBUNDLED,
    CertificateRegistry,
    month_index,
    month_label,
    mwh_to_ticks,
)
from market.errors import CertificateError, CertificateInvariantError, MarketError


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two registry snapshots are equal, array by array."""
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, np.ndarray):
            if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                return False
        elif x != y:
            return False
    return True


@pytest.fixture
def registry() -> CertificateRegistry:
    reg = CertificateRegistry("2025-01", validity_months=24)
    reg.register_units(["W1", "S1", "B1", "C1"], ["wind", "solar", "storage", "coal_supercritical"],
                       ["wind_co", "solar_co", "wind_co", "coal_co"])
    return reg


def test_months():
    assert month_index("2025-01") == 2025 * 12
    assert month_label(month_index("2026-12")) == "2026-12"
    with pytest.raises(CertificateError, match="YYYY-MM"):
        month_index("2025-13")


# --------------------------------------------------------------------- issue

def test_issue_whole_mwh_and_carry_the_fraction(registry):
    # January: 1,234.6 MWh -> 1,234 certificates, 0.6 MWh carried.
    jan = registry.issue("2025-01", ["W1"], [1234.6])
    assert jan.certificates.tolist() == [[1234]]
    assert jan.carry_mwh.tolist() == pytest.approx([0.6])
    # February: 800.7 + 0.6 carried = 801.3 MWh -> 801 certificates, 0.3 MWh carried.
    registry.advance_to("2025-02")
    feb = registry.issue("2025-02", ["W1"], [800.7])
    assert feb.certificates.tolist() == [[801]]
    assert registry.carry_mwh("W1") == pytest.approx(0.3)
    b = registry.batches()
    # Certificate ids run on: January 1..1234, February 1235..2035.
    assert b["first_id"].tolist() == [1, 1235] and b["count"].tolist() == [1234, 801]
    assert [month_label(v) for v in b["vintage"]] == ["2025-01", "2025-02"]
    assert registry.owner_summary("wind_co")["held"] == 2035
    registry.check_invariants()


def test_storage_earns_no_certificates(registry):
    before = registry.snapshot()
    with pytest.raises(CertificateError, match="'B1' is storage.*no green certificates") as info:
        registry.issue("2025-01", ["W1", "B1"], [10.0, 5.0])
    assert isinstance(info.value, MarketError)
    assert same(registry.snapshot(), before)  # W1 was not issued either
    with pytest.raises(CertificateError, match="only for wind and solar"):
        registry.issue("2025-01", ["C1"], [10.0])


def test_storage_rule_from_rules():
    class Rules:
        certificate_validity_months = 24
        certificate_mwh = 1.0
        storage_earns_certificates = True

    reg = CertificateRegistry.from_rules(Rules(), "2025-01")
    reg.register_unit("B1", "storage", "s")
    assert reg.issue("2025-01", ["B1"], [3.0]).certificates.tolist() == [[3]]
    Rules.storage_earns_certificates = False
    reg = CertificateRegistry.from_rules(Rules(), "2025-01")
    reg.register_unit("B1", "storage", "s")
    with pytest.raises(CertificateError, match="storage"):
        reg.issue("2025-01", ["B1"], [3.0])


@pytest.mark.parametrize(("month", "units", "mwh", "message"), [
    ("2025-02", ["W1"], [1.0], "after the clock"),
    ("2025-01", ["W9"], [1.0], "not registered"),
    ("2025-01", ["W1"], [float("nan")], "finite number"),
    ("2025-01", ["W1"], [-1.0], "finite number"),
    ("2025-01", ["W1", "W1"], [1.0, 1.0], "once per call"),
])
def test_issue_refusals_change_nothing(registry, month, units, mwh, message):
    before = registry.snapshot()
    with pytest.raises(CertificateError, match=message):
        registry.issue(month, units, mwh)
    assert same(registry.snapshot(), before)


def test_a_month_is_issued_once(registry):
    registry.issue("2025-01", ["W1"], [10.0])
    with pytest.raises(CertificateError, match="already issued"):
        registry.issue("2025-01", ["W1"], [10.0])


def test_bulk_issue_many_units_and_months(registry):
    registry.advance_to("2025-12")
    metered = np.array([[0.5] * 12, [100.25] * 12])
    out = registry.issue_months([f"2025-{m:02d}" for m in range(1, 13)], ["W1", "S1"], metered)
    # W1: 0.5 a month -> a certificate every second month (Feb, Apr, ...), nothing carried.
    assert out.certificates[0].tolist() == [0, 1] * 6
    # S1: 100.25 a month -> 100 a month and a 101st every fourth month.
    assert out.certificates[1].tolist() == [100, 100, 100, 101] * 3
    assert out.carry_mwh.tolist() == [0.0, 0.0]
    assert registry.batches().shape[0] == 6 + 12
    registry.check_invariants()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.floats(0, 5000, allow_nan=False), min_size=6, max_size=6),
                min_size=1, max_size=4))
def test_bulk_issue_equals_month_by_month(rows):
    metered = np.array(rows)
    units = [f"W{i}" for i in range(len(rows))]
    months = [f"2025-{m:02d}" for m in range(1, 7)]
    bulk = CertificateRegistry("2025-06")
    bulk.register_units(units, "wind", "g")
    out = bulk.issue_months(months, units, metered)
    single = CertificateRegistry("2025-01")
    single.register_units(units, "wind", "g")
    for j, m in enumerate(months):
        single.advance_to(m)
        got = single.issue(m, units, metered[:, j])
        assert got.certificates[:, 0].tolist() == out.certificates[:, j].tolist()
    assert [single.carry_mwh(u) for u in units] == out.carry_mwh.tolist()
    # Whole MWh issued + carry = metered (to the 0.001 MWh meter resolution).
    ticks = np.rint(metered * 1000).astype(np.int64).sum(axis=1)
    assert (out.certificates.sum(axis=1) * 1000 + np.rint(out.carry_mwh * 1000) == ticks).all()


# --------------------------------------------------------------------- sale

def test_sale_moves_oldest_vintage_first_and_only_once(registry):
    registry.issue("2025-01", ["W1"], [10.0])
    registry.advance_to("2025-02")
    registry.issue("2025-02", ["W1"], [10.0])
    rows = registry.transfer("wind_co", "load_1", 12.5, "bundled", trade=7)
    assert rows["ticks"].tolist() == [10000, 2500] and rows["trade"].tolist() == [7, 7]
    assert [month_label(v) for v in registry.batches()["vintage"][rows["batch"]]] == [
        "2025-01", "2025-02"]
    assert registry.owner_summary("load_1")["held"] == 12.5
    assert registry.sellable_ticks("wind_co") == 7500
    # The buyer cannot sell them on, bundled or not: a certificate is sold once.
    before = registry.snapshot()
    with pytest.raises(CertificateError, match="sold once"):
        registry.transfer("load_1", "load_2", 1, "unbundled")
    assert same(registry.snapshot(), before)
    registry.transfer("wind_co", "load_2", 7, "unbundled")
    lots = registry.lots()
    assert set(lots["sold"][lots["owner"] == registry.names()["owner"].index("load_2")]) == {
        SOLD_UNBUNDLED}
    assert (lots["sold"][lots["sold"] != 0] != 0).all()
    rep = registry.invariant_report()
    assert rep.ok and rep.totals["sold_bundled"] == 12.5 and rep.totals["sold_unbundled"] == 7


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("wind_co", "load_1", 10.001, "bundled"), {}, "cannot sell 10.001 MWh"),
    (("wind_co", "load_1", 1.5, "unbundled"), {}, "whole"),
    (("wind_co", "wind_co", 1, "bundled"), {}, "itself"),
    (("wind_co", "load_1", 1, "gift"), {}, "mode"),
    (("wind_co", "load_1", 1, "bundled"), {"unit": "S1"}, "of unit 'S1'"),
    (("wind_co", "load_1", 1, "bundled"), {"unit": "Z9"}, "not registered"),
    (("nobody", "load_1", 1, "bundled"), {}, "holds 0 MWh"),
])
def test_sale_refusals_change_nothing(registry, args, kwargs, message):
    registry.issue("2025-01", ["W1", "S1"], [10.0, 0.5])
    before = registry.snapshot()
    with pytest.raises(CertificateError, match=message):
        registry.transfer(*args, **kwargs)
    assert same(registry.snapshot(), before)


def test_a_batch_of_sales_is_all_or_nothing(registry):
    registry.issue("2025-01", ["W1"], [10.0])
    before = registry.snapshot()
    with pytest.raises(CertificateError, match="sale 1"):
        registry.transfer_many(["wind_co", "wind_co"], ["new_buyer", "b"],
                               np.array([6000, 6000]), ["bundled", "bundled"])
    assert same(registry.snapshot(), before)
    assert "new_buyer" not in registry.names()["owner"]


def test_expired_certificates_cannot_be_sold(registry):
    registry.issue("2025-01", ["W1"], [10.0])
    registry.advance_to("2026-12")  # valid through December 2026
    assert registry.sellable_ticks("wind_co") == 10000
    assert registry.advance_to("2027-01") == 10000  # expired on the 24th month after
    with pytest.raises(CertificateError, match="10 MWh of theirs have expired"):
        registry.transfer("wind_co", "load_1", 1, "unbundled")
    assert registry.owner_summary("wind_co")["expired"] == 10
    with pytest.raises(CertificateError, match="cannot go back"):
        registry.advance_to("2026-01")
    with pytest.raises(CertificateError, match="already expired"):
        registry.issue("2025-01", ["S1"], [1.0])
    registry.check_invariants()


# --------------------------------------------------------------------- retirement

def test_retire_against_an_obligation(registry):
    registry.issue("2025-01", ["W1"], [30.0])
    registry.transfer("wind_co", "load_1", 25, "unbundled")
    assert registry.retire("load_1", 22, "2025") == 22000
    before = registry.snapshot()
    with pytest.raises(CertificateError, match="holds 3 MWh.*cannot retire 4 MWh"):
        registry.retire("load_1", 4, "2025")
    assert same(registry.snapshot(), before)
    done = registry.retire_many(["load_1", "load_2"], np.array([5000, 1000]), "2025",
                                up_to_held=True)
    assert done.tolist() == [3000, 0]
    # Retired certificates stay retired when their validity runs out; held ones expire.
    registry.advance_to("2027-01")
    s = registry.owner_summary("load_1")
    assert (s["retired"], s["held"], s["expired"]) == (25, 0, 0)
    assert registry.owner_summary("wind_co")["expired"] == 5
    assert registry.retirements()["ticks"].sum() == 25000
    assert registry.names()["period"] == ["2025"]
    registry.check_invariants()


# --------------------------------------------------------------------- the books

def test_invariant_report_finds_broken_books(registry):
    registry.issue("2025-01", ["W1"], [10.0])
    registry.transfer("wind_co", "load_1", 4, "bundled")
    registry.check_invariants()
    registry._lots.rows["ticks"][0] += 1  # a certificate from nowhere
    with pytest.raises(CertificateInvariantError, match="issued"):
        registry.check_invariants()


def test_invariant_report_finds_a_double_sale(registry):
    registry.issue("2025-01", ["W1"], [10.0])
    registry.transfer("wind_co", "load_1", 4, "bundled")
    forged = registry._transfers.rows[:1].copy()  # the same MWh logged as sold again
    registry._transfers.append(forged)
    rep = registry.invariant_report()
    assert not rep.ok and any("sold twice" in p for p in rep.problems)


OWNERS = ["wind_co", "solar_co", "load_1", "load_2"]
ops = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.lists(st.floats(0, 500, allow_nan=False), min_size=2,
                                         max_size=2)),
    st.tuples(st.just("sell"), st.sampled_from(["wind_co", "solar_co", "wind_co", "load_1"]),
              st.sampled_from(["load_1", "load_2", "load_2", "wind_co"]),
              st.integers(1, 120), st.sampled_from(["bundled", "unbundled"]),
              st.sampled_from([None, None, "W1", "S1"])),
    st.tuples(st.just("retire"), st.sampled_from(OWNERS), st.integers(0, 60)),
    st.tuples(st.just("month"), st.integers(0, 14)),
), max_size=30)


@settings(max_examples=150, deadline=None)
@given(ops)
@pytest.mark.slow
def test_books_balance_after_any_sequence(sequence):
    reg = CertificateRegistry("2025-01", validity_months=6)
    reg.register_units(["W1", "S1"], ["wind", "solar"], ["wind_co", "solar_co"])
    issued_through = month_index("2025-01") - 1
    for op in sequence:
        before = reg.snapshot()
        try:
            if op[0] == "issue":
                if issued_through >= reg.month:
                    continue
                issued_through = reg.month
                reg.issue(reg.month, ["W1", "S1"], op[1])
            elif op[0] == "sell":
                _, seller, buyer, quarter_mwh, mode, unit = op
                q = quarter_mwh if mode == "unbundled" else quarter_mwh / 4
                reg.transfer(seller, buyer, q, mode, unit=unit)
            elif op[0] == "retire":
                reg.retire(op[1], op[2], "2025")
            else:
                reg.advance_to(reg.month + op[1])
        except CertificateError:
            assert same(reg.snapshot(), before)  # a refused operation changes nothing
        rep = reg.invariant_report()
        assert rep.ok, rep.problems
        t = rep.totals
        assert t["issued"] == pytest.approx(t["held"] + t["retired"] + t["expired"])
    # No MWh sold twice: per batch the sales never exceed what was issued, and every sale
    # came from the batch's first owner (the generator), never from a buyer.
    batches, sales = reg.batches(), reg.transfers()
    sold = np.bincount(sales["batch"], weights=sales["ticks"], minlength=batches.shape[0])
    assert (sold <= batches["ticks"]).all()
    assert (sales["seller"] == batches["owner"][sales["batch"]]).all()
    lots = reg.lots()
    assert set(np.unique(lots["state"])) <= {HELD, RETIRED, EXPIRED}
    bought = lots["sold"] != 0
    assert (lots["owner"][bought] != batches["owner"][lots["batch"][bought]]).all()
    assert (lots["sold"][bought] <= SOLD_UNBUNDLED).all() and SOLD_BUNDLED == 1


# --------------------------------------------------------------------- saving and restoring

def apply(reg: CertificateRegistry, op: tuple) -> Any:
    """Run one operation drawn from ``ops``; returns what it gave, or the refusal's message."""
    try:
        if op[0] == "issue":
            return reg.issue(reg.month, ["W1", "S1"], op[1]).certificates.tolist()
        if op[0] == "sell":
            _, seller, buyer, quarter_mwh, mode, unit = op
            q = quarter_mwh if mode == "unbundled" else quarter_mwh / 4
            return reg.transfer(seller, buyer, q, mode, unit=unit, trade=quarter_mwh).tolist()
        if op[0] == "retire":
            return reg.retire(op[1], op[2], "2025")
        return reg.advance_to(reg.month + op[1])
    except CertificateError as exc:
        return f"refused: {exc}"


def new_registry(validity: int = 6, per_certificate: int = 1000) -> CertificateRegistry:
    reg = CertificateRegistry("2025-01", validity_months=validity,
                              ticks_per_certificate=per_certificate)
    reg.register_units(["W1", "S1", "B1"], ["wind", "solar", "storage"],
                       ["wind_co", "solar_co", "wind_co"])
    return reg


def restored(reg: CertificateRegistry) -> CertificateRegistry:
    """``reg`` through JSON text and back; the restored registry writes the same text."""
    text = json.dumps(reg.to_dict())
    back = CertificateRegistry.from_dict(json.loads(text))
    assert json.dumps(back.to_dict()) == text
    return back


def test_to_dict_is_plain_json_with_a_format(registry):
    registry.issue("2025-01", ["W1"], [10.5])
    registry.transfer("wind_co", "load_1", 4, "unbundled", trade=9)
    registry.retire("load_1", 1, "2025")
    d = registry.to_dict()
    assert d["format"] == "mengxi-certificates/1"
    assert (d["month"], d["validity_months"], d["next_id"]) == (month_index("2025-01"), 24, 11)
    assert d["units"]["unit"] == ["W1", "S1", "B1", "C1"]
    assert d["units"]["carry_ticks"] == [500, 0, 0, 0]  # 0.5 MWh carried
    assert d["units"]["last_month"] == [month_index("2025-01"), None, None, None]
    assert d["owners"]["owner"] == ["wind_co", "solar_co", "coal_co", "load_1"]
    assert d["owners"]["sent"] == [4000, 0, 0, 0] and d["owners"]["retired"] == [0, 0, 0, 1000]
    assert d["batches"]["count"] == [10] and d["transfers"]["trade"] == [9]
    # wind_co keeps 6 MWh; load_1 holds 3 MWh and retired 1 MWh.
    assert d["lots"]["ticks"] == [6000, 3000, 1000]
    assert d["lots"]["state"] == [HELD, HELD, RETIRED]
    assert json.loads(json.dumps(d)) == d
    back = CertificateRegistry.from_dict(d)
    d["units"]["unit"][0] = "edited"
    d["lots"]["ticks"][0] = 0
    assert back.names()["unit"][0] == "W1" and back.lots()["ticks"][0] == 6000  # copies


@settings(max_examples=150, deadline=None)
@given(ops, st.integers(1, 8), st.sampled_from([500, 1000, 2000]))
@pytest.mark.slow
def test_to_dict_round_trips_after_any_sequence(sequence, validity, per_certificate):
    reg = new_registry(validity, per_certificate)
    for op in sequence:
        apply(reg, op)
    back = restored(reg)
    assert same(back.snapshot(), reg.snapshot())
    assert (back.validity_months, back.issuing_technologies, back.ticks_per_certificate) == (
        validity, ("wind", "solar"), per_certificate)
    assert back.names() == reg.names()
    assert back.invariant_report() == reg.invariant_report()
    for owner in [*reg.names()["owner"], "nobody"]:
        assert back.owner_summary(owner) == reg.owner_summary(owner)
    for unit in ("W1", "S1", "B1"):
        assert back.carry_mwh(unit) == reg.carry_mwh(unit)
        assert back.unit_owner(unit) == reg.unit_owner(unit)


@settings(max_examples=150, deadline=None)
@given(ops, ops, st.integers(1, 8))
def test_a_restored_registry_behaves_like_the_original(before, after, validity):
    reg = new_registry(validity)
    for op in before:
        apply(reg, op)
    back = restored(reg)
    for op in after:
        assert apply(back, op) == apply(reg, op)  # same result, or the same refusal
        assert same(back.snapshot(), reg.snapshot())
    assert back.to_dict() == reg.to_dict()
    assert back.invariant_report().ok


def _set(d: dict, path: str, value: Any) -> None:
    *head, last = path.split(".")
    for key in head:
        d = d[key]
    d[last] = value


def _duplicate_sale(d: dict) -> None:
    for col in d["transfers"].values():
        col.append(col[0])


@pytest.mark.parametrize(("edit", "error", "message"), [
    (lambda d: _set(d, "format", "other"), CertificateError, "format"),
    (lambda d: d.pop("lots"), CertificateError, "missing \\['lots'\\]"),
    (lambda d: _set(d, "extra", 1), CertificateError, "unknown keys \\['extra'\\]"),
    (lambda d: _set(d, "validity_months", 0), CertificateError, "validity_months"),
    (lambda d: _set(d, "lots.owner", [99] * 3), CertificateError, "lots.owner holds codes"),
    (lambda d: _set(d, "lots.ticks", [6000.0, 3000, 1000]), CertificateError, "whole numbers"),
    (lambda d: _set(d, "lots.state", [True, 0, 1]), CertificateError, "whole numbers"),
    (lambda d: _set(d, "lots.ticks", [6000, 3000]), CertificateError, "one length"),
    (lambda d: _set(d, "lots.ticks", [2**63, 3000, 1000]), CertificateError, "out of the range"),
    (lambda d: _set(d, "owners.owner", ["a", "a", "b", "c"]), CertificateError, "repeat"),
    (lambda d: _set(d, "lots.vintage", [0, 0, 0]), CertificateError, "vintage"),
    (lambda d: _set(d, "next_id", 5), CertificateError, "ids"),
    (lambda d: _set(d, "month", month_index("2024-12")), CertificateError, "after the clock"),
    (lambda d: _set(d, "transfers.ticks", [0]), CertificateError, "more than 0 ticks"),
    (lambda d: _set(d, "lots.ticks", [6001, 3000, 1000]), CertificateInvariantError, "issued"),
    (_duplicate_sale, CertificateInvariantError, "sold twice"),
])
def test_from_dict_refuses_what_is_not_a_sound_registry(registry, edit, error, message):
    registry.issue("2025-01", ["W1"], [10.5])
    registry.transfer("wind_co", "load_1", 4, "unbundled", trade=9)
    registry.retire("load_1", 1, "2025")
    d = copy.deepcopy(registry.to_dict())
    CertificateRegistry.from_dict(copy.deepcopy(d))  # unedited: restores
    edit(d)
    with pytest.raises(error, match=message) as info:
        CertificateRegistry.from_dict(d)
    assert isinstance(info.value, CertificateError)


@pytest.mark.parametrize("value", [1e308, 10**400, 2.0**60, 10**16])
def test_mwh_to_ticks_refuses_huge_numbers_without_overflow(value):
    """1e308 and a 400-digit int are refused as too large (never OverflowError), as is any
    quantity of 2**52 ticks or more, whose grid points a float64 cannot tell apart."""
    with pytest.raises(CertificateError, match="too large"):
        mwh_to_ticks(value)


def test_mwh_to_ticks_keeps_the_grid_and_refuses_negatives():
    assert mwh_to_ticks(0.3) == 300 and mwh_to_ticks(2) == 2000
    assert mwh_to_ticks(np.int64(5)) == 5000
    assert mwh_to_ticks(600_000.001) == 600_000_001
    for bad, words in ((600_000.0004, "0.001 MWh grid"), (1.0005, "0.001 MWh grid"),
                       (-3, ">= 0"), (-0.5, ">= 0"), (float("nan"), ">= 0"), ("x", "not a number"),
                       (True, "not a number")):
        with pytest.raises(CertificateError, match=words):
            mwh_to_ticks(bad)
