"""Bundled green exports (issue 10 item 3): with ``fleet.exports.green_share`` the
certificates of that share of the export MWh leave the registry with the export, retired for
the receiving province, so no MWh is counted green twice; and fewer certificates are left to
the province's own loads."""

from __future__ import annotations

import numpy as np
import pytest

from market.certificates.registry import TICKS_PER_MWH, CertificateRegistry
from market.rules import load_preset
from studies.year import run_year
from studies.year.green import EXPORT_OWNER, export_certificates

SCALE, SEED = 0.05, 11


def _registry() -> CertificateRegistry:
    reg = CertificateRegistry(start_month="2025-01")
    reg.register_units(["w1", "w2", "s1"], ["wind", "wind", "solar"], ["g1", "g2", "g2"])
    return reg


def test_export_takes_each_units_pro_rata_share_of_the_month_worked_by_hand():
    reg = _registry()
    reg.issue("2025-01", ["w1", "w2", "s1"], [10.0, 20.0, 0.0])
    issued = np.array([10, 20, 0]) * TICKS_PER_MWH
    # 7 MWh: shares 7 x 10/30 = 2.333 and 7 x 20/30 = 4.667 MWh, exact in ticks
    done = export_certificates(reg, ["w1", "w2", "s1"], issued, 7 * TICKS_PER_MWH, "2025")
    assert done == 7 * TICKS_PER_MWH
    assert reg.sellable_ticks("g1") == 10 * TICKS_PER_MWH - 2_333
    assert reg.sellable_ticks("g2") == 20 * TICKS_PER_MWH - 4_667
    assert reg.held_ticks(EXPORT_OWNER) == 0  # retired here for the receiving province
    totals = reg.invariant_report().totals
    assert totals["retired"] == pytest.approx(7.0)
    assert reg.invariant_report().ok


def test_export_never_takes_more_than_the_month_issued():
    reg = _registry()
    reg.issue("2025-01", ["w1", "w2", "s1"], [3.0, 0.0, 1.0])
    done = export_certificates(reg, ["w1", "w2", "s1"], np.array([3, 0, 1]) * TICKS_PER_MWH,
                               100 * TICKS_PER_MWH, "2025")
    assert done == 4 * TICKS_PER_MWH
    assert reg.sellable_ticks("g1") == 0 and reg.sellable_ticks("g2") == 0


@pytest.fixture(scope="module")
def years():
    base = load_preset("mengxi")
    out = {}
    for share in (0.0, 0.5, 1.0):
        rules = base.with_overrides({"fleet.exports.green_share": share})
        out[share] = run_year(rules, seed=SEED, scale=SCALE).summary
    return out


def test_exported_certificates_leave_the_province_and_are_counted_once(years):
    none, half = years[0.0]["green"], years[0.5]["green"]
    assert none["exported_mwh"] == 0
    exports = years[0.5]["exports"]["energy_mwh"]
    issued = half["certificates_issued"]
    assert 0 < half["exported_mwh"] <= min(0.5 * exports, issued) + 1e-6
    assert half["registry_problems"] == 0
    # every certificate is held, retired or expired once: exported ones are retired here
    assert half["certificates_retired"] >= half["exported_mwh"] - 1e-6
    local_claims = half["certificates_retired"] - half["exported_mwh"] + half["certificates_held"]
    assert local_claims + half["exported_mwh"] + half["certificates_expired"] \
        == pytest.approx(issued, abs=1e-3)


def test_more_green_exports_leave_fewer_certificates_to_local_loads(years):
    """Comparative statics. At the preset's obligation weight the province issues about twice
    what its loads must retire: exporting half the export MWh green comes out of that surplus
    (what is left unsold falls by exactly what left), and exporting all of it bites: local
    loads buy less and fall short of their obligation."""
    none, half, full = (years[s]["green"] for s in (0.0, 0.5, 1.0))
    assert none["certificates_issued"] > 1.5 * none["obligation_mwh"]  # the surplus
    assert half["certificates_held"] == pytest.approx(
        none["certificates_held"] - half["exported_mwh"], abs=1e-2)
    assert half["shortfall_mwh"] == none["shortfall_mwh"] == 0
    assert full["exported_mwh"] > half["exported_mwh"]
    assert full["shortfall_mwh"] > 0
    assert full["certificates_traded"] < none["certificates_traded"]
