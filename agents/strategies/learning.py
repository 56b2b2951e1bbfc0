"""A learning generator: modified Roth-Erev reinforcement over a menu of markups.

Each round (a clearing window of the year, or one auction of a repeated game) the owner draws
one markup from its menu with probability proportional to its **propensities**, offers every
unit at cost x (1 + markup), and, once the round has settled, reinforces (Nicolaisen, Petrov
and Tesfatsion 2001, the "modified" rule that keeps learning when rewards are zero):

    q_j <- (1 - recency) q_j + E_j,   E_j = r (1 - experimentation)          if j was chosen
                                      E_j = q_j experimentation / (k - 1)     otherwise

with the reward r = max(profit, 0) / (MWh offered x price cap), a number in [0, 1]. The state
(:class:`RothErevState`) is explicit data passed in with the observation and returned with the
offers; ``learn`` is a pure function of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from agents.strategies.base import (
    CapacityObservation,
    CapacityOffers,
    OfferObservation,
    Offers,
    Strategy,
    marked_up,
    must_run_blocks,
    register_strategy,
)
from agents.strategies.capacity import capacity_price_grid, truthful_capacity_price
from market.errors import StrategyError
from market.rules import LearningParams, MarketRules

#: The smallest propensity a markup keeps: a floor on a probability weight (not a tolerance on
#: a grid), so that no markup's chance of being drawn ever reaches zero.
MIN_PROPENSITY = 1e-12


@dataclass(frozen=True, eq=False)
class RothErevState:
    """Learning state: ``markups`` and ``propensity`` float64 (k,); ``chosen`` the arm of the
    round in progress (-1 before any); ``scale_yuan`` the reward scale of that round;
    ``rounds`` the number of rounds learned from."""

    markups: np.ndarray
    propensity: np.ndarray
    chosen: int = -1
    scale_yuan: float = 1.0
    rounds: int = 0

    @property
    def probabilities(self) -> np.ndarray:
        """float64 (k,): the probability of drawing each markup."""
        return self.propensity / self.propensity.sum()

    @property
    def expected_markup(self) -> float:
        """Mean markup under the current probabilities (a share of cost)."""
        return float(self.probabilities @ self.markups)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (a bot can store it between rounds)."""
        return {"markups": self.markups.tolist(), "propensity": self.propensity.tolist(),
                "chosen": self.chosen, "scale_yuan": self.scale_yuan, "rounds": self.rounds}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RothErevState:
        return cls(np.asarray(data["markups"], dtype=np.float64),
                   np.asarray(data["propensity"], dtype=np.float64), int(data["chosen"]),
                   float(data["scale_yuan"]), int(data["rounds"]))


def initial_state(params: Mapping[str, Any]) -> RothErevState:
    """Equal propensities ``initial_propensity`` over the menu ``markups``."""
    markups = np.asarray(params["markups"], dtype=np.float64)
    if markups.ndim != 1 or markups.shape[0] < 2 or not np.isfinite(markups).all():
        raise StrategyError(f"learning markups must be at least two finite numbers, got "
                            f"{params['markups']!r}")
    q0 = float(params["initial_propensity"])
    if not q0 > 0:
        raise StrategyError(f"initial_propensity must be > 0, got {q0!r}")
    return RothErevState(markups, np.full(markups.shape[0], q0))


def _state(obs_state: Any, params: Mapping[str, Any]) -> RothErevState:
    if obs_state is None:
        return initial_state(params)
    if not isinstance(obs_state, RothErevState):
        raise StrategyError(f"the learning strategy needs a RothErevState, got "
                            f"{type(obs_state).__name__}")
    return obs_state


def learning_offers(obs: OfferObservation, rules: MarketRules, rng: np.random.Generator,
                    params: Mapping[str, Any]) -> Offers:
    """Draw a markup, offer every unit's flexible MW at cost x (1 + markup); the returned
    state remembers the draw and the reward scale of this round."""
    state = _state(obs.state, params)
    chosen = int(rng.choice(state.markups.shape[0], p=state.probabilities))
    price = marked_up(obs.marginal_cost_yuan_per_mwh, float(state.markups[chosen]),
                      float(params["adder_yuan_per_mwh"]))
    rest = np.maximum(obs.available_mw - obs.must_run_mw, 0.0)
    offers = must_run_blocks(obs, rest, price, rules)
    scale = float(obs.available_mw.sum()) * rules.energy.price_cap_yuan_per_mwh
    return Offers(offers.quantity_mw, offers.price_yuan_per_mwh,
                  replace(state, chosen=chosen, scale_yuan=max(scale, 1.0)))


def learn(state: RothErevState, reward_yuan: float, params: Mapping[str, Any]) -> RothErevState:
    """Reinforce the chosen markup with the round's profit (yuan); see the module docstring.
    A state with no pending choice is returned unchanged."""
    if state.chosen < 0:
        return state
    k = state.markups.shape[0]
    phi, eps = float(params["recency"]), float(params["experimentation"])
    r = max(float(reward_yuan), 0.0) / state.scale_yuan
    q = state.propensity
    gain = q * eps / (k - 1)
    gain[state.chosen] = r * (1.0 - eps)
    new_q = np.maximum((1.0 - phi) * q + gain, MIN_PROPENSITY)
    return RothErevState(state.markups, new_q, -1, state.scale_yuan, state.rounds + 1)


def learning_capacity(obs: CapacityObservation, rules: MarketRules, rng: np.random.Generator,
                      params: Mapping[str, Any]) -> CapacityOffers:
    """One auction a year leaves nothing to learn from within the year: offer all accredited
    MW at the net going-forward cost x (1 + the currently most likely markup)."""
    state = _state(obs.state, params)
    markup = float(state.markups[int(np.argmax(state.propensity))])
    price = truthful_capacity_price(obs, rules) * (1.0 + markup)
    return CapacityOffers(obs.accredited_mw.copy(), capacity_price_grid(price, rules))


register_strategy(Strategy(
    "learning", "generator", learning_offers, learning_capacity, learn,
    defaults=LearningParams().model_dump(),
    description="Roth-Erev reinforcement over a menu of markups, one draw per round"))
