"""The Mengxi-like fleet that agents synthesise: unit counts and sizes, cost ranges, fixed costs,
owners, the coal registered as supporting renewable bases, loads and export blocks, by
technology class.

Class names are the technologies of :class:`market.rules.sections.capacity.CapacityCredit`, which is
how a class refers to its capacity credit (``rules.capacity.capacity_credit[name]``). Storage
round-trip efficiency and the daily cycle limit are market rules and live in
``energy.storage_round_trip_efficiency`` / ``energy.storage_max_cycles_per_day``, once.
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
    Count,
    Finite,
    Flag,
    Fraction,
    NonNegative,
    Positive,
    PositiveCount,
    RulesModel,
    num,
)
from market.rules.sections.capacity import drop_defaults

#: A calendar month, 1-12.
Month = Annotated[int, Field(strict=True, ge=1, le=12)]


class GeneratorClass(RulesModel):
    """A class of identical-size generators with marginal costs drawn from a range."""

    unit_count: Count
    """Units at scale 1."""
    unit_size_mw: Positive
    """Nameplate of each unit, MW."""
    marginal_cost_low_yuan_per_mwh: NonNegative
    """Low end of the marginal-cost range, yuan/MWh."""
    marginal_cost_high_yuan_per_mwh: NonNegative
    """High end of the marginal-cost range, yuan/MWh."""
    lowest_offer_yuan_per_mwh: Finite | None = None
    """Lowest price the class may offer when below its cost (wind: the floor); None = cost."""
    min_output_fraction_low: Fraction | None = None
    """Low end of the minimum stable output, share of nameplate (where given)."""
    min_output_fraction_high: Fraction | None = None
    """High end of the minimum stable output, share of nameplate (where given)."""
    winter_must_run: Flag = False
    """Combined heat and power: must run in the heating season."""
    fixed_cost_yuan_per_kw_yr: NonNegative | None = None
    """Annual fixed cost per kW of nameplate, yuan/kW-yr [E]; None (coal) = the compensation's
    fixed-cost standard (``compensation.fixed_cost_standard_yuan_per_kw_yr``)."""
    declared_max_output_fraction: Fraction = 1.0
    """Declared maximum output of each unit of the class, share of nameplate [E]: the MW the
    coal compensation pays on and calls for (``fleet.declared_max`` sets single units)."""
    co2_t_per_mwh: NonNegative = 0.0
    """Carbon dioxide emitted per MWh generated, t/MWh [E] (docs/DOMAIN.md, "Costs of new
    entry and emissions": ultra-supercritical 0.80, supercritical 0.85, subcritical 0.92;
    wind and solar 0)."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        return drop_defaults(self, handler(self), info, ("declared_max_output_fraction",))

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        cost_low = num(values.get("marginal_cost_low_yuan_per_mwh"))
        cost_high = num(values.get("marginal_cost_high_yuan_per_mwh"))
        if cost_low is not None and cost_high is not None and cost_low > cost_high:
            problems.append(
                (
                    "marginal_cost_low_yuan_per_mwh",
                    f"must be at most marginal_cost_high_yuan_per_mwh ({cost_high:g})",
                )
            )
        raw_low, raw_high = (
            values.get("min_output_fraction_low"),
            values.get("min_output_fraction_high"),
        )
        if (raw_low is None) != (raw_high is None):
            problems.append(
                (
                    "min_output_fraction_low" if raw_low is None else "min_output_fraction_high",
                    "give both ends of the minimum-output range, or neither",
                )
            )
        low, high = num(raw_low), num(raw_high)
        if low is not None and high is not None and low > high:
            problems.append(
                ("min_output_fraction_low", f"must be at most min_output_fraction_high ({high:g})")
            )
        lowest = num(values.get("lowest_offer_yuan_per_mwh"))
        if lowest is not None and cost_low is not None and lowest > cost_low:
            problems.append(
                (
                    "lowest_offer_yuan_per_mwh",
                    f"must be at most marginal_cost_low_yuan_per_mwh ({cost_low:g}); it is the "
                    "lowest offer allowed below cost",
                )
            )
        return problems


