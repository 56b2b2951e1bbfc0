"""Fleet synthesis: the Mengxi-like fleet of docs/DOMAIN.md (section 7, "Fleet and
load") at any scale.

Scale-1 totals are the table of docs/DOMAIN.md: 20 x 1,000 MW ultra-supercritical, 30 x 600 MW
supercritical, 20 x 350 MW subcritical/CHP coal, 80 x 500 MW wind, 50 x 500 MW solar,
25 x 400 MW / 1,600 MWh storage, about 50 loads with a 45 GW peak, 5-10 GW of export blocks.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.fleet import FleetAssumptions, SynthFleet, synthesize_fleet
from market.errors import MarketError, SynthesisError
from market.rules import load_preset
from market.units import Fleet

RULES = load_preset("mengxi")
CLASSES = RULES.fleet.generator_classes()


@pytest.fixture(scope="module")
def full() -> SynthFleet:
    return synthesize_fleet(RULES, seed=11)


def _same(a: SynthFleet, b: SynthFleet) -> bool:
    x, y = a.arrays(), b.arrays()
    return (x.keys() == y.keys()
            and all(x[k].dtype == y[k].dtype and x[k].shape == y[k].shape
                    and x[k].tobytes() == y[k].tobytes() for k in x)
            and a.fleet.supported_units == b.fleet.supported_units)


def _class_mask(synth: SynthFleet, technology: str) -> np.ndarray:
    return synth.fleet.technologies == technology


# --- reproducibility ----------------------------------------------------------------------


def test_same_seed_gives_byte_identical_fleet():
    assert _same(synthesize_fleet(RULES, 3), synthesize_fleet(RULES, 3))
    assert _same(synthesize_fleet(RULES, 3, 0.2), synthesize_fleet(RULES, 3, 0.2))


def test_different_seed_gives_different_costs_and_loads():
    a, b = synthesize_fleet(RULES, 3), synthesize_fleet(RULES, 4)
    assert not _same(a, b)
    coal = a.fleet.is_coal
    cost_a, cost_b = a.marginal_cost_yuan_per_mwh, b.marginal_cost_yuan_per_mwh
    assert not np.array_equal(cost_a[coal], cost_b[coal])
    assert not np.array_equal(a.load_peak_share, b.load_peak_share)
    # What is not drawn stays put: ids, owners, sizes.
    assert np.array_equal(a.fleet.unit_ids, b.fleet.unit_ids)
    assert np.array_equal(a.fleet.owners, b.fleet.owners)


# --- scale 1: the table of docs/DOMAIN.md (section 7) ---------------------------------------


@pytest.mark.parametrize(("technology", "count", "size_mw"), [
    ("coal_ultra_supercritical", 20, 1000.0),
    ("coal_supercritical", 30, 600.0),
    ("coal_subcritical", 20, 350.0),
    ("wind", 80, 500.0),
    ("solar", 50, 500.0),
    ("storage", 25, 400.0),
])
def test_scale_one_matches_domain_table(full, technology, count, size_mw):
    mask = _class_mask(full, technology)
    assert mask.sum() == count
    assert np.all(full.fleet.nameplate_mw[mask] == size_mw)


def test_scale_one_totals(full):
    f = full.fleet
    assert f.nameplate_mw[f.is_coal].sum() == 45_000.0  # 20 + 18 + 7 GW
    assert f.nameplate_mw[_class_mask(full, "wind")].sum() == 40_000.0
    assert f.nameplate_mw[_class_mask(full, "solar")].sum() == 25_000.0
    assert full.storage_power_mw.sum() == 10_000.0
    assert np.all(full.storage_energy_mwh == 1600.0) and len(full.storage_energy_mwh) == 25
    assert np.array_equal(full.storage_index, np.flatnonzero(_class_mask(full, "storage")))
    assert full.n_loads == 50 and full.peak_load_mw == 45_000.0
    assert full.export_mw.sum() == pytest.approx(10_000.0)  # all blocks = the high total
    assert full.export_mw[0] == 5_000.0                      # the firm block = the low total
    assert len(full.export_mw) == 5


def test_ids_follow_the_table_order(full):
    ids = full.fleet.unit_ids.tolist()
    assert ids[0] == "coal_usc-001" and ids[19] == "coal_usc-020" and ids[20] == "coal_sc-001"
    assert ids[70] == "wind-001" and ids[150] == "solar-001" and ids[-1] == "storage-025"
    assert np.array_equal(full.coal_index, np.arange(70))
    assert np.array_equal(full.wind_index, np.arange(70, 150))
    assert np.array_equal(full.solar_index, np.arange(150, 200))


def test_costs_inside_the_ranges_on_the_price_tick(full):
    for name, cls in CLASSES.items():
        cost = full.marginal_cost_yuan_per_mwh[_class_mask(full, name)]
        assert np.all(cost >= cls.marginal_cost_low_yuan_per_mwh)
        assert np.all(cost <= cls.marginal_cost_high_yuan_per_mwh)
        assert np.allclose(cost * 100, np.round(cost * 100), atol=1e-6)
        if cls.marginal_cost_high_yuan_per_mwh > cls.marginal_cost_low_yuan_per_mwh:
            assert len(np.unique(cost)) > len(cost) // 2  # drawn, not one value
    usc = full.marginal_cost_yuan_per_mwh[_class_mask(full, "coal_ultra_supercritical")]
    sub = full.marginal_cost_yuan_per_mwh[_class_mask(full, "coal_subcritical")]
    assert usc.max() <= sub.min()  # the merit order of docs/DOMAIN.md: 200-240 below 280-340


def test_lowest_offers_min_output_and_must_run(full):
    wind = _class_mask(full, "wind")
    assert np.all(full.lowest_offer_yuan_per_mwh[wind] == -50.0)
    coal = full.fleet.is_coal
    cost = full.marginal_cost_yuan_per_mwh
    assert np.array_equal(full.lowest_offer_yuan_per_mwh[coal], cost[coal])
    usc = _class_mask(full, "coal_ultra_supercritical")
    assert np.all((full.min_output_fraction[usc] >= 0.30) & (full.min_output_fraction[usc] <= 0.40))
    assert np.all(full.min_output_fraction[~usc] == 0.0)  # the table gives no other range
    assert np.array_equal(full.winter_must_run, _class_mask(full, "coal_subcritical"))
    assert full.heating_season_months == (1, 2, 3, 11, 12)


def test_owners_hold_several_units_of_every_technology(full):
    owners = Counter(full.fleet.owners.tolist())
    assert len(owners) == 6 and min(owners.values()) >= 30
    for owner in owners:
        techs = set(full.fleet.technologies[full.fleet.owners == owner].tolist())
        assert {"coal_ultra_supercritical", "wind", "solar", "storage"} <= techs


def test_loads_shares_and_industrial_commercial_flags(full):
    assert full.load_peak_share.sum() == pytest.approx(1.0)
    assert np.all(full.load_peak_share > 0)
    assert full.load_industrial_commercial.sum() == 40  # 80 % of 50
    assert len(set(full.load_ids.tolist())) == 50
    assert len(set(full.load_owners.tolist())) == 5


def test_export_blocks_firm_then_a_price_ladder(full):
    cap = RULES.fleet.loads.value_of_lost_load_yuan_per_mwh
    bench = RULES.energy.coal_benchmark_price_yuan_per_mwh
    drift = RULES.energy.contract_price_float
    price = full.export_price_yuan_per_mwh
    assert price[0] == cap
    assert np.all(np.diff(price[1:]) < 0)
    assert price[1] == pytest.approx(bench * (1 + drift), abs=0.01)
    assert price[-1] == pytest.approx(bench * (1 - drift), abs=0.01)


# --- supporting coal ------------------------------------------------------------------------


def _check_pairings(synth: SynthFleet) -> None:
    f = synth.fleet
    seen: list[str] = []
    for i in np.flatnonzero(f.is_supporting):
        assert f.is_coal[i]
        idx = f.indices(f.supported_units[i])  # raises if a supported unit does not exist
        assert np.all(f.is_renewable[idx])
        assert f.pairing_ratio[i] == pytest.approx(f.nameplate_mw[i] / f.nameplate_mw[idx].sum())
        seen += list(f.supported_units[i])
    assert len(seen) == len(set(seen))  # each renewable unit firmed up by one coal unit at most
    assert np.all(np.isnan(f.pairing_ratio[~f.is_supporting]))


def test_pairings_at_scale_one(full):
    _check_pairings(full)
    f = full.fleet
    supporting = np.flatnonzero(f.is_supporting)
    assert len(supporting) == round(0.3 * 70)  # the [E] share of coal units
    # Newest classes first: all ultra-supercritical, then supercritical.
    assert np.array_equal(supporting, np.arange(21))
    # 1,000 MW at 0.4 MW of coal per MW of renewables = 2,500 MW = five 500 MW units.
    assert np.allclose(f.pairing_ratio[supporting], 0.4)
    assert all(len(f.supported_units[i]) == 5 for i in range(20))
    # Same owner first, and bases mix wind and solar.
    for i in supporting:
        idx = f.indices(f.supported_units[i])
        assert np.all(f.owners[idx] == f.owners[i])
    techs = {t for i in supporting for t in f.technologies[f.indices(f.supported_units[i])]}
    assert techs == {"wind", "solar"}


def test_synthesis_assumptions_are_rules():
    rules = RULES.with_overrides({
        "fleet.genco_count": 3, "fleet.supporting_share": 0.0,
        "fleet.loads.retailer_count": 2, "fleet.loads.industrial_commercial_share": 0.5,
        "fleet.loads.size_sigma": 0.0})
    synth = synthesize_fleet(rules, 1, scale=0.2)
    assert sorted(set(synth.fleet.owners.tolist())) == ["genco-1", "genco-2", "genco-3"]
    assert sorted(set(synth.load_owners.tolist())) == ["retailer-1", "retailer-2"]
    assert not synth.fleet.is_supporting.any()
    assert synth.load_industrial_commercial.sum() == 5  # half of 10 loads
    assert np.allclose(synth.load_peak_share, 0.1)  # no spread: equal loads
    assert synth.agents == rules.agents


def test_assumptions_override_only_what_they_give():
    """A game seats its own companies (FleetAssumptions); the rules' other assumptions stay."""
    rules = RULES.with_overrides({"fleet.supporting_share": 0.0, "fleet.genco_count": 2})
    seated = synthesize_fleet(rules, 4, 0.1, assumptions=FleetAssumptions(genco_count=4,
                                                                          retailer_count=3))
    assert len(set(seated.fleet.owners.tolist())) == 4
    assert len(set(seated.load_owners.tolist())) == 3
    assert not seated.fleet.is_supporting.any()
    as_rules = synthesize_fleet(rules.with_overrides(
        {"fleet.genco_count": 4, "fleet.loads.retailer_count": 3}), 4, 0.1)
    assert _same(seated, as_rules)
    assert _same(synthesize_fleet(RULES, 4, 0.1, assumptions=FleetAssumptions()),
                 synthesize_fleet(RULES, 4, 0.1))


