"""The rules layer: presets load, variants differ only where intended, the preset carries the
numbers of docs/DOMAIN.md, bad files report every problem with its key path, round trips."""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from market.errors import MarketError
from market.rules import (
    SCENARIOS_DIR,
    MarketRules,
    RulesError,
    UnknownPresetError,
    load_preset,
    load_rules,
    preset_names,
)

VARIANTS = [
    "mengxi-2026",
    "vertical-demand",
    "capacity-pay-as-bid",
    "capacity-clock",
    "compensation-all-coal",
    "deductions-shanghai",
    "compensation-charged-to-renewables",
    "no-capacity-market",
    "vrr-gross-cone-floor",
    "capacity-forward",
]


def leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts to dotted paths; lists are leaves (they are replaced whole)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(leaves(value, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: data}


def problem_map(err: RulesError) -> dict[str, str]:
    return {p.path: p.message for p in err.problems}


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- presets ----------------------------------------------------------------------------------


def test_all_named_presets_exist():
    assert set(preset_names()) >= {"mengxi", *VARIANTS}


@pytest.mark.parametrize("name", ["mengxi", *VARIANTS])
def test_every_preset_loads_and_names_itself(name):
    rules = load_preset(name)
    assert isinstance(rules, MarketRules)
    assert rules.meta.name == name


def test_model_defaults_are_the_mengxi_preset():
    assert MarketRules() == load_preset("mengxi")


def test_mengxi_toml_writes_every_parameter_out():
    raw = tomllib.loads((SCENARIOS_DIR / "mengxi.toml").read_text(encoding="utf-8"))
    dumped = {
        k: v for k, v in leaves(MarketRules().model_dump(mode="python")).items() if v is not None
    }
    assert set(leaves(raw)) == set(dumped)


def untagged_numbers(text: str) -> list[tuple[int, str]]:
    """Lines that set a number without an [S]/[R]/[E] tag on the line or in the comment block
    above the statement (for a multi-line array: above its first line)."""
    tag = re.compile(r"\[(S|R|E)\b")
    lines = text.splitlines()
    block_tagged = False  # the comment block right above the current statement has a tag
    in_array_tagged: bool | None = None
    untagged = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            block_tagged = block_tagged or bool(tag.search(stripped))
            continue
        if not stripped or stripped.startswith("["):
            block_tagged = False
            continue
        code = stripped.split("#", 1)[0]
        tagged = bool(tag.search(line)) or block_tagged
        if in_array_tagged is not None:
            tagged = tagged or in_array_tagged
            if code.startswith("]"):
                in_array_tagged = None
        elif code.rstrip().endswith("= ["):
            in_array_tagged = tagged
        if re.search(r"=\s*-?\d", code) and not tagged:
            untagged.append((number, line))
        if in_array_tagged is None:
            block_tagged = False
    return untagged


def test_every_number_in_mengxi_toml_has_a_source_tag():
    assert untagged_numbers((SCENARIOS_DIR / "mengxi.toml").read_text(encoding="utf-8")) == []


def test_the_source_tag_check_finds_untagged_numbers():
    text = (
        "# [E] tagged block\n"
        "a = 1\n"
        "b = 2\n"
        "c = 3  # [S] x\n"
        "d = [\n"
        "  { x = 1 },\n"
        "]\n"
        "# [R] y\n"
        "e = [\n"
        "  { x = 1 },\n"
        "]\n"
        'f = "text"\n'
    )
    assert [n for n, _ in untagged_numbers(text)] == [3, 6]


INTENDED = {
    "mengxi-2026": {
        "meta.year": 2026,
        "energy.storage_discharge_compensation_yuan_per_mwh": 280.0,
        "capacity.delivery_year": 2026,
        "compensation.recovery_ratio": 0.5,
    },
    "vertical-demand": {
        "capacity.demand_shape": "vertical",
        "capacity.demand_points": [{"requirement_fraction": 1.0, "net_cone_multiple": 1.5}],
    },
    "capacity-pay-as-bid": {"capacity.format": "pay_as_bid"},
    "capacity-clock": {"capacity.format": "clock"},
    "compensation-all-coal": {"compensation.eligibility": "all_coal"},
    "deductions-shanghai": {
        "compensation.deductions": [
            {"failures": 2, "fraction": 0.10},
            {"failures": 3, "fraction": 0.20},
            {"failures": 4, "fraction": 0.50},
            {"failures": 5, "fraction": 1.00},
        ]
    },
    "compensation-charged-to-renewables": {"compensation.funding": "supported_renewables"},
    "no-capacity-market": {"capacity.enabled": False},
    "vrr-gross-cone-floor": {
        "capacity.demand_points": [
            {"requirement_fraction": 0.97, "net_cone_multiple": 1.5, "gross_cone_multiple": 1.0},
            {"requirement_fraction": 1.03, "net_cone_multiple": 0.75},
            {"requirement_fraction": 1.10, "net_cone_multiple": 0.0},
        ]
    },
    "capacity-forward": {
        "pathway.capacity_lead_years": 3,
        "pathway.new_entry_price_lock_years": 3,
    },
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_differs_from_the_preset_exactly_where_intended(name):
    preset = load_preset("mengxi")
    # the preset's JSON leaves out the pathway table at its defaults; a variant of it does not
    base = {**leaves({"pathway": preset.pathway.model_dump(mode="json")}),
            **leaves(preset.model_dump(mode="json"))}
    variant = leaves(load_preset(name).model_dump(mode="json"))
    changed = {k: v for k, v in variant.items() if base.get(k) != v}
    changed.pop("meta.name")
    changed.pop("meta.description")
    assert changed == INTENDED[name]


def test_no_capacity_market_keeps_compensation():
    rules = load_preset("no-capacity-market")
    assert not rules.capacity.enabled and rules.compensation.enabled


# --- the numbers of docs/DOMAIN.md ----------------------------------------------------------------


def test_preset_numbers_equal_domain_md():
    r = load_preset("mengxi")
    e, c, k, g, f = r.energy, r.capacity, r.compensation, r.green, r.fleet
    assert (e.price_cap_yuan_per_mwh, e.price_floor_yuan_per_mwh) == (1500, -50)
    assert e.stress_price_threshold_yuan_per_mwh == 1500 and e.stress_reserve_margin == 0.05
    assert e.storage_discharge_compensation_yuan_per_mwh == 350
    assert e.storage_compensation_years == 10
    assert e.storage_max_cycles_per_day == 1.5 and e.storage_round_trip_efficiency == 0.85
    assert e.coal_benchmark_price_yuan_per_mwh == 282.9 and e.contract_price_float == 0.20
    assert c.enabled and c.format == "sealed_uniform" and c.demand_shape == "sloped"
    assert c.net_cone_yuan_per_kw_yr == 330 and 1 + c.reserve_margin == pytest.approx(1.15)
    # prices as multiples of Net CONE since issue 9 (were 495 / 248 / 0 yuan at Net CONE 330)
    assert [(p.requirement_fraction, p.net_cone_multiple) for p in c.demand_points] == [
        (0.97, 1.5),
        (1.03, 0.75),
        (1.10, 0),
    ]
    assert c.net_cone_method == "derived" and c.gross_cone_yuan_per_kw_yr == 415
    assert c.accreditation_method == "derived" and c.accreditation_hours == 100
    assert c.reliability_standard_lole_hours == 3
    assert c.offer_cap_yuan_per_kw_yr == 495 and c.must_offer_existing_coal
    assert dict(c.capacity_credit.items()) == {
        "coal_ultra_supercritical": 0.90,
        "coal_supercritical": 0.88,
        "coal_subcritical": 0.85,
        "wind": 0.10,
        "solar": 0.03,
        "storage": 0.60,
    }
    assert c.penalty_hours == 30 and c.penalty_rate_yuan_per_mwh() == pytest.approx(11_000)
    assert c.stop_loss_multiple == 1.0 and c.cost_allocation == "peak_share"
    assert (c.clock_start_price_yuan_per_kw_yr, c.clock_decrement_yuan_per_kw_yr) == (495, 5)
    assert k.enabled and k.eligibility == "supporting"
    assert k.fixed_cost_standard_yuan_per_kw_yr == 330 and k.recovery_ratio == 0.30
    assert [(d.failures, d.fraction) for d in k.deductions] == [(2, 0.10), (3, 0.50), (4, 1.00)]
    assert k.full_losses_to_end_eligibility == 3
    assert k.funding == "industrial_commercial_load" and not k.allow_double_payment
    assert (g.premium_yuan_per_mwh, g.premium_min_yuan_per_mwh, g.premium_max_yuan_per_mwh) == (
        20,
        1,
        50,
    )
    assert g.certificate_price_yuan == 2 and g.obligation_weight == 0.22
    assert g.certificate_validity_months == 24 and g.certificate_mwh == 1
    assert (g.certificate_price_low_yuan, g.certificate_price_high_yuan) == (1.0, 2.3)
    assert not g.storage_earns_certificates and g.listing_fill == "pro_rata"
    fleet = {
        name: (cls.unit_count, cls.unit_size_mw) for name, cls in f.generator_classes().items()
    }
    assert fleet == {
        "coal_ultra_supercritical": (20, 1000),
        "coal_supercritical": (30, 600),
        "coal_subcritical": (20, 350),
        "wind": (80, 500),
        "solar": (50, 500),
    }
    usc = f.coal_ultra_supercritical
    assert (usc.marginal_cost_low_yuan_per_mwh, usc.marginal_cost_high_yuan_per_mwh) == (200, 240)
    assert (usc.min_output_fraction_low, usc.min_output_fraction_high) == (0.30, 0.40)
    assert f.coal_subcritical.winter_must_run
    assert f.coal_subcritical.marginal_cost_high_yuan_per_mwh == 340
    assert f.wind.lowest_offer_yuan_per_mwh == -50
    assert (f.storage.unit_count, f.storage.unit_size_mw, f.storage.energy_mwh) == (25, 400, 1600)
    assert (f.loads.count, f.loads.peak_mw) == (50, 45_000)
    assert f.loads.value_of_lost_load_yuan_per_mwh == e.price_cap_yuan_per_mwh
    assert (f.exports.total_low_mw, f.exports.total_high_mw) == (5_000, 10_000)
    assert f.scale == 1.0


def test_2026_preset_numbers():
    r = load_preset("mengxi-2026")
    assert r.compensation.recovery_ratio == 0.50
    assert r.energy.storage_discharge_compensation_yuan_per_mwh == 280
    assert r.compensation.monthly_payment_yuan_per_kw() == pytest.approx(330 * 0.5 / 12)


def test_deduction_tables():
    mengxi = load_preset("mengxi").compensation
    assert [mengxi.deduction_fraction(n) for n in range(7)] == [0, 0, 0.1, 0.5, 1, 1, 1]
    shanghai = load_preset("deductions-shanghai").compensation
    assert [shanghai.deduction_fraction(n) for n in range(7)] == [0, 0, 0.1, 0.2, 0.5, 1, 1]


def test_scale_gives_a_handful_of_units():
    fleet = load_preset("mengxi").with_overrides({"fleet.scale": 0.01}).fleet
    counts = [fleet.scaled_count(c.unit_count) for c in fleet.generator_classes().values()]
    assert counts == [1, 1, 1, 1, 1] and fleet.scaled_count(fleet.storage.unit_count) == 1
    assert fleet.scaled_count(0) == 0


def test_capacity_credit_reads_like_a_table():
    credit = load_preset("mengxi").capacity.capacity_credit
    assert credit["wind"] == 0.10 and credit.get("storage") == 0.60 and "solar" in credit
    assert credit.get("hydro") is None and "hydro" not in credit
    with pytest.raises(KeyError, match="known"):
        credit["hydro"]


# --- demand curve shapes ------------------------------------------------------------------------


def test_sloped_demand_curve_arrays():
    fractions, prices = load_preset("mengxi").capacity.demand_curve()
    assert fractions.tolist() == [0.97, 1.03, 1.10] and prices.tolist() == [495, 247.5, 0]
    cheaper = load_preset("mengxi").with_overrides({"capacity.net_cone_yuan_per_kw_yr": 200})
    assert cheaper.capacity.demand_curve()[1].tolist() == [300, 150, 0]  # the curve moves


def test_vertical_demand_is_one_point_given_as_a_vertical_segment():
    fractions, prices = load_preset("vertical-demand").capacity.demand_curve()
    assert fractions.tolist() == [1.0, 1.0] and prices.tolist() == [495.0, 0.0]


def test_vertical_demand_with_two_points_is_refused():
    with pytest.raises(RulesError) as info:
        load_preset("mengxi").with_overrides({"capacity.demand_shape": "vertical"})
    assert "exactly one point" in problem_map(info.value)["capacity.demand_points"]


def test_sloped_demand_needs_two_points():
    with pytest.raises(RulesError) as info:
        load_preset("vertical-demand").with_overrides({"capacity.demand_shape": "sloped"})
    assert "at least 2" in problem_map(info.value)["capacity.demand_points"]


def test_equal_requirement_fractions_are_refused_in_a_sloped_curve():
    points = [
        {"requirement_fraction": 1.0, "price_yuan_per_kw_yr": 495},
        {"requirement_fraction": 1.0, "price_yuan_per_kw_yr": 0},
    ]
    with pytest.raises(RulesError) as info:
        load_preset("mengxi").with_overrides({"capacity.demand_points": points})
    assert "capacity.demand_points[1].requirement_fraction" in problem_map(info.value)


# --- bad files ----------------------------------------------------------------------------------


BAD = """
extends = "mengxi"

[energy]
price_floor_yuan_per_mwh = 2000.0

[capacity]
net_cone_yuan_per_mwh = 330
demand_points = [
  { requirement_fraction = 0.97, price_yuan_per_kw_yr = 495 },
  { requirement_fraction = 1.03, price_yuan_per_kw_yr = 600 },
  { requirement_fraction = 1.10, price_yuan_per_kw_yr = nan },
]

[compensation]
recovery_ratio = 1.3
deductions = [ { failures = 2, fraction = 0.5 }, { failures = 3, fraction = 0.2 } ]

[fleet.coal_supercritical]
marginal_cost_low_yuan_per_mwh = -5.0

[green]
obligation_weigth = 0.3
"""


def test_bad_file_reports_every_problem_with_its_key_path(tmp_path):
    path = write(tmp_path, BAD)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    found = problem_map(info.value)
    assert set(found) == {
        "energy.price_floor_yuan_per_mwh",
        "capacity.net_cone_yuan_per_mwh",
        "capacity.demand_points[1].price_yuan_per_kw_yr",
        "capacity.demand_points[2].price_yuan_per_kw_yr",
        "compensation.recovery_ratio",
        "compensation.deductions[1].fraction",
        "fleet.coal_supercritical.marginal_cost_low_yuan_per_mwh",
        "green.obligation_weigth",
    }
    assert "below the price cap" in found["energy.price_floor_yuan_per_mwh"]
    assert (
        "did you mean 'capacity.net_cone_yuan_per_kw_yr'" in found["capacity.net_cone_yuan_per_mwh"]
    )
    assert "did you mean 'green.obligation_weight'" in found["green.obligation_weigth"]
    assert "at most the previous" in found["capacity.demand_points[1].price_yuan_per_kw_yr"]
    assert "finite" in found["capacity.demand_points[2].price_yuan_per_kw_yr"]
    assert "less than or equal to 1" in found["compensation.recovery_ratio"]
    assert (
        "greater than or equal to 0"
        in found["fleet.coal_supercritical.marginal_cost_low_yuan_per_mwh"]
    )
    assert all(p.file == str(path) for p in info.value.problems)
    assert isinstance(info.value, MarketError) and isinstance(info.value, ValueError)
    assert "capacity.demand_points[1].price_yuan_per_kw_yr" in str(info.value)


def test_wrong_unit_key_in_another_table_suggests_the_known_key(tmp_path):
    path = write(tmp_path, "[energy]\nnet_cone_yuan_per_mwh = 330\n")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert problem_map(info.value) == {
        "energy.net_cone_yuan_per_mwh": (
            "unknown key; did you mean 'capacity.net_cone_yuan_per_kw_yr'?"
        )
    }


def test_unknown_table_and_far_key_are_reported_without_a_wrong_hint(tmp_path):
    path = write(tmp_path, "[tariffs]\nxyzzy = 1\n")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert problem_map(info.value) == {"tariffs": "unknown key"}


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("[energy]\nprice_cap_yuan_per_mwh = inf\n", "energy.price_cap_yuan_per_mwh", "finite"),
        (
            "[capacity]\nnet_cone_yuan_per_kw_yr = -1.0\n",
            "capacity.net_cone_yuan_per_kw_yr",
            "greater than or equal to 0",
        ),
        ("[capacity]\noffer_cap_yuan_per_kw_yr = 0.0\n", "capacity.offer_cap_yuan_per_kw_yr", ""),
        ('[capacity]\nformat = "english"\n', "capacity.format", "sealed_uniform"),
        ("[energy]\nstress_reserve_margin = -0.1\n", "energy.stress_reserve_margin", ""),
        ("[capacity.capacity_credit]\nwind = 1.2\n", "capacity.capacity_credit.wind", ""),
        (
            "[fleet.solar]\nmarginal_cost_low_yuan_per_mwh = 9.0\n",
            "fleet.solar.marginal_cost_low_yuan_per_mwh",
            "at most",
        ),
        (
            "[fleet.loads]\nvalue_of_lost_load_yuan_per_mwh = 2000.0\n",
            "fleet.loads.value_of_lost_load_yuan_per_mwh",
            "price cap",
        ),
        (
            "[energy]\nstress_price_threshold_yuan_per_mwh = 1600.0\n",
            "energy.stress_price_threshold_yuan_per_mwh",
            "price cap",
        ),
        ("[green]\npremium_yuan_per_mwh = 60.0\n", "green.premium_yuan_per_mwh", "range"),
        ("[fleet.exports]\ntotal_low_mw = 20000.0\n", "fleet.exports.total_low_mw", "at most"),
        (
            "[compensation]\ndeductions = [{ failures = 3, fraction = 0.1 }, "
            "{ failures = 3, fraction = 0.5 }]\n",
            "compensation.deductions[1].failures",
            "increase",
        ),
        (
            "[compensation]\ndeductions = [{ failures = 2, fraction = 1.5 }]\n",
            "compensation.deductions[0].fraction",
            "",
        ),
        ("[fleet]\nheating_season_months = [1, 13]\n", "fleet.heating_season_months[1]", ""),
        ("[meta]\nseed = -3\n", "meta.seed", ""),
        ("[fleet]\ngenco_count = 0\n", "fleet.genco_count", ""),
        ("[fleet]\npairing_ratio = 0.0\n", "fleet.pairing_ratio", ""),
        ("[fleet.storage]\ninitial_soc_fraction = 1.5\n", "fleet.storage.initial_soc_fraction", ""),
        (
            "[fleet.loads]\nresponsive_price_yuan_per_mwh = -60.0\n",
            "fleet.loads.responsive_price_yuan_per_mwh",
            "price floor",
        ),
        (
            "[agents.runner]\nwindow_start_hours = [0, 16, 16]\n",
            "agents.runner.window_start_hours",
            "only once",
        ),
        (
            "[agents.runner]\nwindow_start_hours = [0, 24]\n",
            "agents.runner.window_start_hours[1]",
            "",
        ),
        ("[agents.wind_profile]\ncut_in_m_s = 12.0\n", "agents.wind_profile.cut_in_m_s", "rated"),
        ("[agents.outages]\nforced_outage_rate = 1.0\n", "agents.outages.forced_outage_rate", ""),
        (
            "[agents.outages]\nforced_outage_rate = 0.9\nmean_outage_hours = 2.0\n",
            "agents.outages.mean_outage_hours",
            "in service",
        ),
        (
            "[agents.strategies.learning]\nmarkups = [0.1]\n",
            "agents.strategies.learning.markups",
            "",
        ),
        (
            "[agents.strategies.green_seller]\ncertificate_ask_low = 1.2\n",
            "agents.strategies.green_seller.certificate_ask_low",
            "at most",
        ),
    ],
)
def test_single_problems_are_found_at_their_key(tmp_path, text, path, fragment):
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, text))
    found = problem_map(info.value)
    assert path in found, found
    assert fragment in found[path]


