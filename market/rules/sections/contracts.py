"""Rules of the contracts settled as differences (:mod:`market.contracts`): medium/long-term
CfDs between coal and loads, and the 2025 new-energy mechanism price (Fagai Jiage [2025]
No. 136, docs/DOMAIN.md) [R]."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from market.rules.base import Flag, Fraction, NonNegative, RulesModel


class ContractRules(RulesModel):
    """Contracts for difference: the spot market settles full volumes, the contracts settle
    (strike - spot price) x contracted MWh between their parties."""

    enabled: Flag = False
    """Whether the simulated year (and so each pathway year) settles the contracts after the
    spot market: coal CfDs with loads and the stock projects' mechanism price
    (:mod:`studies.year.contracts`); off by default [E]."""
    coal_contracted_share: Fraction = 0.7
    """Share of each coal unit's output sold to loads under medium/long-term CfDs [E]."""
    coal_strike_float: Annotated[float, Field(strict=True, ge=-1.0, le=1.0,
                                              allow_inf_nan=False)] = 0.0
    """Coal CfD strike = benchmark x (1 + this); at most ``energy.contract_price_float`` in
    either direction [S, NDRC Oct 2021: benchmark +-20 %]."""
    mechanism_stock_price_yuan_per_mwh: NonNegative = 282.9
    """Mechanism price of wind and solar in operation before 1 June 2025, at most the coal
    benchmark [R, Fagai Jiage 136] (Mengxi default = the benchmark [E])."""
    mechanism_stock_volume_share: Fraction = 0.8
    """Share of a stock project's output settled at the mechanism price [E]."""
    mechanism_new_volume_share: Fraction = 0.8
    """Share of a new project's output settled at its auction price [E]."""
    mechanism_new_term_years: Annotated[int, Field(strict=True, ge=1, le=40)] = 12
    """Years a new project's mechanism price lasts [E]."""
    mechanism_new_demand_share: Fraction = 1.0
    """Share of the new projects' offered MW the annual mechanism auction buys [E]."""
