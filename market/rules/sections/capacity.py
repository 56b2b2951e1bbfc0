"""Rules of the Mengxi pilot capacity market: demand curve, format, accreditation, mitigation,
performance penalties and cost allocation.

How a demand curve is given
---------------------------
Quantities are fractions of the reliability requirement, ``peak load x (1 + reserve_margin)``;
prices are multiples of Net CONE (``net_cone_multiple``), so that changing Net CONE or the
requirement moves the whole curve, or, for a point that gives ``price_yuan_per_kw_yr``, a fixed
price in yuan/kW-yr (which then wins over the multiple). The default points (0.97, 1.5),
(1.03, 0.75), (1.10, 0) are the sandbox's own shape [E]; their price multiples follow PJM's
older VRR curve [R], the quantity offsets do not (PJM's, applied to a 15 % margin, would be
about 0.998 / 1.025 / 1.077 of the requirement).

* ``demand_shape = "sloped"``: two or more ``demand_points`` with ``requirement_fraction``
  strictly increasing and prices non-increasing; the curve is piecewise linear
  between them, at the first point's price to the left of the first point and zero to the right
  of the last.
* ``demand_shape = "vertical"``: exactly one point. The buyer takes ``requirement_fraction`` of
  the requirement at any price up to the point's price (the cap of the vertical curve), and
  nothing more. :meth:`CapacityRules.demand_curve` gives it as the two points
  ``(f, price), (f, 0)`` so a clearing routine may treat both shapes alike.

Derived and fixed values
------------------------
Two quantities are measured from the simulated system unless fixed (both [E] choices of the
sandbox):

* ``accreditation_method = "derived"``: a technology's capacity credit is its contribution in
  the ``accreditation_hours`` tightest net-load hours of the year being simulated
  (:mod:`market.capacity.accreditation`); ``"fixed"``: the ``capacity_credit`` table.
* ``net_cone_method = "derived"``: Net CONE = ``gross_cone_yuan_per_kw_yr`` of the reference
  new unit less its expected energy margin from the year's price forecast; ``"fixed"``:
  ``net_cone_yuan_per_kw_yr``.

The simulated year resolves both before its auction (:meth:`CapacityRules.resolved`: a copy
whose ``capacity_credit`` and ``net_cone_yuan_per_kw_yr`` hold the derived values). A driver
that simulates no year first (the game) uses the table and ``net_cone_yuan_per_kw_yr`` as
given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from clearing.grid import KW_PER_MW
from market.rules.base import Flag, Fraction, NonNegative, Positive, RulesModel, num, pick

#: Technologies that have a capacity credit, in the order of the fleet table.
TECHNOLOGIES: tuple[str, ...] = (
    "coal_ultra_supercritical",
    "coal_supercritical",
    "coal_subcritical",
    "wind",
    "solar",
    "storage",
)


class DemandPoint(RulesModel):
    """One point of the capacity demand curve: a quantity and a price, the price as a multiple
    of Net CONE or fixed in yuan/kW-yr (the fixed price wins when both are given)."""

    requirement_fraction: Annotated[float, Field(strict=True, gt=0.0, le=10.0, allow_inf_nan=False)]
    """Quantity as a fraction of the reliability requirement (1.0 = peak x (1 + margin))."""
    net_cone_multiple: NonNegative | None = None
    """Price at that quantity as a multiple of Net CONE."""
    price_yuan_per_kw_yr: NonNegative | None = None
    """Price at that quantity fixed in yuan/kW-yr (instead of a multiple of Net CONE)."""
    gross_cone_multiple: NonNegative | None = None
    """With ``net_cone_multiple``: the price is at least this multiple of Gross CONE
    (``capacity.gross_cone_yuan_per_kw_yr``), as PJM's older VRR point (a) is max(Gross CONE,
    1.5 x Net CONE) [R, docs/DOMAIN.md]. A curve whose prices are multiples of a derived Net
    CONE falls to 0 when the reference unit's energy margin covers its Gross CONE (a short
    system with scarcity prices); this floor keeps the top of the curve paying. None: no
    floor."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        data = handler(self)
        if info.mode_is_json():  # a point given the old way keeps its JSON (and sha256)
            return {k: v for k, v in data.items() if v is not None}
        return data

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        if values.get("net_cone_multiple") is None and values.get("price_yuan_per_kw_yr") is None:
            return [("net_cone_multiple", "a demand point needs a price: net_cone_multiple "
                     "(x Net CONE) or price_yuan_per_kw_yr")]
        return []

    def price(self, net_cone_yuan_per_kw_yr: float, gross_cone_yuan_per_kw_yr: float = 0.0
              ) -> float:
        """The point's price, yuan/kW-yr, for a Net CONE (and, with ``gross_cone_multiple``,
        a Gross CONE)."""
        if self.price_yuan_per_kw_yr is not None:
            return float(self.price_yuan_per_kw_yr)
        price = float(self.net_cone_multiple or 0.0) * net_cone_yuan_per_kw_yr
        if self.gross_cone_multiple is not None:
            price = max(price, float(self.gross_cone_multiple) * gross_cone_yuan_per_kw_yr)
        return price