def test_pairing_assumptions_are_parameters():
    none = synthesize_fleet(RULES, 1, assumptions=FleetAssumptions(supporting_share=0.0))
    assert not none.fleet.is_supporting.any()
    every = synthesize_fleet(RULES, 1, assumptions=FleetAssumptions(supporting_share=1.0,
                                                                    pairing_ratio=1.0))
    _check_pairings(every)
    # 1 MW of coal per MW of renewables: 90 whole 500 MW units are enough for all 70 coal units.
    assert every.fleet.is_supporting.sum() == 70
    tight = synthesize_fleet(RULES, 1, assumptions=FleetAssumptions(supporting_share=1.0,
                                                                    pairing_ratio=0.1))
    _check_pairings(tight)  # 10 MW of renewables per MW of coal: renewables run out
    assert 0 < tight.fleet.is_supporting.sum() < 70
    assert not set(tight.fleet.unit_ids[tight.fleet.is_renewable]) - {
        u for row in tight.fleet.supported_units for u in row}


# --- small scales ----------------------------------------------------------------------------


def test_scale_001_gives_a_handful_of_units_with_every_class():
    small = synthesize_fleet(RULES, 5, scale=0.01)
    assert len(small.fleet) == 6 * RULES.fleet.min_units_per_class  # 5 of every class
    assert set(small.fleet.technologies.tolist()) == set(CLASSES) | {"storage"}
    assert small.n_loads >= 1 and small.load_industrial_commercial.any()
    assert small.peak_load_mw == pytest.approx(450.0)
    # the export blocks keep their number and ladder, 50 to 100 MW in all
    assert len(small.export_mw) == 5 and small.export_mw[0] == pytest.approx(50.0)
    assert small.export_mw.sum() == pytest.approx(100.0)
    assert small.fleet.is_supporting.any()
    _check_pairings(small)
    assert small.scale == 0.01


