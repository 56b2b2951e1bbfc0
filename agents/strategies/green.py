"""Green trading strategies: renewable sellers and obligated buyers, month by month.

Each month the market clears **bundled** green power as contracts for the month before its
output is metered (delivered on min(contract, metered generation, consumption), see
:mod:`market.green.delivery`) and then, after metering, an **unbundled** call auction of
certificates alone.

The default strategies price both products from one number, the **expected value of a
certificate** this year, formed from the year's obligation (``green_seller``, ``green_buyer``):

* the probability that the market is short, p = P(S < O): O = ``obligation_weight`` x the
  year's expected consumption (metered so far + forecast of the rest), S = certificates
  issued so far + the forecast of the rest of the year's renewable output, with S normally
  distributed around its forecast with relative standard deviation ``forecast_uncertainty``
  [E];
* when the market is short a certificate fetches what it saves an obligated buyer, the
  shortfall penalty; when it is long, the sellers' reservation, its banking value: a
  certificate still valid at next year's settlement keeps ``banking_discount`` (delta) of its
  expected value [E] (one that will have expired is worth 0 and sold at any price). So the
  value V solves V = p x penalty + (1 - p) x delta x V, i.e.
  ``V = p x penalty / (1 - delta x (1 - p))`` (V = p x penalty without banking).

Rules of the two roles (arbitrage between the products):

* ``green_buyer`` bids V for the certificates it still needs for the obligation accrued so far;
  it takes bundled green power for ``bundled_share`` of that need only at a premium up to
  V + ``green_preference_yuan_per_mwh`` (>= 0, default 0 [E]).
* ``green_seller`` offers its unsold certificates alone at its reservation (delta x V, or 0
  for certificates that will have expired by next year's settlement) and offers bundled
  ``bundled_share`` of each unit's forecast output of the month only when the premium it
  expects is at least what a certificate fetches alone (V), asking V.

A certificate alone clears between delta x V (a long month) and V (a short one), and bundled
at V or above, so the bundled premium is at least the certificate price. When a variant caps
a product's price (``green.premium_cap_yuan_per_mwh``, ``green.certificate_price_cap_yuan``)
no strategy bids or asks above the cap. Without the market
view (``expected_obligation_mwh`` / ``expected_supply_mwh`` NaN, e.g. an HTTP bot that has
none), V is last month's certificate price (else the rules' starting belief).

The previous rules stay selectable as ``green_seller_heuristic`` and ``green_buyer_heuristic``:
the seller asks the reservation plus a random share in [``ask_low``, ``ask_high``] of the
expected mark-up for bundled and the certificate price x a random factor in
[``certificate_ask_low``, ``certificate_ask_high``] alone, within the rules' reference ranges;
the buyer bids a premium drawn in the reference premium range and certificates up to the
cheaper of the shortfall penalty and the premium range's top.

Expected prices come in the observation (last month's clearing prices, NaN before any).
Prices are on the green market's 0.01 yuan grid and quantities on its 0.001 MWh grid
(``clearing.grid.PRICE_TICK``, ``market.certificates.registry.TICKS_PER_MWH``). The parameters'
defaults are rules, ``agents.strategies.green_seller`` and ``agents.strategies.green_buyer``.
"""

from __future__ import annotations

import math
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
    unknown). The market view (NaN / ``None`` when the owner has none):
    ``expected_obligation_mwh`` and ``expected_supply_mwh`` of the whole market for the year,
    ``forecast_mwh`` float64 (U,) each unit's forecast output of the month (what bundled
    contracts are offered from; ``None``: its never-sold certificates) and ``bankable`` bool
    (U,), whether the unit's certificates will still be valid at next year's settlement."""

    owner: str
    month: int
    unit_ids: np.ndarray
    sellable_mwh: np.ndarray
    expected_premium_yuan_per_mwh: float
    expected_certificate_price_yuan: float
    state: Any = None
    expected_obligation_mwh: float = float("nan")
    expected_supply_mwh: float = float("nan")
    forecast_mwh: np.ndarray | None = None
    bankable: np.ndarray | None = None


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
    certificates still to acquire for the obligation accrued so far, last month's prices, and
    the market view (the year's ``expected_obligation_mwh`` and ``expected_supply_mwh``, NaN
    when unknown)."""

    month: int
    load_ids: np.ndarray
    need_mwh: np.ndarray
    expected_premium_yuan_per_mwh: float
    expected_certificate_price_yuan: float
    state: Any = None
    expected_obligation_mwh: float = float("nan")
    expected_supply_mwh: float = float("nan")


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


