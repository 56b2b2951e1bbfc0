"""Bid rows of the in-process runner: who bids (:class:`Actors`), bid rows as int64 tick
arrays (:data:`Rows`), their checks and conversion to :class:`~market.energy.auction.EnergyBids`,
and
the clearing windows of a day.

Everything here works on whole arrays of rows (hour, actor, price ticks, quantity ticks,
side); no Python object per bid or hour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.fleet import SynthFleet
from agents.observe import load_block_prices, load_block_ticks, price_ticks, ticks_down
from agents.strategies.assign import Group
from agents.strategies.base import Offers
from clearing.book import from_ticks
from market.energy.auction import BUY, SELL, EnergyBids
from market.errors import StrategyError
from market.rules import MarketRules


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


def group_name(group: Group) -> str:
    """How an error message names a strategy group."""
    return f"{group.label} ({group.spec.name})"


def check_offers(offers: Offers, shape: tuple[int, int], who: str) -> None:
    """:class:`StrategyError` unless ``offers`` are finite (H, U, B) blocks with (H, U) =
    ``shape`` and quantities >= 0."""
    q, p = np.asarray(offers.quantity_mw), np.asarray(offers.price_yuan_per_mwh)
    if q.ndim != 3 or q.shape[:2] != shape or p.shape != q.shape:
        raise StrategyError(f"{who} returned offers of shapes {q.shape} and {p.shape}; "
                            f"expected (hours, units, blocks) with (hours, units) = {shape}")
    if not (np.isfinite(q).all() and np.isfinite(p).all() and (q >= 0).all()):
        raise StrategyError(f"{who} returned offers that are not finite, or negative "
                            "quantities")


def checked_price_ticks(price: np.ndarray, rules: MarketRules, who: str) -> np.ndarray:
    """Prices to int64 ticks (nearest, :func:`agents.observe.price_ticks`);
    :class:`StrategyError` outside the floor and cap."""
    tick = float(rules.ticks.price_yuan)
    t = price_ticks(price, tick)
    lo = round(rules.energy.price_floor_yuan_per_mwh / tick)
    hi = round(rules.energy.price_cap_yuan_per_mwh / tick)
    if t.size and (t.min() < lo or t.max() > hi):
        raise StrategyError(f"{who} offered prices outside the floor and cap of the rules")
    return t


def offer_blocks(offers: Offers, rules: MarketRules, who: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(quantity ticks, price ticks) int64 (H, U, B) of checked offers: quantities down to the
    grid (:func:`agents.observe.ticks_down`), prices to the nearest tick within the limits."""
    qty = np.asarray(offers.quantity_mw, dtype=np.float64)
    return (ticks_down(qty, float(rules.ticks.quantity_mw)),
            checked_price_ticks(offers.price_yuan_per_mwh, rules, who))


def load_blocks(load_mw: np.ndarray, rules: MarketRules) -> tuple[np.ndarray, np.ndarray]:
    """(quantity ticks, price ticks) int64 (..., 2) of loads' demand ``load_mw`` (...): the
    blocks of :func:`agents.observe.load_block_ticks` at
    :func:`agents.observe.load_block_prices`."""
    loads, e = rules.fleet.loads, rules.energy
    qty = load_block_ticks(load_mw, loads.responsive_share, float(rules.ticks.quantity_mw))
    prices = np.broadcast_to(load_block_prices(e.inelastic_bid(),
                                               loads.responsive_price_yuan_per_mwh), qty.shape)
    return qty, checked_price_ticks(prices, rules, "loads")


Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(hour int64, actor int32, price ticks int64, quantity ticks int64, side int8) of bid rows."""


def rows_from_blocks(qty_t: np.ndarray, price_t: np.ndarray, actor: np.ndarray,
                     hour0: int, actors: Actors) -> Rows:
    """Rows of (H, A, B) blocks, hour-major then actor then block, zero quantities dropped;
    each row on its actor's side."""
    h, a, b = qty_t.shape
    flat = np.flatnonzero(qty_t > 0)  # C order: hour, then actor, then block
    who = np.asarray(actor)[flat // b % a].astype(np.int32) if a else np.zeros(0, np.int32)
    return ((flat // (a * b)).astype(np.int64) + hour0, who,
            np.ascontiguousarray(price_t).ravel()[flat],
            np.ascontiguousarray(qty_t).ravel()[flat], actors.side[who])


def merge_by_hour(parts: list[Rows], n_hours: int) -> Rows:
    """The rows of ``parts`` (each sorted by hour) in one hour-major order: within an hour,
    the rows of ``parts[0]`` first, then those of ``parts[1]``, ... each in its own order
    (what :func:`rows_from_blocks` gives for their blocks side by side). O(rows): each row
    goes straight to its place."""
    counts = [np.bincount(p[0], minlength=n_hours) for p in parts]
    start = np.concatenate([[0], np.cumsum(sum(counts), dtype=np.int64)[:-1]])
    n = sum(int(p[0].shape[0]) for p in parts)
    out = tuple(np.empty(n, dtype=parts[0][k].dtype) for k in range(5))
    before = np.zeros(n_hours, dtype=np.int64)  # rows of earlier parts in each hour
    for part, count in zip(parts, counts, strict=True):
        first = np.concatenate([[0], np.cumsum(count, dtype=np.int64)[:-1]])
        pos = (start + before - first)[part[0]] + np.arange(part[0].shape[0])
        for k in range(5):
            out[k][pos] = part[k]
        before += count
    return out  # type: ignore[return-value]


def concat_rows(parts: list[Rows]) -> Rows:
    """The rows of ``parts`` one after the other (empty typed rows for none)."""
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return (z, z.astype(np.int32), z, z, z.astype(np.int8))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(5))  # type: ignore


def bids_of_rows(rows: Rows, actors: Actors, rules: MarketRules, n_hours: int,
                 hour0: int = 0) -> EnergyBids:
    """EnergyBids of rows already on the grids and within the limits (local hours from
    ``hour0``): built directly, without re-validating row by row."""
    return energy_bids(rows, actors, float(rules.ticks.price_yuan),
                       float(rules.ticks.quantity_mw), n_hours, hour0)


def energy_bids(rows: Rows, actors: Actors, price_tick: float, quantity_tick: float,
                n_hours: int, hour0: int = 0) -> EnergyBids:
    """:func:`bids_of_rows` on explicit ticks (yuan/MWh, MW)."""
    hour, actor, pt, qt, side = rows
    return EnergyBids(hour - hour0, actors.participant[actor], actors.unit_id[actor],
                      side, np.asarray(from_ticks(pt, price_tick)),
                      np.asarray(from_ticks(qt, quantity_tick)), pt, qt, n_hours, price_tick,
                      quantity_tick)


def slice_rows(rows: Rows, lo: int, hi: int) -> Rows:
    """Rows [lo, hi) (views)."""
    return tuple(r[lo:hi] for r in rows)  # type: ignore[return-value]


def windows_of(n_hours: int, starts: tuple[int, ...]) -> list[tuple[int, int]]:
    """Clearing windows [start, end) covering ``n_hours``: each day split at ``starts``."""
    cuts = sorted({int(s) for s in starts} | {0})
    if cuts[-1] >= 24 or cuts[0] < 0:
        raise StrategyError(f"window starts must be hours of the day in [0, 24), got {starts}")
    edges = sorted({d + c for d in range(0, n_hours, 24) for c in cuts if d + c < n_hours}
                   | {n_hours})
    return list(zip(edges[:-1], edges[1:], strict=True))

