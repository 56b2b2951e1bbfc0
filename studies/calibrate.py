"""The reserve margin that meets the reliability standard, found by simulation.

The capacity market buys ``peak x (1 + capacity.reserve_margin)`` of accredited capacity. Which
margin is enough is a question about the system, not a rule to guess: it is the margin at which
the simulated year's loss of load expectation (LOLE, hours with unserved load) equals the
standard ``capacity.reliability_standard_lole_hours``.

The rule (the usual way of an installed-reserve study): keep the fleet and the seed (the same
weather, outages and bids, so every run differs only in the load), scale the peak load
(``fleet.loads.peak_mw``) by a multiple ``m``, and find by bisection the largest ``m`` whose
year still meets the standard. At that load the fleet's accredited capacity (each unit's
nameplate x its credit, derived from that year as the year derives it) over the peak, less 1,
is the reserve margin that meets the standard. LOLE grows with the load; where the bids make
it not quite monotone, bisection still ends and every run is reported, so the table shows it.

:func:`calibrate_reserve_margin` returns every run and the rules with the margin filled in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from market.errors import RulesError
from market.rules import MarketRules
from studies.year.run import run_year

#: The search starts between these multiples of the rules' peak load and widens if needed.
START_LOW, START_HIGH = 0.85, 1.15
#: Widening stops after this many steps each way (factor 1.25 a step).
MAX_WIDEN = 4
WIDEN = 1.25


@dataclass(frozen=True)
class CalibrationRun:
    """One simulated year at ``peak_multiple`` x the rules' peak load."""

    peak_multiple: float
    peak_mw: float
    accredited_mw: float
    reserve_margin: float
    lole_hours: int
    eue_mwh: float

    def meets(self, standard: float) -> bool:
        return self.lole_hours <= standard


@dataclass(frozen=True)
class Calibration:
    """The search: every run in the order made, the standard, and what it found.

    ``found`` is the tightest run that meets the standard (``None`` when even the lowest load
    tried does not); ``rules`` are the input rules with ``capacity.reserve_margin`` set to its
    margin (unchanged when nothing was found). ``bracketed`` says whether a run that misses the
    standard lies above it, so the margin is pinned within ``tolerance`` of the peak multiple.
    """

    standard_lole_hours: float
    seed: int
    scale: float | None
    runs: tuple[CalibrationRun, ...]
    found: CalibrationRun | None
    bracketed: bool
    tolerance: float
    rules: MarketRules

    def as_dict(self) -> dict[str, object]:
        return {
            "standard_lole_hours": self.standard_lole_hours, "seed": self.seed,
            "scale": self.scale, "tolerance": self.tolerance, "bracketed": self.bracketed,
            "reserve_margin": None if self.found is None else self.found.reserve_margin,
            "found": None if self.found is None else vars(self.found),
            "runs": [vars(r) for r in self.runs],
        }


def _run(rules: MarketRules, seed: int, scale: float | None, multiple: float) -> CalibrationRun:
    peak = rules.fleet.loads.peak_mw * multiple
    year = run_year(rules.with_overrides({"fleet.loads.peak_mw": peak}), seed, scale)
    cap, rel = year.summary["capacity"], year.summary["reliability"]
    # the peak the year used (scaled with the fleet), read back from its requirement
    requirement = cap["requirement_mw"]
    if requirement is None:
        raise RulesError(["calibration needs the capacity market on (capacity.enabled = true) "
                         "to read the peak and the accreditation it uses"])
    used_peak = requirement / (1.0 + rules.capacity.reserve_margin)
    accredited = float(year.units["accredited_mw"].sum())
    return CalibrationRun(
        peak_multiple=round(multiple, 6), peak_mw=round(used_peak, 3),
        accredited_mw=round(accredited, 3),
        reserve_margin=round(accredited / used_peak - 1.0, 6),
        lole_hours=int(rel["lole_hours"]), eue_mwh=float(rel["eue_mwh"]))


def calibrate_reserve_margin(rules: MarketRules, seed: int, scale: float | None = None, *,
                             tolerance: float = 0.01, max_runs: int = 14,
                             progress: Callable[[CalibrationRun], None] | None = None
                             ) -> Calibration:
    """Search for the reserve margin that meets ``rules.capacity.reliability_standard_lole_hours``
    (see the module docstring). ``tolerance``: the bisection stops when the bracket of peak
    multiples is narrower than this (> 0); ``max_runs`` bounds the years simulated (>= 2)."""
    if not (isinstance(tolerance, float | int) and math.isfinite(tolerance)
            and 0 < tolerance < 1):
        raise RulesError([f"tolerance must be a number in (0, 1), got {tolerance!r}"])
    if not isinstance(max_runs, int) or max_runs < 2:
        raise RulesError([f"max_runs must be an integer >= 2, got {max_runs!r}"])
    if not rules.capacity.enabled:
        raise RulesError(["calibration needs the capacity market on (capacity.enabled = true)"])
    standard = rules.capacity.reliability_standard_lole_hours
    runs: list[CalibrationRun] = []

    def run(m: float) -> CalibrationRun:
        r = _run(rules, seed, scale, m)
        runs.append(r)
        if progress is not None:
            progress(r)
        return r

    low, high = run(START_LOW), run(START_HIGH)
    for _ in range(MAX_WIDEN):  # widen until low meets and high misses
        if len(runs) >= max_runs:
            break
        if not low.meets(standard):
            high, low = low, run(low.peak_multiple / WIDEN)
        elif high.meets(standard):
            low, high = high, run(high.peak_multiple * WIDEN)
        else:
            break
    while (low.meets(standard) and not high.meets(standard)
           and high.peak_multiple - low.peak_multiple > tolerance and len(runs) < max_runs):
        mid = run((low.peak_multiple + high.peak_multiple) / 2)
        if mid.meets(standard):
            low = mid
        else:
            high = mid
    meeting = [r for r in runs if r.meets(standard)]
    found = max(meeting, key=lambda r: r.peak_multiple) if meeting else None
    bracketed = found is not None and any(
        not r.meets(standard) and r.peak_multiple > found.peak_multiple for r in runs)
    out = rules if found is None else rules.with_overrides(
        {"capacity.reserve_margin": max(0.0, min(1.0, round(found.reserve_margin, 4)))})
    return Calibration(standard, seed, scale, tuple(runs), found, bracketed, float(tolerance), out)