def test_every_estimate_of_the_agents_is_a_rule_with_its_preset_value():
    """The [E] estimates that used to live in agents/ and studies/ are rules; the preset holds
    exactly the model defaults (test_model_defaults_are_the_mengxi_preset), spot-checked here by
    key path, and a variant or sweep reaches them by that path."""
    rules = load_preset("mengxi")
    expected = {
        "fleet.genco_count": 6,
        "fleet.supporting_share": 0.3,
        "fleet.pairing_ratio": 0.4,
        "fleet.heat_led_output_fraction": 0.5,
        "fleet.going_forward_cost_share": 0.3,
        "fleet.wind.fixed_cost_yuan_per_kw_yr": 400.0,
        "fleet.solar.fixed_cost_yuan_per_kw_yr": 280.0,
        "fleet.storage.fixed_cost_yuan_per_kw_yr": 600.0,
        "fleet.storage.initial_soc_fraction": 0.5,
        "fleet.loads.retailer_count": 5,
        "fleet.loads.industrial_commercial_share": 0.8,
        "fleet.loads.size_sigma": 0.6,
        "fleet.loads.responsive_share": 0.05,
        "fleet.loads.responsive_price_yuan_per_mwh": 1000.0,
        "agents.runner.window_start_hours": [0, 16],
        "agents.runner.storage_lookahead_hours": 24,
        "agents.load_profile.weekend_factor": 0.95,
        "agents.wind_profile.mean_speed_m_s": 6.8,
        "agents.wind_profile.seasonal_amplitude": 0.15,
        "agents.wind_profile.autocorrelation": 0.98,
        "agents.wind_profile.regional_share": 0.7,
        "agents.solar_profile.latitude_deg": 40.8,
        "agents.solar_profile.longitude_deg": 111.0,
        "agents.solar_profile.utc_offset_hours": 8.0,
        "agents.solar_profile.panel_tilt_deg": 35.0,
        "agents.solar_profile.performance_ratio": 0.85,
        "agents.outages.forced_outage_rate": 0.05,
        "agents.outages.mean_outage_hours": 50.0,
        "agents.strategies.markup.markup": 0.2,
        "agents.strategies.green_seller.certificate_ask_low": 0.9,
        "agents.strategies.green_seller.certificate_ask_high": 1.1,
        "agents.strategies.green_buyer.bundled_share": 0.5,
    }
    flat = leaves(rules.model_dump(mode="json"))
    assert {k: flat[k] for k in expected} == expected
    assert rules.fleet.coal_subcritical.fixed_cost_yuan_per_kw_yr is None  # = the standard
    changed = rules.with_overrides({"agents.outages.forced_outage_rate": 0.1})
    assert changed.agents.outages.forced_outage_rate == 0.1
    assert changed.sha256() != rules.sha256()


