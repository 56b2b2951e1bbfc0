"""Rules of green electricity trading and of green certificates (GEC) in Inner Mongolia."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from market.rules.base import Flag, Fraction, NonNegative, Positive, RulesModel, num


class GreenRules(RulesModel):
    """Green premium, certificate prices and validity, and the consumption obligation."""

    premium_yuan_per_mwh: NonNegative = 20.0
    """Default green premium above the energy price, yuan/MWh [E]."""
    premium_min_yuan_per_mwh: NonNegative = 1.0
    """Low end of the premiums agents offer, yuan/MWh [E] (the premium has no legal cap [S])."""
    premium_max_yuan_per_mwh: NonNegative = 50.0
    """High end of the premiums agents offer, yuan/MWh [E; first-day premiums 30-50 [S]]."""
    certificate_price_yuan: NonNegative = 2.0
    """Default price of one unbundled certificate (1 MWh), yuan [E, within 1-2.3 [S]]."""
    certificate_price_low_yuan: NonNegative = 1.0
    """Low end of 2025 unbundled certificate prices, yuan each [S]."""
    certificate_price_high_yuan: NonNegative = 2.3
    """High end of 2025 unbundled certificate prices, yuan each [S]."""
    certificate_mwh: Positive = 1.0
    """MWh of green output per certificate [S]."""
    certificate_validity_months: Annotated[int, Field(strict=True, ge=1)] = 24
    """Months a certificate stays valid after issue [S]."""
    storage_earns_certificates: Flag = False
    """Independent storage earns no certificates [S]."""
    obligation_weight: Fraction = 0.22
    """Non-hydro renewable consumption responsibility weight of obligated loads [S]."""
    total_obligation_weight: Fraction = 0.23
    """Total (incl. hydro) renewable consumption responsibility weight [S]; reference only."""
    shortfall_penalty_yuan_per_mwh: NonNegative = 50.0
    """Paid per MWh of obligation not covered by retired certificates, yuan/MWh [E]."""
    listing_fill: Literal["pro_rata", "first_come"] = "pro_rata"
    """How a listing (posted price and quantity) is filled when oversubscribed."""

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        low = num(values.get("premium_min_yuan_per_mwh"))
        high = num(values.get("premium_max_yuan_per_mwh"))
        premium = num(values.get("premium_yuan_per_mwh"))
        if low is not None and high is not None:
            if low > high:
                problems.append(
                    (
                        "premium_min_yuan_per_mwh",
                        f"must be at most premium_max_yuan_per_mwh ({high:g})",
                    )
                )
            elif premium is not None and not low <= premium <= high:
                problems.append(
                    ("premium_yuan_per_mwh", f"must lie in the premium range [{low:g}, {high:g}]")
                )
        low = num(values.get("certificate_price_low_yuan"))
        high = num(values.get("certificate_price_high_yuan"))
        if low is not None and high is not None and low > high:
            problems.append(
                (
                    "certificate_price_low_yuan",
                    f"must be at most certificate_price_high_yuan ({high:g})",
                )
            )
        return problems
