"""The learner's compact action, its offers, and the trained policy as a strategy.

**Action** (one per owner and day): a vector of ``B`` numbers in [-1, 1], one per offer
block. The owner's flexible MW of every unit (available less must-run) is cut into ``B``
equal blocks; block ``b`` is offered at

    base + f_b x (cap - base),    f_b = (a_b + 1) / 2 clipped to [0, 1],

where ``base`` is the unit's opportunity cost (coal: marginal cost; wind and solar: marginal
cost less the certificate value, as the default ``opportunity_cost`` strategy offers) and
``cap`` the energy price cap. ``a = -1`` everywhere is the opportunity-cost offer; ``a = +1``
offers the block at the cap. The must-run MW go at the floor (physics, as every built-in
strategy). Prices are put on the price grid between floor and cap
(:func:`agents.strategies.base.price_grid`) and quantities are cut to the quantity tick by
the runner, so no action -- NaN, infinite or out of range included (NaN counts as -1) -- can
produce a refused batch.

**Policy** (:class:`LinearPolicy`): per day, ``a = clip(W @ x, -1, 1)`` with the day's
features ``x`` = (1, mean forecast / cap, max forecast / cap), the forecast being the shared
merit-order forecast every participant sees (:attr:`FEATURES`). A trained policy is written as
JSON (:meth:`LinearPolicy.to_json`) and plays as the registered generator strategy
``policy:PATH`` (:func:`policy_strategy`), static like ``markup``: it needs nothing but the
observation a strategy gets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.strategies.base import (
    POLICY_PREFIX,
    STRATEGIES,
    OfferObservation,
    Offers,
    Strategy,
    _flexible_mw,
    certificate_value,
    price_grid,
    register_strategy,
)
from agents.strategies.capacity import truthful_capacity
from market.errors import StrategyError
from market.rules import MarketRules

#: Offer blocks of the learner's action (the flexible MW of each unit cut in this many equal
#: blocks) [E]: three steps (base, shoulder, scarcity) keep the search small for CMA-ES.
DEFAULT_BLOCKS = 3

#: The policy's day features, in order.
FEATURES = ("bias", "forecast_mean", "forecast_max")

#: Policy file format version written by :meth:`LinearPolicy.to_json`.
POLICY_FORMAT = 1


def fractions_of(action: Any, blocks: int) -> np.ndarray:
    """The action ``(B,)`` or ``(H, B)`` as block fractions in [0, 1] (NaN: 0, the
    opportunity-cost offer); a wrong width raises :class:`StrategyError`."""
    a = np.asarray(action, dtype=np.float64)
    if a.shape[-1:] != (blocks,):
        raise StrategyError(f"action must have {blocks} values (one per offer block), "
                            f"got shape {a.shape}")
    a = np.nan_to_num(a, nan=-1.0, posinf=1.0, neginf=-1.0)
    return np.clip((a + 1.0) / 2.0, 0.0, 1.0)


def opportunity_base(obs: OfferObservation, rules: MarketRules) -> np.ndarray:
    """(U,) yuan/MWh: each unit's opportunity cost (``opportunity_cost`` strategy's price)."""
    value = (certificate_value(rules) if obs.certificate_value_yuan_per_mwh is None
             else max(float(obs.certificate_value_yuan_per_mwh), 0.0))
    tech = np.asarray(obs.technology).astype(str)
    green = (tech == "wind") | (tech == "solar")
    return np.asarray(obs.marginal_cost_yuan_per_mwh, dtype=np.float64) - np.where(
        green, value, 0.0)


def block_offers(obs: OfferObservation, fractions: np.ndarray, rules: MarketRules) -> Offers:
    """Offers (H, U, 1 + B): must-run at the floor, then the flexible MW in B equal blocks,
    block b at ``base + fractions[h, b] x (cap - base)`` on the price grid. ``fractions``:
    (B,) or (H, B) in [0, 1]."""
    h, u = obs.available_mw.shape
    f = np.broadcast_to(np.clip(fractions, 0.0, 1.0), (h, np.shape(fractions)[-1]))
    b = f.shape[1]
    base = np.minimum(opportunity_base(obs, rules), rules.energy.price_cap_yuan_per_mwh)
    qty = np.empty((h, u, 1 + b))
    qty[:, :, 0] = obs.must_run_mw
    qty[:, :, 1:] = (_flexible_mw(obs) / b)[:, :, None]
    price = np.empty((h, u, 1 + b))
    price[:, :, 0] = rules.energy.price_floor_yuan_per_mwh
    cap = rules.energy.price_cap_yuan_per_mwh
    price[:, :, 1:] = price_grid(base[None, :, None] + f[:, None, :] * (cap - base)[None, :, None],
                                 rules)
    return Offers(qty, price)


def day_features(forecast: np.ndarray, day: np.ndarray, rules: MarketRules
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(days (D,), features (D, len(FEATURES))) of hourly forecasts grouped by ``day``."""
    days, inverse = np.unique(day, return_inverse=True)
    cap = float(rules.energy.price_cap_yuan_per_mwh)
    f = np.nan_to_num(np.asarray(forecast, dtype=np.float64)) / cap
    count = np.bincount(inverse, minlength=days.shape[0])
    mean = np.bincount(inverse, weights=f, minlength=days.shape[0]) / np.maximum(count, 1)
    peak = np.full(days.shape[0], -np.inf)
    np.maximum.at(peak, inverse, f)
    return days, np.stack([np.ones_like(mean), mean, peak], axis=1)