def test_a_price_cap_below_the_responsive_bid_is_not_refused():
    """Loads then bid the cap (agents.inprocess.window); a sweep of the cap needs no other key."""
    rules = load_preset("mengxi").with_overrides(
        {
            "energy.price_cap_yuan_per_mwh": 800.0,
            "energy.stress_price_threshold_yuan_per_mwh": 800.0,
            "fleet.loads.value_of_lost_load_yuan_per_mwh": 800.0,
        }
    )
    assert rules.fleet.loads.responsive_price_yuan_per_mwh == 1000.0


def test_wind_may_not_offer_below_the_energy_floor():
    with pytest.raises(RulesError) as info:
        load_preset("mengxi").with_overrides({"energy.price_floor_yuan_per_mwh": 0.0})
    assert "fleet.wind.lowest_offer_yuan_per_mwh" in problem_map(info.value)


def test_file_problems(tmp_path):
    with pytest.raises(RulesError, match="file not found"):
        load_rules(tmp_path / "missing.toml")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(write(tmp_path, "[energy\n"))
    with pytest.raises(UnknownPresetError) as info:
        load_rules(write(tmp_path, 'extends = "nowhere"\n'))
    assert info.value.problems[0].path == "extends"
    assert "mengxi-2026" in str(info.value)


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(UnknownPresetError) as info:
        load_preset("mengxi-2099")
    for name in ["mengxi", *VARIANTS]:
        assert name in str(info.value)


