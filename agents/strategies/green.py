"""Green trading strategies: renewable sellers and obligated buyers, month by month.

Each month the market runs a **bundled** call auction (green power with its certificates,
priced as a premium over the energy price) and then an **unbundled** one (certificates alone).

* ``green_seller`` chooses between the two products. Selling bundled is worth it only when the
  premium it expects beats the price of a certificate sold alone (the reservation price); then
  it offers ``bundled_share`` of its never-sold certificates bundled, each unit asking the
  reservation plus a random share in [``ask_low``, ``ask_high``] of the expected mark-up. What
  the bundled auction leaves unsold goes to the unbundled auction, asked at the certificate
  price x a random factor in [``certificate_ask_low``, ``certificate_ask_high``] within the
  rules' certificate price range.
* ``green_buyer`` (obligated loads) covers its renewable consumption obligation as it
  accrues: it wants ``bundled_share`` of what it still needs as green power, bidding a premium
  drawn once a month in the rules' premium range, and buys the rest as certificates, bidding
  up to the cheaper of the shortfall penalty and the premium ceiling (a certificate below the
  penalty is always worth buying).

Expected prices come in the observation (last month's clearing prices, NaN before any).
Prices are on the green market's 0.01 yuan grid and quantities on its 0.001 MWh grid
(``clearing.grid.PRICE_TICK``, ``market.certificates.registry.TICKS_PER_MWH``). The parameters'
defaults are rules, ``agents.strategies.green_seller`` and ``agents.strategies.green_buyer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.observe import certificate_quantity, price_grid
from agents.strategies.base import Strategy, register_strategy
from clearing.grid import PRICE_TICK
from market.errors import StrategyError
from market.rules import GreenBuyerParams, GreenSellerParams, MarketRules


@dataclass(frozen=True, eq=False)
class GreenSellerObservation:
    """A renewable owner's month: ``unit_ids`` str (U,), ``sellable_mwh`` float64 (U,) of
    never-sold certificates it holds per unit, and last month's clearing prices
    (``expected_premium_yuan_per_mwh`` bundled, ``expected_certificate_price_yuan``; NaN when
    unknown)."""

    owner: str
    month: int
    unit_ids: np.ndarray
    sellable_mwh: np.ndarray
    expected_premium_yuan_per_mwh: float
    expected_certificate_price_yuan: float
    state: Any = None


@dataclass(frozen=True, eq=False)
class GreenSellerDecision:
    """Per unit (U,): ``bundled_mwh`` offered bundled at ``bundled_premium_yuan_per_mwh``;
    whatever stays unsold is offered unbundled at ``certificate_price_yuan``."""

    bundled_mwh: np.ndarray
    bundled_premium_yuan_per_mwh: np.ndarray
    certificate_price_yuan: np.ndarray
    state: Any = None


@dataclass(frozen=True, eq=False)
class GreenBuyerObservation:
    """Obligated loads' month: ``load_ids`` str (L,), ``need_mwh`` float64 (L,) of
    certificates still to acquire for the obligation accrued so far, last month's prices."""

    month: int
    load_ids: np.ndarray
    need_mwh: np.ndarray
    expected_premium_yuan_per_mwh: float
    expected_certificate_price_yuan: float
    state: Any = None


@dataclass(frozen=True, eq=False)
class GreenBuyerDecision:
    """Per load (L,): ``bundled_mwh`` wanted as green power at up to
    ``bundled_premium_yuan_per_mwh``; the rest of the need bought as certificates at up to
    ``certificate_price_yuan``."""

    bundled_mwh: np.ndarray
    bundled_premium_yuan_per_mwh: np.ndarray
    certificate_price_yuan: np.ndarray
    state: Any = None


def _cents(x: np.ndarray | float) -> np.ndarray:
    """Prices rounded to the green market's price grid (nearest, half to even)."""
    return price_grid(x, PRICE_TICK)


def _whole_ticks_down(mwh: np.ndarray) -> np.ndarray:
    """MWh rounded down to the certificate registry's 0.001 MWh grid."""
    return certificate_quantity(mwh)


def _known(value: float | None, default: float) -> float:
    return default if value is None or not np.isfinite(value) else float(value)


def seller_decision(obs: GreenSellerObservation, rules: MarketRules, rng: np.random.Generator,
                    params: Mapping[str, Any]) -> GreenSellerDecision:
    """Bundled first when it is expected to pay more than a certificate alone."""
    g = rules.green
    share, low, high, cert_low, cert_high = (float(params[k]) for k in (
        "bundled_share", "ask_low", "ask_high", "certificate_ask_low", "certificate_ask_high"))
    if not (0 <= share <= 1 and 0 <= low <= high and 0 <= cert_low <= cert_high):
        raise StrategyError("green_seller needs 0 <= bundled_share <= 1, 0 <= ask_low <= "
                            "ask_high and 0 <= certificate_ask_low <= certificate_ask_high; got "
                            f"{share}, {low}, {high}, {cert_low}, {cert_high}")
    u = obs.unit_ids.shape[0]
    reservation = _known(obs.expected_certificate_price_yuan, g.certificate_price_yuan)
    expected = _known(obs.expected_premium_yuan_per_mwh, g.premium_yuan_per_mwh)
    go = expected > reservation
    draw = reservation + (expected - reservation) * rng.uniform(low, high, u)
    ask = _cents(np.clip(draw, g.premium_min_yuan_per_mwh, g.premium_max_yuan_per_mwh))
    alone = np.clip(reservation * rng.uniform(cert_low, cert_high, u), g.certificate_price_low_yuan,
                    g.certificate_price_high_yuan)
    cert = _cents(np.clip(alone, g.premium_min_yuan_per_mwh, g.premium_max_yuan_per_mwh))
    bundled = _whole_ticks_down(obs.sellable_mwh * (share if go else 0.0))
    return GreenSellerDecision(bundled, ask, cert)


def buyer_decision(obs: GreenBuyerObservation, rules: MarketRules, rng: np.random.Generator,
                   params: Mapping[str, Any]) -> GreenBuyerDecision:
    """Part of the need as green power at a drawn premium, the rest as certificates."""
    g = rules.green
    share = float(params["bundled_share"])
    if not 0 <= share <= 1:
        raise StrategyError(f"green_buyer bundled_share must be in [0, 1], got {share!r}")
    n = obs.load_ids.shape[0]
    need = np.maximum(np.asarray(obs.need_mwh, dtype=np.float64), 0.0)
    bid = _cents(rng.uniform(g.premium_min_yuan_per_mwh, g.premium_max_yuan_per_mwh, n))
    ceiling = min(g.shortfall_penalty_yuan_per_mwh, g.premium_max_yuan_per_mwh)
    cert = np.full(n, max(ceiling, g.premium_min_yuan_per_mwh))
    bundled = _whole_ticks_down(need * share)
    return GreenBuyerDecision(bundled, bid, _cents(cert))


register_strategy(Strategy(
    "green_seller", "green_seller", seller_decision,
    defaults=GreenSellerParams().model_dump(),
    description="offers bundled green power when the expected premium beats a certificate "
                "alone; sells the rest unbundled"))
register_strategy(Strategy(
    "green_buyer", "green_buyer", buyer_decision, defaults=GreenBuyerParams().model_dump(),
    description="covers its consumption obligation as it accrues, part bundled, the rest as "
                "certificates up to the shortfall penalty"))