class DeclaredMax(RulesModel):
    """The declared maximum output of one synthesised unit, by its id (``coal_sc-003``)."""

    unit_id: Annotated[str, Field(min_length=1)]
    """Id of a unit of the synthesised fleet at the scale run (ids depend on the scale)."""
    mw: NonNegative
    """Declared maximum output, MW, at most the unit's nameplate."""


class StorageClass(RulesModel):
    """Battery storage units; they offer at their opportunity cost, so no cost range."""

    unit_count: Count = 25
    """Units at scale 1."""
    unit_size_mw: Positive = 400.0
    """Charge and discharge power of each unit, MW."""
    energy_mwh: Positive = 1600.0
    """Energy of each unit, MWh (4 hours at full power)."""
    fixed_cost_yuan_per_kw_yr: NonNegative = 600.0
    """Annual fixed cost per kW of power, yuan/kW-yr [E]."""
    initial_soc_fraction: Fraction = 0.5
    """State of charge at the first hour of the year, share of the energy [E]."""


class LoadRules(RulesModel):
    """Loads of the Mengxi grid and their value of lost load."""

    count: PositiveCount = 50
    """Loads at scale 1 (about 50)."""
    peak_mw: Positive = 45000.0
    """System peak load at scale 1, MW."""
    value_of_lost_load_yuan_per_mwh: Finite = 1500.0
    """Inelastic demand is bid at this price; defaults to the energy price cap, yuan/MWh."""
    responsive_share: Fraction = 0.05
    """Share of each load's demand bid at ``responsive_price_yuan_per_mwh`` (price-responsive
    demand); the rest is bid at the value of lost load [E]."""
    responsive_price_yuan_per_mwh: Finite = 1000.0
    """Bid price of the price-responsive share, yuan/MWh [E]; at least the energy price floor,
    and bid at the energy price cap when above it."""
    retailer_count: PositiveCount = 5
    """Load-serving companies that own the loads, dealt in turn [E]."""
    industrial_commercial_share: Fraction = 0.8
    """Share of loads (by count) that are industrial or commercial, the users the coal
    compensation is charged to [E]."""
    size_sigma: NonNegative = 0.6
    """Spread of load sizes: sigma of the log of each load's size before normalising [E]."""
    retail_margin_yuan_per_mwh: Finite = 30.0
    """Margin of the game's retail tariff over the coal benchmark price, yuan/MWh [E]: a
    retailer's customers pay benchmark + margin for each MWh served, so a retailer that buys
    below the tariff can win (the game's profit count)."""


class ExportRules(RulesModel):
    """Export blocks over the inter-provincial channels (bought like a load)."""

    block_count: Count = 5
    """Export blocks at scale 1 [E]."""
    total_low_mw: NonNegative = 5000.0
    """Low end of total exports in an hour, MW."""
    total_high_mw: NonNegative = 10000.0
    """High end of total exports in an hour, MW."""
    cost_share: Fraction = 0.0
    """Share of each export block's MW (and MWh) counted as local load when the capacity
    market's cost and the coal compensation are charged: the receiving provinces' share of the
    capacity cost of the plants serving them (notice 1501) [E]; 0 = exports pay none of it."""
    green_share: Fraction = 0.0
    """Share of the export blocks' MWh sold as bundled green power: each month the
    certificates of that many MWh, from the month's issuance pro rata to each wind and solar
    unit's certificates, go with the export and are retired here for the receiving province
    (compliance period ``export YEAR``), so no MWh is counted green twice [E]; 0 = exports
    carry no certificates."""

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        low, high = num(values.get("total_low_mw")), num(values.get("total_high_mw"))
        if low is not None and high is not None and low > high:
            return [("total_low_mw", f"must be at most total_high_mw ({high:g})")]
        return []


def _gen(count: int, size: float, low: float, high: float, **more: object) -> GeneratorClass:
    return GeneratorClass(
        unit_count=count,
        unit_size_mw=size,
        marginal_cost_low_yuan_per_mwh=low,
        marginal_cost_high_yuan_per_mwh=high,
        **more,  # type: ignore[arg-type]
    )


