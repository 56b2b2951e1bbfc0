"""Compensation calls: when a coal unit was called to its declared maximum output, and whether
it delivered. The game and the simulated year build their call records here.

``compensation.failure_basis`` picks the definition:

* ``"daily_outage"`` (default): a unit is called on a day when it was dispatched, or offered in
  a stress hour; one call per (eligible unit, day). It fails the call when its real-time
  available MW was below its declared maximum in one of the hours it was called (a forced
  outage after the day-ahead gate).
* ``"hourly_available"``: every test-call hour and stress hour is a call of every eligible unit,
  one call per (unit, hour), failed when the available MW is below the declared maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.errors import CompensationInputError

FAILURE_BASES = ("daily_outage", "hourly_available")


@dataclass(frozen=True, eq=False)
class Calls:
    """Compensation call records, k of them: ``unit_ids`` str, ``month_index`` int64 (0-based
    in the periods settled), ``called_mw`` and ``delivered_mw`` float64 MW."""

    unit_ids: np.ndarray
    month_index: np.ndarray
    called_mw: np.ndarray
    delivered_mw: np.ndarray


def call_records(basis: str, unit_ids: np.ndarray, declared_mw: np.ndarray, *,
                 sold_mw: np.ndarray, offered_mw: np.ndarray, available_mw: np.ndarray,
                 stress: np.ndarray, month_index: np.ndarray, day_of_hour: np.ndarray,
                 test_hours: np.ndarray | None = None) -> Calls:
    """The calls of the eligible units given (k units, H hours).

    ``declared_mw`` (k,) MW; ``sold_mw``, ``offered_mw``, ``available_mw`` float64 (H, k) MW
    (accepted sells, sells offered, real-time availability); ``stress`` bool (H,);
    ``month_index`` int (H,) 0-based month of each hour; ``day_of_hour`` int (H,) non-decreasing;
    ``test_hours`` bool (H,) test calls (``hourly_available`` only; default none).
    Records are day-major (``daily_outage``) or hour-major (``hourly_available``).
    """
    declared = np.asarray(declared_mw, dtype=np.float64)
    short = available_mw < declared[None, :]
    h, k = short.shape
    if basis == "hourly_available":
        tests = np.zeros(h, bool) if test_hours is None else np.asarray(test_hours, bool)
        hours = np.flatnonzero(tests | np.asarray(stress, bool))
        hh, uu = np.repeat(hours, k), np.tile(np.arange(k), len(hours))
        return Calls(np.asarray(unit_ids)[uu], np.asarray(month_index)[hh].astype(np.int64),
                     declared[uu], np.asarray(available_mw)[hh, uu].astype(np.float64))
    if basis != "daily_outage":
        raise CompensationInputError(f"failure_basis must be one of {FAILURE_BASES}, got "
                                     f"{basis!r}")
    called = (sold_mw > 0) | (np.asarray(stress, bool)[:, None] & (offered_mw > 0))
    failed = called & short
    days, first = np.unique(np.asarray(day_of_hour), return_index=True)
    day = np.searchsorted(days, day_of_hour)
    called_day = np.zeros((len(days), k), dtype=bool)
    failed_day = np.zeros((len(days), k), dtype=bool)
    np.logical_or.at(called_day, day, called)
    np.logical_or.at(failed_day, day, failed)
    d, u = np.nonzero(called_day)  # day-major
    return Calls(np.asarray(unit_ids)[u], np.asarray(month_index)[first[d]].astype(np.int64),
                 declared[u], np.where(failed_day[d, u], 0.0, declared[u]))
