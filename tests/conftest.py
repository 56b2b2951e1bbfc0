"""Test-wide settings.

Hypothesis: under CI (``CI`` set, as ``.ci/run`` runs) examples are derandomised, so a run of
the same commit is reproducible and a failure seen once is seen again; locally each run
explores new examples, which is where new counterexamples are found (and then kept as
explicit cases).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
