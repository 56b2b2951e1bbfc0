"""Who a rule set is, and the tick grid every market price and quantity lives on."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from market.rules.base import Positive, RulesModel


class MetaRules(RulesModel):
    """Name, description, simulated year and default seed of a rule set."""

    name: str = "mengxi"
    """Short name of the rule set (the preset name for presets)."""
    description: str = (
        "Mengxi grid, 2024-25 rules: energy spot market, pilot capacity market, coal capacity "
        "compensation (30 % recovery) and green electricity trading."
    )
    """One-line human description."""
    year: Annotated[int, Field(strict=True, ge=2000, le=2100)] = 2025
    """Calendar year simulated (hourly profiles and monthly settlements run over it)."""
    seed: Annotated[int, Field(strict=True, ge=0)] = 20231005
    """Default seed of the run's numpy Generator; results store the seed actually used."""


class TickRules(RulesModel):
    """Tick grid of the clearing core; prices and quantities are int64 multiples of these."""

    price_yuan: Positive = 0.01
    """Price tick in yuan (per MWh in energy, per kW-yr in capacity)."""
    quantity_mw: Positive = 0.001
    """Quantity tick in MW (or MWh)."""
