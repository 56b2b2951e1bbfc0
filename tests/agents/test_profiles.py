"""Hourly profiles of a year: load, wind, solar and forced outages of coal units.

Statistical checks use fixed seeds and bounds several standard deviations wide; they can fail
(a wrong model, a lost autocorrelation, a mis-scaled rate), they just do not fail by chance.
Solar geometry is checked against textbook values for 40.8 deg N: noon elevation
90 - latitude + declination (49.2 deg at the equinoxes, 72.6 at the June solstice, 25.8 at the
December solstice), solar noon near 12:36 China standard time at 111 deg E.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.fleet import synthesize_fleet
from agents.outages import forced_outages
from agents.profiles import (
    Profiles,
    ar1,
    calendar,
    clear_sky_cf,
    solar_position,
    year_profiles,
)
from market.errors import RulesError, SynthesisError
from market.rules import load_preset

RULES = load_preset("mengxi")
FULL = synthesize_fleet(RULES, seed=3)
SMALL = synthesize_fleet(RULES, seed=3, scale=0.01)
LAT = RULES.agents.solar_profile.latitude_deg


@pytest.fixture(scope="module")
def year() -> Profiles:
    return year_profiles(FULL, 2025, seed=21)


def _same(a: Profiles, b: Profiles) -> bool:
    x, y = a.arrays(), b.arrays()
    return x.keys() == y.keys() and all(
        x[k].dtype == y[k].dtype and x[k].shape == y[k].shape and x[k].tobytes() == y[k].tobytes()
        for k in x)


def _lag1(x: np.ndarray) -> np.ndarray:
    """Lag-1 autocorrelation of each column."""
    x = x - x.mean(axis=0)
    return (x[1:] * x[:-1]).sum(axis=0) / (x * x).sum(axis=0)


# --- reproducibility and shapes ---------------------------------------------------------------


def test_same_seed_gives_byte_identical_profiles(year):
    assert _same(year, year_profiles(FULL, 2025, seed=21))


def test_different_seed_changes_every_random_profile(year):
    other = year_profiles(FULL, 2025, seed=22)
    for name in ("load_mw", "wind_cf", "solar_cf", "outage"):
        assert not np.array_equal(getattr(year, name), getattr(other, name)), name
    assert np.array_equal(year.month, other.month)


def test_shapes_and_dtypes(year):
    n = 8760
    assert year.n_hours == n
    assert year.load_mw.shape == (n, 50) and year.load_mw.dtype == np.float64
    assert year.wind_cf.shape == (n, 80) and year.solar_cf.shape == (n, 50)
    assert year.outage.shape == (n, 70) and year.outage.dtype == np.bool_
    for a in year.arrays().values():
        assert not a.flags.writeable


def test_leap_year_has_8784_hours():
    p = year_profiles(SMALL, 2024, seed=0, weather_year=2024)
    assert p.n_hours == 8784 and p.load_mw.shape == (8784, SMALL.n_loads)
    assert np.count_nonzero(p.month == 2) == 29 * 24
    assert (p.year, p.weather_year) == (2024, 2024)


# --- weather apart from rules (issue 9, item 6) -------------------------------------------


def test_the_weather_year_not_the_rules_year_draws_the_profiles():
    # The fleet carries the rules' meta.weather_year (2025 in the mengxi preset): profiles
    # labelled 2026 replay 2025's calendar and weather.
    assert SMALL.weather_year == RULES.meta.weather_year == 2025
    a, b = year_profiles(SMALL, 2025, seed=4), year_profiles(SMALL, 2026, seed=4)
    assert (b.year, b.weather_year) == (2026, 2025)
    for name in ("load_mw", "wind_cf", "solar_cf", "outage", "weekday", "month"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    # another weather year is other weather (and its own calendar)
    c = year_profiles(SMALL, 2025, seed=4, weather_year=2023)
    assert c.weekday[0] == 6  # 1 Jan 2023 was a Sunday
    for name in ("load_mw", "wind_cf", "solar_cf", "outage"):
        assert not np.array_equal(getattr(a, name), getattr(c, name)), name


def test_presets_that_change_the_rules_year_keep_the_weather():
    # mengxi-2026 changes meta.year (and compensation, storage rules), not the weather.
    base, later = load_preset("mengxi"), load_preset("mengxi-2026")
    assert later.meta.year == 2026 and later.meta.weather_year == base.meta.weather_year
    pa = year_profiles(synthesize_fleet(base, 9, 0.01), base.meta.year, seed=17)
    pb = year_profiles(synthesize_fleet(later, 9, 0.01), later.meta.year, seed=17)
    for name in ("load_mw", "system_load_mw", "wind_cf", "solar_cf", "outage"):
        assert np.array_equal(getattr(pa, name), getattr(pb, name)), name
    assert (pa.year, pb.year) == (2025, 2026)


def test_bad_weather_year_refused():
    with pytest.raises(SynthesisError, match="weather_year"):
        year_profiles(SMALL, 2025, seed=0, weather_year=0)


def test_fleet_without_wind_gets_empty_wind_columns():
    rules = RULES.with_overrides({"fleet.wind.unit_count": 0})
    p = year_profiles(synthesize_fleet(rules, 1, scale=0.05), 2025, seed=0)
    assert p.wind_cf.shape == (8760, 0) and p.solar_cf.shape == (8760, 5)  # at least 5 units


def test_calendar():
    cal = calendar(2025)
    assert cal["weekday"][0] == 2  # 1 Jan 2025 was a Wednesday
    assert cal["weekday"][24 * 4] == 6  # Sunday 5 Jan
    assert np.array_equal(np.bincount(cal["month"])[1:] // 24,
                          [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    assert cal["day_of_year"][-1] == 365 and cal["hour_of_day"][-1] == 23


def test_heating_season_and_month_index(year):
    assert np.array_equal(year.heating_season, np.isin(year.month, (1, 2, 3, 11, 12)))
    assert np.array_equal(year.month_index, year.month - 1)
    assert year.weekend.mean() == pytest.approx(104 / 365)  # 2025 has 52 weekends


# --- load ----------------------------------------------------------------------------------


def test_load_peak_is_the_target(year):
    assert year.system_load_mw.max() == 45_000.0
    assert year.load_mw.sum(axis=1).max() == pytest.approx(45_000.0, rel=1e-12)
    assert np.allclose(year.load_mw.sum(axis=1), year.system_load_mw, rtol=1e-12)
    assert np.all(year.load_mw > 0)
    assert year_profiles(SMALL, 2025, seed=1).system_load_mw.max() == pytest.approx(450.0)


def test_load_weekday_above_weekend(year):
    load = year.system_load_mw
    assert load[~year.weekend].mean() > 1.02 * load[year.weekend].mean()


def test_winter_evening_and_summer_afternoon_peaks(year):
    load, month, hour = year.system_load_mw, year.month, year.hour_of_day

    def peak(months):
        return load[np.isin(month, months)].max()

    assert peak([12, 1, 2]) > 1.05 * peak([4, 5])
    assert peak([12, 1, 2]) > 1.05 * peak([9, 10])
    assert peak([7, 8]) > 1.05 * peak([4, 5])
    assert month[load.argmax()] in (11, 12, 1, 2)
    january = [load[(month == 1) & (hour == h)].mean() for h in range(24)]
    july = [load[(month == 7) & (hour == h)].mean() for h in range(24)]
    assert 17 <= int(np.argmax(january)) <= 20  # winter evening
    assert 12 <= int(np.argmax(july)) <= 17  # summer afternoon
    assert int(np.argmin(january)) <= 5 and int(np.argmin(july)) <= 5  # night trough


def test_each_load_keeps_its_share(year):
    share = year.load_mw.sum(axis=0) / year.load_mw.sum()
    assert np.allclose(share, FULL.load_peak_share, rtol=0.05)


# --- wind ----------------------------------------------------------------------------------


def test_wind_capacity_factors(year):
    cf = year.wind_cf
    assert np.all((cf >= 0) & (cf <= 1))
    assert 0.20 <= cf.mean() <= 0.40
    assert np.all(_lag1(cf) > 0.9)
    corr = np.corrcoef(cf.T)[np.triu_indices(cf.shape[1], 1)]
    assert 0.2 < corr.mean() < 0.9  # a common weather component, not one identical series
    # The season shows over a few weather years (one year's ratio ranges about 1.1-1.8: the
    # regional weather is slow and shared, so a single year is a handful of draws).
    ratios = []
    for seed in range(21, 25):
        p = year if seed == 21 else year_profiles(FULL, 2025, seed=seed)
        ratios.append(p.wind_cf[np.isin(p.month, [12, 1, 2, 3, 4])].mean()
                      / p.wind_cf[np.isin(p.month, [6, 7, 8, 9])].mean())
    assert np.mean(ratios) > 1.3


def test_wind_over_seeds_stays_plausible():
    means = [year_profiles(FULL, 2025, seed=s).wind_cf.mean() for s in range(4)]
    assert all(0.20 <= m <= 0.40 for m in means)


# --- solar ---------------------------------------------------------------------------------


def test_solar_zero_at_night_and_in_unit_range(year):
    cf = year.solar_cf
    assert np.all((cf >= 0) & (cf <= 1))
    night = np.isin(year.hour_of_day, [0, 1, 2, 3, 21, 22, 23])
    assert np.all(cf[night] == 0.0)
    # Zero exactly whenever the sun stays below the horizon for the whole hour.
    quarter = year.hour_of_day[:, None] + np.linspace(0.0, 1.0, 9)
    sin_el, _, _ = solar_position(year.day_of_year[:, None].astype(float), quarter, LAT,
                                  111.0, 8.0)
    assert np.all(cf[(sin_el <= 0).all(axis=1)] == 0.0)
    assert np.all(cf[(sin_el > 0.2).all(axis=1)] > 0.0)


def test_solar_annual_capacity_factor_and_noon_peak(year):
    cf = year.solar_cf
    assert 0.10 <= cf.mean() <= 0.25
    by_hour = [cf[year.hour_of_day == h].mean() for h in range(24)]
    assert int(np.argmax(by_hour)) == 12  # 12:00-13:00 holds solar noon (about 12:36 CST)


def test_solar_day_length_follows_the_season(year):
    lit = (year.solar_cf[:, 0] > 0).reshape(365, 24).sum(axis=1)
    june, december = lit[160:180].mean(), lit[345:365].mean()
    assert june >= december + 4  # about 15 h vs 9 h of daylight at 40.8 N


def test_solar_clouds_correlate_units(year):
    cf = year.solar_cf
    assert np.corrcoef(cf[:, 0], cf[:, 1])[0, 1] > 0.5
    assert not np.array_equal(cf[:, 0], cf[:, 1])


@pytest.mark.parametrize(("day", "noon_elevation"), [
    (80, 49.2),   # March equinox: 90 - 40.8
    (172, 72.6),  # June solstice: + 23.44
    (355, 25.8),  # December solstice: - 23.44
])
def test_solar_noon_elevation(day, noon_elevation):
    clock = np.linspace(10.0, 15.0, 3001)
    sin_el, _, _ = solar_position(np.full_like(clock, day), clock, LAT, 111.0, 8.0)
    assert np.degrees(np.arcsin(sin_el.max())) == pytest.approx(noon_elevation, abs=0.7)


def test_solar_noon_near_12_36_cst():
    clock = np.linspace(11.0, 14.0, 18001)
    # Mid-April and early September: the equation of time is near zero.
    for day in (105, 244):
        sin_el, _, _ = solar_position(np.full_like(clock, day), clock, LAT, 111.0, 8.0)
        assert clock[np.argmax(sin_el)] == pytest.approx(12.6, abs=0.05)


def test_clear_sky_cf_shape():
    cal = calendar(2025)
    cf = clear_sky_cf(cal["day_of_year"], cal["hour_of_day"], RULES.agents.solar_profile)
    assert cf.shape == (8760,) and 0.7 < cf.max() < 0.95
    assert 0.18 <= cf.mean() <= 0.30  # before clouds


# --- AR(1) ---------------------------------------------------------------------------------


def _ar1_reference(shocks: np.ndarray, phi: float) -> np.ndarray:
    out = np.empty_like(shocks)
    scale = (1.0 - phi * phi) ** 0.5
    for t in range(len(shocks)):
        out[t] = shocks[t] if t == 0 else phi * out[t - 1] + scale * shocks[t]
    return out


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 60), k=st.integers(0, 4), phi=st.floats(0.0, 0.999),
       seed=st.integers(0, 2**32))
def test_ar1_matches_reference(n, k, phi, seed):
    shocks = np.random.default_rng(seed).standard_normal((n, k))
    assert np.allclose(ar1(shocks, phi), _ar1_reference(shocks, phi), rtol=1e-12, atol=1e-12)


def test_ar1_statistics():
    z = ar1(np.random.default_rng(0).standard_normal((200_000, 2)), 0.97)
    assert np.allclose(_lag1(z), 0.97, atol=0.005)
    assert np.allclose(z.var(axis=0), 1.0, atol=0.1)


def test_ar1_refuses_a_unit_root():
    with pytest.raises(SynthesisError):
        ar1(np.zeros((3, 1)), 1.0)


# --- forced outages ------------------------------------------------------------------------


def _outage_lengths(out: np.ndarray) -> np.ndarray:
    edges = np.diff(np.vstack([np.zeros((1, out.shape[1]), bool), out,
                               np.zeros((1, out.shape[1]), bool)]).astype(np.int8), axis=0)
    starts, ends = np.nonzero(edges.T == 1), np.nonzero(edges.T == -1)
    return ends[1] - starts[1]


def test_outage_rate_and_length_match_the_parameters():
    out = forced_outages(8760, 400, np.random.default_rng(5))
    # Per-unit yearly outage share has sd ~0.023 (spells of ~50 h); 400 units: sd ~0.0011.
    assert out.mean() == pytest.approx(0.05, abs=0.006)
    assert _outage_lengths(out).mean() == pytest.approx(50.0, abs=5.0)
    other = forced_outages(8760, 400, np.random.default_rng(5), forced_outage_rate=0.10,
                           mean_outage_hours=20.0)
    assert other.mean() == pytest.approx(0.10, abs=0.008)
    assert _outage_lengths(other).mean() == pytest.approx(20.0, abs=2.0)


def test_outages_in_profiles(year):
    assert 0.02 < year.outage.mean() < 0.08  # 70 units, FOR 5 %
    assert year.outage.any(axis=0).mean() > 0.5  # most units fail at least once a year
    big = year_profiles(synthesize_fleet(RULES, 1, scale=6.0), 2025, seed=2)
    assert big.outage.shape == (8760, 420)
    assert big.outage.mean() == pytest.approx(0.05, abs=0.006)


def test_zero_outage_rate_means_no_outages():
    no_outages = RULES.with_overrides({"agents.outages.forced_outage_rate": 0.0})
    p = year_profiles(SMALL, 2025, 4, no_outages.agents)
    assert not p.outage.any()
    # The fleet carries its rules' assumptions: year_profiles uses them by default.
    assert not year_profiles(synthesize_fleet(no_outages, 3, 0.01), 2025, 4).outage.any()
    assert year_profiles(SMALL, 2025, 4).outage.any()


def test_the_profile_rules_reach_the_profiles(year):
    """Each table of the agents' rules changes the profile it models, and only that one."""
    def with_(key, value):
        rules = RULES.with_overrides({key: value})
        return year_profiles(FULL, 2025, 21, rules.agents)

    calm = with_("agents.wind_profile.mean_speed_m_s", 5.0)
    assert calm.wind_cf.mean() < year.wind_cf.mean() - 0.03
    assert np.array_equal(calm.solar_cf, year.solar_cf)
    assert np.array_equal(calm.load_mw, year.load_mw)
    north = with_("agents.solar_profile.latitude_deg", 50.0)
    assert north.solar_cf.mean() < year.solar_cf.mean()
    assert np.array_equal(north.wind_cf, year.wind_cf)
    flat_weekends = with_("agents.load_profile.weekend_factor", 1.0)
    load = flat_weekends.system_load_mw
    assert not np.array_equal(load, year.system_load_mw)
    assert load[flat_weekends.weekend].mean() > year.system_load_mw[year.weekend].mean()
    assert np.array_equal(flat_weekends.outage, year.outage)
    frequent = with_("agents.outages.forced_outage_rate", 0.15)
    assert frequent.outage.mean() > 2 * year.outage.mean()
    assert np.array_equal(frequent.load_mw, year.load_mw)
    assert frequent.agents.outages.forced_outage_rate == 0.15


