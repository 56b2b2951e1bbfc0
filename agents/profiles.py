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

Randomness comes from four generators spawned from ``seed`` (load, wind, solar, outages), so
changing one model leaves the others' draws alone; the same synthesis, year and seed give
byte-identical arrays. Every number of the models is a field of :class:`ProfileAssumptions`,
an [E] estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from agents.fleet import SynthFleet
from agents.outages import FORCED_OUTAGE_RATE, MEAN_OUTAGE_HOURS, forced_outages, outage_problems
from clearing.config import NJIT
from market.errors import SynthesisError

#: Solar constant, W/m2.
SOLAR_CONSTANT = 1361.0
#: Irradiance at which a panel makes its rated output, W/m2 (standard test conditions).
RATED_IRRADIANCE = 1000.0


@dataclass(frozen=True)
class ProfileAssumptions:
    """Parameters of the profile models, all [E] estimates (Mengxi: Hohhot/Baotou area)."""

    # Load. Seasonal level 1 + winter cos(2 pi x) + semiannual cos(4 pi x), x from mid-January.
    load_winter_amplitude: float = 0.04
    load_semiannual_amplitude: float = 0.05
    load_base: float = 0.80
    """Night level of the daily shape (shares of the daily peak shape)."""
    load_daytime_bump: float = 0.10
    """Industrial and commercial daytime bump, centred at 11:00."""
    load_evening_bump: float = 0.06
    """Evening (lighting) bump, centred at 19:00, all year."""
    load_winter_evening_bump: float = 0.10
    """Extra winter evening bump (heating), scaled by how wintry the day is."""
    load_summer_afternoon_bump: float = 0.12
    """Summer afternoon bump (cooling) centred at 15:00, scaled by how summery the day is."""
    weekend_factor: float = 0.95
    """Saturday and Sunday load relative to a weekday."""
    load_noise_sigma: float = 0.015
    load_noise_ar: float = 0.9
    load_weather_sigma: float = 0.02
    load_weather_ar: float = 0.995
    """Slow (multi-day) load weather, e.g. cold spells."""
    load_split_sigma: float = 0.05
    load_split_ar: float = 0.95
    """Each load's own wobble around its share of the system load."""

    # Wind.
    wind_mean_speed_m_s: float = 6.8
    wind_seasonal_amplitude: float = 0.15
    wind_peak_day_of_year: float = 75.0
    """Windiest day of the year (mid-March: winter and spring windy, late summer calm)."""
    wind_ar: float = 0.98
    """Hour-to-hour autocorrelation of the Gaussian weather components."""
    wind_common_share: float = 0.7
    """Share of each unit's weather variance that is regional (common to all units)."""
    wind_cut_in_m_s: float = 3.0
    wind_rated_m_s: float = 11.5
    wind_cut_out_m_s: float = 25.0

    # Solar.
    latitude_deg: float = 40.8
    longitude_deg: float = 111.0
    utc_offset_hours: float = 8.0
    panel_tilt_deg: float = 35.0
    solar_performance_ratio: float = 0.85
    """AC output per unit of plane-of-array irradiance / 1000 W/m2 (losses, inverter)."""
    cloud_clear_logit: float = 1.6
    """Mean logit of the cloud transmittance in winter (clear, dry)."""
    cloud_summer_drop: float = 0.6
    """How much lower the logit is at midsummer (monsoon clouds)."""
    cloud_sigma: float = 1.2
    cloud_ar: float = 0.9
    cloud_common_share: float = 0.8

    # Forced outages of coal units.
    forced_outage_rate: float = FORCED_OUTAGE_RATE
    mean_outage_hours: float = MEAN_OUTAGE_HOURS

    def problems(self) -> list[str]:
        """Every value out of range, as messages (empty when all are usable)."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                    value):
                out.append(f"{f.name} must be a finite number, got {value!r}")
        if out:
            return out
        for name in ("load_noise_ar", "load_weather_ar", "load_split_ar", "wind_ar", "cloud_ar"):
            if not 0.0 <= getattr(self, name) < 1.0:
                out.append(f"{name} must be an AR(1) coefficient in [0, 1), got "
                           f"{getattr(self, name)!r}")
        for name in ("wind_common_share", "cloud_common_share", "solar_performance_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                out.append(f"{name} must be a share in [0, 1], got {getattr(self, name)!r}")
        for name in ("load_noise_sigma", "load_weather_sigma", "load_split_sigma", "cloud_sigma",
                     "load_daytime_bump", "load_evening_bump", "load_winter_evening_bump",
                     "load_summer_afternoon_bump"):
            if getattr(self, name) < 0:
                out.append(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0.0 < self.weekend_factor <= 2.0:
            out.append(f"weekend_factor must be in (0, 2], got {self.weekend_factor!r}")
        if self.load_base <= 0:
            out.append(f"load_base must be > 0, got {self.load_base!r}")
        if abs(self.load_winter_amplitude) + abs(self.load_semiannual_amplitude) >= 1:
            out.append("load_winter_amplitude and load_semiannual_amplitude must add up to less "
                       "than 1 in absolute value (the seasonal level stays positive)")
        if not (self.wind_mean_speed_m_s > 0 and 0 <= self.wind_seasonal_amplitude < 1):
            out.append("wind_mean_speed_m_s must be > 0 and wind_seasonal_amplitude in [0, 1)")
        if not 0 <= self.wind_cut_in_m_s < self.wind_rated_m_s < self.wind_cut_out_m_s:
            out.append("wind speeds must satisfy 0 <= cut-in < rated < cut-out, got "
                       f"{self.wind_cut_in_m_s}, {self.wind_rated_m_s}, {self.wind_cut_out_m_s}")
        if not (-90 <= self.latitude_deg <= 90 and -180 <= self.longitude_deg <= 180
                and -14 <= self.utc_offset_hours <= 14 and 0 <= self.panel_tilt_deg <= 90):
            out.append("latitude_deg in [-90, 90], longitude_deg in [-180, 180], "
                       "utc_offset_hours in [-14, 14] and panel_tilt_deg in [0, 90] please")
        out.extend(outage_problems(self.forced_outage_rate, self.mean_outage_hours))
        return out


@dataclass(frozen=True, eq=False)
class Profiles:
    """A year of hourly profiles for one :class:`~agents.fleet.SynthFleet` (read-only arrays).

    Calendar, shape (n_hours,): ``month`` int64 1-12, ``month_index`` int64 0-11 (what
    :func:`market.compensation.count_failures` takes), ``day_of_year`` int64 1-366,
    ``hour_of_day`` int64 0-23, ``weekday`` int64 (0 = Monday), ``weekend`` bool,
    ``heating_season`` bool (the fleet's heating-season months).

    * ``load_mw`` float64 (n_hours, n_loads), MW, columns in ``synth.load_ids`` order;
      ``system_load_mw`` float64 (n_hours,): the system load the loads add up to (to
      rounding); its peak is exactly ``synth.peak_load_mw``.
    * ``wind_cf`` float64 (n_hours, n_wind) in [0, 1], columns follow ``synth.wind_index``.
    * ``solar_cf`` float64 (n_hours, n_solar) in [0, 1], columns follow ``synth.solar_index``.
    * ``outage`` bool (n_hours, n_coal): forced out, columns follow ``synth.coal_index``.
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
    assumptions: ProfileAssumptions

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
                 a: ProfileAssumptions) -> np.ndarray:
    """float64 (n_hours,): clear-sky output per MW of a south-facing panel tilted
    ``panel_tilt_deg``, each hour averaged over four points; 0 when the sun is down."""
    clock = hour_of_day[:, None] + np.array([0.125, 0.375, 0.625, 0.875])
    sin_el, decl, hour_angle = solar_position(day_of_year[:, None].astype(np.float64), clock,
                                              a.latitude_deg, a.longitude_deg, a.utc_offset_hours)
    up = sin_el > 0.0
    s = np.where(up, sin_el, 1.0)
    elevation_deg = np.rad2deg(np.arcsin(s))
    air_mass = 1.0 / (s + 0.50572 * (elevation_deg + 6.07995) ** -1.6364)  # Kasten-Young
    beam = SOLAR_CONSTANT * 0.7 ** (air_mass ** 0.678)  # Meinel clear-sky beam, W/m2
    diffuse = 0.1 * beam
    tilt = np.deg2rad(a.panel_tilt_deg)
    lat = np.deg2rad(a.latitude_deg)
    toward = -1.0 if a.latitude_deg < 0 else 1.0  # face the equator
    cos_incidence = (np.sin(decl) * np.sin(lat - toward * tilt)
                     + np.cos(decl) * np.cos(hour_angle) * np.cos(lat - toward * tilt))
    plane = beam * np.maximum(cos_incidence, 0.0) + diffuse * (1.0 + np.cos(tilt)) / 2.0
    cf = np.where(up, np.minimum(plane * a.solar_performance_ratio / RATED_IRRADIANCE, 1.0), 0.0)
    return cf.mean(axis=1)


