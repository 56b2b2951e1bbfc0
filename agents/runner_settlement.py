"""Settlement and tables of the in-process year: the fast settlement of millions of bid rows
on integer actor codes (:func:`settle_rows`), a whole-year
:class:`~market.energy.EnergyResult` for ``settle_energy`` (:func:`year_result`), and dense
(hour x unit) MW matrices of bid rows (:func:`dense_mw`)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from agents.runner_bids import Actors, Rows
from market.energy import EnergyBids, EnergyResult
from market.errors import StrategyError
from market.ledger import SYSTEM_OPERATOR, Category, Ledger, round_half_even_div
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


def year_result(rules: MarketRules, h: int, price: np.ndarray, stress: np.ndarray,
                margin: np.ndarray, curtailed: np.ndarray, half: np.ndarray,
                acc: np.ndarray, bids: EnergyBids) -> EnergyResult:
    """An EnergyResult of the whole year for settling ``bids`` (rows accepted ``acc``)."""
    accepted = acc * float(rules.ticks.quantity_mw)
    settle = np.where(acc > 0, price[bids.hour], np.nan)
    return EnergyResult(price, ~np.isnan(price), np.zeros(h), curtailed, margin, stress, half,
                        accepted, acc, settle, rules, h)
