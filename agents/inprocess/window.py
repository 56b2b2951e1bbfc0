"""One clearing window of the in-process year: the working state of
:func:`agents.inprocess.runner.run_energy_year` (:class:`WindowClearing`).

The static bid rows of the year are built once (:meth:`WindowClearing.static_rows`); each window
adds the adaptive strategies' offers and the storage schedules, clears its hours in one
batched call (:meth:`~WindowClearing.clear_window`), then lets the learners learn and moves
the storage state of charge (:meth:`~WindowClearing.after_window`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.fleet import SynthFleet
from agents.inprocess.bids import (
    Rows,
    actors_of,
    bids_of_rows,
    check_offers,
    checked_price_ticks,
    group_name,
    load_blocks,
    merge_by_hour,
    offer_blocks,
    rows_from_blocks,
    slice_rows,
)
from agents.inprocess.forecast import availability, merit_order_forecast
from agents.observe import ticks_down
from agents.profiles import Profiles
from agents.strategies.assign import Group
from agents.strategies.base import OfferObservation, certificate_value
from agents.strategies.storage import StorageObservation, StorageSchedule
from market.energy.auction import BUY, SELL, EnergyBids, EnergyResult, clear_energy
from market.energy.storage import clip_schedule, track_soc
from market.errors import StrategyError
from market.rules import MarketRules


def storage_batches(groups: list[Group], cols: dict[str, np.ndarray]
                    ) -> list[tuple[list[Group], np.ndarray, np.ndarray]]:
    """The storage groups as the runner asks them each window: (groups, their fleet indices,
    their storage columns). Groups whose strategy is
    :attr:`~agents.strategies.base.Strategy.unit_separable` and that share its name and
    parameters form one batch, asked once for all their units (same decisions, one call
    instead of one per owner); any other group is asked alone."""
    batches: list[tuple[list[Group], list[np.ndarray], list[np.ndarray]]] = []
    where: dict[Any, int] = {}
    for g in groups:
        strategy = g.spec.strategy
        key: Any = None
        if strategy.unit_separable:
            key = (strategy.name, repr(sorted(g.spec.param_dict().items())))
        if key is not None and key in where:
            b = batches[where[key]]
        else:
            if key is not None:
                where[key] = len(batches)
            b = ([], [], [])
            batches.append(b)
        b[0].append(g)
        b[1].append(np.asarray(g.members, dtype=np.int64))
        b[2].append(cols[g.label])
    return [(gs, np.concatenate(ms), np.concatenate(cs)) for gs, ms, cs in batches]


class WindowClearing:
    """Working state of :func:`agents.inprocess.runner.run_energy_year` (one instance per run): the
    actors, day-ahead availability and forecast, the learners' states and the storage state of
    charge, which starts at ``fleet.storage.initial_soc_fraction`` of the energy.
    ``capacity_mw`` (n_units,): MW each unit cleared in the capacity auction (``None``: no
    obligations); a storage unit sees its own in its observation, with the hours it forecasts
    as stress hours (:attr:`stress_forecast`)."""

    def __init__(self, rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                 groups: list[Group], rngs: dict[str, np.random.Generator],
                 capacity_mw: np.ndarray | None = None) -> None:
        self.rules, self.synth, self.profiles = rules, synth, profiles
        self.rngs = rngs
        self.actors = actors_of(synth)
        self.h = profiles.n_hours
        self.qtick = float(rules.ticks.quantity_mw)
        self.avail, self.must = availability(synth, profiles, rules)
        self.forecast = merit_order_forecast(synth, profiles, rules, self.avail, self.must)
        gens = [g for g in groups if g.role == "generator"]
        self.static = [g for g in gens if not g.spec.strategy.adaptive]
        self.adaptive = [g for g in gens if g.spec.strategy.adaptive]
        self.storage = [g for g in groups if g.role == "storage"]
        self.states: dict[str, Any] = {g.label: None for g in self.adaptive}
        col = {int(u): j for j, u in enumerate(synth.storage_index.tolist())}
        self.storage_cols = {g.label: np.array([col[int(u)] for u in g.members], dtype=np.int64)
                             for g in self.storage}
        self.storage_batches = storage_batches(self.storage, self.storage_cols)
        self.soc = synth.storage_energy_mwh * rules.fleet.storage.initial_soc_fraction
        self.soc_path = np.zeros((self.h + 1, len(synth.storage_index)))
        self.soc_path[0] = self.soc
        self.today = -1
        self.discharged_today = np.zeros(len(synth.storage_index))
        firm = synth.export_price_yuan_per_mwh >= rules.energy.price_cap_yuan_per_mwh
        self.margin_load = profiles.system_load_mw + float(synth.export_mw[firm].sum())
        self.margin_avail = self.avail.sum(axis=1)
        # What storage owners forecast as stress hours: the forecast price at the threshold,
        # or day-ahead spare capacity (storage left out) below the stress reserve margin.
        e = rules.energy
        spare = (self.margin_avail - self.margin_load) / np.maximum(self.margin_load, 1e-9)
        self.stress_forecast = (self.forecast >= e.stress_price_threshold_yuan_per_mwh) | (
            spare < e.stress_reserve_margin)
        cleared = (np.zeros(len(synth.fleet)) if capacity_mw is None
                   else np.asarray(capacity_mw, dtype=np.float64))
        if cleared.shape != (len(synth.fleet),):
            raise StrategyError(f"capacity_mw must give one value per fleet unit "
                                f"({len(synth.fleet)}), got shape {cleared.shape}")
        self.obligation = cleared[synth.storage_index]

    # ------------------------------------------------------------------ observations

    def offer_obs(self, g: Group, s: int, e: int, state: Any) -> OfferObservation:
        f, idx = self.synth.fleet, g.members
        return OfferObservation(
            g.owner, np.arange(s, e, dtype=np.int64), f.unit_ids[idx], f.technologies[idx],
            self.synth.marginal_cost_yuan_per_mwh[idx], self.avail[s:e][:, idx],
            self.must[s:e][:, idx], self.forecast[s:e], state,
            # the year clears energy before green trading: the rules' starting belief
            certificate_value(self.rules))

    def generator_blocks(self, g: Group, s: int, e: int, state: Any
                         ) -> tuple[np.ndarray, np.ndarray, Any]:
        """(qty ticks, price ticks) (W, U, B) of a group's offers, and its new state."""
        obs = self.offer_obs(g, s, e, state)
        offers = g.spec.strategy.offer(obs, self.rules, self.rngs[g.label], g.spec.param_dict())
        check_offers(offers, (e - s, len(g.members)), group_name(g))
        return (*offer_blocks(offers, self.rules, group_name(g)), offers.state)

    # ------------------------------------------------------------------ static bids

    def static_rows(self) -> Rows:
        """The year's bid rows of static strategies, loads and exports (hour-major), as integer
        rows: the year holds millions, so no names or floats per row until a window needs
        them."""
        synth, rules = self.synth, self.rules
        blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for g in self.static:
            q, p, _ = self.generator_blocks(g, 0, self.h, None)
            blocks.append((q, p, g.members))
        n = len(synth.fleet)
        lq, lp = load_blocks(self.profiles.load_mw, rules)
        blocks.append((lq, lp, n + np.arange(synth.n_loads)))
        nx = len(synth.export_ids)
        xq = np.broadcast_to(ticks_down(synth.export_mw, self.qtick), (self.h, nx))[:, :, None]
        xp = np.broadcast_to(synth.export_price_yuan_per_mwh, (self.h, nx))[:, :, None]
        blocks.append((xq, checked_price_ticks(xp, rules, "exports"),
                       n + synth.n_loads + np.arange(nx)))
        # Hour-major, then the groups' actors side by side, then blocks: each group's rows,
        # merged by hour (no padded (hours x actors x blocks) copy of the year).
        return merge_by_hour([rows_from_blocks(q, p, a.astype(np.int32), 0, self.actors)
                              for q, p, a in blocks], self.h)

    # ------------------------------------------------------------------ window bids

    def storage_rows(self, s: int, e: int) -> Rows:
        """Every storage unit's rows of window [s, e): each owner's schedule, then one
        :func:`~market.energy.storage.clip_schedule` for all units (the market's limits)."""
        synth, rules = self.synth, self.rules
        n_store, w = len(synth.storage_index), e - s
        desired = np.zeros((w, n_store))
        sell_p = np.zeros((w, n_store))
        buy_p = np.zeros((w, n_store))
        end = e + rules.agents.runner.storage_lookahead_hours
        ahead = self.forecast[e:end]
        # The day's cycle limit spans windows: what earlier windows of the day discharged.
        if s // 24 != self.today:
            self.today = s // 24
            self.discharged_today[:] = 0.0
        for groups, members, cols in self.storage_batches:
            g = groups[0]
            obs = StorageObservation(
                g.owner, np.arange(s, e, dtype=np.int64), synth.fleet.unit_ids[members],
                self.soc[cols].copy(), synth.storage_energy_mwh[cols],
                synth.storage_power_mw[cols], self.forecast[s:e], ahead,
                stress_forecast=self.stress_forecast[s:end].copy(),
                obligation_mw=self.obligation[cols].copy(),
                discharged_today_mwh=self.discharged_today[cols].copy())
            sched = g.spec.strategy.offer(obs, rules, self.rngs[g.label], g.spec.param_dict())
            if not isinstance(sched, StorageSchedule) or np.shape(sched.desired_mw) != (
                    w, len(cols)):
                names = " + ".join(group_name(x) for x in groups)
                raise StrategyError(f"{names} must return a StorageSchedule of shape "
                                    f"({w}, {len(cols)})")
            desired[:, cols] = sched.desired_mw
            sell_p[:, cols] = sched.discharge_price_yuan_per_mwh
            buy_p[:, cols] = sched.charge_price_yuan_per_mwh
        energy, power = synth.storage_energy_mwh, synth.storage_power_mw
        dis, chg = clip_schedule(desired, self.soc, energy, power, rules, hour_offset=s)
        # The day's cycle limit spans windows: cut what earlier windows of the day used.
        left = ticks_down(rules.energy.storage_max_cycles_per_day * energy
                          - self.discharged_today, self.qtick)
        capped = np.minimum(np.cumsum(ticks_down(dis, self.qtick), axis=0), np.maximum(left, 0))
        qty = np.stack([np.diff(capped, axis=0, prepend=0), ticks_down(chg, self.qtick)],
                       axis=2)
        price = np.stack([checked_price_ticks(sell_p, rules, "storage offers"),
                          checked_price_ticks(buy_p, rules, "storage bids")], axis=2)
        hh, uu, bb = np.nonzero(qty > 0)
        return (hh.astype(np.int64) + s, synth.storage_index[uu].astype(np.int32),
                price[hh, uu, bb], qty[hh, uu, bb], np.where(bb == 0, SELL, BUY).astype(np.int8))

    # ------------------------------------------------------------------ one window

    def clear_window(self, s: int, e: int, static: Rows, lo: int, hi: int
                     ) -> tuple[EnergyResult, list[tuple[Group | None, Rows]]]:
        """Clear hours [s, e): the static rows [lo, hi) plus this window's adaptive and
        storage rows; returns the result (rows in that order) and the extra rows by group
        (``None`` for the storage rows)."""
        extra: list[tuple[Group | None, Rows]] = []
        for g in self.adaptive:
            q, p, state = self.generator_blocks(g, s, e, self.states[g.label])
            self.states[g.label] = state
            extra.append((g, rows_from_blocks(q, p, g.members, s, self.actors)))
        if len(self.synth.storage_index):
            extra.append((None, self.storage_rows(s, e)))
        bids = EnergyBids.concat([bids_of_rows(r, self.actors, self.rules, e - s, s)
                                  for r in [slice_rows(static, lo, hi)] + [r for _, r in extra]])
        cols = self.synth.storage_index
        storage_avail = np.minimum(self.synth.storage_power_mw, self.soc).sum() if len(cols) else 0
        result = clear_energy(bids, e - s, self.rules,
                              available_mw=self.margin_avail[s:e] + storage_avail,
                              load_mw=self.margin_load[s:e])
        return result, extra

    def after_window(self, s: int, e: int, result: EnergyResult,
                     extra: list[tuple[Group | None, Rows]], offset: int) -> list[np.ndarray]:
        """Learn, move the storage state of charge; returns the extra rows' accepted ticks."""
        accepted = []
        price = np.nan_to_num(result.price)
        n_store = len(self.synth.storage_index)
        charge, discharge = np.zeros((e - s, n_store)), np.zeros((e - s, n_store))
        col = np.full(len(self.synth.fleet), -1, dtype=np.int64)
        col[self.synth.storage_index] = np.arange(n_store)
        for g, rows in extra:
            acc = result.accepted_ticks[offset:offset + rows[0].shape[0]]
            offset += rows[0].shape[0]
            accepted.append(acc)
            hour = rows[0] - s
            mw = acc * self.qtick
            if g is not None:
                cost = self.actors.marginal_cost[rows[1]]
                profit = float((mw * (price[hour] - cost)).sum())
                self.states[g.label] = g.spec.strategy.learn(  # type: ignore[misc]
                    self.states[g.label], profit, g.spec.param_dict())
            else:
                sell = rows[4] == SELL
                np.add.at(discharge, (hour[sell], col[rows[1][sell]]), mw[sell])
                np.add.at(charge, (hour[~sell], col[rows[1][~sell]]), mw[~sell])
        if n_store:
            e_mwh, p_mw = self.synth.storage_energy_mwh, self.synth.storage_power_mw
            soc = track_soc(charge, discharge, self.soc, e_mwh, p_mw, self.rules,
                            hour_offset=s)
            self.soc_path[s + 1:e + 1] = soc[1:]
            self.soc = np.clip(soc[-1], 0.0, e_mwh)
            self.discharged_today += discharge.sum(axis=0)
        return accepted

