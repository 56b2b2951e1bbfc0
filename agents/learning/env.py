"""A PettingZoo ``ParallelEnv`` over the one engine: :class:`MarketEnv`.

* **World.** ``reset(seed)`` synthesises the fleet and the year's profiles from the seed
  exactly as :func:`studies.year.run.run_year` does (``SeedSequence(seed).spawn(5)``: fleet,
  profiles, energy streams), assigns the strategies (:func:`agents.strategies.assign.assign`,
  the rules' parameter tables as defaults) and sets up the in-process clearing
  (:class:`agents.inprocess.window.WindowClearing`). The world of a seed is built once and
  kept; a reset starts a fresh clearing state (storage charge, learning states).
* **Agents** are generator owners (default: every owner with a generator unit; ``agents``
  picks some). Each agent's generator units bid the agent's action
  (:mod:`agents.learning.blocks`); its storage and every other owner, the loads and the
  exports bid with their registered strategies, as in a simulated year.
* **Step** = one day of hourly energy auctions, cleared window by window at the rules'
  ``agents.runner.window_start_hours`` (the in-process year's windows), then settled to a
  fresh :class:`~market.ledger.book.Ledger` with the year's settlement
  (:func:`agents.inprocess.settlement.settle_rows` for the static rows,
  :func:`market.energy.auction.settle_energy` for the others, storage compensation
  included). The episode runs ``days`` days from ``start_day``; then every agent is
  truncated.
* **Reward** = the owner's profit of the day: what the day's ledger pays it (yuan) less the
  marginal cost of the MWh its units were dispatched for.
* **Observation** (float32, (4 x 24 + 4,), in [-1, 1]): the day's shared price forecast / cap,
  the system load forecast / peak load, the owner's own available MW / its nameplate, the
  previous day's published clearing prices / cap (zeros on the first day), then the owner's
  mean marginal cost / cap, the day of the year as sine and cosine, and the state of charge
  of its storage as a fraction of their energy (0 without storage). No other participant's
  bids, sealed or cleared: only the forecast, the load forecast and published prices.

* **Capacity.** With a ``capacity`` step (:data:`CapacityStep`; ``mengxi learn`` passes the
  year's, :func:`studies.year.run.capacity_market`, which this layer may not import) the
  annual capacity auction runs once per world before its first day, as in the year: the
  agents' units offer at net going-forward cost, storage keeps charge for what it cleared,
  and the rules carry the resolved capacity table. Without one, no unit holds an obligation.
  Capacity payments, penalties, coal compensation and green trading settle monthly and
  yearly in the year; they are not in the daily reward.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from agents.fleet import SynthFleet, synthesize_fleet
from agents.inprocess.bids import Rows, bids_of_rows, concat_rows, slice_rows, windows_of
from agents.inprocess.settlement import settle_rows, year_result
from agents.inprocess.window import WindowClearing
from agents.learning.blocks import DEFAULT_BLOCKS, block_offers, fractions_of
from agents.profiles import Profiles, year_profiles
from agents.strategies.assign import Group, StrategySpec, assign, unit_role
from agents.strategies.base import OfferObservation, Offers, Strategy
from agents.strategies.capacity import truthful_capacity
from market.energy.auction import SELL, hour_offsets, settle_energy
from market.errors import StrategyError
from market.ledger.book import Ledger
from market.rules import MarketRules, load_preset, load_rules

#: Days of an episode by default [E]: a week, weekdays and a weekend.
DEFAULT_DAYS = 7

#: Fleet scale by default [E]: a tenth of the Mengxi fleet, fast enough to train on.
DEFAULT_SCALE = 0.1

#: Observation length: four hourly series of a day, then four scalars.
OBS_SIZE = 4 * 24 + 4


def load_scenario(rules: MarketRules | str | Path) -> MarketRules:
    """Rules from a MarketRules, a preset name or a rules TOML path."""
    if isinstance(rules, MarketRules):
        return rules
    path = Path(rules)
    if path.suffix == ".toml" or path.is_file() or "/" in str(rules):
        return load_rules(path)
    return load_preset(str(rules))


def _seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _action_offers(obs: OfferObservation, rules: MarketRules, rng: np.random.Generator,
                   params: Mapping[str, Any]) -> Offers:
    # obs.state carries the agent's block fractions of the day (set by MarketEnv.step)
    return Offers(*_offers(obs, rules), state=obs.state)


def _offers(obs: OfferObservation, rules: MarketRules) -> tuple[np.ndarray, np.ndarray]:
    o = block_offers(obs, np.asarray(obs.state), rules)
    return o.quantity_mw, o.price_yuan_per_mwh


#: The learners' strategy inside the environment (not registered: it plays the action).
ACTION_STRATEGY = Strategy("env_action", "generator", _action_offers, truthful_capacity,
                           learn=lambda state, reward, params: state,
                           description="the environment agent's action of the day")


#: The year's capacity step, given by a caller of a higher layer (``mengxi learn`` passes
#: :func:`studies.year.run.capacity_market`): (rules, fleet, profiles, groups, one generator
#: per group label) -> (the rules with the resolved capacity table, MW each unit cleared or
#: ``None``).
CapacityStep = Callable[[MarketRules, SynthFleet, Profiles, list[Group],
                         dict[str, np.random.Generator]],
                        tuple[MarketRules, np.ndarray | None]]


@dataclass(frozen=True, eq=False)
class World:
    """What a seed fixes: the rules of the year (capacity resolved when a capacity step
    ran), fleet, profiles, groups, the MW each unit cleared in the capacity auction (``None``:
    none ran), static rows and their hour offsets."""

    rules: MarketRules
    capacity_mw: np.ndarray | None
    synth: SynthFleet
    profiles: Profiles
    groups: list[Group]
    energy_ss: np.random.SeedSequence
    static: Rows
    offsets: np.ndarray


class MarketEnv(ParallelEnv):  # type: ignore[misc]
    """Generator owners bidding a day of hourly energy auctions at a time (module docstring).

    ``rules``: a MarketRules, a preset name or a rules TOML; ``scale``: fleet scale;
    ``seed``: the world's seed when ``reset`` gets none (default ``meta.seed``); ``days``,
    ``start_day``: the episode; ``agents``: the learning owners (default every owner with a
    generator unit); ``strategies``: everyone else's strategies (as ``run_year`` takes them);
    ``blocks``: offer blocks per action.
    """

    metadata = {"name": "mengxi_market_v0", "render_modes": []}

    def __init__(self, rules: MarketRules | str | Path = "mengxi", *,
                 scale: float = DEFAULT_SCALE, seed: int | None = None,
                 days: int = DEFAULT_DAYS, start_day: int = 0,
                 agents: list[str] | None = None,
                 strategies: Mapping[str, Any] | None = None,
                 blocks: int = DEFAULT_BLOCKS,
                 capacity: CapacityStep | None = None) -> None:
        self.rules = load_scenario(rules)
        self.capacity = capacity
        problems = []
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
            problems.append(f"scale must be a number > 0, got {scale!r}")
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            problems.append(f"days must be an integer >= 1, got {days!r}")
        if isinstance(start_day, bool) or not isinstance(start_day, int) or start_day < 0:
            problems.append(f"start_day must be an integer >= 0, got {start_day!r}")
        if isinstance(blocks, bool) or not isinstance(blocks, int) or not 1 <= blocks <= 24:
            problems.append(f"blocks must be an integer in [1, 24], got {blocks!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                                 or seed < 0):
            problems.append(f"seed must be an integer >= 0, got {seed!r}")
        if problems:
            raise StrategyError("environment refused: " + "; ".join(problems))
        self.scale, self.days, self.start_day, self.blocks = float(scale), days, start_day, blocks
        self.default_seed = int(self.rules.meta.seed if seed is None else seed)
        self.strategies = dict(strategies or {})
        self._worlds: dict[int, World] = {}
        fleet_ss = np.random.SeedSequence(self.default_seed).spawn(5)[0]
        synth = synthesize_fleet(self.rules, _seed(fleet_ss), self.scale)
        owners = synth.fleet.owners.astype(str)
        gen = np.array([unit_role(t) == "generator"
                        for t in synth.fleet.technologies.astype(str)])
        known = sorted(set(owners[gen].tolist()))
        chosen = known if agents is None else list(agents)
        unknown = [a for a in chosen if a not in known]
        if unknown or not chosen or len(set(chosen)) != len(chosen):
            raise StrategyError(f"agents must be distinct generator owners of the fleet "
                                f"({', '.join(known)}); got {chosen!r}")
        n_days = 366 if calendar.isleap(synth.weather_year or self.rules.meta.year) else 365
        if start_day + days > n_days:
            raise StrategyError(f"start_day + days must be at most the year's {n_days} days, "
                                f"got {start_day} + {days}")
        self.possible_agents = list(chosen)
        self.agents: list[str] = []
        self._obs_space = spaces.Box(-1.0, 1.0, (OBS_SIZE,), np.float32)
        self._act_space = spaces.Box(-1.0, 1.0, (blocks,), np.float32)
        self._world_of_reset: World | None = None

    # ------------------------------------------------------------------ spaces

    def observation_space(self, agent: str) -> spaces.Box:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Box:
        return self._act_space

    # ------------------------------------------------------------------ world

    def _world(self, seed: int) -> World:
        if seed not in self._worlds:
            rules = self.rules
            fleet_ss, profile_ss, energy_ss, capacity_ss, _ = np.random.SeedSequence(
                seed).spawn(5)
            synth = synthesize_fleet(rules, _seed(fleet_ss), self.scale)
            profiles = year_profiles(synth, rules.meta.year, _seed(profile_ss))
            groups = self._groups(synth, self.possible_agents)
            cleared = None
            if self.capacity is not None:
                rules, cleared = self.capacity(rules, synth, profiles, groups,
                                               self._rngs(groups, capacity_ss))
            y = WindowClearing(rules, synth, profiles, groups, self._rngs(groups, energy_ss),
                               cleared)
            static = y.static_rows()
            self._worlds[seed] = World(rules, cleared, synth, profiles, groups, energy_ss,
                                       static, hour_offsets(static[0], profiles.n_hours))
        return self._worlds[seed]

    def _groups(self, synth: SynthFleet, learners: list[str]) -> list[Group]:
        f = synth.fleet
        groups = assign(self.strategies, f.owners, f.technologies, synth.n_loads,
                        defaults=self.rules.agents.strategies.params_by_name())
        out = [g for g in groups if not (g.role == "generator" and g.owner in learners)]
        for owner in learners:
            members = np.flatnonzero((f.owners.astype(str) == owner) & np.array(
                [unit_role(t) == "generator" for t in f.technologies.astype(str)]))
            out.append(Group(owner, "generator", StrategySpec(ACTION_STRATEGY, ()),
                             members.astype(np.int64), f"{owner}/generator/env_action"))
        return out

    @staticmethod
    def _rngs(groups: list[Group], ss: np.random.SeedSequence
              ) -> dict[str, np.random.Generator]:
        return {g.label: np.random.default_rng(child)
                for g, child in zip(groups, ss.spawn(len(groups)), strict=True)}

    # ------------------------------------------------------------------ episode

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        seed = self.default_seed if seed is None else int(seed)
        if seed < 0:
            raise StrategyError(f"seed must be an integer >= 0, got {seed}")
        w = self._world(seed)
        self._w = w
        rules, synth, profiles = w.rules, w.synth, w.profiles
        self._y = WindowClearing(rules, synth, profiles, w.groups,
                                 self._rngs(w.groups, w.energy_ss), w.capacity_mw)
        h = profiles.n_hours
        self._h = h
        self._windows = windows_of(h, rules.agents.runner.window_start_hours)
        self._price = np.full(h, np.nan)
        self._stress = np.zeros(h, dtype=bool)
        self._margin = np.full(h, np.nan)
        self._curtailed = np.zeros(h)
        self._half = np.zeros(h, dtype=np.int64)
        self._periods = np.array([f"{profiles.year:04d}-{m:02d}" for m in range(1, 13)])[
            profiles.month_index]
        self._storage = {str(synth.fleet.unit_ids[i]): float(e) for i, e in zip(
            synth.storage_index.tolist(), synth.storage_energy_mwh.tolist(), strict=True)}
        f = synth.fleet
        owners = f.owners.astype(str)
        gen = np.array([unit_role(t) == "generator" for t in f.technologies.astype(str)])
        self._label = {a: f"{a}/generator/env_action" for a in self.possible_agents}
        self._units = {a: np.flatnonzero((owners == a) & gen) for a in self.possible_agents}
        scol = {int(u): j for j, u in enumerate(synth.storage_index.tolist())}
        self._store_cols = {a: np.array([scol[int(u)] for u in np.flatnonzero(
            (owners == a) & ~gen)], dtype=np.int64) for a in self.possible_agents}
        self._agent_of_actor = np.full(len(self._y.actors.participant), -1, dtype=np.int64)
        for k, a in enumerate(self.possible_agents):
            self._agent_of_actor[np.flatnonzero(owners == a)] = k
        self._t = 0
        self._last_price = np.zeros(24)
        self.agents = list(self.possible_agents)
        self.ledger = Ledger()
        obs = {a: self._observe(a) for a in self.agents}
        return obs, {a: {"day": self.start_day} for a in self.agents}

    def _day(self) -> int:
        return self.start_day + self._t

    def _observe(self, agent: str) -> np.ndarray:
        y, w = self._y, self._w
        s = 24 * self._day()
        cap = float(self.rules.energy.price_cap_yuan_per_mwh)
        units = self._units[agent]
        nameplate = float(w.synth.fleet.nameplate_mw[units].sum())
        cols = self._store_cols[agent]
        energy = float(w.synth.storage_energy_mwh[cols].sum()) if len(cols) else 0.0
        doy = 2 * np.pi * (self._day() % 365) / 365.0
        cost = np.nan_to_num(w.synth.marginal_cost_yuan_per_mwh[units])
        out = np.concatenate([
            y.forecast[s:s + 24] / cap,
            w.profiles.system_load_mw[s:s + 24] / max(float(w.synth.peak_load_mw), 1e-9),
            y.avail[s:s + 24][:, units].sum(axis=1) / max(nameplate, 1e-9),
            self._last_price / cap,
            [float(cost.mean()) / cap if len(cost) else 0.0, np.sin(doy), np.cos(doy),
             float(y.soc[cols].sum()) / energy if energy > 0 else 0.0]])
        return np.clip(np.nan_to_num(out), -1.0, 1.0).astype(np.float32)

    def step(self, actions: Mapping[str, Any]) -> tuple[
            dict[str, np.ndarray], dict[str, float], dict[str, bool], dict[str, bool],
            dict[str, dict[str, Any]]]:
        """Clear, settle and pay one day; ``actions``: agent -> (B,) in [-1, 1] (an agent
        left out bids -1, its opportunity cost)."""
        if not self.agents:
            raise StrategyError("the episode is over: call reset()")
        unknown = sorted(set(actions) - set(self.possible_agents))
        if unknown:
            raise StrategyError(f"actions for unknown agents {unknown}; agents: "
                                f"{', '.join(self.possible_agents)}")
        y, w = self._y, self._w
        rules = w.rules
        for a in self.possible_agents:
            act = actions.get(a, -np.ones(self.blocks))
            y.states[self._label[a]] = fractions_of(act, self.blocks)
        s_day = 24 * self._day()
        e_day = s_day + 24
        static_acc, extra_rows, extra_acc = [], [], []
        for s, e in self._windows[np.searchsorted([x for x, _ in self._windows], s_day):]:
            if s >= e_day:
                break
            lo, hi = int(w.offsets[s]), int(w.offsets[e])
            result, extra = y.clear_window(s, e, w.static, lo, hi)
            self._price[s:e], self._stress[s:e] = result.price, result.stress
            self._margin[s:e], self._curtailed[s:e] = result.reserve_margin, result.curtailed_mwh
            self._half[s:e] = result.price_half_ticks
            static_acc.append(result.accepted_ticks[:hi - lo])
            extra_acc += y.after_window(s, e, result, extra, hi - lo)
            extra_rows += [r for _, r in extra]
        lo, hi = int(w.offsets[s_day]), int(w.offsets[e_day])
        static = slice_rows(w.static, lo, hi)
        s_acc = np.concatenate(static_acc)
        ledger = Ledger()
        settle_rows(ledger, static, s_acc, self._half, self._periods, y.actors, rules)
        adaptive = concat_rows(extra_rows)
        a_acc = np.concatenate(extra_acc) if extra_acc else np.zeros(0, dtype=np.int64)
        bids = bids_of_rows(adaptive, y.actors, rules, self._h)
        if len(bids):
            settle_energy(year_result(rules, self._h, self._price, self._stress, self._margin,
                                      self._curtailed, self._half, a_acc, bids), bids, ledger,
                          self._periods, storage_energy_mwh=self._storage or None)
        paid = ledger.totals_by("participant")
        cost = np.zeros(len(self.possible_agents))
        for rows, acc in ((static, s_acc), (adaptive, a_acc)):
            k = self._agent_of_actor[rows[1]]
            mine = (k >= 0) & (rows[4] == SELL) & (acc > 0)
            mc = np.nan_to_num(y.actors.marginal_cost[rows[1][mine]])
            cost += np.bincount(k[mine], weights=acc[mine] * y.qtick * mc,
                                minlength=len(cost))
        price = np.nan_to_num(self._price[s_day:e_day])
        self._last_price = price
        self.ledger = ledger
        rewards, infos = {}, {}
        for j, a in enumerate(self.possible_agents):
            revenue = paid.get(a, 0) / 100.0
            rewards[a] = float(revenue - cost[j])
            infos[a] = {"day": self._day(), "revenue_yuan": revenue,
                        "cost_yuan": float(cost[j]),
                        "price_mean_yuan_per_mwh": float(price.mean())}
        self._t += 1
        done = self._t >= self.days
        obs = {a: (self._observe(a) if not done else np.zeros(OBS_SIZE, np.float32))
               for a in self.agents}
        terminations = {a: False for a in self.agents}
        truncations = {a: done for a in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def day_forecast(self) -> np.ndarray:
        """The next day's shared price forecast (24,), yuan/MWh: what a strategy sees for it
        (the observation carries it divided by the cap, as float32)."""
        s = 24 * self._day()
        return np.asarray(self._y.forecast[s:s + 24], dtype=np.float64).copy()

    @property
    def prices(self) -> np.ndarray:
        """Hourly clearing prices of the episode so far (yuan/MWh, NaN before clearing)."""
        s = 24 * self.start_day
        return self._price[s:s + 24 * self.days].copy()

    def render(self) -> None:
        return None

    def close(self) -> None:
        return None