class FleetRules(RulesModel):
    """The fleet table of docs/DOMAIN.md section 7 [E]; ``scale`` shrinks the fleet, loads
    and exports in proportion."""

    scale: Positive = 1.0
    """Multiplies every class's total MW (count x scale units of equal size, see
    ``min_units_per_class``), the number of loads (at least 1), peak load and export MW; the
    export blocks keep their number and prices. The fleet keeps its proportions, so a small
    scale is the same market in miniature."""
    min_units_per_class: PositiveCount = 5
    """At a small scale a non-empty class keeps at least this many units (or all its scale-1
    units, if fewer), so that a single forced outage or a single wind site is not a large
    share of the system [E]; 5 keeps the load-weighted price of the preset at scale 0.01
    within a few per cent of scale 1."""
    heating_season_months: tuple[Annotated[int, Field(strict=True, ge=1, le=12)], ...] = (
        1,
        2,
        3,
        11,
        12,
    )
    """Months in which winter must-run units must run [E]."""
    heat_led_output_fraction: Fraction = 0.5
    """Output of a winter must-run (CHP) unit in the heating season, share of nameplate [E]."""
    genco_count: PositiveCount = 6
    """Generation companies; units are dealt to them in turn, class by class, so each owns a
    slice of every technology [E]."""
    supporting_share: Fraction = 0.3
    """Share of coal units (by count, newest classes first) registered as supporting a
    renewable base [E]."""
    pairing_ratio: Positive = 0.4
    """Target MW of supporting coal per MW of the wind and solar it firms up [E]; each unit gets
    as close as whole renewable units allow."""
    going_forward_cost_share: Fraction = 0.3
    """Share of a unit's fixed cost it avoids by not delivering capacity for a year (its
    going-forward cost) [E]."""
    coal_ultra_supercritical: GeneratorClass = Field(
        default_factory=lambda: _gen(
            20, 1000.0, 200.0, 240.0, min_output_fraction_low=0.30, min_output_fraction_high=0.40,
            co2_t_per_mwh=0.80,
        )
    )
    coal_supercritical: GeneratorClass = Field(
        default_factory=lambda: _gen(30, 600.0, 240.0, 280.0, co2_t_per_mwh=0.85)
    )
    coal_subcritical: GeneratorClass = Field(
        default_factory=lambda: _gen(20, 350.0, 280.0, 340.0, winter_must_run=True,
                             co2_t_per_mwh=0.92)
    )
    """Subcritical and combined heat and power units."""
    wind: GeneratorClass = Field(
        default_factory=lambda: _gen(
            80, 500.0, 0.0, 0.0, lowest_offer_yuan_per_mwh=-50.0, fixed_cost_yuan_per_kw_yr=400.0
        )
    )
    solar: GeneratorClass = Field(
        default_factory=lambda: _gen(50, 500.0, 0.0, 0.0, fixed_cost_yuan_per_kw_yr=280.0)
    )
    storage: StorageClass = Field(default_factory=StorageClass)
    loads: LoadRules = Field(default_factory=LoadRules)
    exports: ExportRules = Field(default_factory=ExportRules)
    declared_max: tuple[DeclaredMax, ...] = ()
    """Declared maximum output of single units, overriding their class's
    ``declared_max_output_fraction`` [E]; a unit not in the synthesised fleet is refused."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        return drop_defaults(self, handler(self), info,
                             ("min_units_per_class", "declared_max"))

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        months = values.get("heating_season_months")
        if isinstance(months, list | tuple) and len(set(map(repr, months))) != len(months):
            problems.append(("heating_season_months", "each month may appear only once"))
        rows = values.get("declared_max")
        if isinstance(rows, list | tuple):
            ids = [r.get("unit_id") if isinstance(r, Mapping) else getattr(r, "unit_id", None)
                   for r in rows]
            for i, uid in enumerate(ids):
                if uid is not None and uid in ids[:i]:
                    problems.append((f"declared_max[{i}].unit_id",
                                     f"unit {uid!r} is given more than once"))
        return problems

    def generator_classes(self) -> dict[str, GeneratorClass]:
        """Generator classes by technology name (storage excluded), in fleet-table order."""
        return {
            "coal_ultra_supercritical": self.coal_ultra_supercritical,
            "coal_supercritical": self.coal_supercritical,
            "coal_subcritical": self.coal_subcritical,
            "wind": self.wind,
            "solar": self.solar,
        }

    def scaled_count(self, count: int) -> int:
        """``count`` at this scale: rounded half-even, at least 1 when ``count`` > 0."""
        if count <= 0:
            return 0
        return max(1, round(count * self.scale))
