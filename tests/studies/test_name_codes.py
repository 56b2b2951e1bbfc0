"""``studies.metrics._name_codes`` codes owners exactly as ``np.unique(..., return_inverse=True)``
did (the year's bids table now gives owners as an object array of ``str``), and a year's
market-power figures are the same whichever way its owners column is given."""

from __future__ import annotations

import numpy as np
import pytest

from studies.metrics import _name_codes
from studies.year.tables import rounded


@pytest.mark.parametrize("kind", ["U", "O"])
def test_name_codes_equal_np_unique(kind):
    rng = np.random.default_rng(5)
    names = np.array(["genco-10", "genco-2", "exports", "retailer-1", "é-owner", "genco-1", ""])
    values = names[rng.integers(0, names.size, 5_000)]
    if kind == "O":
        values = values.astype(object)
    got_names, got_codes = _name_codes(values)
    want_names, want_codes = np.unique(values.astype(str), return_inverse=True)
    assert got_names.tolist() == want_names.tolist()
    assert np.array_equal(got_codes, want_codes.ravel())


def test_name_codes_of_empty_and_of_objects_that_are_not_str():
    names, codes = _name_codes(np.zeros(0, dtype=object))
    assert names.size == 0 and codes.size == 0
    mixed = np.array(["b", None, 3, "a", None], dtype=object)
    names, codes = _name_codes(mixed)
    want_names, want_codes = np.unique(mixed.astype(str), return_inverse=True)
    assert names.tolist() == want_names.tolist() == ["3", "None", "a", "b"]
    assert np.array_equal(codes, want_codes.ravel())


def test_market_power_is_the_same_with_owners_as_str_or_objects():
    from market.rules import load_preset
    from studies.metrics import market_power
    from studies.year.run import run_year, with_summary

    year = run_year(load_preset("mengxi"), 3, 0.02)
    assert year.bids["owner"].dtype == object
    as_str = with_summary(year)
    object.__setattr__(as_str, "bids", {**year.bids, "owner": year.bids["owner"].astype(str)})
    assert market_power(as_str) == market_power(year)
    assert rounded(market_power(year), "market_power") == year.summary["market_power"]
