"""The in-process runner: a year of hourly energy auctions with strategies bidding.

:func:`run_energy_year` asks every strategy for its offers and clears the spot market:

* **Static strategies** (truthful, markup, withholding) and the loads and export blocks are
  asked once for all hours; their bids are built and validated as one
  :class:`~market.energy_bids.EnergyBids` of the year (arrays, no object per bid or hour).
* **Clearing windows**: storage must clear with its state of charge carried
  (:mod:`market.storage`), so the year clears window by window (by default two a day, at 00:00
  and 16:00, so that the midday charge can be sold in the evening peak). Each window takes its
  slice of the static bids, the offers of the **adaptive** strategies (learning: one draw per
  window, reinforced with the window's profit) and the storage schedules cut by
  :func:`~market.storage.clip_schedule`, and clears its hours in one batched call.
* **Settlement**: :func:`~market.energy.settle_energy` posts the year's energy payments and
  the storage discharge compensation to the ledger, by month.

Information: a coal unit's offers for a day know the forced outages in force at the day's
first hour (gate closure); an outage that starts later is not known, the unit may be
dispatched and then fail to deliver (the failures the coal compensation counts). Loads bid
``load_responsive_share`` of their demand at ``load_block_price_yuan_per_mwh`` and the rest
at the cap; export blocks bid their MW at their prices. Forecasts are a merit-order estimate
(:func:`merit_order_forecast`) that every participant shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from agents.fleet import SynthFleet
from agents.profiles import Profiles
from agents.strategies import OfferObservation, Offers
from agents.strategies_assign import Group
from agents.strategies_storage import StorageObservation, StorageSchedule
from clearing.book import from_ticks
from market.energy import BUY, SELL, EnergyBids, EnergyResult, clear_energy, settle_energy
from market.energy import hour_offsets as _hour_offsets
from market.errors import StrategyError
from market.ledger import SYSTEM_OPERATOR, Category, Ledger, round_half_even_div
from market.rules import MarketRules
from market.storage import clip_schedule, track_soc

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RunnerSettings:
    """How the in-process year runs; every number an [E] estimate of the sandbox."""

    window_starts: tuple[int, ...] = (0, 16)
    """Hours of the day at which clearing windows start (0 must be one of them)."""
    lookahead_hours: int = 24
    """Forecast hours after a window that storage sees."""
    load_responsive_share: float = 0.05
    """Share of each load bid at ``load_block_price_yuan_per_mwh`` (the rest at the cap)."""
    load_block_price_yuan_per_mwh: float = 1000.0
    chp_must_run_share: float = 0.5
    """Share of nameplate a winter must-run (CHP) unit runs in the heating season."""
    storage_soc_start_fraction: float = 0.5


@dataclass(frozen=True, eq=False)
class Actors:
    """Everyone with energy bids: the n fleet units, then the loads, then the export blocks.
    Per actor (A,): ``participant`` (ledger name), ``unit_id`` (EnergyBids unit, '' for a
    load), ``owner`` and ``label`` (the bids table's owner and unit id), ``marginal_cost``
    (NaN for loads, exports and storage), ``side`` (+1 / -1)."""

    participant: np.ndarray
    unit_id: np.ndarray
    owner: np.ndarray
    label: np.ndarray
    marginal_cost: np.ndarray
    side: np.ndarray
    n_units: int
    n_loads: int


@dataclass(frozen=True, eq=False)
class EnergyYear:
    """The cleared year. Per hour (H,): ``price``, ``stress``, ``reserve_margin``,
    ``curtailed_mwh``, ``price_half_ticks``, ``forecast``; dense (H, n_units) float64 MW:
    ``dispatch_mw`` (accepted sells), ``charge_mw`` (accepted storage buys), ``offered_mw``
    (sells offered), ``available_mw`` (day-ahead availability); ``export_mw`` (H,);
    ``soc_mwh`` (H + 1, n_storage). Bid rows: ``parts`` (EnergyBids, actor codes int32,
    accepted ticks int64) for the static and the adaptive bids. ``states``: final learning
    state by group label."""

    price: np.ndarray
    stress: np.ndarray
    reserve_margin: np.ndarray
    curtailed_mwh: np.ndarray
    price_half_ticks: np.ndarray
    forecast: np.ndarray
    dispatch_mw: np.ndarray
    charge_mw: np.ndarray
    offered_mw: np.ndarray
    available_mw: np.ndarray
    export_mw: np.ndarray
    soc_mwh: np.ndarray
    parts: list[tuple[EnergyBids, np.ndarray, np.ndarray]]
    actors: Actors
    states: dict[str, Any] = field(default_factory=dict)


def actors_of(synth: SynthFleet) -> Actors:
    """The actor table of a synthesised fleet."""
    f, n, nl, nx = synth.fleet, len(synth.fleet), synth.n_loads, len(synth.export_ids)
    cost = np.asarray(synth.marginal_cost_yuan_per_mwh, dtype=np.float64).copy()
    cost[synth.storage_index] = np.nan
    units = f.unit_ids.astype(str)
    return Actors(
        participant=np.concatenate([f.owners, synth.load_ids, synth.export_ids]).astype(str),
        unit_id=np.concatenate([units, np.full(nl, ""), synth.export_ids]).astype(str),
        owner=np.concatenate([f.owners, synth.load_owners, np.full(nx, "exports")]).astype(str),
        label=np.concatenate([units, synth.load_ids, synth.export_ids]).astype(str),
        marginal_cost=np.concatenate([cost, np.full(nl + nx, np.nan)]),
        side=np.concatenate([np.full(n, SELL), np.full(nl + nx, BUY)]).astype(np.int8),
        n_units=n, n_loads=nl)


def availability(synth: SynthFleet, profiles: Profiles, settings: RunnerSettings
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Day-ahead ``available_mw`` and ``must_run_mw``, float64 (H, n_units): coal out of
    service at the day's first hour offers nothing that day; wind and solar their profile."""
    h, n = profiles.n_hours, len(synth.fleet)
    cap = synth.fleet.nameplate_mw
    avail = np.zeros((h, n))
    day_start = (np.arange(h) // 24) * 24
    known_out = profiles.outage[day_start]
    coal = synth.coal_index
    avail[:, coal] = np.where(known_out, 0.0, cap[coal][None, :])
    avail[:, synth.wind_index] = profiles.wind_cf * cap[synth.wind_index][None, :]
    avail[:, synth.solar_index] = profiles.solar_cf * cap[synth.solar_index][None, :]
    must = np.zeros((h, n))
    base = synth.min_output_fraction[coal] * cap[coal]
    chp = np.where(synth.winter_must_run[coal], settings.chp_must_run_share * cap[coal], 0.0)
    must[:, coal] = np.where(profiles.heating_season[:, None], np.maximum(base, chp), base)
    must[:, coal] = np.minimum(must[:, coal], avail[:, coal])
    return avail, must


def merit_order_forecast(synth: SynthFleet, profiles: Profiles, rules: MarketRules,
                         available_mw: np.ndarray, must_run_mw: np.ndarray) -> np.ndarray:
    """A price forecast (H,) yuan/MWh: net load (load + firm exports - wind - solar) against
    the coal stack at marginal cost, at the expected availability of every coal unit;
    the floor when must-run output alone covers it, the cap when the stack falls short."""
    e = rules.energy
    cap = synth.fleet.nameplate_mw
    coal = synth.coal_index
    firm = float(synth.export_mw[synth.export_price_yuan_per_mwh >= e.price_cap_yuan_per_mwh]
                 .sum())
    renew = available_mw[:, synth.wind_index].sum(axis=1) + available_mw[
        :, synth.solar_index].sum(axis=1)
    net = profiles.system_load_mw + firm - renew
    must = must_run_mw[:, coal].sum(axis=1)
    rate = float(profiles.outage.mean()) if profiles.outage.size else 0.0
    cost = synth.marginal_cost_yuan_per_mwh[coal]
    order = np.argsort(cost, kind="stable")
    flex = (1.0 - rate) * cap[coal][order] - must_run_mw[:, coal].mean(axis=0)[order]
    stack = np.cumsum(np.maximum(flex, 0.0))
    residual = net - must
    k = np.searchsorted(stack, residual, side="left")
    price = np.where(k < len(order), cost[order][np.minimum(k, len(order) - 1)],
                     e.price_cap_yuan_per_mwh) if len(order) else np.full(net.shape,
                                                                         e.price_cap_yuan_per_mwh)
    price = np.where(residual <= 0, np.where(net < must, e.price_floor_yuan_per_mwh, 0.0), price)
    return np.asarray(price, dtype=np.float64)


def _ticks_down(mw: np.ndarray, tick: float) -> np.ndarray:
    return np.floor(mw / tick + 1e-9).astype(np.int64)


def _who(group: Group) -> str:
    return f"{group.label} ({group.spec.name})"


def _check_offers(offers: Offers, shape: tuple[int, int], who: str) -> None:
    q, p = np.asarray(offers.quantity_mw), np.asarray(offers.price_yuan_per_mwh)
    if q.ndim != 3 or q.shape[:2] != shape or p.shape != q.shape:
        raise StrategyError(f"{who} returned offers of shapes {q.shape} and {p.shape}; "
                            f"expected (hours, units, blocks) with (hours, units) = {shape}")
    if not (np.isfinite(q).all() and np.isfinite(p).all() and (q >= 0).all()):
        raise StrategyError(f"{who} returned offers that are not finite, or negative "
                            "quantities")


def _price_ticks(price: np.ndarray, rules: MarketRules, who: str) -> np.ndarray:
    """Prices to int64 ticks (nearest); :class:`StrategyError` outside the floor and cap."""
    tick = float(rules.ticks.price_yuan)
    t = np.rint(np.asarray(price, dtype=np.float64) / tick).astype(np.int64)
    lo = round(rules.energy.price_floor_yuan_per_mwh / tick)
    hi = round(rules.energy.price_cap_yuan_per_mwh / tick)
    if t.size and (t.min() < lo or t.max() > hi):
        raise StrategyError(f"{who} offered prices outside the floor and cap of the rules")
    return t


Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(hour int64, actor int32, price ticks int64, quantity ticks int64, side int8) of bid rows."""


def _rows_from_blocks(qty_t: np.ndarray, price_t: np.ndarray, actor: np.ndarray,
                      hour0: int, actors: Actors) -> Rows:
    """Rows of (H, A, B) blocks, hour-major then actor then block, zero quantities dropped;
    each row on its actor's side."""
    hh, aa, bb = np.nonzero(qty_t > 0)
    who = actor[aa].astype(np.int32)
    return (hh.astype(np.int64) + hour0, who, price_t[hh, aa, bb], qty_t[hh, aa, bb],
            actors.side[who])


def _concat_rows(parts: list[Rows]) -> Rows:
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return (z, z.astype(np.int32), z, z, z.astype(np.int8))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(5))  # type: ignore


def _bids(rows: Rows, actors: Actors, rules: MarketRules, n_hours: int,
          hour0: int = 0) -> EnergyBids:
    """EnergyBids of rows already on the grids and within the limits (local hours from
    ``hour0``): built directly, without re-validating row by row."""
    hour, actor, pt, qt, side = rows
    ptick, qtick = float(rules.ticks.price_yuan), float(rules.ticks.quantity_mw)
    return EnergyBids(hour - hour0, actors.participant[actor], actors.unit_id[actor],
                      side, np.asarray(from_ticks(pt, ptick)),
                      np.asarray(from_ticks(qt, qtick)), pt, qt, n_hours, ptick, qtick)


def windows_of(n_hours: int, starts: tuple[int, ...]) -> list[tuple[int, int]]:
    """Clearing windows [start, end) covering ``n_hours``: each day split at ``starts``."""
    cuts = sorted({int(s) for s in starts} | {0})
    if cuts[-1] >= 24 or cuts[0] < 0:
        raise StrategyError(f"window starts must be hours of the day in [0, 24), got {starts}")
    edges = sorted({d + c for d in range(0, n_hours, 24) for c in cuts if d + c < n_hours}
                   | {n_hours})
    return list(zip(edges[:-1], edges[1:], strict=True))


class _Year:
    """Working state of :func:`run_energy_year` (one instance per run)."""

    def __init__(self, rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                 groups: list[Group], rngs: dict[str, np.random.Generator],
                 settings: RunnerSettings) -> None:
        self.rules, self.synth, self.profiles, self.settings = rules, synth, profiles, settings
        self.rngs = rngs
        self.actors = actors_of(synth)
        self.h = profiles.n_hours
        self.qtick = float(rules.ticks.quantity_mw)
        self.avail, self.must = availability(synth, profiles, settings)
        self.forecast = merit_order_forecast(synth, profiles, rules, self.avail, self.must)
        gens = [g for g in groups if g.role == "generator"]
        self.static = [g for g in gens if not g.spec.strategy.adaptive]
        self.adaptive = [g for g in gens if g.spec.strategy.adaptive]
        self.storage = [g for g in groups if g.role == "storage"]
        self.states: dict[str, Any] = {g.label: None for g in self.adaptive}
        col = {int(u): j for j, u in enumerate(synth.storage_index.tolist())}
        self.storage_cols = {g.label: np.array([col[int(u)] for u in g.members], dtype=np.int64)
                             for g in self.storage}
        self.soc = synth.storage_energy_mwh * settings.storage_soc_start_fraction
        self.soc_path = np.zeros((self.h + 1, len(synth.storage_index)))
        self.soc_path[0] = self.soc
        self.today = -1
        self.discharged_today = np.zeros(len(synth.storage_index))
        firm = synth.export_price_yuan_per_mwh >= rules.energy.price_cap_yuan_per_mwh
        self.margin_load = profiles.system_load_mw + float(synth.export_mw[firm].sum())
        self.margin_avail = self.avail.sum(axis=1)

    # ------------------------------------------------------------------ observations

    def offer_obs(self, g: Group, s: int, e: int, state: Any) -> OfferObservation:
        f, idx = self.synth.fleet, g.members
        return OfferObservation(
            g.owner, np.arange(s, e, dtype=np.int64), f.unit_ids[idx], f.technologies[idx],
            self.synth.marginal_cost_yuan_per_mwh[idx], self.avail[s:e][:, idx],
            self.must[s:e][:, idx], self.forecast[s:e], state)

    def generator_blocks(self, g: Group, s: int, e: int, state: Any
                         ) -> tuple[np.ndarray, np.ndarray, Any]:
        """(qty ticks, price ticks) (W, U, B) of a group's offers, and its new state."""
        obs = self.offer_obs(g, s, e, state)
        offers = g.spec.strategy.offer(obs, self.rules, self.rngs[g.label], g.spec.param_dict())
        _check_offers(offers, (e - s, len(g.members)), _who(g))
        qty = np.asarray(offers.quantity_mw, dtype=np.float64)
        return (_ticks_down(qty, self.qtick),
                _price_ticks(offers.price_yuan_per_mwh, self.rules, _who(g)), offers.state)

    # ------------------------------------------------------------------ static bids

    def static_bids(self) -> tuple[EnergyBids, np.ndarray]:
        """The year's bids of static strategies, loads and exports (hour-major rows)."""
        synth, rules, st = self.synth, self.rules, self.settings
        blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for g in self.static:
            q, p, _ = self.generator_blocks(g, 0, self.h, None)
            blocks.append((q, p, g.members))
        n = len(synth.fleet)
        load_t = np.rint(self.profiles.load_mw / self.qtick).astype(np.int64)
        resp = np.rint(load_t * st.load_responsive_share).astype(np.int64)
        cap = rules.energy.price_cap_yuan_per_mwh
        lp = np.empty(load_t.shape + (2,), dtype=np.float64)
        lp[:, :, 0] = cap
        lp[:, :, 1] = min(st.load_block_price_yuan_per_mwh, cap)
        blocks.append((np.stack([load_t - resp, resp], axis=2), _price_ticks(lp, rules, "loads"),
                       n + np.arange(synth.n_loads)))
        nx = len(synth.export_ids)
        xq = np.broadcast_to(_ticks_down(synth.export_mw, self.qtick), (self.h, nx))[:, :, None]
        xp = np.broadcast_to(synth.export_price_yuan_per_mwh, (self.h, nx))[:, :, None]
        blocks.append((xq, _price_ticks(xp, rules, "exports"), n + synth.n_loads + np.arange(nx)))
        b = max(q.shape[2] for q, _, _ in blocks)
        qty = np.concatenate([np.pad(q, ((0, 0), (0, 0), (0, b - q.shape[2])))
                              for q, _, _ in blocks], axis=1)
        price = np.concatenate([np.pad(p, ((0, 0), (0, 0), (0, b - p.shape[2])))
                                for _, p, _ in blocks], axis=1)
        actor = np.concatenate([a for _, _, a in blocks]).astype(np.int32)
        rows = _rows_from_blocks(qty, price, actor, 0, self.actors)
        return _bids(rows, self.actors, rules, self.h), rows[1]

    # ------------------------------------------------------------------ window bids

    def storage_rows(self, s: int, e: int) -> Rows:
        """Every storage unit's rows of window [s, e): each owner's schedule, then one
        :func:`~market.storage.clip_schedule` for all units (the market's limits)."""
        synth, rules = self.synth, self.rules
        n_store, w = len(synth.storage_index), e - s
        desired = np.zeros((w, n_store))
        sell_p = np.zeros((w, n_store))
        buy_p = np.zeros((w, n_store))
        ahead = self.forecast[e:e + self.settings.lookahead_hours]
        for g in self.storage:
            cols = self.storage_cols[g.label]
            obs = StorageObservation(
                g.owner, np.arange(s, e, dtype=np.int64), synth.fleet.unit_ids[g.members],
                self.soc[cols].copy(), synth.storage_energy_mwh[cols],
                synth.storage_power_mw[cols], self.forecast[s:e], ahead)
            sched = g.spec.strategy.offer(obs, rules, self.rngs[g.label], g.spec.param_dict())
            if not isinstance(sched, StorageSchedule) or np.shape(sched.desired_mw) != (
                    w, len(cols)):
                raise StrategyError(f"{_who(g)} must return a StorageSchedule of shape "
                                    f"({w}, {len(cols)})")
            desired[:, cols] = sched.desired_mw
            sell_p[:, cols] = sched.discharge_price_yuan_per_mwh
            buy_p[:, cols] = sched.charge_price_yuan_per_mwh
        energy, power = synth.storage_energy_mwh, synth.storage_power_mw
        dis, chg = clip_schedule(desired, self.soc, energy, power, rules, hour_offset=s)
        # The day's cycle limit spans windows: cut what earlier windows of the day used.
        if s // 24 != self.today:
            self.today = s // 24
            self.discharged_today[:] = 0.0
        left = np.floor((rules.energy.storage_max_cycles_per_day * energy
                         - self.discharged_today) / self.qtick + 1e-9)
        capped = np.minimum(np.cumsum(_ticks_down(dis, self.qtick), axis=0),
                            np.maximum(left, 0).astype(np.int64))
        qty = np.stack([np.diff(capped, axis=0, prepend=0), _ticks_down(chg, self.qtick)],
                       axis=2)
        price = np.stack([_price_ticks(sell_p, rules, "storage offers"),
                          _price_ticks(buy_p, rules, "storage bids")], axis=2)
        hh, uu, bb = np.nonzero(qty > 0)
        return (hh.astype(np.int64) + s, synth.storage_index[uu].astype(np.int32),
                price[hh, uu, bb], qty[hh, uu, bb], np.where(bb == 0, SELL, BUY).astype(np.int8))

    # ------------------------------------------------------------------ one window

    def clear_window(self, s: int, e: int, static: EnergyBids, lo: int, hi: int
                     ) -> tuple[EnergyResult, list[tuple[Group | None, Rows]]]:
        """Clear hours [s, e): the static rows [lo, hi) plus this window's adaptive and
        storage rows; returns the result (rows in that order) and the extra rows by group
        (``None`` for the storage rows)."""
        extra: list[tuple[Group | None, Rows]] = []
        for g in self.adaptive:
            q, p, state = self.generator_blocks(g, s, e, self.states[g.label])
            self.states[g.label] = state
            extra.append((g, _rows_from_blocks(q, p, g.members, s, self.actors)))
        if len(self.synth.storage_index):
            extra.append((None, self.storage_rows(s, e)))
        part = EnergyBids(static.hour[lo:hi] - s, static.participant[lo:hi],
                          static.unit_id[lo:hi], static.side[lo:hi],
                          static.price_yuan_per_mwh[lo:hi], static.quantity_mw[lo:hi],
                          static.price_ticks[lo:hi], static.quantity_ticks[lo:hi], e - s,
                          static.price_tick, static.quantity_tick)
        bids = EnergyBids.concat([part] + [_bids(r, self.actors, self.rules, e - s, s)
                                           for _, r in extra])
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


def _dense(rows: Rows, acc: np.ndarray | None, h: int, n: int, mask: np.ndarray,
           qtick: float) -> np.ndarray:
    """(h, n) MW summed from the masked rows (accepted ticks, or offered when ``acc`` is
    None)."""
    weights = (rows[3] if acc is None else acc)[mask].astype(np.float64)
    idx = rows[0][mask] * n + rows[1][mask]
    return np.bincount(idx, weights=weights, minlength=h * n).reshape(h, n) * qtick


def run_energy_year(rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                    groups: list[Group], rngs: dict[str, np.random.Generator], ledger: Ledger,
                    *, settings: RunnerSettings | None = None,
                    progress: Progress | None = None) -> EnergyYear:
    """Bid, clear and settle a year of hourly energy auctions (see the module docstring).

    ``groups``: the strategy groups (:func:`agents.strategies_assign.assign`); ``rngs``: one
    seeded generator per group label. Energy payments and storage compensation are posted to
    ``ledger`` in the month of each hour (``"YYYY-MM"``).
    """
    settings = settings or RunnerSettings()
    y = _Year(rules, synth, profiles, groups, rngs, settings)
    h, n = y.h, len(synth.fleet)
    static, static_actor = y.static_bids()
    offsets = _hour_offsets(static.hour, h)
    static_acc = np.zeros(len(static), dtype=np.int64)
    price, stress = np.full(h, np.nan), np.zeros(h, dtype=bool)
    margin, curtailed = np.full(h, np.nan), np.zeros(h)
    half = np.zeros(h, dtype=np.int64)
    extra_rows: list[Rows] = []
    extra_acc: list[np.ndarray] = []
    windows = windows_of(h, settings.window_starts)
    for k, (s, e) in enumerate(windows):
        lo, hi = int(offsets[s]), int(offsets[e])
        result, extra = y.clear_window(s, e, static, lo, hi)
        price[s:e], stress[s:e] = result.price, result.stress
        margin[s:e], curtailed[s:e] = result.reserve_margin, result.curtailed_mwh
        half[s:e] = result.price_half_ticks
        static_acc[lo:hi] = result.accepted_ticks[:hi - lo]
        extra_acc += y.after_window(s, e, result, extra, hi - lo)
        extra_rows += [r for _, r in extra]
        if progress is not None and (e % 24 == 0 or e == h):
            progress("energy", k + 1, len(windows))
    static_rows: Rows = (static.hour, static_actor, static.price_ticks, static.quantity_ticks,
                         static.side)
    adaptive = _concat_rows(extra_rows)
    adaptive_acc = (np.concatenate(extra_acc) if extra_acc else np.zeros(0, dtype=np.int64))
    adaptive_bids = _bids(adaptive, y.actors, rules, h)
    periods = np.array([f"{profiles.year:04d}-{m:02d}" for m in range(1, 13)])[
        profiles.month_index]
    storage = {str(synth.fleet.unit_ids[i]): float(e_mwh) for i, e_mwh in
               zip(synth.storage_index.tolist(), synth.storage_energy_mwh.tolist(), strict=True)}
    # The static rows (millions) are settled on integer actor codes; the adaptive and
    # storage rows by the market's settle_energy, which also pays storage compensation.
    settle_rows(ledger, static_rows, static_acc, half, periods, y.actors, rules)
    if len(adaptive_bids):
        settle_energy(_year_result(rules, h, price, stress, margin, curtailed, half,
                                   adaptive_acc, adaptive_bids), adaptive_bids, ledger, periods,
                      storage_energy_mwh=storage or None)
    dense = {}
    for name, which in (("dispatch", SELL), ("charge", BUY)):
        parts = [_dense(r, a, h, n, (r[1] < n) & (r[4] == which), y.qtick)
                 for r, a in ((static_rows, static_acc), (adaptive, adaptive_acc))]
        dense[name] = parts[0] + parts[1]
    offered = sum(_dense(r, None, h, n, (r[1] < n) & (r[4] == SELL), y.qtick)
                  for r in (static_rows, adaptive))
    xs = (static_actor >= n + synth.n_loads)
    export = np.bincount(static.hour[xs], weights=static_acc[xs].astype(np.float64),
                         minlength=h) * y.qtick
    return EnergyYear(
        price=price, stress=stress, reserve_margin=margin, curtailed_mwh=curtailed,
        price_half_ticks=half, forecast=y.forecast, dispatch_mw=dense["dispatch"],
        charge_mw=dense["charge"], offered_mw=np.asarray(offered), available_mw=y.avail,
        export_mw=export, soc_mwh=y.soc_path,
        parts=[(static, static_actor, static_acc), (adaptive_bids, adaptive[1], adaptive_acc)],
        actors=y.actors, states=dict(y.states))


def settle_rows(ledger: Ledger, rows: Rows, accepted_ticks: np.ndarray,
                price_half_ticks: np.ndarray, period_of_hour: np.ndarray, actors: Actors,
                rules: MarketRules) -> int:
    """Post energy payments of bid rows exactly as :func:`market.energy.settle_energy` does
    (one payment per period, participant, unit and side; exact int64 sums of half price
    ticks x quantity ticks, rounded half-even to the fen once; the same order and memo), but
    grouped on integer actor codes instead of sorting millions of names. Returns the number of
    payments posted. No storage compensation: pass storage rows to ``settle_energy``."""
    hour, actor, _, _, side = rows
    keep = accepted_ticks > 0
    hour, actor, side = hour[keep], actor[keep], side[keep]
    money = side.astype(np.int64) * price_half_ticks[hour] * accepted_ticks[keep]
    per_unit = (Fraction(repr(float(rules.ticks.price_yuan))) / 2
                * Fraction(repr(float(rules.ticks.quantity_mw))) * 100)
    if float(np.abs(money).astype(np.float64).sum()) * per_unit.numerator >= 2.0**62:
        raise StrategyError("energy amounts too large to sum exactly in int64")
    period_names, period = np.unique(period_of_hour, return_inverse=True)
    # settle_energy orders payments by period, participant, unit (names) and side.
    n_act = len(actors.participant)
    rank = np.empty(n_act, dtype=np.int64)
    rank[np.lexsort((actors.unit_id, actors.participant))] = np.arange(n_act)
    key = (period.reshape(-1)[hour] * n_act + rank[actor]) * 2 + (side > 0)
    keys, inverse = np.unique(key, return_inverse=True)
    sums = np.zeros(keys.shape[0], dtype=np.int64)
    np.add.at(sums, inverse.reshape(-1), money)
    who = np.empty(n_act, dtype=np.int64)
    who[rank] = np.arange(n_act)
    first = who[(keys // 2) % n_act]
    fen = round_half_even_div(np.abs(sums) * per_unit.numerator, per_unit.denominator)
    names = actors.participant[first].astype(object)
    so = np.full(first.shape[0], SYSTEM_OPERATOR, dtype=object)
    to_participant = sums > 0
    units = actors.unit_id[first].astype(object)
    units[units == ""] = None
    if not fen.shape[0]:
        return 0
    return ledger.post_many(period_names[keys // 2 // n_act],
                            np.where(to_participant, so, names), np.where(to_participant, names,
                                                                          so),
                            Category.ENERGY, memo="spot energy", unit=units, amount_fen=fen)


def _year_result(rules: MarketRules, h: int, price: np.ndarray, stress: np.ndarray,
                 margin: np.ndarray, curtailed: np.ndarray, half: np.ndarray,
                 acc: np.ndarray, bids: EnergyBids) -> EnergyResult:
    """An EnergyResult of the whole year for settling ``bids`` (rows accepted ``acc``)."""
    accepted = acc * float(rules.ticks.quantity_mw)
    settle = np.where(acc > 0, price[bids.hour], np.nan)
    return EnergyResult(price, ~np.isnan(price), np.zeros(h), curtailed, margin, stress, half,
                        accepted, acc, settle, rules, h)
