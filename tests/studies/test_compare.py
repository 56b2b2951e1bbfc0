"""Paired comparisons: the t quantile against published values and closed forms, paired
statistics by hand, interval coverage, the comparison of a rule set with itself (exactly zero),
and the files written. A stand-in ``run`` replaces ``run_year`` except in the last test."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.errors import StudyInputError
from market.rules import load_preset
from studies.compare import (
    compare_rules,
    paired_difference,
    regularized_beta,
    t_cdf,
    t_quantile,
    write_comparison,
)

# Two-sided 95 % (p = 0.975) and 99 % (p = 0.995) critical values of Student's t, as printed in
# standard tables (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2), to the digits printed there.
T_TABLE = {
    (0.975, 1): 12.706, (0.975, 2): 4.303, (0.975, 3): 3.182, (0.975, 4): 2.776,
    (0.975, 5): 2.571, (0.975, 9): 2.262, (0.975, 10): 2.228, (0.975, 19): 2.093,
    (0.975, 29): 2.045, (0.975, 30): 2.042, (0.975, 100): 1.984,
    (0.995, 1): 63.657, (0.995, 4): 4.604, (0.995, 10): 3.169, (0.95, 10): 1.812,
}


@pytest.mark.parametrize(("p", "df"), sorted(T_TABLE))
def test_t_quantile_matches_the_printed_table(p, df):
    assert t_quantile(p, df) == pytest.approx(T_TABLE[(p, df)], abs=5e-4)


def test_t_quantile_to_many_digits():
    # df 1 and 2 from the closed forms below; df 9 checked independently by Simpson's rule on
    # the density (2,000,000 intervals: the distribution function there is 0.975 to 1e-16)
    assert t_quantile(0.975, 1) == pytest.approx(12.706204736174698, rel=1e-12)
    assert t_quantile(0.975, 2) == pytest.approx(4.302652729749464, rel=1e-12)
    assert t_quantile(0.975, 9) == pytest.approx(2.2621571627982027, rel=1e-12)
    # df -> infinity: the normal quantile 1.959963984540054
    assert t_quantile(0.975, 1e7) == pytest.approx(1.959963984540054, rel=1e-6)
    assert t_quantile(0.5, 3) == 0.0
    assert t_quantile(0.025, 5) == -t_quantile(0.975, 5)


@settings(max_examples=150, deadline=None)
@given(st.floats(0.001, 0.999))
def test_t_quantile_closed_forms_for_one_two_and_four_degrees(p):
    # df 1 is the Cauchy distribution: tan(pi (p - 1/2)); df 2: (2p - 1) / sqrt(2 p (1 - p));
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9, abs=1e-12)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)),
                                             rel=1e-9, abs=1e-12)
    # df 4: q = 4 p (1 - p), t = sign(p - 1/2) 2 sqrt(cos(arccos(sqrt q) / 3) / sqrt q - 1)
    q = 4 * p * (1 - p)
    t4 = math.copysign(2 * math.sqrt(math.cos(math.acos(math.sqrt(q)) / 3) / math.sqrt(q) - 1),
                       p - 0.5)
    assert t_quantile(p, 4) == pytest.approx(t4, rel=1e-7, abs=1e-7)


@settings(max_examples=150, deadline=None)
@given(st.floats(-50, 50), st.integers(1, 200))
def test_t_cdf_is_symmetric_and_inverts_the_quantile(t, df):
    assert t_cdf(t, df) + t_cdf(-t, df) == pytest.approx(1.0, abs=1e-12)
    p = t_cdf(t, df)
    if 1e-9 < p < 1 - 1e-9:
        assert t_quantile(p, df) == pytest.approx(t, rel=1e-7, abs=1e-7)


def test_regularized_beta_closed_forms():
    # I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b
    for x in (0.0, 0.1, 0.5, 0.93, 1.0):
        assert regularized_beta(1, 1, x) == pytest.approx(x, abs=1e-14)
        assert regularized_beta(3.5, 1, x) == pytest.approx(x ** 3.5, abs=1e-14)
        assert regularized_beta(1, 4, x) == pytest.approx(1 - (1 - x) ** 4, abs=1e-14)


def test_t_quantile_refuses_nonsense():
    with pytest.raises(ValueError, match="p must be"):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0.9, 0)


# --------------------------------------------------------------------- paired statistics


def test_paired_difference_by_hand():
    # diffs 1, 2, 2, 5: mean 2.5; deviations -1.5 -.5 -.5 2.5, squares sum 9, sd sqrt(9/3)
    # half width t(.975, 3) * sqrt(3) / sqrt(4) = 3.182446305284263 * 0.8660254037844386
    r = paired_difference("x", [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 5.0, 9.0])
    half = 3.182446305284263 * math.sqrt(3) / 2
    assert (r.n, r.mean_a, r.mean_b, r.mean_diff) == (4, 2.5, 5.0, 2.5)
    assert r.std_diff == pytest.approx(math.sqrt(3))
    assert r.ci_low == pytest.approx(2.5 - half)
    assert r.ci_high == pytest.approx(2.5 + half)


def test_paired_difference_skips_undefined_pairs():
    # seed 2 has no value under B: the pairs are (1, 3) and (5, 6) -> diffs 2 and 1
    r = paired_difference("x", [1.0, 2.0, 5.0], [3.0, None, 6.0])
    assert (r.n, r.mean_a, r.mean_b, r.mean_diff) == (2, 3.0, 4.5, 1.5)
    one = paired_difference("x", [1.0], [4.0])
    assert (one.n, one.mean_diff, one.ci_low, one.ci_high) == (1, 3.0, None, None)
    none = paired_difference("x", [None, None], [1.0, 2.0])
    assert (none.n, none.mean_diff, none.mean_a) == (0, None, None)


def test_confidence_intervals_cover_the_true_mean_95_percent_of_the_time():
    # 4,000 samples of 5 paired differences ~ N(3, 2^2): the t interval covers 3 in about
    # 95 % of them (binomial sd 0.34 %); a normal (z) interval would cover only about 88 %.
    rng = np.random.default_rng(2024)
    covered = 0
    trials = 4000
    for _ in range(trials):
        a = rng.normal(100, 10, 5)
        b = a + rng.normal(3, 2, 5)
        r = paired_difference("x", a.tolist(), b.tolist())
        covered += r.ci_low <= 3 <= r.ci_high
    assert 0.94 <= covered / trials <= 0.96


# --------------------------------------------------------------------- comparisons


def fake_run(calls: list | None = None):
    """A stand-in for run_year: figures from the seed's noise and the rules' Net CONE."""

    def run(rules, seed, scale=None):
        if calls is not None:
            calls.append((rules.meta.name, seed, scale))
        noise = np.random.default_rng(seed).normal(0, 1, 3)
        cone = rules.capacity.net_cone_yuan_per_kw_yr
        return SimpleNamespace(summary={
            "energy": {"avg_price_yuan_per_mwh": 300.0 + 10 * noise[0] - 0.05 * cone,
                       "stress_hours": int(20 + 3 * abs(noise[1]))},
            "capacity": {"clearing_price_yuan_per_kw_yr": cone * (0.9 + 0.01 * noise[2])},
            "rules_name": rules.meta.name,
        })

    return run


METRICS = ("energy.avg_price_yuan_per_mwh", "energy.stress_hours",
           "capacity.clearing_price_yuan_per_kw_yr")


def test_a_rule_set_compared_with_itself_differs_by_exactly_zero():
    rules = load_preset("mengxi")
    calls: list = []
    c = compare_rules(rules, rules, seeds=[3, 4, 5, 6], scale=0.01, metrics=METRICS,
                      run=fake_run(calls))
    assert len(calls) == 8  # both sides really ran, on the same seeds
    assert sorted(calls) == sorted([("mengxi", s, 0.01) for s in (3, 4, 5, 6)] * 2)
    for r in c.rows:
        assert (r.n, r.mean_diff, r.std_diff, r.ci_low, r.ci_high) == (4, 0.0, 0.0, 0.0, 0.0)


def test_a_change_shows_in_the_right_metric_with_the_paired_noise_removed():
    a = load_preset("mengxi")
    b = a.with_overrides({"capacity.net_cone_yuan_per_kw_yr": 300})
    c = compare_rules(a, b, seeds=range(6), metrics=METRICS, run=fake_run())
    rows = {r.metric: r for r in c.rows}
    price = rows["energy.avg_price_yuan_per_mwh"]
    # the seed's noise cancels in each pair: every difference is -0.05 * (300 - 330) = 1.5
    assert price.mean_diff == pytest.approx(1.5)
    assert price.ci_low == pytest.approx(1.5) and price.ci_high == pytest.approx(1.5)
    assert rows["energy.stress_hours"].mean_diff == 0.0
    cap = rows["capacity.clearing_price_yuan_per_kw_yr"]
    assert cap.ci_low < cap.mean_diff < cap.ci_high
    assert cap.mean_diff == pytest.approx(-30 * 0.9, abs=1.0)
    assert c.sha256_a == a.sha256() and c.sha256_b == b.sha256()


def test_comparison_refuses_bad_input_before_running():
    rules = load_preset("mengxi")
    calls: list = []
    with pytest.raises(StudyInputError, match="no seeds"):
        compare_rules(rules, rules, seeds=[], run=fake_run(calls))
    with pytest.raises(StudyInputError, match="repeat"):
        compare_rules(rules, rules, seeds=[1, 1], run=fake_run(calls))
    assert calls == []
    with pytest.raises(StudyInputError, match="energy.nope"):
        compare_rules(rules, rules, seeds=[1, 2, 3], metrics=("energy.nope",),
                      run=fake_run(calls))
    assert len(calls) == 1  # stopped at the first year


def test_write_comparison_files(tmp_path: Path):
    a = load_preset("mengxi")
    b = a.with_overrides({"capacity.net_cone_yuan_per_kw_yr": 300, "meta.name": "cone-300"})
    c = compare_rules(a, b, seeds=range(4), metrics=METRICS, run=fake_run())
    paths = write_comparison(c, tmp_path)
    with paths["csv"].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["metric"] for r in rows] == list(METRICS)
    assert float(rows[0]["mean_diff"]) == c.rows[0].mean_diff  # written to the last digit
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["b"]["rules_name"] == "cone-300"
    assert data["seeds"] == [0, 1, 2, 3]
    assert data["values_b"]["energy.avg_price_yuan_per_mwh"] == \
        c.values_b["energy.avg_price_yuan_per_mwh"]
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same comparison writes the same bytes
    again = write_comparison(c, tmp_path / "again")
    for kind in ("csv", "json", "png"):
        assert again[kind].read_bytes() == paths[kind].read_bytes()


# --------------------------------------------------------------------- real years


@pytest.mark.slow
def test_real_years_compared_with_themselves_differ_by_exactly_zero():
    rules = load_preset("mengxi")
    c = compare_rules(rules, rules, seeds=[0, 2], scale=0.02)
    assert len(c.rows) == len(c.metrics) > 10
    for r in c.rows:
        assert r.mean_diff in (0.0, None), r
        if r.n >= 2:
            assert (r.std_diff, r.ci_low, r.ci_high) == (0.0, 0.0, 0.0), r
    assert {r.metric: r.n for r in c.rows}["energy.avg_price_yuan_per_mwh"] == 2


@pytest.mark.slow
def test_real_years_without_a_capacity_market():
    # a fixed Net CONE (330) so that A pays for capacity at this small scale, where the
    # derived Net CONE (Gross CONE less the reference unit's energy margin) can be 0
    a = load_preset("mengxi").with_overrides({"capacity.net_cone_method": "fixed"})
    b = load_preset("no-capacity-market")
    c = compare_rules(a, b, seeds=[0, 1], scale=0.01)
    rows = {r.metric: r for r in c.rows}
    # no clearing price under B: nothing to pair
    assert rows["capacity.clearing_price_yuan_per_kw_yr"].n == 0
    assert rows["capacity.clearing_price_yuan_per_kw_yr"].mean_diff is None
    # consumers stop paying for capacity
    cap_cost = rows["consumer_cost_yuan.capacity"]
    assert cap_cost.mean_b == 0.0 and cap_cost.mean_diff == -cap_cost.mean_a < 0
