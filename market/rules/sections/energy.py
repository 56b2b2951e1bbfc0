"""Rules of the hourly energy spot market (day-ahead, uniform price) and of storage in it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from market.rules.base import Finite, Fraction, NonNegative, RulesModel, num
from market.rules.sections.capacity import drop_defaults


class EnergyRules(RulesModel):
    """Offer limits, stress-hour definition, storage compensation and coal contract prices."""

    price_cap_yuan_per_mwh: Finite = 1500.0
    """Offer cap of the spot market, yuan/MWh [S]."""
    price_floor_yuan_per_mwh: Finite = -50.0
    """Temporary offer floor of the spot market, yuan/MWh [S]."""
    stress_price_threshold_yuan_per_mwh: Finite = 1500.0
    """An hour whose price reaches this is a stress hour, yuan/MWh [E]."""
    stress_reserve_margin: Fraction = 0.05
    """An hour whose spare capacity / load falls below this is a stress hour [E]."""
    storage_discharge_compensation_yuan_per_mwh: NonNegative = 350.0
    """Paid to independent storage per MWh discharged (2025 cohort), yuan/MWh [S]."""
    storage_compensation_years: Annotated[int, Field(strict=True, ge=0)] = 10
    """Years the discharge compensation is paid to a cohort [S]."""
    storage_max_cycles_per_day: NonNegative = 1.5
    """Most full cycles a day that earn compensation (and that storage may run) [S]."""
    storage_round_trip_efficiency: Fraction = 0.85
    """MWh discharged per MWh charged for 4-hour storage [E]."""
    storage_degradation_cost_yuan_per_mwh: NonNegative = 50.0
    """Wear of a battery per MWh discharged, yuan/MWh [E]: cell replacement (about 0.3
    yuan/Wh) over a life of about 6,000 full cycles. Storage strategies weigh it against the
    energy margin and the discharge compensation."""
    inelastic_bid_yuan_per_mwh: Finite | None = None
    """Price at which loads bid their inelastic demand in every driver (the year, the game's
    bots and the game's imputed demand), yuan/MWh [E]; None: the price cap."""
    storage_compensation_recovery: Literal["energy_share", "none"] = "energy_share"
    """The operator recovers the storage compensation it paid from loads by their MWh in the
    month, or not at all [E]."""
    coal_benchmark_price_yuan_per_mwh: NonNegative = 282.9
    """Mengxi coal benchmark price, yuan/MWh [R]."""
    contract_price_float: Fraction = 0.20
    """Medium/long-term coal contract prices may float this share around the benchmark [S]."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        return drop_defaults(self, handler(self), info, (
            "storage_compensation_recovery", "storage_degradation_cost_yuan_per_mwh",
            "inelastic_bid_yuan_per_mwh"))

    def inelastic_bid(self) -> float:
        """yuan/MWh of loads' inelastic demand: ``inelastic_bid_yuan_per_mwh``, else the cap."""
        bid = self.inelastic_bid_yuan_per_mwh
        return self.price_cap_yuan_per_mwh if bid is None else bid

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        floor = num(values.get("price_floor_yuan_per_mwh"))
        cap = num(values.get("price_cap_yuan_per_mwh"))
        threshold = num(values.get("stress_price_threshold_yuan_per_mwh"))
        bid = num(values.get("inelastic_bid_yuan_per_mwh"))
        if floor is None or cap is None:
            return problems
        if bid is not None and not floor < bid <= cap:
            problems.append(("inelastic_bid_yuan_per_mwh",
                             f"must be above the price floor ({floor:g}) and at most the price "
                             f"cap ({cap:g})"))
        if floor >= cap:
            problems.append(
                (
                    "price_floor_yuan_per_mwh",
                    f"the price floor ({floor:g}) must be below the price cap ({cap:g})",
                )
            )
        elif threshold is not None and not floor < threshold <= cap:
            problems.append(
                (
                    "stress_price_threshold_yuan_per_mwh",
                    f"must be above the price floor ({floor:g}) and at most the price cap "
                    f"({cap:g}); a threshold above the cap would never mark a stress hour",
                )
            )
        return problems
