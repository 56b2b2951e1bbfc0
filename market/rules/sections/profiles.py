"""Parameters of the hourly profile models the agents synthesise (``agents.*_profile``) and of
the forced outages of coal units (``agents.outages``); all [E] estimates for the Mengxi grid
(Hohhot/Baotou area). The models themselves are described in :mod:`agents.profiles` and
:mod:`agents.outages`.

Day-of-year parameters are days from 1 January (1 = 1 January); hours are local clock hours
(China standard time) in [0, 24).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from market.rules.base import Finite, Fraction, NonNegative, Positive, RulesModel, num

#: A lag-1 autocorrelation of an AR(1) process, in [0, 1) (1 would be a random walk).
Autocorrelation = Annotated[float, Field(strict=True, ge=0.0, lt=1.0, allow_inf_nan=False)]
#: A day of the year, 0-366 (fractions allowed: the models are continuous in time).
DayOfYear = Annotated[float, Field(strict=True, ge=0.0, le=366.0, allow_inf_nan=False)]
#: A clock hour of the day in [0, 24).
ClockHour = Annotated[float, Field(strict=True, ge=0.0, lt=24.0, allow_inf_nan=False)]
#: An amplitude of a cosine around 1, in (-1, 1).
Amplitude = Annotated[float, Field(strict=True, gt=-1.0, lt=1.0, allow_inf_nan=False)]


def _service_problem(rate: float, hours: float) -> str | None:
    """The problem of a rate and outage length that leave under an hour in service between
    outages (spells of ``hours x (1 - rate) / rate``), or None."""
    if 0.0 < rate < 1.0 and hours * (1.0 - rate) / rate < 1.0:
        return (f"a forced outage rate of {rate:g} with outages of {hours:g} h leaves less than "
                "an hour in service between outages; lengthen mean_outage_hours or lower the "
                "rate")
    return None


def outage_problems(forced_outage_rate: object, mean_outage_hours: object) -> list[str]:
    """Messages for an unusable outage rate or mean outage length (empty when both are fine):
    the rate must be in [0, 1), outages last at least an hour, and so must the service spells
    between them."""
    out = []
    rate, hours = num(forced_outage_rate), num(mean_outage_hours)
    if rate is None or not 0.0 <= rate < 1.0:
        out.append(f"forced_outage_rate must be a share in [0, 1), got {forced_outage_rate!r}")
    if hours is None or hours < 1.0:
        out.append(f"mean_outage_hours must be a finite number of hours >= 1, "
                   f"got {mean_outage_hours!r}")
    if not out and rate is not None and hours is not None:
        service = _service_problem(rate, hours)
        out += [service] if service else []
    return out


class LoadProfileRules(RulesModel):
    """System load: seasonal level x daily shape x weekend factor x AR(1) noise [E].

    Seasonal level ``1 + winter_amplitude cos(x) + semiannual_amplitude cos(2x)`` with x the
    year's phase from ``coldest_day_of_year``; the daily shape is ``night_level`` plus
    Gaussian bumps (centre hour, width in hours) whose heights are given below.
    """

    winter_amplitude: Amplitude = 0.04
    """Amplitude of the annual cycle (winter heating peak)."""
    semiannual_amplitude: Amplitude = 0.05
    """Amplitude of the half-year cycle (a second, summer cooling peak)."""
    coldest_day_of_year: DayOfYear = 15.0
    """Day the annual cycle peaks (mid-January); the hottest day is half a year later."""
    night_level: Positive = 0.80
    """Night level of the daily shape (shares of the daily peak shape)."""
    daytime_bump: NonNegative = 0.10
    """Industrial and commercial daytime bump."""
    daytime_hour: ClockHour = 11.0
    """Centre of the daytime bump, clock hour."""
    daytime_width_hours: Positive = 3.0
    """Width (standard deviation) of the daytime bump, hours."""
    evening_bump: NonNegative = 0.06
    """Evening (lighting) bump, all year."""
    evening_hour: ClockHour = 19.0
    """Centre of the evening bumps, clock hour."""
    evening_width_hours: Positive = 2.0
    """Width of the evening bumps, hours."""
    winter_evening_bump: NonNegative = 0.10
    """Extra winter evening bump (heating), scaled by how wintry the day is."""
    summer_afternoon_bump: NonNegative = 0.12
    """Summer afternoon bump (cooling), scaled by how summery the day is."""
    summer_afternoon_hour: ClockHour = 15.0
    """Centre of the summer afternoon bump, clock hour."""
    summer_afternoon_width_hours: Positive = 2.5
    """Width of the summer afternoon bump, hours."""
    weekend_factor: Annotated[float, Field(strict=True, gt=0.0, le=2.0, allow_inf_nan=False)] = 0.95
    """Saturday and Sunday load relative to a weekday."""
    noise_sigma: NonNegative = 0.015
    """Hourly noise, sigma of the log of load."""
    noise_autocorrelation: Autocorrelation = 0.9
    """Lag-1 autocorrelation of the hourly noise."""
    weather_sigma: NonNegative = 0.02
    """Slow (multi-day) load weather, e.g. cold spells: sigma of the log of load."""
    weather_autocorrelation: Autocorrelation = 0.995
    """Lag-1 autocorrelation of the slow load weather."""
    split_sigma: NonNegative = 0.05
    """Each load's own wobble around its share of the system load, sigma of the log."""
    split_autocorrelation: Autocorrelation = 0.95
    """Lag-1 autocorrelation of each load's wobble."""

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        winter, semi = num(values.get("winter_amplitude")), num(values.get("semiannual_amplitude"))
        if winter is not None and semi is not None and abs(winter) + abs(semi) >= 1.0:
            return [("semiannual_amplitude", "winter_amplitude and semiannual_amplitude must add "
                     "up to less than 1 in absolute value (the seasonal level stays positive)")]
        return []


