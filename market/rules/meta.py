"""Who a rule set is, and the tick grid every market price and quantity lives on."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

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
    weather_year: Annotated[int, Field(strict=True, ge=2000, le=2100)] = 2025
    """Year whose calendar and weather the hourly profiles replay [E]: load, wind, solar and
    outages are drawn from the run's seed and this year, never from ``year``, so a rule set
    that changes ``year`` (the 2026 preset) keeps the weather of its base. Defaults to the
    base preset's year."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        # A rule set at the default weather year keeps the JSON (and sha256) it had before.
        data: dict[str, Any] = handler(self)
        if info.mode_is_json() and self.weather_year == type(self).model_fields[
                "weather_year"].default:
            data.pop("weather_year", None)
        return data


class TickRules(RulesModel):
    """Tick grid of the clearing core; prices and quantities are int64 multiples of these."""

    price_yuan: Positive = 0.01
    """Price tick in yuan (per MWh in energy, per kW-yr in capacity)."""
    quantity_mw: Positive = 0.001
    """Quantity tick in MW (or MWh)."""
