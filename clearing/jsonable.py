"""NumPy values as plain JSON values, in one place for every layer: scalars and arrays to
Python, NaN and infinities to ``None``, tuples to lists, mapping keys to ``str``.

>>> import numpy as np
>>> jsonable({"price": np.float64(265.0), "hours": np.arange(2), 3: (np.nan, True)})
{'price': 265.0, 'hours': [0, 1], '3': [None, True]}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` with every NumPy scalar or array turned into JSON types (recursively)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.generic):
        return value.item()
    return value


def records(table: np.ndarray) -> list[dict[str, Any]]:
    """A structured array as a list of dicts of JSON values, one per row."""
    names = table.dtype.names or ()
    return [{n: jsonable(row[n]) for n in names} for row in table]
