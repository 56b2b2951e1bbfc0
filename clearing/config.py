"""Numba options and the int64 limits of the kernels, in one place (as stumpy keeps its config;
the tick grid is :mod:`clearing.grid`)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numba


def _source_digest() -> str:
    """Hash of every source file of ``clearing/``.

    Numba invalidates a cached kernel only when its own file changes, not when a kernel it
    calls (in another module) does; keying the cache directory on all sources closes that gap.
    """
    h = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_CACHE = os.environ.get("MENGXI_NUMBA_CACHE", "1") != "0"
if _CACHE and not os.environ.get("NUMBA_CACHE_DIR"):
    _root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    try:
        _root.mkdir(parents=True, exist_ok=True)
    except OSError:
        _root = Path(tempfile.gettempdir())
    numba.config.CACHE_DIR = str(  # type: ignore[attr-defined]
        _root / "mengxi-numba" / _source_digest())

#: Options for every kernel. ``cache`` keeps compiled machine code (under a directory keyed by
#: the sources), so a second process (a test run, a CLI call) does not compile again; ``nogil``
#: lets Dask threads clear auctions concurrently.
NJIT: dict[str, Any] = {"cache": _CACHE, "nogil": True}

#: Largest total quantity of one book in ticks. Keeps every sum and every doubled remainder
#: of the pro-rata arithmetic inside int64 (2**62 leaves one bit of headroom).
MAX_TOTAL_TICKS = 2**62
#: Largest absolute price in ticks; midpoints are formed as ``lo + hi`` in int64.
MAX_ABS_PRICE_TICKS = 2**60