def _capped(prices: np.ndarray, cap: float | None) -> np.ndarray:
    """Prices no higher than the market's cap for the product (``None``: no cap): a cap is a
    rule of the market, not a belief, so no strategy bids above it."""
    p = np.asarray(prices, dtype=np.float64)
    return p if cap is None else np.minimum(p, float(cap))


def _known(value: float | None, default: float) -> float:
    return default if value is None or not np.isfinite(value) else float(value)


def heuristic_seller_decision(obs: GreenSellerObservation, rules: MarketRules,
                              rng: np.random.Generator, params: Mapping[str, Any]
                              ) -> GreenSellerDecision:
    """``green_seller_heuristic``: bundled first when it is expected to pay more than a
    certificate alone, asks drawn around last month's prices."""
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
    return GreenSellerDecision(bundled, _capped(ask, g.premium_cap_yuan_per_mwh),
                               _capped(cert, g.certificate_price_cap_yuan))


def heuristic_buyer_decision(obs: GreenBuyerObservation, rules: MarketRules,
                             rng: np.random.Generator, params: Mapping[str, Any]
                             ) -> GreenBuyerDecision:
    """``green_buyer_heuristic``: part of the need as green power at a drawn premium, the rest
    as certificates."""
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
    return GreenBuyerDecision(bundled, _capped(bid, g.premium_cap_yuan_per_mwh),
                              _capped(_cents(cert), g.certificate_price_cap_yuan))


# --------------------------------------------------------------------- the default rules

def shortfall_probability(obligation_mwh: float, supply_mwh: float, uncertainty: float) -> float:
    """P(S < O) for S ~ Normal(``supply_mwh``, (``uncertainty`` x ``supply_mwh``)^2):
    Phi((O - S) / (uncertainty x S)); with no uncertainty (or no supply) 1 when S < O, else 0
    (0.5 on a tie)."""
    o, s, sd = float(obligation_mwh), float(supply_mwh), float(uncertainty) * float(supply_mwh)
    if o <= 0:
        return 0.0
    if sd <= 0:
        return 1.0 if s < o else 0.5 if s == o else 0.0
    return 0.5 * math.erfc(-(o - s) / (sd * math.sqrt(2.0)))


def certificate_value(penalty_yuan: float, shortfall_p: float, banking_discount: float) -> float:
    """Expected value of a certificate, yuan: V = p x penalty + (1 - p) x delta x V, i.e.
    p x penalty / (1 - delta x (1 - p)) (0 when p = 0)."""
    p, d = float(shortfall_p), float(banking_discount)
    if p <= 0:
        return 0.0
    return p * float(penalty_yuan) / (1.0 - d * (1.0 - p))


def _view(obligation: float, supply: float, last_cert: float, rules: MarketRules,
          uncertainty: float, discount: float) -> tuple[float, bool]:
    """(V, has the market view): the obligation-based value, else last month's certificate
    price or the rules' starting belief."""
    if np.isfinite(obligation) and np.isfinite(supply):
        p = shortfall_probability(obligation, supply, uncertainty)
        return certificate_value(rules.green.shortfall_penalty_yuan_per_mwh, p, discount), True
    return _known(last_cert, rules.green.certificate_price_yuan), False


