"""Training one owner's policy: CMA-ES (the ``cma`` package) over a
:class:`~agents.learning.blocks.LinearPolicy`, on the single-agent wrapper
(:class:`~agents.learning.single.OwnerEnv`).

Each candidate policy plays one episode (the same seed and days for every candidate, so
candidates are compared on the same world); its fitness is the owner's profit over the
episode. The search starts at the opportunity-cost offer (bias -1: every block at its base)
and stops when the step budget (environment steps, one a day) is spent. The learning curve
holds, per generation, the best and mean episode profit, the best so far and the profit of
the opportunity-cost baseline on the same episode.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.learning.blocks import FEATURES, LinearPolicy, fractions_of
from agents.learning.single import OwnerEnv
from market.errors import StrategyError

#: CMA-ES step size at the start [E]: a quarter of the action range [-1, 1] per weight.
INITIAL_SIGMA = 0.5

#: Population per generation [E]: CMA-ES's default for 9 parameters is 10; 8 keeps a
#: generation of a week's episodes under a minute on a small fleet.
DEFAULT_POPSIZE = 8

CURVE_COLUMNS = ("generation", "steps", "best_profit_yuan", "mean_profit_yuan",
                 "best_so_far_yuan", "baseline_profit_yuan")


@dataclass(frozen=True)
class TrainResult:
    """``policy`` (the best found), ``curve`` (rows of :data:`CURVE_COLUMNS`),
    ``baseline_profit_yuan`` (the opportunity-cost offer's episode profit),
    ``best_profit_yuan``, ``steps`` used and ``fractions`` (days, B) the learned policy's
    block positions between base (0) and cap (1) over the episode."""

    policy: LinearPolicy
    curve: list[dict[str, float]]
    baseline_profit_yuan: float
    best_profit_yuan: float
    steps: int
    fractions: np.ndarray


def episode(env: OwnerEnv, policy: LinearPolicy | None, seed: int
            ) -> tuple[float, np.ndarray]:
    """(the owner's episode profit, the block fractions played (days, B)); ``None``: the
    opportunity-cost offer (-1 everywhere)."""
    env.reset(seed=seed)
    total, played, done = 0.0, [], False
    while not done:
        # the day's forecast in full precision, as the strategy policy:PATH will see it
        action = (-np.ones(env.market.blocks) if policy is None
                  else policy.act_forecast(env.market.day_forecast(), env.rules))
        played.append(fractions_of(action, len(action)))
        _, reward, term, trunc, _ = env.step(action)
        total += reward
        done = term or trunc
    return total, np.array(played)


def train(env: OwnerEnv, *, steps: int, seed: int, popsize: int = DEFAULT_POPSIZE,
          progress: Any = None) -> TrainResult:
    """CMA-ES on ``env`` until ``steps`` environment steps are used (at least one
    generation). ``progress(generation, steps_used, best_so_far)`` after each generation."""
    import cma

    days = env.market.days
    if steps < days * (popsize + 1):
        raise StrategyError(f"steps must be at least {days * (popsize + 1)} (one generation "
                            f"of {popsize} episodes of {days} days and the baseline), "
                            f"got {steps}")
    blocks = env.market.blocks
    x0 = np.zeros((blocks, len(FEATURES)))
    x0[:, 0] = -1.0
    es = cma.CMAEvolutionStrategy(x0.ravel(), INITIAL_SIGMA, {
        "popsize": popsize, "seed": seed + 1, "verbose": -9, "bounds": [-3.0, 3.0]})
    baseline, _ = episode(env, None, seed)
    used = days
    best_x, best = x0.ravel(), baseline
    curve: list[dict[str, float]] = []
    generation = 0
    while used + days * popsize <= steps:
        xs = es.ask()
        profits = [episode(env, LinearPolicy.from_vector(x, blocks), seed)[0] for x in xs]
        used += days * popsize
        es.tell(xs, [-p / 1e6 for p in profits])
        generation += 1
        k = int(np.argmax(profits))
        if profits[k] > best:
            best, best_x = float(profits[k]), np.asarray(xs[k])
        curve.append({"generation": generation, "steps": used,
                      "best_profit_yuan": float(profits[k]),
                      "mean_profit_yuan": float(np.mean(profits)),
                      "best_so_far_yuan": best, "baseline_profit_yuan": baseline})
        if progress is not None:
            progress(generation, used, best)
    policy = LinearPolicy.from_vector(best_x, blocks)
    _, fractions = episode(env, policy, seed)
    return TrainResult(policy, curve, baseline, best, used, fractions)


def write_outputs(result: TrainResult, out: Path, meta: dict[str, Any]) -> dict[str, Path]:
    """``policy.json`` (the policy with ``meta`` and the profits), ``curve.csv`` and
    ``curve.png`` in ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"policy": out / "policy.json", "curve_csv": out / "curve.csv",
             "curve_png": out / "curve.png"}
    mean_fraction = result.fractions.mean(axis=0) if result.fractions.size else []
    paths["policy"].write_text(json.dumps(result.policy.to_json({
        **meta, "baseline_profit_yuan": round(result.baseline_profit_yuan, 2),
        "learned_profit_yuan": round(result.best_profit_yuan, 2), "steps": result.steps,
        "mean_block_fraction": [round(float(v), 4) for v in mean_fraction]}), indent=2) + "\n")
    with paths["curve_csv"].open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CURVE_COLUMNS))
        w.writeheader()
        w.writerows(result.curve)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    g = [r["steps"] for r in result.curve]
    ax.plot(g, [r["mean_profit_yuan"] / 1e6 for r in result.curve], label="mean of generation")
    ax.plot(g, [r["best_so_far_yuan"] / 1e6 for r in result.curve], label="best so far")
    ax.axhline(result.baseline_profit_yuan / 1e6, color="grey", linestyle="--",
               label="opportunity-cost baseline")
    ax.set_xlabel("environment steps (days)")
    ax.set_ylabel("episode profit (million yuan)")
    ax.set_title(f"{meta.get('owner', '')} learning (CMA-ES)")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(paths["curve_png"], dpi=100, metadata={"Software": None})
    plt.close(fig)
    return paths


def improvement(result: TrainResult) -> float:
    """Learned profit over the baseline's, as a fraction of the baseline's magnitude."""
    return (result.best_profit_yuan - result.baseline_profit_yuan) / max(
        abs(result.baseline_profit_yuan), math.ulp(1.0))