def test_extends_chains_by_relative_path_and_detects_cycles(tmp_path):
    write(tmp_path, 'extends = "mengxi-2026"\n[capacity]\nformat = "clock"\n', "a.toml")
    rules = load_rules(write(tmp_path, 'extends = "a.toml"\n[meta]\nname = "b"\n', "b.toml"))
    assert rules.capacity.format == "clock" and rules.compensation.recovery_ratio == 0.5
    assert rules.meta.name == "b"
    write(tmp_path, 'extends = "d.toml"\n', "c.toml")
    write(tmp_path, 'extends = "c.toml"\n', "d.toml")
    with pytest.raises(RulesError, match="cycle"):
        load_rules(tmp_path / "c.toml")


def test_extends_replaces_lists_whole_and_merges_tables(tmp_path):
    text = (
        'extends = "mengxi"\n[capacity]\ndemand_points = [{ requirement_fraction = 1.0, '
        "price_yuan_per_kw_yr = 400.0 }, "
        "{ requirement_fraction = 1.2, price_yuan_per_kw_yr = 0.0 }]\n"
        "[capacity.capacity_credit]\nwind = 0.2\n"
    )
    rules = load_rules(write(tmp_path, text))
    assert len(rules.capacity.demand_points) == 2
    assert rules.capacity.capacity_credit.wind == 0.2
    assert rules.capacity.capacity_credit.solar == 0.03