@dataclass(frozen=True)
class LinearPolicy:
    """``a = clip(weights @ x, -1, 1)`` per day (``weights``: (B, len(FEATURES)))."""

    weights: np.ndarray

    @property
    def blocks(self) -> int:
        return int(self.weights.shape[0])

    @classmethod
    def size(cls, blocks: int) -> int:
        """Number of parameters of a policy with ``blocks`` offer blocks."""
        return blocks * len(FEATURES)

    @classmethod
    def from_vector(cls, theta: Any, blocks: int) -> LinearPolicy:
        return cls(np.asarray(theta, dtype=np.float64).reshape(blocks, len(FEATURES)).copy())

    def act_features(self, x: np.ndarray) -> np.ndarray:
        """Actions (D, B) of day features (D, F) (or (B,) of one day's (F,))."""
        return np.clip(np.asarray(x) @ self.weights.T, -1.0, 1.0)

    def act_forecast(self, forecast_24: np.ndarray, rules: MarketRules) -> np.ndarray:
        """The action (B,) of one day's hourly forecast (yuan/MWh)."""
        _, x = day_features(forecast_24, np.zeros(len(forecast_24), dtype=np.int64), rules)
        return self.act_features(x[0])

    def to_json(self, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {"format": POLICY_FORMAT, "kind": "linear_markup", "features": list(FEATURES),
                "blocks": self.blocks, "weights": self.weights.tolist(), **dict(meta or {})}

    @classmethod
    def from_json(cls, data: Any, where: str = "policy") -> LinearPolicy:
        """A policy from its JSON form; :class:`StrategyError` naming the bad field."""
        if not isinstance(data, Mapping):
            raise StrategyError(f"{where}: a policy is a JSON object, got {type(data).__name__}")
        if data.get("kind") != "linear_markup":
            raise StrategyError(f"{where}: field 'kind' must be 'linear_markup', "
                                f"got {data.get('kind')!r}")
        if list(data.get("features") or []) != list(FEATURES):
            raise StrategyError(f"{where}: field 'features' must be {list(FEATURES)}, "
                                f"got {data.get('features')!r}")
        try:
            w = np.asarray(data.get("weights"), dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise StrategyError(f"{where}: field 'weights' must be numbers ({err})") from None
        if w.ndim != 2 or w.shape[1] != len(FEATURES) or w.shape[0] < 1 or \
                not np.isfinite(w).all():
            raise StrategyError(f"{where}: field 'weights' must be finite, shape (blocks, "
                                f"{len(FEATURES)}), got shape {w.shape}")
        if data.get("blocks") != w.shape[0]:
            raise StrategyError(f"{where}: field 'blocks' ({data.get('blocks')!r}) must equal "
                                f"the rows of 'weights' ({w.shape[0]})")
        return cls(w)

    @classmethod
    def load(cls, path: str | Path) -> LinearPolicy:
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise StrategyError(f"policy file {str(p)!r} not found") from None
        except (OSError, ValueError) as err:
            raise StrategyError(f"policy file {str(p)!r} is not readable JSON: {err}") from None
        return cls.from_json(data, f"policy file {str(p)!r}")


def policy_offers_fn(policy: LinearPolicy) -> Any:
    """The ``offer`` function of a policy: each day's action from that day's forecast."""

    def offer(obs: OfferObservation, rules: MarketRules, rng: np.random.Generator,
              params: Mapping[str, Any]) -> Offers:
        day = np.asarray(obs.hours, dtype=np.int64) // 24
        days, x = day_features(obs.price_forecast_yuan_per_mwh, day, rules)
        fractions = fractions_of(policy.act_features(x), policy.blocks)
        return block_offers(obs, fractions[np.searchsorted(days, day)], rules)

    return offer


def policy_strategy(name: str) -> Strategy:
    """The registered strategy ``policy:PATH`` (loaded and registered on first use; the
    file is read once per process). Capacity: offered at net going-forward cost."""
    if not name.startswith(POLICY_PREFIX) or not name[len(POLICY_PREFIX):]:
        raise StrategyError(f"a trained policy strategy is 'policy:PATH', got {name!r}")
    known = STRATEGIES.get(name)
    if known is not None:
        return known
    policy = LinearPolicy.load(name[len(POLICY_PREFIX):])
    return register_strategy(Strategy(
        name, "generator", policy_offers_fn(policy), truthful_capacity,
        description=f"a trained policy ({policy.blocks} offer blocks, markups from the day's "
                    "forecast); capacity at net going-forward cost"))