class WindProfileRules(RulesModel):
    """Wind: a Rayleigh speed (Weibull k = 2) from two AR(1) Gaussian weather components, a
    seasonal scale and a cut-in / rated / cut-out power curve [E]."""

    mean_speed_m_s: Positive = 6.8
    """Mean wind speed at hub height over the year, m/s."""
    seasonal_amplitude: Annotated[float, Field(strict=True, ge=0.0, lt=1.0,
                                               allow_inf_nan=False)] = 0.15
    """Relative amplitude of the seasonal cycle of the speed."""
    peak_day_of_year: DayOfYear = 75.0
    """Windiest day of the year (mid-March: winter and spring windy, late summer calm)."""
    autocorrelation: Autocorrelation = 0.98
    """Hour-to-hour (lag-1) autocorrelation of the Gaussian weather components."""
    regional_share: Fraction = 0.7
    """Share of each unit's weather variance that is regional (common to all units)."""
    cut_in_m_s: NonNegative = 3.0
    """Speed below which a turbine makes nothing, m/s."""
    rated_m_s: Positive = 11.5
    """Speed from which a turbine makes its rated output, m/s."""
    cut_out_m_s: Positive = 25.0
    """Speed from which a turbine shuts down, m/s."""

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        cut_in, rated = num(values.get("cut_in_m_s")), num(values.get("rated_m_s"))
        cut_out = num(values.get("cut_out_m_s"))
        problems: list[tuple[str, str]] = []
        if cut_in is not None and rated is not None and cut_in >= rated:
            problems.append(("cut_in_m_s", f"must be below rated_m_s ({rated:g})"))
        if rated is not None and cut_out is not None and rated >= cut_out:
            problems.append(("rated_m_s", f"must be below cut_out_m_s ({cut_out:g})"))
        return problems


class SolarProfileRules(RulesModel):
    """Solar: clear-sky output of a south-facing tilted panel at the site times a cloud
    transmittance, the logistic of AR(1) weather (cloudier in summer) [E]."""

    latitude_deg: Annotated[float, Field(strict=True, ge=-90.0, le=90.0,
                                         allow_inf_nan=False)] = 40.8
    """Latitude of the site, degrees north (Hohhot/Baotou)."""
    longitude_deg: Annotated[float, Field(strict=True, ge=-180.0, le=180.0,
                                          allow_inf_nan=False)] = 111.0
    """Longitude of the site, degrees east."""
    utc_offset_hours: Annotated[float, Field(strict=True, ge=-14.0, le=14.0,
                                             allow_inf_nan=False)] = 8.0
    """Offset of the clock from UTC, hours (China standard time: +8)."""
    panel_tilt_deg: Annotated[float, Field(strict=True, ge=0.0, le=90.0,
                                           allow_inf_nan=False)] = 35.0
    """Tilt of the panels from horizontal, degrees, facing the equator."""
    performance_ratio: Fraction = 0.85
    """AC output per unit of plane-of-array irradiance / 1000 W/m2 (losses, inverter)."""
    diffuse_fraction: NonNegative = 0.1
    """Clear-sky diffuse irradiance as a share of the beam irradiance."""
    cloud_clear_logit: Finite = 1.6
    """Mean logit of the cloud transmittance at the driest time of year (clear, dry)."""
    cloud_summer_drop: Finite = 0.6
    """How much lower the logit is half a year later (monsoon clouds)."""
    driest_day_of_year: DayOfYear = 15.0
    """Day of the clearest skies (mid-January); the cloudiest is half a year later."""
    cloud_sigma: NonNegative = 1.2
    """Spread of the cloud logit around its seasonal mean."""
    cloud_autocorrelation: Autocorrelation = 0.9
    """Hour-to-hour (lag-1) autocorrelation of the cloud weather."""
    cloud_regional_share: Fraction = 0.8
    """Share of each site's cloud variance that is regional (common to all units)."""


class OutageRules(RulesModel):
    """Forced outages of coal units, a two-state Markov chain per unit [E]: large coal units in
    China report forced outage rates of a few per cent."""

    forced_outage_rate: Annotated[float, Field(strict=True, ge=0.0, lt=1.0,
                                               allow_inf_nan=False)] = 0.05
    """Long-run share of hours a coal unit is forced out."""
    mean_outage_hours: Annotated[float, Field(strict=True, ge=1.0, allow_inf_nan=False)] = 50.0
    """Mean length of a forced outage, hours."""

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        rate, hours = num(values.get("forced_outage_rate")), num(values.get("mean_outage_hours"))
        if rate is None or hours is None or hours < 1.0:
            return []  # each value alone is checked by its type
        service = _service_problem(rate, hours)
        return [("mean_outage_hours", service)] if service else []