# --- round trips, hashing, overrides, immutability --------------------------------------------


@pytest.mark.parametrize("name", ["mengxi", *VARIANTS])
def test_toml_and_json_round_trip(tmp_path, name):
    rules = load_preset(name)
    assert load_rules(write(tmp_path, rules.to_toml())) == rules
    assert MarketRules.model_validate_json(rules.to_json()) == rules
    assert MarketRules.model_validate(json.loads(rules.canonical_json())) == rules


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(
    cone=finite,
    ratio=st.floats(min_value=0, max_value=1),
    cap=st.floats(min_value=-40, max_value=1e5),
    name=st.text(max_size=20),
)
def test_round_trip_of_arbitrary_values(cone, ratio, cap, name):
    rules = MarketRules().with_overrides(
        {
            "capacity.net_cone_yuan_per_kw_yr": cone,
            "compensation.recovery_ratio": ratio,
            "energy.price_cap_yuan_per_mwh": cap,
            "energy.stress_price_threshold_yuan_per_mwh": cap,
            "fleet.loads.value_of_lost_load_yuan_per_mwh": cap,
            "meta.description": name,
        }
    )
    back = MarketRules.model_validate(tomllib.loads(rules.to_toml()))
    assert back == rules and back.sha256() == rules.sha256()


def test_sha256_is_of_the_canonical_json_and_tracks_changes():
    import hashlib

    a, b = load_preset("mengxi"), load_preset("mengxi")
    assert a.sha256() == b.sha256() == hashlib.sha256(a.canonical_json().encode()).hexdigest()
    assert len(a.sha256()) == 64
    assert a.with_overrides({"capacity.net_cone_yuan_per_kw_yr": 300}).sha256() != a.sha256()
    assert len({load_preset(n).sha256() for n in ["mengxi", *VARIANTS]}) == 1 + len(VARIANTS)


