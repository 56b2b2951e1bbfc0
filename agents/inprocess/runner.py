"""The in-process runner: a year of hourly energy auctions with strategies bidding.

:func:`run_energy_year` asks every strategy for its offers and clears the spot market:

* **Static strategies** (opportunity_cost, truthful, markup, withholding) and the loads and
  export blocks are
  asked once for all hours; their bids are built and validated as one
  :class:`~market.energy.bids.EnergyBids` of the year (arrays, no object per bid or hour).
* **Clearing windows**: storage must clear with its state of charge carried
  (:mod:`market.energy.storage`), so the year clears window by window, each day split at the hours
  ``agents.runner.window_start_hours`` (the preset: 00:00 and 16:00, so that the midday
  charge can be sold in the evening peak). Each window takes its slice of the static bids, the
  offers of the **adaptive** strategies (learning: one draw per window, reinforced with the
  window's profit) and the storage schedules cut by :func:`~market.energy.storage.clip_schedule`,
  and
  clears its hours in one batched call (:mod:`agents.inprocess.window`).
* **Settlement**: the static rows are settled on integer actor codes
  (:func:`agents.inprocess.settlement.settle_rows`), the adaptive and storage rows by
  :func:`~market.energy.auction.settle_energy`, which also pays the storage discharge compensation;
  both post to the ledger by month.

Information: a coal unit's offers for a day know the forced outages in force at the day's
first hour (gate closure); an outage that starts later is not known, the unit may be
dispatched and then fail to deliver (the failures the coal compensation counts). Loads bid
``fleet.loads.responsive_share`` of their demand at
``fleet.loads.responsive_price_yuan_per_mwh`` and the rest at
``energy.inelastic_bid_yuan_per_mwh`` (default the cap); export blocks bid their MW at their
prices. Forecasts are a merit-order estimate
(:func:`agents.inprocess.forecast.merit_order_forecast`) that every participant shares.
Storage starts the year ``fleet.storage.initial_soc_fraction`` full; each storage owner also
sees the hours it forecasts as stress hours (the forecast at the stress price threshold, or
day-ahead spare capacity, storage left out, below ``energy.stress_reserve_margin``) and the MW
its units cleared in the capacity auction (``capacity_mw``), which it keeps charge for.
Wind and solar owners see the certificate value of their output as the rules' starting
belief (``green.certificate_price_yuan``): the year clears energy before green trading.

The runner is split by what each part does: bid rows and actors (:mod:`agents.inprocess.bids`),
availability and forecast (:mod:`agents.inprocess.forecast`), one clearing window
(:mod:`agents.inprocess.window`), settlement (:mod:`agents.inprocess.settlement`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.fleet import SynthFleet
from agents.inprocess.bids import (
    Actors,
    Rows,
    actors_of,
    bids_of_rows,
    concat_rows,
    energy_bids,
    windows_of,
)
from agents.inprocess.forecast import availability, merit_order_forecast
from agents.inprocess.settlement import dense_mw, settle_rows, year_result
from agents.inprocess.window import WindowClearing
from agents.profiles import Profiles
from agents.strategies.assign import Group
from market.energy.auction import BUY, SELL, EnergyBids, settle_energy
from market.energy.auction import hour_offsets as _hour_offsets
from market.ledger.book import Ledger
from market.rules import MarketRules

__all__ = [
    "Actors",
    "EnergyYear",
    "Progress",
    "Rows",
    "actors_of",
    "availability",
    "merit_order_forecast",
    "run_energy_year",
    "settle_rows",
    "windows_of",
]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False)
class EnergyYear:
    """The cleared year. Per hour (H,): ``price``, ``stress``, ``reserve_margin``,
    ``curtailed_mwh``, ``price_half_ticks``, ``forecast``; dense (H, n_units) float64 MW:
    ``dispatch_mw`` (accepted sells), ``charge_mw`` (accepted storage buys), ``offered_mw``
    (sells offered), ``available_mw`` (day-ahead availability); ``export_mw`` (H,);
    ``soc_mwh`` (H + 1, n_storage). Bid rows: ``rows`` ((hour, actor, price ticks, quantity
    ticks, side) :data:`~agents.inprocess.bids.Rows`, accepted ticks int64) for the static and
    the adaptive bids, on the ticks ``price_tick`` (yuan/MWh) and ``quantity_tick`` (MW);
    :attr:`parts` builds them as EnergyBids on demand. ``states``: final learning state by
    group label."""

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
    rows: list[tuple[Rows, np.ndarray]]
    actors: Actors
    price_tick: float
    quantity_tick: float
    states: dict[str, Any] = field(default_factory=dict)

    @property
    def parts(self) -> list[tuple[EnergyBids, np.ndarray, np.ndarray]]:
        """(EnergyBids of the whole year, actor codes int32, accepted ticks int64) for the
        static and the adaptive rows, built from :attr:`rows` at each call (the static part
        holds millions of rows: names and floats per row cost hundreds of MB)."""
        h = self.price.shape[0]
        return [(energy_bids(r, self.actors, self.price_tick, self.quantity_tick, h), r[1], a)
                for r, a in self.rows]


def run_energy_year(rules: MarketRules, synth: SynthFleet, profiles: Profiles,
                    groups: list[Group], rngs: dict[str, np.random.Generator], ledger: Ledger,
                    *, progress: Progress | None = None,
                    capacity_mw: np.ndarray | None = None) -> EnergyYear:
    """Bid, clear and settle a year of hourly energy auctions (see the module docstring).

    ``groups``: the strategy groups (:func:`agents.strategies.assign.assign`); ``rngs``: one
    seeded generator per group label; ``capacity_mw``: MW each fleet unit cleared in the
    capacity auction (``CapacityResult.cleared_mw``; ``None``: no obligations), which storage
    strategies keep charge for. Energy payments and storage compensation are posted to
    ``ledger`` in the month of each hour (``"YYYY-MM"``).
    """
    y = WindowClearing(rules, synth, profiles, groups, rngs, capacity_mw)
    h, n = y.h, len(synth.fleet)
    static_rows = y.static_rows()
    offsets = _hour_offsets(static_rows[0], h)
    static_acc = np.zeros(static_rows[0].shape[0], dtype=np.int64)
    price, stress = np.full(h, np.nan), np.zeros(h, dtype=bool)
    margin, curtailed = np.full(h, np.nan), np.zeros(h)
    half = np.zeros(h, dtype=np.int64)
    extra_rows: list[Rows] = []
    extra_acc: list[np.ndarray] = []
    windows = windows_of(h, rules.agents.runner.window_start_hours)
    for k, (s, e) in enumerate(windows):
        lo, hi = int(offsets[s]), int(offsets[e])
        result, extra = y.clear_window(s, e, static_rows, lo, hi)
        price[s:e], stress[s:e] = result.price, result.stress
        margin[s:e], curtailed[s:e] = result.reserve_margin, result.curtailed_mwh
        half[s:e] = result.price_half_ticks
        static_acc[lo:hi] = result.accepted_ticks[:hi - lo]
        extra_acc += y.after_window(s, e, result, extra, hi - lo)
        extra_rows += [r for _, r in extra]
        if progress is not None and (e % 24 == 0 or e == h):
            progress("energy", k + 1, len(windows))
    adaptive = concat_rows(extra_rows)
    adaptive_acc = (np.concatenate(extra_acc) if extra_acc else np.zeros(0, dtype=np.int64))
    adaptive_bids = bids_of_rows(adaptive, y.actors, rules, h)
    periods = np.array([f"{profiles.year:04d}-{m:02d}" for m in range(1, 13)])[
        profiles.month_index]
    storage = {str(synth.fleet.unit_ids[i]): float(e_mwh) for i, e_mwh in
               zip(synth.storage_index.tolist(), synth.storage_energy_mwh.tolist(), strict=True)}
    # The static rows (millions) are settled on integer actor codes; the adaptive and
    # storage rows by the market's settle_energy, which also pays storage compensation.
    settle_rows(ledger, static_rows, static_acc, half, periods, y.actors, rules)
    if len(adaptive_bids):
        settle_energy(year_result(rules, h, price, stress, margin, curtailed, half,
                                  adaptive_acc, adaptive_bids), adaptive_bids, ledger, periods,
                      storage_energy_mwh=storage or None)
    dense = {}
    for name, which in (("dispatch", SELL), ("charge", BUY)):
        parts = [dense_mw(r, a, h, n, (r[1] < n) & (r[4] == which), y.qtick)
                 for r, a in ((static_rows, static_acc), (adaptive, adaptive_acc))]
        dense[name] = parts[0] + parts[1]
    offered = sum(dense_mw(r, None, h, n, (r[1] < n) & (r[4] == SELL), y.qtick)
                  for r in (static_rows, adaptive))
    xs = (static_rows[1] >= n + synth.n_loads)
    export = np.bincount(static_rows[0][xs], weights=static_acc[xs].astype(np.float64),
                         minlength=h) * y.qtick
    return EnergyYear(
        price=price, stress=stress, reserve_margin=margin, curtailed_mwh=curtailed,
        price_half_ticks=half, forecast=y.forecast, dispatch_mw=dense["dispatch"],
        charge_mw=dense["charge"], offered_mw=np.asarray(offered), available_mw=y.avail,
        export_mw=export, soc_mwh=y.soc_path,
        rows=[(static_rows, static_acc), (adaptive, adaptive_acc)], actors=y.actors,
        price_tick=float(rules.ticks.price_yuan), quantity_tick=y.qtick, states=dict(y.states))

