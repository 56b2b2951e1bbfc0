"""Settlement and tables of the in-process year: the fast settlement of millions of bid rows
on integer actor codes (:func:`settle_rows`), a whole-year
:class:`~market.energy.auction.EnergyResult` for ``settle_energy`` (:func:`year_result`), and dense
(hour x unit) MW matrices of bid rows (:func:`dense_mw`)."""

from __future__ import annotations

import numpy as np

from agents.inprocess.bids import Actors, Rows
from market.energy.auction import EnergyBids, EnergyResult
from market.energy.settlement import energy_payments, post_energy_payments
from market.ledger.book import Ledger
from market.rules import MarketRules


def dense_mw(rows: Rows, acc: np.ndarray | None, h: int, n: int, mask: np.ndarray,
             qtick: float) -> np.ndarray:
    """(h, n) MW summed from the masked rows (accepted ticks, or offered when ``acc`` is
    None)."""
    weights = (rows[3] if acc is None else acc)[mask].astype(np.float64)
    idx = rows[0][mask] * n + rows[1][mask]
    return np.bincount(idx, weights=weights, minlength=h * n).reshape(h, n) * qtick



def settle_rows(ledger: Ledger, rows: Rows, accepted_ticks: np.ndarray,
                price_half_ticks: np.ndarray, period_of_hour: np.ndarray, actors: Actors,
                rules: MarketRules) -> int:
    """Post energy payments of bid rows with :func:`market.energy.settlement.energy_payments` (what
    ``settle_energy`` posts), on the year's integer actor codes instead of coding millions of
    names again. Returns the number of payments posted. No storage compensation: pass storage
    rows to ``settle_energy``."""
    hour, actor, _, _, side = rows
    # payments go in the order of (participant, unit) names: rank the actors so
    n_act = len(actors.participant)
    by_name = np.lexsort((actors.unit_id, actors.participant))
    rank = np.empty(n_act, dtype=np.int64)
    rank[by_name] = np.arange(n_act)
    payments = energy_payments(hour, rank[actor], side, accepted_ticks, price_half_ticks,
                               period_of_hour, actors.participant[by_name],
                               actors.unit_id[by_name], float(rules.ticks.price_yuan),
                               float(rules.ticks.quantity_mw))
    return post_energy_payments(ledger, payments)


def year_result(rules: MarketRules, h: int, price: np.ndarray, stress: np.ndarray,
                margin: np.ndarray, curtailed: np.ndarray, half: np.ndarray,
                acc: np.ndarray, bids: EnergyBids) -> EnergyResult:
    """An EnergyResult of the whole year for settling ``bids`` (rows accepted ``acc``)."""
    accepted = acc * float(rules.ticks.quantity_mw)
    settle = np.where(acc > 0, price[bids.hour], np.nan)
    return EnergyResult(price, ~np.isnan(price), np.zeros(h), curtailed, margin, stress, half,
                        accepted, acc, settle, rules, h)