def test_with_overrides_returns_a_new_validated_model():
    base = load_preset("mengxi")
    new = base.with_overrides(
        {
            "capacity.net_cone_yuan_per_kw_yr": 300,
            "capacity.demand_points[0].price_yuan_per_kw_yr": 450,
            "capacity.capacity_credit": {"wind": 0.2},
        }
    )
    assert new.capacity.net_cone_yuan_per_kw_yr == 300.0
    assert new.capacity.demand_points[0].price_yuan_per_kw_yr == 450.0
    assert new.capacity.capacity_credit.wind == 0.2 and new.capacity.capacity_credit.solar == 0.03
    assert base.capacity.net_cone_yuan_per_kw_yr == 330 and base == MarketRules()


def test_with_overrides_refuses_unknown_keys_with_a_hint():
    with pytest.raises(RulesError) as info:
        load_preset("mengxi").with_overrides(
            {"capacity.net_cone_yuan_per_mwh": 300, "nothing.here": 1, "capacity..x": 2}
        )
    found = problem_map(info.value)
    assert (
        "did you mean 'capacity.net_cone_yuan_per_kw_yr'" in found["capacity.net_cone_yuan_per_mwh"]
    )
    assert found["nothing.here"].startswith("unknown key")
    assert "key path" in found["capacity..x"]