class CapacityCredit(RulesModel):
    """Accredited MW per nameplate MW, by technology; a unit may override its own credit.

    Reads like a table too: ``credit["wind"]``, ``credit.get("wind")``, ``credit.items()``.
    """

    coal_ultra_supercritical: Fraction = 0.90
    coal_supercritical: Fraction = 0.88
    coal_subcritical: Fraction = 0.85
    wind: Fraction = 0.10
    solar: Fraction = 0.03
    storage: Fraction = 0.60
    """4-hour storage."""

    def __getitem__(self, technology: str) -> float:
        if technology not in TECHNOLOGIES:
            raise KeyError(
                f"no capacity credit for {technology!r}; known: {', '.join(TECHNOLOGIES)}"
            )
        return float(getattr(self, technology))

    def __contains__(self, technology: object) -> bool:
        return technology in TECHNOLOGIES

    def get(self, technology: str, default: float | None = None) -> float | None:
        """The credit of ``technology``, or ``default`` when it has none."""
        return self[technology] if technology in TECHNOLOGIES else default

    def keys(self) -> tuple[str, ...]:
        return TECHNOLOGIES

    def items(self) -> Iterator[tuple[str, float]]:
        return ((t, self[t]) for t in TECHNOLOGIES)

    def values(self) -> Iterator[float]:
        return (self[t] for t in TECHNOLOGIES)


def drop_defaults(model: RulesModel, data: dict[str, Any], info: SerializationInfo,
                  names: tuple[str, ...]) -> dict[str, Any]:
    """``data`` without the fields ``names`` that are at their default, in JSON dumps: rule
    parameters added after a rule set was published leave its JSON, and so its sha256 (and a
    saved session's rules), as they were. Python dumps keep every field."""
    if not info.mode_is_json():
        return data
    fields = type(model).model_fields
    return {k: v for k, v in data.items()
            if k not in names or getattr(model, k) != fields[k].default}


def _default_points() -> tuple[DemandPoint, ...]:
    return (
        DemandPoint(requirement_fraction=0.97, net_cone_multiple=1.5),
        DemandPoint(requirement_fraction=1.03, net_cone_multiple=0.75),
        DemandPoint(requirement_fraction=1.10, net_cone_multiple=0.0),
    )