def _bump(hour: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = (hour - centre + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / width) ** 2)


def system_load_shape(cal: dict[str, np.ndarray], a: ProfileAssumptions) -> np.ndarray:
    """float64 (n_hours,): the noiseless system load shape (arbitrary units)."""
    hour = cal["hour_of_day"] + 0.5
    x = 2.0 * np.pi * (cal["day_of_year"] - 15.0 + hour / 24.0) / 365.25
    winter, summer = np.maximum(np.cos(x), 0.0), np.maximum(-np.cos(x), 0.0)
    level = 1.0 + a.load_winter_amplitude * np.cos(x) + a.load_semiannual_amplitude * np.cos(2 * x)
    daily = (a.load_base + a.load_daytime_bump * _bump(hour, 11.0, 3.0)
             + (a.load_evening_bump + a.load_winter_evening_bump * winter) * _bump(hour, 19.0, 2.0)
             + a.load_summer_afternoon_bump * summer * _bump(hour, 15.0, 2.5))
    week = np.where(cal["weekday"] >= 5, a.weekend_factor, 1.0)
    return level * daily * week


def _wind_cf(speed: np.ndarray, a: ProfileAssumptions) -> np.ndarray:
    lo, rated = a.wind_cut_in_m_s ** 3, a.wind_rated_m_s ** 3
    cf = np.clip((speed ** 3 - lo) / (rated - lo), 0.0, 1.0)
    return np.where(speed >= a.wind_cut_out_m_s, 0.0, cf)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def year_profiles(synth: SynthFleet, year: int, seed: int,
                  assumptions: ProfileAssumptions | None = None) -> Profiles:
    """Hourly load, wind, solar and outage profiles of ``year`` for ``synth`` (see the module
    docstring for the models and the hour convention). Raises
    :class:`~market.errors.SynthesisError` listing every bad input."""
    a = ProfileAssumptions() if assumptions is None else assumptions
    problems = []
    if not isinstance(synth, SynthFleet):
        problems.append(f"synth must be a SynthFleet (synthesize_fleet), got "
                        f"{type(synth).__name__}")
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or not 1 <= year <= 9998:
        problems.append(f"year must be an integer in [1, 9998], got {year!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(f"seed must be an integer >= 0, got {seed!r}")
    if not isinstance(a, ProfileAssumptions):
        problems.append("assumptions must be a ProfileAssumptions")
    else:
        problems.extend(a.problems())
    if problems:
        raise SynthesisError(problems)

    cal = calendar(int(year))
    n_hours = len(cal["month"])
    load_rng, wind_rng, solar_rng, outage_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(4))

    # Load: system shape x noise, scaled to the peak; split among loads by share x wobble.
    noise = ar1(load_rng.standard_normal((n_hours, 1)), a.load_noise_ar)[:, 0] * a.load_noise_sigma
    noise += ar1(load_rng.standard_normal((n_hours, 1)), a.load_weather_ar)[:, 0] \
        * a.load_weather_sigma
    system = system_load_shape(cal, a) * np.exp(noise)
    peak_hour = int(np.argmax(system))
    system *= synth.peak_load_mw / system[peak_hour]
    system[peak_hour] = synth.peak_load_mw
    wobble = ar1(load_rng.standard_normal((n_hours, synth.n_loads)), a.load_split_ar)
    weight = synth.load_peak_share * np.exp(a.load_split_sigma * wobble)
    load_mw = system[:, None] * (weight / weight.sum(axis=1, keepdims=True))

    # Wind: Rayleigh speed from two Gaussian weather components, seasonal scale, power curve.
    n_wind = len(synth.wind_index)
    u = _weather(wind_rng, n_hours, n_wind, a.wind_ar, a.wind_common_share)
    v = _weather(wind_rng, n_hours, n_wind, a.wind_ar, a.wind_common_share)
    season = 1.0 + a.wind_seasonal_amplitude * np.cos(
        2.0 * np.pi * (cal["day_of_year"] - a.wind_peak_day_of_year) / 365.25)
    sigma = a.wind_mean_speed_m_s / math.sqrt(math.pi / 2.0) * season
    wind_cf = _wind_cf(sigma[:, None] * np.sqrt(u * u + v * v), a)

    # Solar: clear sky x cloud transmittance (logistic of AR(1) weather, cloudier in summer).
    n_solar = len(synth.solar_index)
    clouds = _weather(solar_rng, n_hours, n_solar, a.cloud_ar, a.cloud_common_share)
    summer = np.maximum(-np.cos(2.0 * np.pi * (cal["day_of_year"] - 15.0) / 365.25), 0.0)
    logit = (a.cloud_clear_logit - a.cloud_summer_drop * summer)[:, None] + a.cloud_sigma * clouds
    solar_cf = clear_sky_cf(cal["day_of_year"], cal["hour_of_day"], a)[:, None] / (
        1.0 + np.exp(-logit))

    outage = forced_outages(n_hours, len(synth.coal_index), outage_rng,
                            forced_outage_rate=a.forced_outage_rate,
                            mean_outage_hours=a.mean_outage_hours)
    weekday = cal["weekday"]
    return Profiles(
        year=int(year), seed=int(seed),
        month=_frozen(cal["month"]), month_index=_frozen(cal["month"] - 1),
        day_of_year=_frozen(cal["day_of_year"]), hour_of_day=_frozen(cal["hour_of_day"]),
        weekday=_frozen(weekday), weekend=_frozen(weekday >= 5),
        heating_season=_frozen(np.isin(cal["month"], synth.heating_season_months)),
        load_mw=_frozen(load_mw), system_load_mw=_frozen(system),
        wind_cf=_frozen(wind_cf), solar_cf=_frozen(solar_cf), outage=_frozen(outage),
        assumptions=a)
