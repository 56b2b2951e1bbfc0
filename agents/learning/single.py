"""The single-agent Gymnasium wrapper: :class:`OwnerEnv`, one owner learning while every
other participant plays its registered strategy (:class:`agents.learning.env.MarketEnv` with
one agent)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.learning.blocks import DEFAULT_BLOCKS
from agents.learning.env import DEFAULT_DAYS, DEFAULT_SCALE, CapacityStep, MarketEnv
from market.rules import MarketRules


class OwnerEnv(gym.Env):  # type: ignore[misc]
    """``owner`` bids the action (:mod:`agents.learning.blocks`) for its generator units, a
    day per step; the others bid with ``strategies`` (default: each role's default). Reward:
    the owner's profit of the day (yuan); ``truncated`` after ``days`` days. The other
    arguments are :class:`~agents.learning.env.MarketEnv`'s."""

    metadata = {"render_modes": []}

    def __init__(self, rules: MarketRules | str | Path = "mengxi", owner: str = "genco-1", *,
                 scale: float = DEFAULT_SCALE, seed: int | None = None,
                 days: int = DEFAULT_DAYS, start_day: int = 0,
                 strategies: Mapping[str, Any] | None = None,
                 blocks: int = DEFAULT_BLOCKS, capacity: CapacityStep | None = None) -> None:
        self.market = MarketEnv(rules, scale=scale, seed=seed, days=days, start_day=start_day,
                                agents=[owner], strategies=strategies, blocks=blocks,
                                capacity=capacity)
        self.owner = owner
        self.observation_space = self.market.observation_space(owner)
        self.action_space = self.market.action_space(owner)

    @property
    def rules(self) -> MarketRules:
        return self.market.rules

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        obs, infos = self.market.reset(seed=seed, options=options)
        return obs[self.owner], infos[self.owner]

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, rewards, term, trunc, infos = self.market.step({self.owner: action})
        return (obs[self.owner], rewards[self.owner], term[self.owner], trunc[self.owner],
                infos[self.owner])
