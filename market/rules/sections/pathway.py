"""Rules of a pathway: a decade of simulated years with entry and exit between them
(``mengxi pathway``, :mod:`studies.pathway`).

Costs of new entry, the discount rate, build times and load growth are the defaults of
docs/DOMAIN.md "Costs of new entry and emissions" [E]; the policy steps by year are the 1501
recovery ratio (30 % in 2024-25, at least 50 % from 2026) [S] and the Inner Mongolia storage
discharge compensation cohorts (350 yuan/MWh for the 2025 cohort, 280 for 2026) [S].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from market.rules.base import (
    Flag,
    Fraction,
    NonNegative,
    Positive,
    PositiveCount,
    RulesModel,
    pick,
)
from market.rules.sections.capacity import drop_defaults

#: A calendar year of a pathway.
Year = Annotated[int, Field(strict=True, ge=2000, le=2100)]
#: Years, at least 1.
Years = Annotated[int, Field(strict=True, ge=1, le=100)]


class Candidate(RulesModel):
    """A candidate project of one technology: what a new unit costs [E, DOMAIN.md]."""

    overnight_cost_yuan_per_kw: Positive
    """Overnight capital cost, yuan/kW."""
    life_years: Years
    """Economic life, years (the annuity's term)."""
    fixed_om_share: Fraction
    """Fixed operation and maintenance a year, share of the overnight cost."""
    build_years: Annotated[int, Field(strict=True, ge=0, le=20)]
    """Years from the decision to the first year in operation (0: online the next year
    simulated after the decision, like 1)."""

    def annualised_cost_yuan_per_kw_yr(self, discount_rate: float) -> float:
        """Overnight cost x capital recovery factor (``discount_rate``, ``life_years``) +
        fixed O&M, yuan/kW-yr: what a new unit must earn a year, net of variable costs."""
        return self.overnight_cost_yuan_per_kw * capital_recovery_factor(
            discount_rate, self.life_years) + self.overnight_cost_yuan_per_kw * self.fixed_om_share


def capital_recovery_factor(rate: float, years: int) -> float:
    """r (1 + r)^n / ((1 + r)^n - 1); 1 / n at r = 0."""
    if rate == 0:
        return 1.0 / years
    grow = (1.0 + rate) ** years
    return rate * grow / (grow - 1.0)


class RecoveryStep(RulesModel):
    """From ``from_year`` on, the coal compensation recovers ``recovery_ratio`` of the
    fixed-cost standard."""

    from_year: Year
    recovery_ratio: Fraction


class StorageCohort(RulesModel):
    """Storage that enters from ``from_year`` on is paid ``compensation_yuan_per_mwh`` per MWh
    discharged (for ``energy.storage_compensation_years``)."""

    from_year: Year
    compensation_yuan_per_mwh: NonNegative


def _coal() -> Candidate:
    return Candidate(overnight_cost_yuan_per_kw=3750.0, life_years=30, fixed_om_share=0.03,
                     build_years=3)


def _wind() -> Candidate:
    return Candidate(overnight_cost_yuan_per_kw=3400.0, life_years=20, fixed_om_share=0.02,
                     build_years=1)


def _solar() -> Candidate:
    return Candidate(overnight_cost_yuan_per_kw=2850.0, life_years=25, fixed_om_share=0.015,
                     build_years=1)


def _storage() -> Candidate:
    return Candidate(overnight_cost_yuan_per_kw=2800.0, life_years=12, fixed_om_share=0.02,
                     build_years=1)


class PathwayRules(RulesModel):
    """Entry, exit, load growth and policy steps between the years of a pathway.

    Expectation rule: the expected margin per kW of a technology (energy, capacity,
    compensation, green and storage-compensation revenue less variable cost, per kW of
    nameplate) is the average of its units' margins over the last ``expectation_years``
    simulated years."""

    expectation_years: PositiveCount = 2
    """Simulated years averaged into an expected margin [E]."""
    discount_rate: Fraction = 0.07
    """Real discount rate of new entry [E] (DOMAIN.md: 6-8 %)."""
    load_growth_per_year: NonNegative = 0.05
    """Growth of peak load (and so of energy) a year [E] (DOMAIN.md: 5 %)."""
    retirement_avoidable_share: Fraction = 0.7
    """Share of a coal unit's fixed cost it avoids by closing: its going-forward cost [E]."""
    retirement_lag_years: PositiveCount = 2
    """Consecutive simulated years a coal unit's margin must fall short of its going-forward
    cost before its owner closes it [E]."""
    max_retirement_share: Fraction = 0.25
    """At most this share of a coal class's units closes after one year [E]."""
    retired_to_backup: Flag = True
    """Closed coal is kept as emergency backup (Guofa 16 item 15 [R]): out of the markets,
    called only to serve load that would otherwise go unserved."""
    backup_cost_yuan_per_kw_yr: NonNegative = 40.0
    """Yearly cost of keeping a closed unit as backup, paid by consumers [E]."""
    backup_availability: Fraction = 0.9
    """Share of backup MW that answers a call [E]."""
    investment_step_share: Fraction = 0.1
    """When a candidate's expected margin covers its annualised cost, owners commit this share
    of the technology's installed units (at least one unit) after the year [E]."""
    wind_target_mw_per_year: NonNegative = 3000.0
    """Wind built every year by policy (renewable bases), MW at scale 1 [E]."""
    solar_target_mw_per_year: NonNegative = 3000.0
    """Solar built every year by policy, MW at scale 1 [E]."""
    coal_ultra_supercritical: Candidate = Field(default_factory=_coal)
    """New ultra-supercritical coal, 1 GW [E, DOMAIN.md]: 3,750 yuan/kW, 30 yr, 3 %, 3 yr."""
    wind: Candidate = Field(default_factory=_wind)
    """Onshore wind [E, DOMAIN.md]: 3,400 yuan/kW, 20 yr, 2 %, 1 yr."""
    solar: Candidate = Field(default_factory=_solar)
    """Utility solar [E, DOMAIN.md]: 2,850 yuan/kW, 25 yr, 1.5 %, 1 yr."""
    storage: Candidate = Field(default_factory=_storage)
    """4-hour battery [E, DOMAIN.md]: 2,800 yuan/kW, 12 yr, 2 %, 1 yr."""
    recovery_steps: tuple[RecoveryStep, ...] = (RecoveryStep(from_year=2026,
                                                             recovery_ratio=0.5),)
    """Coal compensation recovery ratio by year [S, 1501]; before the first step the rules'
    ``compensation.recovery_ratio``."""
    storage_cohorts: tuple[StorageCohort, ...] = (
        StorageCohort(from_year=2025, compensation_yuan_per_mwh=350.0),
        StorageCohort(from_year=2026, compensation_yuan_per_mwh=280.0),
    )
    """Storage discharge compensation by entry cohort [S, Inner Mongolia]; the stock at the
    first year belongs to the earliest cohort. The year pays the installed MW-weighted rate of
    the cohorts still within their ``energy.storage_compensation_years``."""
    capacity_lead_years: Annotated[int, Field(strict=True, ge=0, le=10)] = 0
    """k: the capacity auction held after pathway year y buys capacity for delivery year
    y + k, for the peak load forecast by ``load_growth_per_year``, from the units expected to
    be there and from candidate projects whose ``build_years`` is at most k [E]. 0: each
    year's own auction buys that year's capacity from the units in it (no new entry offers).
    With k >= 1 the first k years keep their own (T-0) auction (:mod:`studies.pathway.forward`)."""
    new_entry_price_lock_years: Annotated[int, Field(strict=True, ge=1, le=30)] = 1
    """New entry that clears a forward auction is paid its clearing price for this many
    delivery years from its first [E]; 1: no lock (paid each later auction's price). Needs
    ``capacity_lead_years`` >= 1."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        # rules published before these keys keep their JSON (and sha256) at the defaults
        return drop_defaults(self, handler(self), info,
                             ("capacity_lead_years", "new_entry_price_lock_years"))

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        lead = values.get("capacity_lead_years", 0)
        lock = values.get("new_entry_price_lock_years", 1)
        if (type(lead) is int and type(lock) is int and lead == 0 and lock > 1):
            problems.append(("new_entry_price_lock_years",
                             f"a price lock of {lock} years needs capacity_lead_years >= 1: "
                             "new entry offers only in an auction held before it is built "
                             "(capacity_lead_years is 0)"))
        for name in ("recovery_steps", "storage_cohorts"):
            rows = values.get(name)
            if not isinstance(rows, list | tuple):
                continue
            for i in range(1, len(rows)):
                before, here = pick(rows, i - 1, "from_year"), pick(rows, i, "from_year")
                if isinstance(before, int) and isinstance(here, int) and here <= before:
                    problems.append((f"{name}[{i}].from_year",
                                     f"must be after the previous row's ({before})"))
        return problems

    def candidates(self) -> dict[str, Candidate]:
        """Candidate projects by the fleet's technology name."""
        return {"coal_ultra_supercritical": self.coal_ultra_supercritical, "wind": self.wind,
                "solar": self.solar, "storage": self.storage}

    def recovery_ratio(self, year: int, base: float) -> float:
        """The compensation recovery ratio of ``year`` (``base`` before the first step)."""
        ratio = base
        for step in self.recovery_steps:
            if year >= step.from_year:
                ratio = step.recovery_ratio
        return ratio

    def cohort_rate(self, entry_year: int) -> float | None:
        """Compensation per MWh of storage entering in ``entry_year`` (the earliest cohort's
        rate for earlier entry; None without cohorts)."""
        if not self.storage_cohorts:
            return None
        rate = self.storage_cohorts[0].compensation_yuan_per_mwh
        for cohort in self.storage_cohorts:
            if entry_year >= cohort.from_year:
                rate = cohort.compensation_yuan_per_mwh
        return rate
