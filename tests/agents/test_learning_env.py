"""The learning environment (issue 15): PettingZoo and Gymnasium API tests, determinism, what
an agent observes, actions that can never be refused, rewards from the ledger."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from agents.learning.blocks import block_offers, fractions_of
from agents.learning.env import OBS_SIZE, MarketEnv
from agents.learning.single import OwnerEnv
from agents.strategies.base import OfferObservation
from market.errors import StrategyError
from market.rules import load_preset

SCALE = 0.05


@pytest.fixture(scope="module")
def env() -> MarketEnv:
    return MarketEnv("mengxi", scale=SCALE, days=3, start_day=10)


def test_parallel_api(env: MarketEnv) -> None:
    parallel_api_test(env, num_cycles=5)
    assert env.possible_agents == [f"genco-{k}" for k in range(1, 7)]


def test_gymnasium_check_env() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only the "no spec, no render modes" notice
        check_env(OwnerEnv("mengxi", "genco-2", scale=SCALE, days=2))


def _episode(env: MarketEnv, seed: int, action_seed: int) -> tuple[list, list]:
    rng = np.random.default_rng(action_seed)
    obs, _ = env.reset(seed=seed)
    seen, rewards = [obs], []
    while env.agents:
        acts = {a: rng.uniform(-1, 1, env.blocks) for a in env.agents}
        obs, rew, _, _, _ = env.step(acts)
        seen.append(obs)
        rewards.append(rew)
    return seen, rewards


def test_same_seed_same_trajectory(env: MarketEnv) -> None:
    o1, r1 = _episode(env, 3, 7)
    o2, r2 = _episode(MarketEnv("mengxi", scale=SCALE, days=3, start_day=10), 3, 7)
    assert r1 == r2
    for a, b in zip(o1, o2, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    _, r3 = _episode(env, 4, 7)
    assert r3 != r1


def test_observation_holds_no_other_bids(env: MarketEnv) -> None:
    """genco-1's observations are the same whatever genco-2 bids, except the previous day's
    published prices, which equal the cleared prices."""
    cap = env.rules.energy.price_cap_yuan_per_mwh
    runs = []
    for other in (-1.0, 1.0):
        obs, _ = env.reset(seed=5)
        seen = [obs["genco-1"]]
        while env.agents:
            obs, _, _, _, _ = env.step({"genco-1": np.zeros(env.blocks),
                                        "genco-2": np.full(env.blocks, other)})
            if env.agents:
                seen.append(obs["genco-1"])
        runs.append((seen, env.prices))
    (a, pa), (b, pb) = runs
    assert not np.array_equal(pa, pb)  # genco-2's bids moved the prices
    published = slice(72, 96)
    for day, (x, y) in enumerate(zip(a, b, strict=True)):
        np.testing.assert_array_equal(np.delete(x, np.arange(72, 96)),
                                      np.delete(y, np.arange(72, 96)))
        if day:
            for obs, prices in ((x, pa), (y, pb)):
                np.testing.assert_allclose(obs[published],
                                           prices[24 * (day - 1):24 * day] / cap, atol=1e-6)


def test_invalid_actions_never_refused(env: MarketEnv) -> None:
    env.reset(seed=1)
    wild = [np.nan, np.inf, -1e12]
    _, rewards, _, _, _ = env.step({a: wild for a in env.agents})
    assert all(np.isfinite(r) for r in rewards.values())
    with pytest.raises(StrategyError, match="action must have 3 values"):
        env.step({"genco-1": [0.0, 0.0]})
    with pytest.raises(StrategyError, match="unknown agents"):
        env.step({"genco-9": [0.0, 0.0, 0.0]})


def test_rewards_are_ledger_profit(env: MarketEnv) -> None:
    env.reset(seed=2)
    _, rewards, _, _, infos = env.step({a: np.zeros(env.blocks) for a in env.agents})
    paid = env.ledger.totals_by("participant")
    assert env.ledger.balance() == 0
    for a in env.possible_agents:
        assert infos[a]["revenue_yuan"] == pytest.approx(paid[a] / 100.0)
        assert infos[a]["cost_yuan"] > 0
        assert rewards[a] == pytest.approx(infos[a]["revenue_yuan"] - infos[a]["cost_yuan"])


def test_offers_on_the_grid() -> None:
    rules = load_preset("mengxi")
    obs = OfferObservation("g", np.arange(2), np.array(["c1", "w1"]),
                           np.array(["coal_supercritical", "wind"]), np.array([250.0, 0.0]),
                           np.array([[600.0, 300.0], [500.0, 0.0]]),
                           np.array([[200.0, 0.0], [200.0, 0.0]]), np.array([300.0, 300.0]))
    offers = block_offers(obs, fractions_of([-1.0, 0.0, 1.0], 3), rules)
    p, q = offers.price_yuan_per_mwh, offers.quantity_mw
    tick = rules.ticks.price_yuan
    assert np.allclose(np.round(p / tick) * tick, p)
    e = rules.energy
    assert p.min() >= e.price_floor_yuan_per_mwh and p.max() <= e.price_cap_yuan_per_mwh
    assert p[0, 0, 1] == 250.0 and p[0, 0, 3] == e.price_cap_yuan_per_mwh
    assert p[0, 0, 2] == pytest.approx(250 + 0.5 * (e.price_cap_yuan_per_mwh - 250), abs=tick)
    np.testing.assert_allclose(q.sum(axis=2), obs.available_mw)


def test_bad_configuration_named() -> None:
    with pytest.raises(StrategyError, match="days must be"):
        MarketEnv("mengxi", scale=SCALE, days=0)
    with pytest.raises(StrategyError, match="agents must be"):
        MarketEnv("mengxi", scale=SCALE, agents=["nobody"])
    with pytest.raises(StrategyError, match="start_day"):
        MarketEnv("mengxi", scale=SCALE, start_day=400)
    assert MarketEnv("mengxi", scale=SCALE).observation_space("genco-1").shape == (OBS_SIZE,)


def test_policy_strategy_plays_what_the_env_trained() -> None:
    """The strategy policy:PATH prices each day with the action the trainer gave that day's
    forecast (env.day_forecast)."""
    from agents.learning.blocks import LinearPolicy, policy_offers_fn

    rules = load_preset("mengxi")
    w = np.array([[-1.0, 0.0, 0.0], [0.0, 3.0, 0.0], [-0.5, 0.0, 2.0]])
    policy = LinearPolicy(w)
    env = MarketEnv(rules, scale=SCALE, days=2, start_day=40, agents=["genco-1"])
    env.reset(seed=0)
    y, units = env._y, env._units["genco-1"]
    s = 24 * 40
    obs = y.offer_obs(next(g for g in y.adaptive if g.owner == "genco-1"), s, s + 48, None)
    offers = policy_offers_fn(policy)(obs, rules, np.random.default_rng(0), {})
    for day in range(2):
        action = policy.act_forecast(env.day_forecast(), rules)
        hours = slice(24 * day, 24 * day + 24)
        one = OfferObservation(obs.owner, obs.hours[hours], obs.unit_ids, obs.technology,
                               obs.marginal_cost_yuan_per_mwh, obs.available_mw[hours],
                               obs.must_run_mw[hours], obs.price_forecast_yuan_per_mwh[hours])
        expected = block_offers(one, fractions_of(action, 3), rules)
        np.testing.assert_array_equal(offers.price_yuan_per_mwh[hours], expected.price_yuan_per_mwh)
        env.step({"genco-1": action})
    assert len(units) == obs.unit_ids.shape[0]
    assert not np.array_equal(offers.price_yuan_per_mwh[:24], offers.price_yuan_per_mwh[24:])


def test_capacity_step_from_the_year() -> None:
    """With the year's capacity step the world holds the auction's obligations (storage keeps
    charge for them) and the rules with the resolved capacity table; still deterministic."""
    from api.cli.agents import year_capacity_step

    def run(capacity):
        env = MarketEnv("mengxi", scale=SCALE, days=2, start_day=340, capacity=capacity)
        _, rewards = _episode(env, 2, 1)
        return env, rewards

    with_cap, r1 = run(year_capacity_step)
    w = with_cap._worlds[2]
    assert w.capacity_mw is not None and w.capacity_mw.sum() > 0
    assert w.capacity_mw[w.synth.storage_index].sum() > 0
    assert w.rules.capacity != with_cap.rules.capacity  # the resolved table
    assert run(year_capacity_step)[1] == r1
    without, r0 = run(None)
    assert without._worlds[2].capacity_mw is None


@pytest.mark.slow
def test_the_environment_is_the_years_engine() -> None:
    """With the year's capacity step and genco-1 offering at opportunity cost (-1), the first
    three days clear at the same prices, hour by hour, as the simulated year of that seed."""
    from api.cli.agents import year_capacity_step
    from studies.year import run_year

    rules = load_preset("mengxi")
    year = run_year(rules, 3, SCALE)
    env = MarketEnv(rules, scale=SCALE, days=3, start_day=0, agents=["genco-1"],
                    capacity=year_capacity_step)
    env.reset(seed=3)
    while env.agents:
        env.step({"genco-1": -np.ones(env.blocks)})
    np.testing.assert_array_equal(env.prices, year.hourly["price_yuan_per_mwh"][:72])
