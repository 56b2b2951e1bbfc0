"""Hourly profiles of a year for a synthesised fleet: load, wind and solar capacity factors, and
forced outages of coal units.

Hours follow the calendar in China standard time (UTC+8): hour ``t`` covers
``[t, t + 1)`` hours after 1 January 00:00 local time, so a year has 8,760 hours, or 8,784 in a
leap year (real weekdays, months and solar positions; downstream code takes the length and the
month of each hour from :class:`Profiles`, never a constant 8,760).

* **Load**: a seasonal level (winter heating peak in January, a smaller summer cooling peak in
  July, lows in spring and autumn), a daily shape that moves from a winter evening peak to a
  summer afternoon peak, weekends lower, and multiplicative AR(1) noise (an hourly and a slow
  multi-day component). Scaled so the system peak is exactly the fleet's peak load. Each load
  gets its peak share of the system load with its own AR(1) wobble; loads always add up to the
  system load.
* **Wind**: per unit, two AR(1) Gaussian weather components (a shared regional part and the
  unit's own) whose norm is a Rayleigh wind speed (Weibull k = 2), scaled by season (windiest
  in late winter and spring), through a cut-in / rated / cut-out power curve.
* **Solar**: clear-sky output of a south-facing tilted panel from the sun's position at the
  site (latitude, longitude, UTC+8: solar noon is near 12:36 CST), averaged over four points of
  each hour, times a cloud transmittance from AR(1) weather (cloudier in summer). Exactly 0
  when the sun is below the horizon all hour.
* **Outages**: :func:`agents.outages.forced_outages` for every coal unit.

**Weather apart from rules.** The hours, calendar (weekdays, months) and every random draw
come from the *weather year* (the rules' ``meta.weather_year``, carried by the fleet as
``synth.weather_year``) and the seed, never from the year the rules settle: a preset that
changes ``meta.year`` and nothing else of the fleet or the profile rules sees the same load,
wind, solar and outages. The profiles are labelled with the rules' year (``Profiles.year``,
the ledger's periods) and record the weather year they replay (``Profiles.weather_year``).

Randomness comes from four generators spawned from ``(seed, weather year)`` (load, wind, solar,
outages), so changing one model leaves the others' draws alone; the same synthesis, weather
year and seed give byte-identical arrays. Every estimate of the models is a rule [E]
(``agents.load_profile``, ``agents.wind_profile``, ``agents.solar_profile``,
``agents.outages``: the fleet's ``synth.agents`` unless other :class:`~market.rules.AgentRules`
are given); what is left in code is physics (solar geometry, the Kasten-Young air mass,
Meinel's clear-sky beam).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from agents.fleet import SynthFleet
from agents.outages import forced_outages
from clearing.config import NJIT
from market.errors import SynthesisError
from market.rules import AgentRules, LoadProfileRules, SolarProfileRules, WindProfileRules

#: Solar constant, W/m2.
SOLAR_CONSTANT = 1361.0
#: Irradiance at which a panel makes its rated output, W/m2 (standard test conditions).
RATED_IRRADIANCE = 1000.0
#: Meinel's clear-sky beam: SOLAR_CONSTANT x MEINEL_BASE ** (air mass ** MEINEL_EXPONENT).
MEINEL_BASE = 0.7
MEINEL_EXPONENT = 0.678


@dataclass(frozen=True, eq=False)
class Profiles:
    """A year of hourly profiles for one :class:`~agents.fleet.SynthFleet` (read-only arrays).

    Calendar, shape (n_hours,): ``month`` int64 1-12, ``month_index`` int64 0-11 (what
    :func:`market.compensation.scheme.count_failures` takes), ``day_of_year`` int64 1-366,
    ``hour_of_day`` int64 0-23, ``weekday`` int64 (0 = Monday), ``weekend`` bool,
    ``heating_season`` bool (the fleet's heating-season months).

    * ``load_mw`` float64 (n_hours, n_loads), MW, columns in ``synth.load_ids`` order;
      ``system_load_mw`` float64 (n_hours,): the system load the loads add up to (to
      rounding); its peak is exactly ``synth.peak_load_mw``.
    * ``wind_cf`` float64 (n_hours, n_wind) in [0, 1], columns follow ``synth.wind_index``.
    * ``solar_cf`` float64 (n_hours, n_solar) in [0, 1], columns follow ``synth.solar_index``.
    * ``outage`` bool (n_hours, n_coal): forced out, columns follow ``synth.coal_index``.

    ``agents``: the rules the profiles were modelled with. ``year`` labels the settlements (the
    rules' year); ``weather_year`` is the year whose calendar and weather were drawn.
    """

    year: int
    seed: int
    month: np.ndarray
    month_index: np.ndarray
    day_of_year: np.ndarray
    hour_of_day: np.ndarray
    weekday: np.ndarray
    weekend: np.ndarray
    heating_season: np.ndarray
    load_mw: np.ndarray
    system_load_mw: np.ndarray
    wind_cf: np.ndarray
    solar_cf: np.ndarray
    outage: np.ndarray
    agents: AgentRules
    weather_year: int

    @property
    def n_hours(self) -> int:
        return len(self.month)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}


@njit(**NJIT)
def _ar1(shocks: np.ndarray, phi: float, out: np.ndarray) -> None:
    """Stationary unit-variance AR(1) down the rows of ``shocks`` (n_hours, k) into ``out``."""
    n_hours, k = shocks.shape
    if n_hours == 0:
        return
    innovation = math.sqrt(1.0 - phi * phi)
    for j in range(k):
        out[0, j] = shocks[0, j]
    for t in range(1, n_hours):
        for j in range(k):
            out[t, j] = phi * out[t - 1, j] + innovation * shocks[t, j]


def ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """float64 (n_hours, k): AR(1) processes with coefficient ``phi`` in [0, 1) driven by
    standard-normal ``shocks`` (n_hours, k); each column is stationary with unit variance."""
    z = np.ascontiguousarray(shocks, dtype=np.float64)
    if z.ndim != 2 or not 0.0 <= phi < 1.0:
        raise SynthesisError([f"ar1 takes shocks (n_hours, k) and phi in [0, 1); got shape "
                              f"{z.shape} and phi {phi!r}"])
    out = np.empty_like(z)
    _ar1(z, float(phi), out)
    return out


def _weather(rng: np.random.Generator, n_hours: int, k: int, phi: float,
             common_share: float) -> np.ndarray:
    """float64 (n_hours, k): unit-variance AR(1) weather, ``common_share`` of the variance
    shared by all k columns."""
    z = ar1(rng.standard_normal((n_hours, k + 1)), phi)
    return math.sqrt(common_share) * z[:, :1] + math.sqrt(1.0 - common_share) * z[:, 1:]


def calendar(year: int) -> dict[str, np.ndarray]:
    """Hourly calendar of ``year`` in local standard time: ``month`` (1-12), ``day_of_year``
    (1-366), ``hour_of_day`` (0-23), ``weekday`` (0 = Monday), all int64 (n_hours,)."""
    start = np.datetime64(f"{year:04d}-01-01T00", "h")
    n_hours = (np.datetime64(f"{year + 1:04d}-01-01T00", "h") - start).astype(np.int64)
    hours = start + np.arange(n_hours)
    days = hours.astype("datetime64[D]")
    return {
        "month": (hours.astype("datetime64[M]").astype(np.int64) % 12 + 1),
        "day_of_year": (days - days[0]).astype(np.int64) + 1,
        "hour_of_day": np.arange(len(hours), dtype=np.int64) % 24,
        # 1970-01-01 was a Thursday.
        "weekday": (days.astype(np.int64) + 3) % 7,
    }


def solar_position(day_of_year: np.ndarray, clock_hour: np.ndarray, latitude_deg: float,
                   longitude_deg: float, utc_offset_hours: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sun position (Spencer 1971 declination and equation of time) at local standard
    ``clock_hour`` (float, 0-24) of ``day_of_year`` (broadcast together).

    Returns float64 arrays ``(sin_elevation, declination_rad, hour_angle_rad)``; the hour
    angle is 0 at local solar noon, about 12:36 CST at 111 deg E (UTC+8).
    """
    g = 2.0 * np.pi / 365.0 * (day_of_year - 1.0 + (clock_hour - 12.0) / 24.0)
    eot_min = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
                        - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    solar_min = clock_hour * 60.0 + 4.0 * (longitude_deg - 15.0 * utc_offset_hours) + eot_min
    hour_angle = np.deg2rad(solar_min / 4.0 - 180.0)
    lat = np.deg2rad(latitude_deg)
    sin_el = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    return sin_el, decl, hour_angle


def clear_sky_cf(day_of_year: np.ndarray, hour_of_day: np.ndarray,
                 a: SolarProfileRules) -> np.ndarray:
    """float64 (n_hours,): clear-sky output per MW of a panel tilted ``panel_tilt_deg``
    towards the equator at the site of ``a``, each hour averaged over four points; 0 when the
    sun is down."""
    clock = hour_of_day[:, None] + np.array([0.125, 0.375, 0.625, 0.875])
    sin_el, decl, hour_angle = solar_position(day_of_year[:, None].astype(np.float64), clock,
                                              a.latitude_deg, a.longitude_deg, a.utc_offset_hours)
    up = sin_el > 0.0
    s = np.where(up, sin_el, 1.0)
    elevation_deg = np.rad2deg(np.arcsin(s))
    air_mass = 1.0 / (s + 0.50572 * (elevation_deg + 6.07995) ** -1.6364)  # Kasten-Young
    beam = SOLAR_CONSTANT * MEINEL_BASE ** (air_mass ** MEINEL_EXPONENT)  # W/m2
    diffuse = a.diffuse_fraction * beam
    tilt = np.deg2rad(a.panel_tilt_deg)
    lat = np.deg2rad(a.latitude_deg)
    toward = -1.0 if a.latitude_deg < 0 else 1.0  # face the equator
    cos_incidence = (np.sin(decl) * np.sin(lat - toward * tilt)
                     + np.cos(decl) * np.cos(hour_angle) * np.cos(lat - toward * tilt))
    plane = beam * np.maximum(cos_incidence, 0.0) + diffuse * (1.0 + np.cos(tilt)) / 2.0
    cf = np.where(up, np.minimum(plane * a.performance_ratio / RATED_IRRADIANCE, 1.0), 0.0)
    return cf.mean(axis=1)


def _bump(hour: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = (hour - centre + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / width) ** 2)


def system_load_shape(cal: dict[str, np.ndarray], a: LoadProfileRules) -> np.ndarray:
    """float64 (n_hours,): the noiseless system load shape (arbitrary units)."""
    hour = cal["hour_of_day"] + 0.5
    x = 2.0 * np.pi * (cal["day_of_year"] - a.coldest_day_of_year + hour / 24.0) / 365.25
    winter, summer = np.maximum(np.cos(x), 0.0), np.maximum(-np.cos(x), 0.0)
    level = 1.0 + a.winter_amplitude * np.cos(x) + a.semiannual_amplitude * np.cos(2 * x)
    evening = _bump(hour, a.evening_hour, a.evening_width_hours)
    daily = (a.night_level + a.daytime_bump * _bump(hour, a.daytime_hour, a.daytime_width_hours)
             + (a.evening_bump + a.winter_evening_bump * winter) * evening
             + a.summer_afternoon_bump * summer
             * _bump(hour, a.summer_afternoon_hour, a.summer_afternoon_width_hours))
    week = np.where(cal["weekday"] >= 5, a.weekend_factor, 1.0)
    return level * daily * week


def _wind_cf(speed: np.ndarray, a: WindProfileRules) -> np.ndarray:
    lo, rated = a.cut_in_m_s ** 3, a.rated_m_s ** 3
    cf = np.clip((speed ** 3 - lo) / (rated - lo), 0.0, 1.0)
    return np.where(speed >= a.cut_out_m_s, 0.0, cf)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def year_profiles(synth: SynthFleet, year: int, seed: int,
                  agents: AgentRules | None = None, *,
                  weather_year: int | None = None) -> Profiles:
    """Hourly load, wind, solar and outage profiles for ``synth``, labelled ``year`` (see the
    module docstring for the models and the hour convention), modelled with ``agents``
    (default: the rules the fleet was synthesised from, ``synth.agents``). The calendar and
    the draws are those of ``weather_year`` (default: the fleet's, ``synth.weather_year``;
    else ``year``) and ``seed``. Raises :class:`~market.errors.SynthesisError` listing every
    bad input."""
    problems = []
    if weather_year is None and isinstance(synth, SynthFleet):
        weather_year = synth.weather_year
    if weather_year is None:
        weather_year = year
    if isinstance(weather_year, bool) or not isinstance(weather_year, int | np.integer) or \
            not 1 <= weather_year <= 9998:
        problems.append(f"weather_year must be an integer in [1, 9998], got {weather_year!r}")
    if not isinstance(synth, SynthFleet):
        problems.append(f"synth must be a SynthFleet (synthesize_fleet), got "
                        f"{type(synth).__name__}")
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or not 1 <= year <= 9998:
        problems.append(f"year must be an integer in [1, 9998], got {year!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(f"seed must be an integer >= 0, got {seed!r}")
    if agents is not None and not isinstance(agents, AgentRules):
        problems.append(f"agents must be AgentRules (rules.agents), got {type(agents).__name__}")
    if problems:
        raise SynthesisError(problems)
    rules = synth.agents if agents is None else agents
    load, wind, solar = rules.load_profile, rules.wind_profile, rules.solar_profile

    cal = calendar(int(weather_year))
    n_hours = len(cal["month"])
    load_rng, wind_rng, solar_rng, outage_rng = (
        np.random.default_rng(s)
        for s in np.random.SeedSequence([int(seed), int(weather_year)]).spawn(4))

    # Load: system shape x noise, scaled to the peak; split among loads by share x wobble.
    noise = ar1(load_rng.standard_normal((n_hours, 1)), load.noise_autocorrelation)[:, 0] \
        * load.noise_sigma
    noise += ar1(load_rng.standard_normal((n_hours, 1)), load.weather_autocorrelation)[:, 0] \
        * load.weather_sigma
    system = system_load_shape(cal, load) * np.exp(noise)
    peak_hour = int(np.argmax(system))
    system *= synth.peak_load_mw / system[peak_hour]
    system[peak_hour] = synth.peak_load_mw
    wobble = ar1(load_rng.standard_normal((n_hours, synth.n_loads)), load.split_autocorrelation)
    weight = synth.load_peak_share * np.exp(load.split_sigma * wobble)
    load_mw = system[:, None] * (weight / weight.sum(axis=1, keepdims=True))

    # Wind: Rayleigh speed from two Gaussian weather components, seasonal scale, power curve.
    n_wind = len(synth.wind_index)
    u = _weather(wind_rng, n_hours, n_wind, wind.autocorrelation, wind.regional_share)
    v = _weather(wind_rng, n_hours, n_wind, wind.autocorrelation, wind.regional_share)
    season = 1.0 + wind.seasonal_amplitude * np.cos(
        2.0 * np.pi * (cal["day_of_year"] - wind.peak_day_of_year) / 365.25)
    sigma = wind.mean_speed_m_s / math.sqrt(math.pi / 2.0) * season
    wind_cf = _wind_cf(sigma[:, None] * np.sqrt(u * u + v * v), wind)

    # Solar: clear sky x cloud transmittance (logistic of AR(1) weather, cloudier in summer).
    n_solar = len(synth.solar_index)
    clouds = _weather(solar_rng, n_hours, n_solar, solar.cloud_autocorrelation,
                      solar.cloud_regional_share)
    summer = np.maximum(-np.cos(2.0 * np.pi * (cal["day_of_year"] - solar.driest_day_of_year)
                                / 365.25), 0.0)
    logit = (solar.cloud_clear_logit - solar.cloud_summer_drop * summer)[:, None] \
        + solar.cloud_sigma * clouds
    solar_cf = clear_sky_cf(cal["day_of_year"], cal["hour_of_day"], solar)[:, None] / (
        1.0 + np.exp(-logit))

    outage = forced_outages(n_hours, len(synth.coal_index), outage_rng,
                            forced_outage_rate=rules.outages.forced_outage_rate,
                            mean_outage_hours=rules.outages.mean_outage_hours)
    weekday = cal["weekday"]
    return Profiles(
        year=int(year), seed=int(seed),
        month=_frozen(cal["month"]), month_index=_frozen(cal["month"] - 1),
        day_of_year=_frozen(cal["day_of_year"]), hour_of_day=_frozen(cal["hour_of_day"]),
        weekday=_frozen(weekday), weekend=_frozen(weekday >= 5),
        heating_season=_frozen(np.isin(cal["month"], synth.heating_season_months)),
        load_mw=_frozen(load_mw), system_load_mw=_frozen(system),
        wind_cf=_frozen(wind_cf), solar_cf=_frozen(solar_cf), outage=_frozen(outage),
        agents=rules, weather_year=int(weather_year))