def test_with_overrides_refuses_invalid_values_all_at_once():
    with pytest.raises(RulesError) as info:
        load_preset("mengxi").with_overrides(
            {
                "compensation.recovery_ratio": 1.5,
                "capacity.net_cone_yuan_per_kw_yr": math.nan,
                "energy.price_floor_yuan_per_mwh": 2000,
                "capacity.demand_points[9].price_yuan_per_kw_yr": 1,
            }
        )
    assert set(problem_map(info.value)) == {
        "capacity.demand_points[9].price_yuan_per_kw_yr",
        "compensation.recovery_ratio",
        "capacity.net_cone_yuan_per_kw_yr",
        "energy.price_floor_yuan_per_mwh",
    }


def test_models_are_frozen():
    rules = load_preset("mengxi")
    with pytest.raises(ValidationError):
        rules.energy.price_cap_yuan_per_mwh = 10.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        rules.capacity = rules.capacity  # type: ignore[misc]
    with pytest.raises(ValidationError):
        rules.capacity.demand_points[0].price_yuan_per_kw_yr = 1.0  # type: ignore[misc]
    assert isinstance(rules.capacity.demand_points, tuple)
    assert isinstance(rules.compensation.deductions, tuple)
    assert hash(rules) == hash(load_preset("mengxi"))