def _shares(synth: SynthFleet) -> dict[str, float]:
    f = synth.fleet
    return {t: float(f.nameplate_mw[f.technologies == t].sum()) / synth.peak_load_mw
            for t in [*CLASSES, "storage"]}


@pytest.mark.parametrize("scale", [0.01, 0.013, 0.05, 0.1, 0.37, 2.5])
def test_scale_keeps_every_class_in_proportion_to_the_peak(full, scale):
    # Item 4 of issue 9: at 0.01 the old synthesis kept unit sizes (3,350 MW of plant for a
    # 450 MW peak). Now each class's MW per MW of peak is that of scale 1, to the MW tick.
    small = synthesize_fleet(RULES, 5, scale=scale)
    for t, share in _shares(full).items():
        assert _shares(small)[t] == pytest.approx(share, rel=1e-5), t
    st = small.storage_energy_mwh / small.storage_power_mw
    assert np.allclose(st, 4.0, rtol=1e-5)  # storage keeps its 4 hours
    assert small.export_mw.sum() == pytest.approx(10_000.0 * scale)


def test_min_units_per_class_is_a_rule():
    one = synthesize_fleet(RULES.with_overrides({"fleet.min_units_per_class": 1}), 5, 0.01)
    assert one.fleet.unit_ids.tolist() == ["coal_usc-001", "coal_sc-001", "coal_sub-001",
                                           "wind-001", "solar-001", "storage-001"]
    assert one.fleet.nameplate_mw.tolist() == [200.0, 180.0, 70.0, 400.0, 250.0, 100.0]
    assert one.storage_energy_mwh.tolist() == [400.0]


