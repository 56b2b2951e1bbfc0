"""Energy offers of generators (coal, wind, solar): opportunity cost (the default), truthful,
fixed markup, and withholding.

Each also names its capacity offer (:mod:`agents.strategies.capacity`) and registers itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.strategies.base import (
    OfferObservation,
    Offers,
    Strategy,
    _flexible_mw,
    certificate_value,
    marked_up,
    must_run_blocks,
    register_strategy,
)
from agents.strategies.capacity import markup_capacity, truthful_capacity, withholding_capacity
from market.errors import StrategyError
from market.rules import MarketRules, MarkupParams, WithholdingParams


def truthful_offers(obs: OfferObservation, rules: MarketRules, rng: np.random.Generator,
                    params: Mapping[str, Any]) -> Offers:
    """Everything available offered at marginal cost (must-run at the floor)."""
    return must_run_blocks(obs, _flexible_mw(obs), obs.marginal_cost_yuan_per_mwh, rules)


def opportunity_cost_offers(obs: OfferObservation, rules: MarketRules,
                            rng: np.random.Generator, params: Mapping[str, Any]) -> Offers:
    """Everything available at its opportunity cost: coal at marginal cost; wind and solar at
    marginal cost less the certificate value a MWh not produced loses
    (``obs.certificate_value_yuan_per_mwh``, else the rules' starting belief,
    :func:`agents.strategies.base.certificate_value`), down to the energy floor."""
    value = (certificate_value(rules) if obs.certificate_value_yuan_per_mwh is None
             else max(float(obs.certificate_value_yuan_per_mwh), 0.0))
    tech = np.asarray(obs.technology).astype(str)
    green = (tech == "wind") | (tech == "solar")
    price = np.asarray(obs.marginal_cost_yuan_per_mwh, dtype=np.float64) - np.where(
        green, value, 0.0)
    return must_run_blocks(obs, _flexible_mw(obs), price, rules)


def markup_offers(obs: OfferObservation, rules: MarketRules, rng: np.random.Generator,
                  params: Mapping[str, Any]) -> Offers:
    """Everything available at cost x (1 + ``markup``) + ``adder_yuan_per_mwh``."""
    price = marked_up(obs.marginal_cost_yuan_per_mwh, float(params["markup"]),
                      float(params["adder_yuan_per_mwh"]))
    return must_run_blocks(obs, _flexible_mw(obs), price, rules)


def withholding_offers(obs: OfferObservation, rules: MarketRules, rng: np.random.Generator,
                       params: Mapping[str, Any]) -> Offers:
    """Physical withholding: in hours whose forecast is at least ``min_forecast_yuan_per_mwh``
    (``None``: every hour) only ``1 - share`` of the flexible MW is offered (at cost); the rest
    is held back."""
    share = float(params["share"])
    if not 0.0 <= share <= 1.0:
        raise StrategyError(f"withholding share must be in [0, 1], got {share!r}")
    threshold = params["min_forecast_yuan_per_mwh"]
    when = (np.ones(obs.hours.shape[0], dtype=bool) if threshold is None
            else obs.price_forecast_yuan_per_mwh >= float(threshold))
    keep = np.where(when[:, None], 1.0 - share, 1.0)
    return must_run_blocks(obs, _flexible_mw(obs) * keep, obs.marginal_cost_yuan_per_mwh, rules)


register_strategy(Strategy(
    "opportunity_cost", "generator", opportunity_cost_offers, truthful_capacity,
    description="offers everything available at its opportunity cost: coal at marginal cost, "
                "wind and solar below it by the certificate value lost when not producing; "
                "capacity at net going-forward cost"))
register_strategy(Strategy(
    "truthful", "generator", truthful_offers, truthful_capacity,
    description="offers everything available at marginal cost; capacity at net "
                "going-forward cost"))
register_strategy(Strategy(
    "markup", "generator", markup_offers, markup_capacity,
    defaults=MarkupParams().model_dump(),
    description="cost x (1 + markup) + adder in energy; the same markup on capacity"))
register_strategy(Strategy(
    "withholding", "generator", withholding_offers, withholding_capacity,
    defaults=WithholdingParams().model_dump(),
    description="holds back a share of its flexible MW (in hours forecast dear enough) "
                "and of its accredited MW"))