def test_model_copy_with_update_then_revalidate_is_the_variant_pattern():
    base = load_preset("mengxi")
    capacity = base.capacity.model_copy(update={"format": "clock"})
    variant = MarketRules.model_validate(
        base.model_copy(update={"capacity": capacity}).model_dump()
    )
    assert variant.capacity.format == "clock" and base.capacity.format == "sealed_uniform"


def test_a_file_without_extends_keeps_defaults_of_partial_tables(tmp_path):
    rules = load_rules(write(tmp_path, "[fleet.solar]\nunit_count = 7\n"))
    assert rules.fleet.solar.unit_count == 7 and rules.fleet.solar.unit_size_mw == 500
    assert rules.with_overrides({"fleet.solar.unit_count": 50}) == MarketRules()


def test_types_are_strict_but_ints_are_floats_and_numpy_scalars_are_numbers():
    import numpy as np

    base = load_preset("mengxi")
    for key, value in [
        ("energy.price_cap_yuan_per_mwh", True),
        ("energy.price_cap_yuan_per_mwh", "1600"),
        ("capacity.enabled", 1),
        ("capacity.enabled", "yes"),
        ("fleet.wind.unit_count", 80.0),
    ]:
        with pytest.raises(RulesError) as info:
            base.with_overrides({key: value})
        assert set(problem_map(info.value)) == {key}
    rules = base.with_overrides(
        {
            "energy.price_cap_yuan_per_mwh": 1600,
            "capacity.net_cone_yuan_per_kw_yr": np.float32(300.0),
            "fleet.wind.unit_count": np.int64(7),
        }
    )
    assert rules.energy.price_cap_yuan_per_mwh == 1600.0
    assert isinstance(rules.energy.price_cap_yuan_per_mwh, float)
    assert rules.capacity.net_cone_yuan_per_kw_yr == 300.0 and rules.fleet.wind.unit_count == 7


def test_toml_text_leaves_out_none_at_every_depth():
    from market.rules import toml_text

    text = toml_text.dumps({"a": {"b": None, "c": [{"d": 1, "e": None}]}, "f": None})
    assert tomllib.loads(text) == {"a": {"c": [{"d": 1}]}}


def test_a_gross_cone_floor_keeps_the_top_of_the_curve_paying_when_net_cone_is_zero():
    """PJM's older VRR point (a), max(Gross CONE, 1.5 x Net CONE): with Net CONE 0 (a short
    year whose scarcity margins cover Gross CONE) the preset's curve is 0 everywhere, the
    floored curve still pays Gross CONE at its first point; with a high Net CONE the floor
    does not bind."""
    base = load_preset("mengxi").capacity
    floor = load_preset("vrr-gross-cone-floor").capacity
    gross = floor.gross_cone_yuan_per_kw_yr
    for cone, first in ((0.0, gross), (100.0, gross), (400.0, 1.5 * 400.0)):
        _, plain = base.resolved(net_cone_yuan_per_kw_yr=cone).demand_curve()
        _, floored = floor.resolved(net_cone_yuan_per_kw_yr=cone).demand_curve()
        assert floored[0] == pytest.approx(first)
        assert plain[0] == pytest.approx(1.5 * cone)
        assert floored[1:].tolist() == plain[1:].tolist()


@pytest.mark.parametrize(("overrides", "key"), [
    ({"pathway.capacity_lead_years": -1}, "pathway.capacity_lead_years"),
    ({"pathway.capacity_lead_years": 11}, "pathway.capacity_lead_years"),
    ({"pathway.capacity_lead_years": 1.5}, "pathway.capacity_lead_years"),
    ({"pathway.new_entry_price_lock_years": 0}, "pathway.new_entry_price_lock_years"),
    ({"pathway.new_entry_price_lock_years": 31}, "pathway.new_entry_price_lock_years"),
    ({"pathway.new_entry_price_lock_years": 3}, "pathway.new_entry_price_lock_years"),
])
def test_forward_capacity_parameters_are_checked_naming_the_key(overrides, key):
    with pytest.raises(MarketError, match=re.escape(key)):
        load_preset("mengxi").with_overrides(overrides)


def test_forward_capacity_parameters_at_their_defaults_leave_the_rules_json_alone():
    preset = load_preset("mengxi")
    assert (preset.pathway.capacity_lead_years, preset.pathway.new_entry_price_lock_years) \
        == (0, 1)
    dumped = preset.with_overrides({"pathway.load_growth_per_year": 0.04}).model_dump(
        mode="json")["pathway"]
    assert "capacity_lead_years" not in dumped
    assert "new_entry_price_lock_years" not in dumped
