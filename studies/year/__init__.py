"""A simulated year of the Mengxi markets: :func:`run_year` -> :class:`YearResult`.

Entry points: :func:`run_year` (one seed, one rule set, all 8,760 hours; progress reported by
the steps in :data:`STEPS`), :class:`YearResult` (the tables, the ledger and the summary that
``studies.output`` writes), :func:`with_summary` (a copy with summary keys replaced) and
:func:`market_power` (the metrics of ``studies.metrics``). The year's markets are in
:mod:`studies.year.markets` (capacity, compensation, storage recovery) and
:mod:`studies.year.green`, its tables in :mod:`studies.year.tables`; those modules import one
another directly, never this facade.

Inputs are checked before anything runs, every problem at once:

>>> from market.rules import load_preset
>>> STEPS[:3]
('fleet', 'capacity', 'energy')
>>> run_year(load_preset("mengxi"), seed=-1, scale=0)
Traceback (most recent call last):
    ...
market.errors.SynthesisError: synthesis refused:
  seed must be an integer >= 0, got -1
  scale must be a number > 0 (1 is the full Mengxi fleet), got 0
"""

from studies.year.run import STEPS, YearResult, market_power, run_year, with_summary

__all__ = ["STEPS", "YearResult", "market_power", "run_year", "with_summary"]
