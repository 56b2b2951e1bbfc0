"""Capacity performance: penalties for committed units that fall short in stress hours.

A unit cleared for ``c`` accredited MW owes ``c x s_h`` MW in stress hour ``h`` (``s_h`` = 1, or
the hour's requirement as a share of the annual one, so that a mild stress hour asks less).
Every MWh short pays the penalty rate, Net CONE x 1000 / ``penalty_hours`` yuan/MWh (330 x 1000 /
30 = 11,000 yuan/MWh by default: thirty hours of full shortfall cost a year of Net CONE). The
year's penalty of a unit is capped by the stop-loss, ``stop_loss_multiple`` x its annual
capacity payment. Surplus delivery in one hour does not offset a shortfall in another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.capacity.auction import CapacityResult
from market.errors import CapacityInputError
from market.rules import CapacityRules


@dataclass(frozen=True, eq=False)
class PerformanceResult:
    """Penalties of one delivery year, per unit in fleet order (length n).

    * ``obligation_mwh``, ``shortfall_mwh``: float64, summed over stress hours (1 h each);
    * ``rate_yuan_per_mwh``: the penalty rate;
    * ``uncapped_fen``, ``stop_loss_fen``, ``penalty_fen``: int64 fen; ``penalty_fen`` =
      min(uncapped, stop-loss) is what the owner pays.
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

    @property
    def total_penalty_fen(self) -> int:
        return int(self.penalty_fen.sum())

    @property
    def capped(self) -> np.ndarray:
        """bool (n,): the stop-loss bound this unit's penalty."""
        return self.uncapped_fen > self.stop_loss_fen


def assess_performance(
    result: CapacityResult,
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
      obligation; ``None`` means 1.
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
    rate = rules.penalty_rate_yuan_per_mwh()
    uncapped = np.rint(shortfall * rate * 100.0).astype(np.int64)
    stop_loss = np.rint(result.payment_fen * rules.stop_loss_multiple).astype(np.int64)
    return PerformanceResult(
        unit_ids=result.unit_ids, owners=result.owners, stress_hours=h,
        obligation_mwh=obligation.sum(axis=1), shortfall_mwh=shortfall, rate_yuan_per_mwh=rate,
        uncapped_fen=uncapped, stop_loss_fen=stop_loss,
        penalty_fen=np.minimum(uncapped, stop_loss))
