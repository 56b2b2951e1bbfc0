"""Assumptions about the simulated participants and their world: :class:`AgentRules`, the
``[agents]`` table. Every number is an [E] estimate of the sandbox, a parameter like any rule so
that variants and sweeps can change it (``agents.outages.forced_outage_rate``,
``agents.strategies.learning.recency``, ...).

* ``runner``: how the in-process year clears (windows, what storage sees ahead);
* ``load_profile``, ``wind_profile``, ``solar_profile``, ``outages``: the hourly models
  (:mod:`market.rules.sections.profiles`);
* ``strategies``: the default parameters of the built-in bidding strategies, one table per
  strategy; a run's ``strategies`` mapping may still override them per owner.

The fleet's own assumptions (owners, supporting coal, fixed costs, load sizes and response) are
in ``[fleet]`` (:mod:`market.rules.sections.fleet`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from market.rules.base import Count, Finite, Fraction, NonNegative, Positive, RulesModel, num
from market.rules.sections.profiles import (
    LoadProfileRules,
    OutageRules,
    SolarProfileRules,
    WindProfileRules,
)

#: An hour of the day at which something starts, 0-23.
HourOfDay = Annotated[int, Field(strict=True, ge=0, le=23)]


class RunnerRules(RulesModel):
    """How the in-process runner clears the year's hourly energy auctions [E]."""

    window_start_hours: tuple[HourOfDay, ...] = (0, 16)
    """Hours of the day at which clearing windows start (00:00 always does). Storage carries
    its state of charge from window to window; two a day let the midday charge be sold in the
    evening peak."""
    storage_lookahead_hours: Count = 24
    """Forecast hours after a window that storage strategies see."""

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        starts = values.get("window_start_hours")
        if isinstance(starts, list | tuple) and len(set(map(repr, starts))) != len(starts):
            return [("window_start_hours", "each hour may appear only once")]
        return []


# --------------------------------------------------------------------- strategy parameters
# Field names are the strategies' parameter names (agents.strategies*), so a run's
# ``strategies`` mapping and these tables speak the same keys.


class MarkupParams(RulesModel):
    """``markup``: every MW at cost x (1 + markup) + adder."""

    markup: Finite = 0.2
    """Markup over marginal cost, share of cost (also applied to the capacity price)."""
    adder_yuan_per_mwh: Finite = 0.0
    """Added to every energy offer price, yuan/MWh."""


class WithholdingParams(RulesModel):
    """``withholding``: physical withholding of a share of the flexible MW."""

    share: Fraction = 0.2
    """Share of flexible (and of accredited) MW held back."""
    min_forecast_yuan_per_mwh: Finite | None = None
    """Withhold only in hours forecast at least this dear, yuan/MWh; None = every hour."""


class LearningParams(RulesModel):
    """``learning``: modified Roth-Erev reinforcement over a menu of markups."""

    markups: tuple[Finite, ...] = Field(
        default=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0), min_length=2
    )
    """The menu of markups over marginal cost (shares of cost)."""
    recency: Fraction = 0.1
    """How fast old propensities are forgotten each round."""
    experimentation: Fraction = 0.2
    """Share of a round's reinforcement spread over the markups not chosen."""
    initial_propensity: Positive = 1.0
    """Propensity of every markup before the first round."""
    adder_yuan_per_mwh: Finite = 0.0
    """Added to every energy offer price, yuan/MWh."""


class StorageArbitrageParams(RulesModel):
    """``storage_arbitrage``: charge in the cheapest forecast hours, discharge in the dearest."""

    margin: Fraction = 0.05
    """Share by which a discharge must beat (a charge undercut) the opportunity cost."""


class GreenSellerParams(RulesModel):
    """``green_seller``: renewable owners choosing between bundled and unbundled sales (the
    ``ask_*`` parameters are those of ``green_seller_heuristic``)."""

    bundled_share: Fraction = 1.0
    """Share of the month's forecast output (heuristic: of never-sold certificates) offered
    bundled when bundled is expected to pay at least a certificate alone [E]."""
    forecast_uncertainty: NonNegative = 0.1
    """Relative standard deviation of the forecast of the year's certificate supply [E]."""
    banking_discount: Fraction = 0.9
    """Share of a certificate's expected value kept by banking it to next year's settlement
    (still valid then) [E]."""
    ask_low: NonNegative = 0.5
    """Heuristic: low end of the random share of the expected mark-up added to the reservation
    price [E]."""
    ask_high: NonNegative = 1.5
    """Heuristic: high end of that share [E]."""
    certificate_ask_low: NonNegative = 0.9
    """Heuristic: low end of the random factor on the expected certificate price asked
    unbundled [E]."""
    certificate_ask_high: NonNegative = 1.1
    """Heuristic: high end of that factor [E]."""

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for low_key, high_key in (("ask_low", "ask_high"),
                                  ("certificate_ask_low", "certificate_ask_high")):
            low, high = num(values.get(low_key)), num(values.get(high_key))
            if low is not None and high is not None and low > high:
                problems.append((low_key, f"must be at most {high_key} ({high:g})"))
        return problems


class GreenBuyerParams(RulesModel):
    """``green_buyer``: obligated loads covering their consumption obligation as it accrues."""

    bundled_share: Fraction = 0.5
    """Share of what is still needed that is bid for as green power (the rest certificates)
    [E]."""
    forecast_uncertainty: NonNegative = 0.1
    """Relative standard deviation of the forecast of the year's certificate supply [E]."""
    green_preference_yuan_per_mwh: NonNegative = 0.0
    """Premium a buyer pays for green power over the certificate's value to it, yuan/MWh [E]."""


class StrategyRules(RulesModel):
    """Default parameters of the built-in strategies, one table per strategy name."""

    markup: MarkupParams = Field(default_factory=MarkupParams)
    withholding: WithholdingParams = Field(default_factory=WithholdingParams)
    learning: LearningParams = Field(default_factory=LearningParams)
    storage_arbitrage: StorageArbitrageParams = Field(default_factory=StorageArbitrageParams)
    green_seller: GreenSellerParams = Field(default_factory=GreenSellerParams)
    green_buyer: GreenBuyerParams = Field(default_factory=GreenBuyerParams)

    def params_by_name(self) -> dict[str, dict[str, Any]]:
        """Each strategy's default parameters by strategy name (lists as tuples)."""
        return {name: getattr(self, name).model_dump(mode="python")
                for name in type(self).model_fields}


class AgentRules(RulesModel):
    """Assumptions about the simulated participants (see the module docstring) [E]."""

    runner: RunnerRules = Field(default_factory=RunnerRules)
    load_profile: LoadProfileRules = Field(default_factory=LoadProfileRules)
    wind_profile: WindProfileRules = Field(default_factory=WindProfileRules)
    solar_profile: SolarProfileRules = Field(default_factory=SolarProfileRules)
    outages: OutageRules = Field(default_factory=OutageRules)
    strategies: StrategyRules = Field(default_factory=StrategyRules)