class CapacityRules(RulesModel):
    """The pilot capacity market of the Mengxi grid (Guofa [2023] No. 16, item 17)."""

    enabled: Flag = True
    """Whether the capacity market runs at all."""
    delivery_year: Annotated[int, Field(strict=True, ge=2000, le=2100)] = 2025
    """Year whose capacity is bought (and whose stress hours test it) [E]."""
    format: Literal["sealed_uniform", "pay_as_bid", "clock"] = "sealed_uniform"
    """Auction format: sealed bids at one uniform price, pay-as-bid, or descending clock."""
    demand_shape: Literal["sloped", "vertical"] = "sloped"
    """Sloped curve through ``demand_points``, or a vertical requirement (one point)."""
    net_cone_method: Literal["derived", "fixed"] = "derived"
    """Net CONE derived from the simulated year (Gross CONE less the reference unit's expected
    energy margin) or fixed at ``net_cone_yuan_per_kw_yr`` [E]."""
    net_cone_yuan_per_kw_yr: NonNegative = 330.0
    """Net cost of new entry, yuan/kW-yr, when ``net_cone_method = "fixed"`` and in the game
    [E, = the coal fixed-cost standard of 1501]; the simulated year replaces it by the derived
    value under ``"derived"``."""
    gross_cone_yuan_per_kw_yr: NonNegative = 415.0
    """Gross cost of new entry of the reference unit, yuan/kW-yr [E]: new ultra-supercritical
    coal, 3,750 yuan/kW over 30 years at 7 % real (302) plus fixed O&M of 3 % of capex (112.5),
    from the cost ranges of docs/DOMAIN.md section 9."""
    reference_technology: Literal["coal_ultra_supercritical", "coal_supercritical",
                                  "coal_subcritical"] = "coal_ultra_supercritical"
    """Technology of the reference new unit whose energy margin nets Gross CONE down [E]."""
    reference_marginal_cost_yuan_per_mwh: NonNegative = 200.0
    """Marginal cost of the reference new unit, yuan/MWh [E, the low end of its class]."""
    accreditation_method: Literal["derived", "fixed"] = "derived"
    """Capacity credits derived from the tightest net-load hours of the simulated year, or
    the fixed ``capacity_credit`` table [E]."""
    accreditation_hours: Annotated[int, Field(strict=True, ge=1, le=8784)] = 100
    """How many of the year's highest net-load hours (load + firm exports - wind - solar)
    measure a technology's contribution [E]."""
    reliability_standard_lole_hours: NonNegative = 3.0
    """Reliability standard, hours a year with unserved load [E, GB uses 3 h [S]]; the year
    reports its LOLE and EUE beside it."""
    reserve_margin: Fraction = 0.15
    """Requirement = peak load x (1 + reserve_margin) [E]."""
    demand_points: tuple[DemandPoint, ...] = Field(default_factory=_default_points)
    """Demand curve points (see the module docstring for the two shapes)."""
    offer_cap_yuan_per_kw_yr: Positive = 495.0
    """No capacity offer may be priced above this, yuan/kW-yr [E, = the first point at the fixed
    Net CONE, 1.5 x 330; a derived Net CONE does not move it]."""
    must_offer_existing_coal: Flag = True
    """Existing coal units must offer all their accredited capacity."""
    capacity_credit: CapacityCredit = Field(default_factory=CapacityCredit)
    """Accredited MW per nameplate MW, by technology, when ``accreditation_method = "fixed"``
    and in the game [E]."""
    penalty_hours: Positive = 30.0
    """Penalty rate = Net CONE / penalty_hours, yuan per MWh short in a stress hour: PJM's
    formula [S]; the stress-hour definition, the stop-loss and the refund to loads are the
    sandbox's [E]."""
    stop_loss_multiple: NonNegative = 1.0
    """A unit's penalties in a year are capped at this x its annual capacity payment [E]."""
    cost_allocation: Literal["peak_share", "energy_share"] = "peak_share"
    """Loads pay the capacity cost by their share of peak load or of energy."""
    clock_start_price_yuan_per_kw_yr: Positive = 495.0
    """Starting price of the descending clock, yuan/kW-yr [E]."""
    clock_decrement_yuan_per_kw_yr: Positive = 5.0
    """Price step between clock rounds, yuan/kW-yr [E]."""
    performance_basis: Literal["available", "dispatched"] = "available"
    """What a unit delivers in a stress hour: what it had available to the operator (coal its
    offered MW, wind and solar their output, storage what it could discharge), or its net
    dispatch [E]."""
    balancing_ratio: Flag = False
    """Scale each stress hour's obligation by the hour's balancing ratio, load + firm exports
    over all cleared accredited MW, at most 1 [S, PJM Capacity Performance's expected
    performance; the ratio's inputs are the sandbox's [E]]."""
    performance_bonus: Flag = False
    """Pay units that deliver more than they owe in stress hours a bonus per MWh of excess,
    at the penalty rate or pro rata less, out of the year's penalties; the rest is refunded to
    loads [S, PJM funds bonuses from non-performance charges]."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        return drop_defaults(self, handler(self), info, (
            "performance_basis", "net_cone_method", "gross_cone_yuan_per_kw_yr",
            "reference_technology", "reference_marginal_cost_yuan_per_mwh",
            "accreditation_method", "accreditation_hours", "reliability_standard_lole_hours",
            "balancing_ratio", "performance_bonus"))

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        points = values.get("demand_points")
        if not isinstance(points, list | tuple):
            return problems
        if values.get("demand_shape") == "vertical":
            if len(points) != 1:
                problems.append(
                    (
                        "demand_points",
                        f"a vertical demand curve is given by exactly one point (the share of "
                        f"the requirement bought at any price up to its price); got {len(points)}",
                    )
                )
            return problems
        if len(points) < 2:
            problems.append(
                (
                    "demand_points",
                    f"a sloped demand curve needs at least 2 points; got {len(points)}",
                )
            )
        for i in range(1, len(points)):
            before_q = num(pick(points, i - 1, "requirement_fraction"))
            here_q = num(pick(points, i, "requirement_fraction"))
            if before_q is not None and here_q is not None and here_q <= before_q:
                problems.append(
                    (
                        f"demand_points[{i}].requirement_fraction",
                        f"must be above the previous point's ({before_q:g}): requirement "
                        "fractions strictly increase along a sloped curve",
                    )
                )
            for key in ("price_yuan_per_kw_yr", "net_cone_multiple"):
                before_p = num(pick(points, i - 1, key))
                here_p = num(pick(points, i, key))
                if before_p is not None and here_p is not None and here_p > before_p:
                    problems.append(
                        (
                            f"demand_points[{i}].{key}",
                            f"must be at most the previous point's ({before_p:g}): demand "
                            "prices do not increase along the curve",
                        )
                    )
        return problems

    def resolved(self, *, net_cone_yuan_per_kw_yr: float | None = None,
                 capacity_credit: Mapping[str, float] | None = None) -> CapacityRules:
        """A copy with the derived Net CONE and capacity credits filled in (each left as it is
        when ``None``); the methods stay as they are, the values are what the market uses."""
        update: dict[str, Any] = {}
        if net_cone_yuan_per_kw_yr is not None:
            update["net_cone_yuan_per_kw_yr"] = float(net_cone_yuan_per_kw_yr)
        if capacity_credit is not None:
            table = dict(self.capacity_credit.items())
            table.update({k: float(np.clip(v, 0.0, 1.0)) for k, v in capacity_credit.items()
                          if k in TECHNOLOGIES})
            update["capacity_credit"] = CapacityCredit(**table)
        return self.model_copy(update=update)

    def penalty_rate_yuan_per_mwh(self) -> float:
        """Performance penalty per MWh short in a stress hour: Net CONE (yuan/kW-yr) x 1000
        / ``penalty_hours``, in yuan/MWh."""
        return self.net_cone_yuan_per_kw_yr * KW_PER_MW / self.penalty_hours

    def demand_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """The demand curve as arrays ``(requirement_fraction, price_yuan_per_kw_yr)`` at this
        rule set's ``net_cone_yuan_per_kw_yr``.

        Both float64 of shape (n,). A vertical curve comes back as two points at the same
        fraction, from its price down to 0.
        """
        cone = self.net_cone_yuan_per_kw_yr
        fractions = np.array([p.requirement_fraction for p in self.demand_points], dtype=np.float64)
        gross = self.gross_cone_yuan_per_kw_yr
        prices = np.array([p.price(cone, gross) for p in self.demand_points], dtype=np.float64)
        if self.demand_shape == "vertical":
            return np.repeat(fractions[:1], 2), np.array([prices[0], 0.0])
        return fractions, prices
