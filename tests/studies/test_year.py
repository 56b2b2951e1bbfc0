"""A simulated year: determinism, a ledger that sums to zero, the certificate books, the
compensation formula against the fleet table and the failures log, and the tables' shapes.

Small scales (0.02-0.05) keep it fast; every run is a whole year of 8,760 hours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from market.errors import StrategyError, SynthesisError
from market.rules import load_preset
from studies.output.files import write_outputs
from studies.year.run import YearResult, run_year

HOURLY = ("hour", "price_yuan_per_mwh", "load_mw", "served_load_mw", "unserved_mw",
          "curtailed_mw", "coal_mw", "wind_mw", "solar_mw", "storage_discharge_mw",
          "storage_charge_mw", "storage_soc_mwh", "export_mw", "wind_available_mw",
          "solar_available_mw", "co2_t", "stress", "reserve_margin")
UNITS = ("unit_id", "owner", "technology", "nameplate_mw", "accredited_mw",
         "marginal_cost_yuan_per_mwh", "energy_mwh", "energy_revenue_yuan",
         "capacity_revenue_yuan", "performance_penalty_yuan", "compensation_yuan",
         "green_revenue_yuan", "storage_compensation_yuan",
         "variable_cost_yuan", "fixed_cost_yuan", "profit_yuan", "fixed_cost_recovery")
MONTHLY = ("month", "compensation_paid_yuan", "compensation_deducted_yuan", "failures",
           "certificates_issued", "certificates_traded", "certificates_retired",
           "green_premium_yuan_per_mwh")
BIDS = ("hour", "owner", "unit_id", "side", "price_yuan_per_mwh", "quantity_mw", "accepted_mw",
        "marginal_cost_yuan_per_mwh")


@pytest.fixture(scope="module")
def year() -> YearResult:
    return run_year(load_preset("mengxi"), 11, 0.03)


def test_same_seed_same_bytes_different_seed_different_results(tmp_path: Path, year):
    again = run_year(load_preset("mengxi"), 11, 0.03)
    other = run_year(load_preset("mengxi"), 12, 0.03)
    for name, result in (("a", year), ("b", again), ("c", other)):
        write_outputs(result, tmp_path / name)
    for f in ("summary.json", "ledger.csv", "units.csv", "monthly.csv", "hourly.parquet"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a" / "summary.json").read_bytes() != (
        tmp_path / "c" / "summary.json").read_bytes()
    assert not np.array_equal(year.hourly["price_yuan_per_mwh"],
                              other.hourly["price_yuan_per_mwh"])
    assert other.summary["seed"] == 12


def test_the_ledger_of_the_year_sums_to_zero_in_every_period(year):
    ledger = year.ledger
    assert year.summary["ledger"]["imbalance_yuan"] == 0
    assert ledger.balance() == 0
    periods = ledger.totals_by("period")
    assert sorted(periods) == [f"2025-{m:02d}" for m in range(1, 13)]
    assert all(v == 0 for v in periods.values())
    cats = ledger.totals_by("category", participant="system_operator")
    assert set(cats) >= {"energy", "capacity_payment", "cost_allocation",
                         "storage_compensation", "compensation"}


def test_the_certificate_books_balance_at_year_end(year):
    g = year.summary["green"]
    assert g["registry_problems"] == 0
    assert g["certificates_issued"] > 0 and g["certificates_retired"] > 0
    assert g["certificates_issued"] == pytest.approx(
        g["certificates_held"] + g["certificates_retired"] + g["certificates_expired"],
        abs=1e-6)
    assert year.monthly["certificates_issued"].sum() == g["certificates_issued"]
    assert year.monthly["certificates_retired"].sum() == pytest.approx(g["certificates_retired"])
    # issued in whole certificates only for the wind and solar output dispatched
    wind_solar = year.hourly["wind_mw"].sum() + year.hourly["solar_mw"].sum()
    assert wind_solar - 1 * len(year.units["unit_id"]) <= g["certificates_issued"] <= wind_solar
    # obligations: retired + short = 22 % of consumption
    assert g["obligation_mwh"] == pytest.approx(0.22 * year.hourly["load_mw"].sum(), rel=1e-6)
    assert g["certificates_retired"] + g["shortfall_mwh"] == pytest.approx(
        g["obligation_mwh"], abs=0.01)


def _expected_compensation(result: YearResult, rules) -> tuple[int, int]:
    """Gross and deducted fen from units.csv-style columns and the failures log, by the
    formula: 330 x 0.30 / 12 yuan/kW x declared MW x 1000 a month, less the deduction
    table's share for the month's failures; three full losses end eligibility."""
    c = rules.compensation
    units, fail = result.units, result.failures
    gross = deducted = 0
    for i in np.flatnonzero(units["compensation_eligible"]):
        monthly = round(c.fixed_cost_standard_yuan_per_kw_yr * c.recovery_ratio / 12
                        * units["declared_max_mw"][i] * 1000 * 100)
        counts = np.zeros(12, dtype=int)
        for u, m, f in zip(fail["unit_id"], fail["month"], fail["failures"], strict=True):
            if u == units["unit_id"][i]:
                counts[m - 1] = f
        full = 0
        for m in range(12):
            if full >= c.full_losses_to_end_eligibility:
                break
            fraction = c.deduction_fraction(int(counts[m]))
            gross += monthly
            deducted += round(monthly * fraction)
            full += fraction >= 1.0
    return gross, deducted


@pytest.mark.slow
def test_compensation_paid_is_the_formula_on_the_fleet_less_deductions_from_the_failures_log():
    rules = load_preset("no-capacity-market").with_overrides(
        {"compensation.eligibility": "all_coal"})
    result = run_year(rules, 5, 0.05)
    k = result.summary["compensation"]
    gross, deducted = _expected_compensation(result, rules)
    assert result.failures["failures"].sum() > 0  # the check below is not vacuous
    assert k["offset_yuan"] == 0  # no capacity market, nothing to offset
    assert round(k["gross_yuan"] * 100) == gross
    assert round(k["deducted_yuan"] * 100) == deducted == round(k["deductions_due_yuan"] * 100)
    assert round(k["paid_yuan"] * 100) == gross - deducted
    assert result.monthly["compensation_paid_yuan"].sum() == pytest.approx(k["paid_yuan"])
    # and the ledger pays exactly that, net, to the units' owners
    paid = result.ledger.totals_by("category", participant="system_operator")
    assert -paid["compensation"] == gross - deducted and "deduction" not in paid
    assert result.units["compensation_yuan"].sum() == pytest.approx(k["paid_yuan"])
    assert result.capacity is None
    assert result.summary["capacity"]["clearing_price_yuan_per_kw_yr"] is None


def test_the_tables_have_the_contract_columns_and_agree_with_each_other(year):
    h = year.summary["hours"]
    assert h == 8760
    assert set(HOURLY) <= set(year.hourly)
    assert all(len(year.hourly[k]) == h for k in year.hourly)
    n = len(year.units["unit_id"])
    assert set(UNITS) <= set(year.units) and all(len(v) == n for v in year.units.values())
    assert set(MONTHLY) <= set(year.monthly)
    assert year.monthly["month"].tolist() == list(range(1, 13))
    assert set(BIDS) <= set(year.bids)
    assert year.summary["energy"]["stress_hours"] == int(year.hourly["stress"].sum())
    cost = year.summary["consumer_cost_yuan"]
    parts = ("energy", "capacity", "compensation", "green", "storage_compensation")
    assert cost["total"] == pytest.approx(sum(cost[k] for k in parts))
    assert cost["capacity"] == pytest.approx(year.summary["capacity"]["payments_yuan"]
                                             - year.summary["capacity"]["penalties_yuan"])
    cap = year.capacity
    assert cap is not None and cap["price"] == year.summary["capacity"][
        "clearing_price_yuan_per_kw_yr"]
    assert len(cap["demand_points"]) == 3


def test_every_hour_clears_supply_equal_to_demand_and_no_bid_gets_more_than_it_asked(year):
    b = year.bids
    assert (b["accepted_mw"] <= b["quantity_mw"] + 1e-9).all()
    sells = np.bincount(b["hour"], weights=np.where(b["side"] > 0, b["accepted_mw"], 0.0),
                        minlength=8760)
    buys = np.bincount(b["hour"], weights=np.where(b["side"] < 0, b["accepted_mw"], 0.0),
                       minlength=8760)
    assert np.allclose(sells, buys, atol=1e-6)
    hourly = year.hourly
    gen = hourly["coal_mw"] + hourly["wind_mw"] + hourly["solar_mw"] + hourly[
        "storage_discharge_mw"]
    assert np.allclose(gen, sells, atol=1e-6)
    loads = np.isnan(b["marginal_cost_yuan_per_mwh"]) & (b["side"] < 0)
    assert loads.any()


@pytest.mark.slow
def test_strategies_change_the_year_and_bad_inputs_are_refused():
    rules = load_preset("mengxi")
    base = run_year(rules, 3, 0.02)
    held = run_year(rules, 3, 0.02, strategies={"coal": ("withholding", {"share": 0.6})})
    assert held.summary["energy"]["avg_price_yuan_per_mwh"] > base.summary["energy"][
        "avg_price_yuan_per_mwh"]
    assert held.summary["strategies"]["genco-1/generator/withholding"]["params"]["share"] == 0.6
    with pytest.raises(StrategyError):
        run_year(rules, 3, 0.02, strategies={"coal": "bluff"})
    with pytest.raises(SynthesisError, match="seed"):
        run_year(rules, -1, 0.02)
    with pytest.raises(SynthesisError, match="scale"):
        run_year(rules, 1, 0.0)


def test_progress_reports_every_step_to_completion():
    seen: dict[str, tuple[int, int]] = {}
    run_year(load_preset("mengxi"), 2, 0.01,
             progress=lambda step, done, total: seen.__setitem__(step, (done, total)))
    assert set(seen) == {"fleet", "capacity", "energy", "settlement", "compensation", "green",
                         "tables"}
    assert all(done == total for done, total in seen.values())


def test_the_runners_fast_settlement_posts_exactly_what_settle_energy_posts():
    from agents.fleet import synthesize_fleet
    from agents.inprocess.runner import run_energy_year, settle_rows
    from agents.inprocess.settlement import year_result
    from agents.profiles import year_profiles
    from agents.strategies.assign import assign
    from market.energy.auction import settle_energy
    from market.ledger.book import Ledger

    rules = load_preset("mengxi")
    synth = synthesize_fleet(rules, 4, 0.02)
    profiles = year_profiles(synth, 2025, 4)
    groups = assign(None, synth.fleet.owners, synth.fleet.technologies, synth.n_loads)
    rngs = {g.label: np.random.default_rng(0) for g in groups}
    energy = run_energy_year(rules, synth, profiles, groups, rngs, Ledger())
    bids, actor, acc = energy.parts[0]
    periods = np.array([f"2025-{m:02d}" for m in profiles.month])
    fast, slow = Ledger(), Ledger()
    settle_rows(fast, (bids.hour, actor, bids.price_ticks, bids.quantity_ticks, bids.side), acc,
                energy.price_half_ticks, periods, energy.actors, rules)
    h = profiles.n_hours
    settle_energy(year_result(rules, h, energy.price, energy.stress, energy.reserve_margin,
                              energy.curtailed_mwh, energy.price_half_ticks, acc, bids),
                  bids, slow, periods)
    assert fast.n_payments > 50
    assert fast.to_records() == slow.to_records()


@pytest.mark.slow
def test_a_year_with_a_learning_owner_is_reproducible():
    rules = load_preset("mengxi")
    spec = {"genco-1": "learning", "genco-2": ("markup", {"markup": 0.3})}
    a = run_year(rules, 8, 0.02, strategies=spec)
    b = run_year(rules, 8, 0.02, strategies=spec)
    base = run_year(rules, 8, 0.02)
    assert np.array_equal(a.hourly["price_yuan_per_mwh"], b.hourly["price_yuan_per_mwh"])
    assert a.summary == b.summary
    assert not np.array_equal(a.hourly["price_yuan_per_mwh"], base.hourly["price_yuan_per_mwh"])
    assert a.ledger.balance() == 0


# --- the assumptions are rules, and reach the year ---------------------------------------------


@pytest.mark.slow
def test_a_higher_forced_outage_rate_gives_more_compensation_failures():
    """``agents.outages.forced_outage_rate`` set by ``with_overrides`` reaches the profiles, the
    calls and the deductions of the year."""
    rules = load_preset("mengxi").with_overrides({"compensation.eligibility": "all_coal"})
    base = run_year(rules, 5, 0.05)
    worse = run_year(rules.with_overrides({"agents.outages.forced_outage_rate": 0.15}), 5, 0.05)
    b, w = base.summary["compensation"], worse.summary["compensation"]
    assert w["failures"] > b["failures"] > 0
    assert w["failed_calls"] > b["failed_calls"]
    assert w["deducted_yuan"] > b["deducted_yuan"]
    assert worse.summary["rules_sha256"] != base.summary["rules_sha256"]


@pytest.mark.slow
def test_fleet_and_runner_assumptions_reach_the_year():
    rules = load_preset("mengxi")
    base = run_year(rules, 3, 0.02)
    changed = run_year(rules.with_overrides({
        "fleet.loads.responsive_share": 0.0,
        "fleet.wind.fixed_cost_yuan_per_kw_yr": 800.0,
        "agents.strategies.green_buyer.bundled_share": 0.25,
    }), 3, 0.02)

    def load_bid_prices(result: YearResult) -> np.ndarray:
        b = result.bids
        return b["price_yuan_per_mwh"][np.char.startswith(b["unit_id"].astype(str), "load")]

    # No price-responsive load blocks: every load bids at the cap.
    responsive = rules.fleet.loads.responsive_price_yuan_per_mwh
    assert (load_bid_prices(base) == responsive).any()
    assert (load_bid_prices(changed) == rules.energy.price_cap_yuan_per_mwh).all()
    # Fixed costs of wind doubled in the units table; the others stay (coal: the standard).
    wind = base.units["technology"] == "wind"
    fixed, fixed_base = changed.units["fixed_cost_yuan"], base.units["fixed_cost_yuan"]
    assert wind.any() and np.allclose(fixed[wind], 2 * fixed_base[wind])
    assert np.array_equal(fixed[~wind], fixed_base[~wind])
    params = changed.summary["strategies"]["loads/green_buyer/green_buyer"]["params"]
    # The override reaches the strategy; its other parameters keep their defaults.
    assert params["bundled_share"] == 0.25
    base_params = base.summary["strategies"]["loads/green_buyer/green_buyer"]["params"]
    assert base_params["bundled_share"] != 0.25
    assert {k: v for k, v in params.items() if k != "bundled_share"} == \
        {k: v for k, v in base_params.items() if k != "bundled_share"}
    # One clearing window a day instead of two changes how storage runs.
    daily = run_year(rules.with_overrides({"agents.runner.window_start_hours": [0]}), 3, 0.02)
    assert not np.array_equal(daily.hourly["storage_discharge_mw"],
                              base.hourly["storage_discharge_mw"])