@pytest.mark.parametrize(("rate", "hours"), [(1.0, 50.0), (-0.1, 50.0), (0.05, 0.5),
                                             (0.9, 2.0), (0.05, float("nan"))])
def test_bad_outage_parameters_refused(rate, hours):
    with pytest.raises(SynthesisError):
        forced_outages(10, 2, np.random.default_rng(0), forced_outage_rate=rate,
                       mean_outage_hours=hours)


# --- refusals ------------------------------------------------------------------------------


def test_bad_inputs_reported_at_once():
    with pytest.raises(SynthesisError) as err:
        year_profiles(SMALL, 0, -1, RULES)  # type: ignore[arg-type]
    text = str(err.value)
    for word in ("year", "seed", "AgentRules"):
        assert word in text
    with pytest.raises(SynthesisError, match="SynthFleet"):
        year_profiles(FULL.fleet, 2025, 0)  # type: ignore[arg-type]


def test_unusable_profile_parameters_are_refused_by_the_rules_all_at_once():
    with pytest.raises(RulesError) as err:
        RULES.with_overrides({
            "agents.wind_profile.autocorrelation": 1.0,
            "agents.solar_profile.cloud_regional_share": 2.0,
            "agents.wind_profile.rated_m_s": 30.0,
            "agents.load_profile.winter_amplitude": 0.6,
            "agents.load_profile.semiannual_amplitude": 0.5,
            "agents.outages.forced_outage_rate": 0.9,
            "agents.outages.mean_outage_hours": 2.0,
        })
    paths = {p.path for p in err.value.problems}
    assert paths == {
        "agents.wind_profile.autocorrelation",
        "agents.solar_profile.cloud_regional_share",
        "agents.wind_profile.rated_m_s",  # above cut-out
        "agents.load_profile.semiannual_amplitude",  # the seasonal level would reach 0
        "agents.outages.mean_outage_hours",  # under an hour in service between outages
    }
