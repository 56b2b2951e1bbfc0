"""Rules of green electricity trading and of green certificates (GEC) in Inner Mongolia.

The market sets no limit on the green premium or on the certificate price [S: the premium has
no legal cap]; ``premium_cap_yuan_per_mwh`` and ``certificate_price_cap_yuan`` add one for a
variant (``None``, the default: no cap). The premium and certificate price ranges below are
reference figures (observed prices and the starting belief of strategies), never clips on
what participants may bid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from market.rules.base import Flag, Fraction, NonNegative, Positive, RulesModel, num


class GreenRules(RulesModel):
    """Green premium, certificate prices and validity, and the consumption obligation."""

    premium_yuan_per_mwh: NonNegative = 20.0
    """Starting belief of the green premium above the energy price, yuan/MWh [E]; a
    reference for strategies without a market view, not a price limit."""
    premium_min_yuan_per_mwh: NonNegative = 1.0
    """Low end of the reference premium range, yuan/MWh [E]; used only by the
    ``green_seller_heuristic``/``green_buyer_heuristic`` strategies, never a limit on bids."""
    premium_max_yuan_per_mwh: NonNegative = 50.0
    """High end of the reference premium range, yuan/MWh [E; first-day premiums 2021: 30-50
    [S]]; used only by the heuristic strategies, never a limit on bids."""
    premium_cap_yuan_per_mwh: NonNegative | None = None
    """Highest bundled green premium the market accepts, yuan/MWh; ``None``: no cap (the
    premium has no legal cap [S]). An order above it is refused naming this rule."""
    certificate_price_yuan: NonNegative = 2.0
    """Starting belief of the price of one unbundled certificate (1 MWh), yuan [E, within the
    2025 range 1-2.3 [S]]; a reference, not a limit."""
    certificate_price_low_yuan: NonNegative = 1.0
    """Low end of observed 2025 unbundled certificate prices, yuan each [S]; reference only."""
    certificate_price_high_yuan: NonNegative = 2.3
    """High end of observed 2025 unbundled certificate prices, yuan each [S]; reference only."""
    certificate_price_cap_yuan: NonNegative | None = None
    """Highest unbundled certificate price the market accepts, yuan each; ``None``: no cap
    (no published cap [S]). An order above it is refused naming this rule."""
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
    """Paid per MWh of obligation not covered by retired certificates, yuan/MWh [E: no
    published penalty price]; it bounds what a certificate is worth to an obligated buyer."""
    listing_fill: Literal["pro_rata", "first_come"] = "pro_rata"
    """How a listing (posted price and quantity) is filled when oversubscribed [E]."""

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
