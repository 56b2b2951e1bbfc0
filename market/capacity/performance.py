"""Capacity performance: penalties for committed units that fall short in stress hours.

A unit cleared for ``c`` accredited MW owes ``c x s_h`` MW in stress hour ``h`` (``s_h`` = 1, or
the hour's requirement as a share of the annual one, so that a mild stress hour asks less).
Every MWh short pays the penalty rate, Net CONE x 1000 / ``penalty_hours`` yuan/MWh (330 x 1000 /
30 = 11,000 yuan/MWh at the fixed Net CONE: thirty hours of full shortfall cost a year of Net
CONE; the simulated year uses its resolved, derived Net CONE). The year's penalty of a unit is
capped by the stop-loss, ``stop_loss_multiple`` x its annual capacity payment. Surplus delivery
in one hour does not offset a shortfall in another.

Two options of PJM's Capacity Performance design (both off by default):

* ``capacity.balancing_ratio``: in each stress hour a unit owes its cleared MW x the hour's
  balancing ratio, the share of committed capacity the system needed (:func:`balancing_ratio`:
  the hour's load + firm exports over all cleared accredited MW, at most 1), so a stress hour
  with capacity to spare asks less of everyone [S, PJM's expected performance; the ratio's
  inputs here are the sandbox's [E]];
* ``capacity.performance_bonus``: every unit that delivers more than it owes in a stress hour
  (a unit without a commitment owes nothing) earns a bonus per MWh of the excess, paid out of
  the penalties collected that year: at the penalty rate, or pro rata less when the penalties
  cannot cover it [S, PJM funds bonuses from non-performance charges]; what is left of the
  penalties is refunded to loads.

What is PJM's and what is not: the rate, Net CONE / 30 h per MWh short, is PJM's formula [S];
the rest is the sandbox's [E]: stress hours are hours at the price cap or below the reserve
threshold (``energy.stress_*``), not PJM's emergency actions; the stop-loss is a multiple of
the unit's own annual payment; what counts as delivered is ``capacity.performance_basis``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from market.errors import CapacityInputError
from market.ledger.postings import split_fen
from market.rules import CapacityRules

#: What counts as delivered in a stress hour (``capacity.performance_basis``).
PERFORMANCE_BASES = ("available", "dispatched")


class Commitments(Protocol):
    """Per unit, fleet order: ``unit_ids``, ``owners``, ``cleared_mw`` (float64 MW) and
    ``payment_fen`` (int64 annual fen). A :class:`~market.capacity.auction.CapacityResult`
    is one; :class:`Committed` holds a published one."""

    @property
    def unit_ids(self) -> np.ndarray: ...
    @property
    def owners(self) -> np.ndarray: ...
    @property
    def cleared_mw(self) -> np.ndarray: ...
    @property
    def payment_fen(self) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class Committed:
    """Cleared MW and annual payments (fen) per unit, e.g. read back from a published result."""

    unit_ids: np.ndarray
    owners: np.ndarray
    cleared_mw: np.ndarray
    payment_fen: np.ndarray


def delivered_mw(basis: str, technologies: np.ndarray, *, sold_mw: np.ndarray,
                 bought_mw: np.ndarray, offered_mw: np.ndarray, available_mw: np.ndarray,
                 soc_after_mwh: np.ndarray, power_mw: np.ndarray) -> np.ndarray:
    """MW each unit delivered in the hours given, float64 (H, n), fleet order.

    Inputs are (H, n) MW: accepted sells ``sold_mw``, accepted buys ``bought_mw``, sells
    ``offered_mw``, real-time ``available_mw``; ``soc_after_mwh`` (H, n) is a storage unit's
    state of charge after the hour (MWh; ignored for others) and ``power_mw`` (n,) its power.

    * ``"available"`` (what the unit had available to the operator): coal its offered MW up
      to what was available, wind and solar their available output, storage its discharge
      plus what it could still discharge from its state of charge;
    * ``"dispatched"``: net dispatch, ``max(sold - bought, 0)``, for every unit.
    """
    if basis == "dispatched":
        return np.maximum(sold_mw - bought_mw, 0.0)
    if basis != "available":
        raise CapacityInputError(f"performance_basis must be one of {PERFORMANCE_BASES}, got "
                                 f"{basis!r}")
    tech = np.asarray(technologies).astype(str)
    out = np.zeros(sold_mw.shape)
    coal = np.flatnonzero(np.char.startswith(tech, "coal"))
    out[:, coal] = np.minimum(offered_mw[:, coal], available_mw[:, coal])
    renewable = np.flatnonzero((tech == "wind") | (tech == "solar"))
    out[:, renewable] = available_mw[:, renewable]
    st = np.flatnonzero(tech == "storage")
    if st.shape[0]:
        dis = sold_mw[:, st]
        room = np.minimum(np.asarray(power_mw)[st][None, :] - dis, soc_after_mwh[:, st])
        out[:, st] = dis + np.maximum(room, 0.0)
    return out


@dataclass(frozen=True, eq=False)
class PerformanceResult:
    """Penalties of one delivery year, per unit in fleet order (length n).

    * ``obligation_mwh``, ``shortfall_mwh``: float64, summed over stress hours (1 h each);
    * ``rate_yuan_per_mwh``: the penalty rate;
    * ``uncapped_fen``, ``stop_loss_fen``, ``penalty_fen``: int64 fen; ``penalty_fen`` =
      min(uncapped, stop-loss) is what the owner pays;
    * ``excess_mwh``: float64, MWh delivered above what the unit owed, summed over stress
      hours; ``bonus_fen``: int64, its share of the penalties when ``performance_bonus`` is
      on (zeros otherwise); ``bonus_rate_yuan_per_mwh`` what one MWh of excess earned.
    """

    unit_ids: np.ndarray
    owners: np.ndarray
    stress_hours: int
    obligation_mwh: np.ndarray
    shortfall_mwh: np.ndarray
    rate_yuan_per_mwh: float
    uncapped_fen: np.ndarray
    stop_loss_fen: np.ndarray
    penalty_fen: np.ndarray
    excess_mwh: np.ndarray
    bonus_fen: np.ndarray
    bonus_rate_yuan_per_mwh: float

    @property
    def total_penalty_fen(self) -> int:
        return int(self.penalty_fen.sum())

    @property
    def total_bonus_fen(self) -> int:
        return int(self.bonus_fen.sum())

    @property
    def refund_fen(self) -> int:
        """What the loads get back: the penalties less the bonuses paid out of them."""
        return self.total_penalty_fen - self.total_bonus_fen

    @property
    def capped(self) -> np.ndarray:
        """bool (n,): the stop-loss bound this unit's penalty."""
        return self.uncapped_fen > self.stop_loss_fen


