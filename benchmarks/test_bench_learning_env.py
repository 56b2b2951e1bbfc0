"""Steps per second of the learning environment (issue 15): one step is one day of the whole
market (every generator owner an agent, the day's hourly auctions cleared window by window,
storage scheduled, settled to a ledger), single process.

Run: ``pytest benchmarks/test_bench_learning_env.py --benchmark-only``. Each round is a
30-day episode of :class:`agents.learning.env.MarketEnv` after an untimed reset (the world of
the seed built and kept) and an untimed warm episode; ``extra_info["steps_per_second"]``
is 30 / the round's time. Target (issue 15): >= 500 steps/s at scale 0.1.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.learning.env import MarketEnv

SEED = 20231005
DAYS = 30


def _episode(env: MarketEnv) -> int:
    env.reset(seed=SEED)
    steps = 0
    action = np.zeros(env.blocks)
    while env.agents:
        env.step({a: action for a in env.agents})
        steps += 1
    return steps


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_env_steps_per_second(benchmark, scale: float) -> None:
    env = MarketEnv("mengxi", scale=scale, days=DAYS, start_day=0)
    _episode(env)  # warm: world built, kernels compiled or loaded
    benchmark.group = "learning environment, 30 days"
    steps = benchmark.pedantic(_episode, args=(env,), rounds=3, iterations=1)
    assert steps == DAYS
    benchmark.extra_info["steps_per_second"] = round(DAYS / benchmark.stats.stats.mean, 1)
    benchmark.extra_info["agents"] = len(env.possible_agents)