def seller_decision(obs: GreenSellerObservation, rules: MarketRules, rng: np.random.Generator,
                    params: Mapping[str, Any]) -> GreenSellerDecision:
    """Certificates alone at the banking reservation; bundled (``bundled_share`` of the
    forecast month) at V when the expected premium is at least V (see the module)."""
    share, sigma, delta = (float(params[k]) for k in (
        "bundled_share", "forecast_uncertainty", "banking_discount"))
    if not (0 <= share <= 1 and sigma >= 0 and 0 <= delta <= 1):
        raise StrategyError("green_seller needs 0 <= bundled_share <= 1, forecast_uncertainty "
                            f">= 0 and 0 <= banking_discount <= 1; got {share}, {sigma}, {delta}")
    u = obs.unit_ids.shape[0]
    value, viewed = _view(obs.expected_obligation_mwh, obs.expected_supply_mwh,
                          obs.expected_certificate_price_yuan, rules, sigma, delta)
    bankable = np.ones(u, dtype=bool) if obs.bankable is None else np.asarray(obs.bankable,
                                                                            dtype=bool)
    reservation = np.where(bankable, delta * value, 0.0)
    expected = value if viewed else _known(obs.expected_premium_yuan_per_mwh,
                                           rules.green.premium_yuan_per_mwh)
    source = obs.sellable_mwh if obs.forecast_mwh is None else obs.forecast_mwh
    go = expected >= value
    bundled = _whole_ticks_down(np.maximum(np.asarray(source, dtype=np.float64), 0.0)
                                * (share if go else 0.0))
    g = rules.green
    return GreenSellerDecision(
        bundled, _capped(_cents(np.full(u, value)), g.premium_cap_yuan_per_mwh),
        _capped(_cents(reservation), g.certificate_price_cap_yuan))


def buyer_decision(obs: GreenBuyerObservation, rules: MarketRules, rng: np.random.Generator,
                   params: Mapping[str, Any]) -> GreenBuyerDecision:
    """Certificates bid at V; ``bundled_share`` of the need as green power at up to
    V + ``green_preference_yuan_per_mwh`` (see the module)."""
    share, sigma, pref = (float(params[k]) for k in (
        "bundled_share", "forecast_uncertainty", "green_preference_yuan_per_mwh"))
    if not (0 <= share <= 1 and sigma >= 0 and pref >= 0):
        raise StrategyError("green_buyer needs 0 <= bundled_share <= 1, forecast_uncertainty >= 0 "
                            f"and green_preference_yuan_per_mwh >= 0; got {share}, {sigma}, "
                            f"{pref}")
    # V includes the sellers' banking (what a certificate fetches in a long market): the buyer
    # takes the market's banking discount from the rules' green_seller table, so both sides
    # value a certificate alike
    delta = float(rules.agents.strategies.green_seller.banking_discount)
    value, _ = _view(obs.expected_obligation_mwh, obs.expected_supply_mwh,
                     obs.expected_certificate_price_yuan, rules, sigma, delta)
    n = obs.load_ids.shape[0]
    need = np.maximum(np.asarray(obs.need_mwh, dtype=np.float64), 0.0)
    g = rules.green
    return GreenBuyerDecision(
        _whole_ticks_down(need * share),
        _capped(_cents(np.full(n, value + pref)), g.premium_cap_yuan_per_mwh),
        _capped(_cents(np.full(n, value)), g.certificate_price_cap_yuan))


register_strategy(Strategy(
    "green_seller", "green_seller", seller_decision,
    defaults=GreenSellerParams().model_dump(),
    description="prices certificates from the year's expected obligation and supply: alone at "
                "the banking value, bundled (a forecast share of the month) at the full value"))
register_strategy(Strategy(
    "green_buyer", "green_buyer", buyer_decision, defaults=GreenBuyerParams().model_dump(),
    description="bids the expected value of a certificate for its accrued obligation; takes "
                "bundled green power up to that value plus its green preference"))
register_strategy(Strategy(
    "green_seller_heuristic", "green_seller", heuristic_seller_decision,
    defaults=GreenSellerParams().model_dump(),
    description="the previous rule: offers bundled when last month's premium beat a "
                "certificate alone, asks drawn in the reference ranges"))
register_strategy(Strategy(
    "green_buyer_heuristic", "green_buyer", heuristic_buyer_decision,
    defaults=GreenBuyerParams().model_dump(),
    description="the previous rule: part of the accrued obligation bundled at a premium drawn "
                "in the reference range, the rest as certificates up to the shortfall penalty"))