def assess_performance(
    result: Commitments,
    delivered_mw: np.ndarray,
    rules: CapacityRules,
    *,
    stress_hours: np.ndarray | None = None,
    hour_scale: np.ndarray | None = None,
) -> PerformanceResult:
    """Penalties for the units of ``result`` given what they delivered.

    * ``delivered_mw``: float64 (n_units, n_hours), MW delivered per unit and hour, fleet order
      (accredited terms: a 1,000 MW coal unit cleared for 900 MW meets its obligation at 900).
    * ``stress_hours``: the columns that are stress hours, as int indices or a bool mask of
      length n_hours; ``None`` means every column is a stress hour.
    * ``hour_scale``: float64 (number of stress hours,), >= 0, scales each stress hour's
      obligation (e.g. :func:`balancing_ratio`); ``None`` means 1.

    Bonuses are shared out when ``rules.performance_bonus`` is on (see the module docstring).
    """
    delivered = np.asarray(delivered_mw, dtype=np.float64)
    n = len(result.cleared_mw)
    if delivered.ndim != 2 or delivered.shape[0] != n:
        raise CapacityInputError(f"delivered_mw must have shape (n_units={n}, n_hours), "
                                 f"got {delivered.shape}")
    if stress_hours is not None:
        delivered = delivered[:, np.asarray(stress_hours)]
    if not np.all(np.isfinite(delivered)) or np.any(delivered < 0):
        raise CapacityInputError("delivered_mw must be finite and >= 0 in every stress hour")
    h = delivered.shape[1]
    scale = np.ones(h) if hour_scale is None else np.asarray(hour_scale, dtype=np.float64)
    if scale.shape != (h,) or not np.all(np.isfinite(scale)) or np.any(scale < 0):
        raise CapacityInputError(f"hour_scale must be {h} finite numbers >= 0 (one per stress "
                                 f"hour), got shape {scale.shape}")
    obligation = result.cleared_mw[:, None] * scale[None, :]
    shortfall = np.maximum(obligation - delivered, 0.0).sum(axis=1)
    excess = np.maximum(delivered - obligation, 0.0).sum(axis=1)
    rate = rules.penalty_rate_yuan_per_mwh()
    uncapped = np.rint(shortfall * rate * 100.0).astype(np.int64)
    stop_loss = np.rint(result.payment_fen * rules.stop_loss_multiple).astype(np.int64)
    penalty = np.minimum(uncapped, stop_loss)
    bonus, bonus_rate = np.zeros(n, dtype=np.int64), 0.0
    if rules.performance_bonus:
        bonus, bonus_rate = share_bonus(int(penalty.sum()), excess, rate)
    return PerformanceResult(
        unit_ids=result.unit_ids, owners=result.owners, stress_hours=h,
        obligation_mwh=obligation.sum(axis=1), shortfall_mwh=shortfall, rate_yuan_per_mwh=rate,
        uncapped_fen=uncapped, stop_loss_fen=stop_loss, penalty_fen=penalty,
        excess_mwh=excess, bonus_fen=bonus, bonus_rate_yuan_per_mwh=bonus_rate)


def share_bonus(pot_fen: int, excess_mwh: np.ndarray, rate_yuan_per_mwh: float
                ) -> tuple[np.ndarray, float]:
    """Bonuses out of ``pot_fen`` of penalties: each MWh of ``excess_mwh`` (float64 (n,))
    earns the penalty rate, or pro rata less when the pot is short; int64 (n,) fen summing
    to at most the pot, exactly, and the rate paid per MWh (yuan)."""
    excess = np.asarray(excess_mwh, dtype=np.float64)
    total = float(excess.sum())
    if pot_fen <= 0 or total <= 0:
        return np.zeros(len(excess), dtype=np.int64), 0.0
    paid = min(int(pot_fen), int(np.floor(total * rate_yuan_per_mwh * 100.0)))
    return split_fen(paid, excess, "performance bonus"), paid / 100.0 / total


def balancing_ratio(needed_mw: np.ndarray, committed_mw: float) -> np.ndarray:
    """float64 (H,): each stress hour's balancing ratio, ``needed_mw`` (the hour's load + firm
    exports, MW) over all ``committed_mw`` (cleared accredited MW), clipped to [0, 1]; 1 when
    nothing is committed."""
    need = np.asarray(needed_mw, dtype=np.float64)
    if not np.all(np.isfinite(need)) or np.any(need < 0):
        raise CapacityInputError("balancing ratio: needed_mw must be finite and >= 0")
    if committed_mw <= 0:
        return np.ones(need.shape)
    return np.clip(need / float(committed_mw), 0.0, 1.0)
