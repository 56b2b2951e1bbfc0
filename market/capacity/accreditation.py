"""Capacity credits measured on the simulated system (``capacity.accreditation_method =
"derived"``, an [E] method of the sandbox, close in spirit to the "top net-load hours"
capacity-value methods that preceded ELCC).

The year's profiles exist before its capacity auction (load, wind and solar availability,
forced outages), so the auction can accredit against the very year it buys for:

* **tight hours**: the ``accreditation_hours`` hours of highest net load, net load = system
  load + firm exports - available wind - available solar (MW);
* **wind, solar**: their available output over nameplate, averaged over the tight hours;
* **storage**: de-rated by its duration ``d = E / P`` hours. The tight hours fall in runs of
  consecutive hours; a store that is full when a run of ``L`` hours begins covers ``min(L, d)``
  of them at full power (or all ``L`` at ``d / L`` of it: the same MWh), so its credit is
  ``sum over runs min(L, d) / number of tight hours`` (MW-weighted over the fleet's stores).
  Recharging between the hours of one run, and empty stores at a run's start, are ignored;
* **coal** (each class): ``1 - its share of hours forced out`` over the year, PJM's
  UCAP = ICAP x (1 - EFORd) [S] with the simulated outage rate.

Every factor is in [0, 1]. A technology without units gets no factor (the rules' table is kept
for it).

>>> import numpy as np
>>> run_coverage(np.array([10, 11, 12, 40]), 2.0)   # runs of 3 and 1 hours: (2 + 1) / 4
0.75
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from market.errors import CapacityInputError


def tight_hours(net_load_mw: np.ndarray, count: int) -> np.ndarray:
    """int64 (min(count, H),) the hours of highest net load, ascending (ties: earlier hour)."""
    net = np.asarray(net_load_mw, dtype=np.float64)
    if net.ndim != 1 or not np.all(np.isfinite(net)):
        raise CapacityInputError("net load must be finite MW, one value per hour")
    k = max(1, min(int(count), net.shape[0]))
    order = np.argsort(-net, kind="stable")[:k]
    return np.sort(order).astype(np.int64)


def run_lengths(hours: np.ndarray) -> np.ndarray:
    """int64 lengths of the runs of consecutive hours in the ascending ``hours``."""
    h = np.asarray(hours, dtype=np.int64)
    if h.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    breaks = np.flatnonzero(np.diff(h) != 1) + 1
    edges = np.concatenate([[0], breaks, [h.shape[0]]])
    return np.diff(edges).astype(np.int64)


def run_coverage(hours: np.ndarray, duration_h: float) -> float:
    """Share of the tight ``hours`` a store of ``duration_h`` hours covers, full at the start
    of each run: sum of min(run length, duration) / number of hours."""
    runs = run_lengths(hours)
    if runs.shape[0] == 0:
        return 0.0
    return float(np.minimum(runs, max(float(duration_h), 0.0)).sum() / runs.sum())


def derive_credits(net_load_mw: np.ndarray, count: int, *,
                   available_mw: Mapping[str, np.ndarray],
                   nameplate_mw: Mapping[str, float],
                   storage_power_mw: np.ndarray | None = None,
                   storage_energy_mwh: np.ndarray | None = None,
                   outage_share: Mapping[str, float] | None = None) -> dict[str, float]:
    """Capacity credit by technology (see the module docstring), each in [0, 1].

    * ``net_load_mw`` (H,): load + firm exports - wind - solar, MW;
    * ``available_mw``: technology -> (H,) available MW of all its units (wind, solar);
      ``nameplate_mw``: technology -> its total nameplate MW;
    * ``storage_power_mw``, ``storage_energy_mwh`` (S,): the stores;
    * ``outage_share``: technology -> share of hours its units were forced out (coal classes).
    """
    hours = tight_hours(net_load_mw, count)
    out: dict[str, float] = {}
    for tech, mw in available_mw.items():
        cap = float(nameplate_mw.get(tech, 0.0))
        if cap > 0:
            avail = np.asarray(mw, dtype=np.float64)[hours]
            out[tech] = float(np.clip(avail.mean() / cap, 0.0, 1.0))
    if storage_power_mw is not None and storage_energy_mwh is not None:
        power = np.asarray(storage_power_mw, dtype=np.float64)
        energy = np.asarray(storage_energy_mwh, dtype=np.float64)
        if power.shape[0] and power.sum() > 0:
            duration = energy / np.where(power > 0, power, 1.0)
            cover = np.array([run_coverage(hours, d) for d in duration.tolist()])
            out["storage"] = float(np.clip((cover * power).sum() / power.sum(), 0.0, 1.0))
    for tech, share in (outage_share or {}).items():
        out[tech] = float(np.clip(1.0 - float(share), 0.0, 1.0))
    return out
