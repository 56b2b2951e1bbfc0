"""What a market designer runs: a simulated year (``studies.year``: :func:`run_year`), its
tables, plots and report (``studies.output``), paired-seed comparisons of two rule sets
(``studies.compare``), parameter sweeps on Dask (``studies.sweep``) and market-power metrics
(``studies.metrics``).

>>> from studies.metrics import hhi
>>> hhi(["a", "a", "b"], [30.0, 20.0, 50.0])  # two owners with half the supply each
5000.0
"""