def test_declared_maximum_output_per_class_and_per_unit():
    assert np.array_equal(synthesize_fleet(RULES, 5, 0.1).fleet.declared_max_mw,
                          synthesize_fleet(RULES, 5, 0.1).fleet.nameplate_mw)  # default
    rules = RULES.with_overrides({
        "fleet.coal_supercritical.declared_max_output_fraction": 0.9,
        "fleet.declared_max": [{"unit_id": "coal_usc-002", "mw": 950.0}]})
    f = synthesize_fleet(rules, 5).fleet
    sc = f.technologies == "coal_supercritical"
    assert np.allclose(f.declared_max_mw[sc], 540.0)
    assert f.declared_max_mw[f.indices(["coal_usc-002"])[0]] == 950.0
    assert f.declared_max_mw[f.indices(["coal_usc-001"])[0]] == 1000.0
    bad = RULES.with_overrides({"fleet.declared_max": [{"unit_id": "coal_usc-099", "mw": 5.0},
                                                       {"unit_id": "wind-001", "mw": 600.0}]})
    with pytest.raises(SynthesisError) as err:
        synthesize_fleet(bad, 5, 0.1)  # coal_usc-099 exists at scale 1 only
    assert "coal_usc-099" in str(err.value) and "above the nameplate" in str(err.value)


def test_rules_scale_used_when_no_scale_given():
    rules = RULES.with_overrides({"fleet.scale": 0.1})
    assert _same(synthesize_fleet(rules, 2), synthesize_fleet(RULES, 2, scale=0.1))
    assert len(synthesize_fleet(rules, 2).fleet) == 5 + 5 + 5 + 8 + 5 + 5


def test_empty_classes_stay_empty():
    rules = RULES.with_overrides({"fleet.wind.unit_count": 0, "fleet.storage.unit_count": 0,
                                  "fleet.exports.block_count": 0})
    synth = synthesize_fleet(rules, 1, scale=0.05)
    assert not np.isin(synth.fleet.technologies, ["wind", "storage"]).any()
    assert len(synth.wind_index) == len(synth.storage_power_mw) == len(synth.export_mw) == 0
    _check_pairings(synth)  # solar only
    assert synth.fleet.is_supporting.any()


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(0.001, 2.5), seed=st.integers(0, 2**32))
def test_any_scale_gives_a_valid_fleet(scale, seed):
    synth = synthesize_fleet(RULES, seed, scale=scale)
    f = synth.fleet
    assert f.problems() == []
    Fleet.from_units(f.unit(i) for i in range(len(f)))  # the row form validates too
    least = RULES.fleet.min_units_per_class
    for name, cls in {**CLASSES, "storage": RULES.fleet.storage}.items():
        expected = max(min(least, cls.unit_count), round(cls.unit_count * scale))
        mask = f.technologies == name
        assert np.count_nonzero(mask) == expected
        assert f.nameplate_mw[mask].sum() == pytest.approx(
            cls.unit_count * cls.unit_size_mw * scale, rel=1e-4, abs=0.01)
    assert synth.n_loads == max(1, round(50 * scale))
    assert synth.load_peak_share.sum() == pytest.approx(1.0)
    assert synth.peak_load_mw == pytest.approx(45_000.0 * scale)
    assert synth.export_mw.sum() == pytest.approx(10_000.0 * scale)
    _check_pairings(synth)
    for a in synth.arrays().values():
        assert not a.flags.writeable


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf"), True])
def test_bad_scale_refused(scale):
    with pytest.raises(SynthesisError, match="scale"):
        synthesize_fleet(RULES, 1, scale=scale)


def test_every_problem_reported_at_once():
    with pytest.raises(SynthesisError) as err:
        synthesize_fleet(RULES, -1, scale=0.0, assumptions=FleetAssumptions(
            genco_count=0, supporting_share=1.5, pairing_ratio=0.0))
    assert isinstance(err.value, MarketError) and isinstance(err.value, ValueError)
    text = str(err.value)
    for word in ("seed", "scale", "genco_count", "supporting_share", "pairing_ratio"):
        assert word in text
    assert len(err.value.problems) == 5
