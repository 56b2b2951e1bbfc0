"""Compile the clearing kernels a simulated year calls into Numba's cache, in a child process.

The first ``mengxi simulate`` on a fresh install compiles every kernel it calls (about ten
seconds of one core). :func:`start` runs :func:`main` in a child process beside the
year when a kernel's cache is cold: the child compiles the kernels the year calls last (the
batched energy clearing, then the single-book clearing of the green market, then the
capacity and validation kernels) while the year compiles and runs what it needs first, so
that the year finds them in the cache (``clearing.config``: ``cache=True`` under one
directory keyed by the sources). The child names each kernel on stdout once it is saved;
:func:`wait_for` lets the year wait for one (rather than compile it a second time). A warm
cache starts no child; the year is correct either way, the child only saves time.
:data:`SIGNATURES` are the types the year calls the kernels with (a test checks them against
a year's own calls).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numba
from numba import types

from clearing.config import NJIT
from clearing.kernels import capacity, uniform, validate

_I64 = types.Array(types.int64, 1, "C")
_I64_RO = types.Array(types.int64, 1, "C", readonly=True)
_I8 = types.Array(types.int8, 1, "C")
_F64 = types.Array(types.float64, 1, "C")
_B, _I, _F = types.boolean, types.int64, types.float64

#: (kernel, argument types) the year compiles, in the order the child compiles them.
SIGNATURES: tuple[tuple[Any, tuple[Any, ...]], ...] = (
    (uniform.clear_batched, (_I8, _I64, _I64, _I64, _I64, _B, _I, _I, _I, _B, _B)),
    (uniform.pick_price_x2, (_I, _I, _I, _I, _I, _B, _B)),
    (uniform.clear_uniform, (_I8, _I64, _I64, _I64_RO, _B)),
    (validate.validate_rows, (_I64, _F64, _F64, _F, _F, _B, _F, _B, _F)),
    (validate.unique_ints, (_I64,)),
    (capacity.clear_capacity, (_I64, _I64, _I64_RO, _I64, _I64, _B, _I)),
)


def _cached(kernel: Any) -> bool:
    """Whether ``kernel`` has an index in Numba's cache (it was compiled and saved once)."""
    try:
        return Path(kernel._cache._cache_file._index_path).is_file()
    except AttributeError:  # another Numba layout: assume cold
        return False


def cold() -> bool:
    """Whether any kernel of :data:`SIGNATURES` is missing from the cache (caching on)."""
    if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]  # plain Python kernels
        return False
    return bool(NJIT.get("cache")) and not all(_cached(k) for k, _ in SIGNATURES)


def start() -> subprocess.Popen[bytes] | None:
    """Start the child when the cache is cold; ``None`` when it is warm (or caching is off,
    or no child can be started). The caller may :func:`stop` it once it no longer helps."""
    if not cold():
        return None
    try:
        # The child imports this very tree (its root first on sys.path), whatever its cwd.
        root = str(Path(__file__).resolve().parents[2])
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from clearing.kernels.warm import main; main()")
        return subprocess.Popen([sys.executable, "-c", code, root],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    except OSError:
        return None


def wait_for(child: subprocess.Popen[bytes] | None, name: str) -> bool:
    """Wait until the child from :func:`start` has saved the kernel ``name`` (True), or has
    ended without it (False; then the caller compiles it itself). No child: False."""
    if child is None or child.stdout is None:
        return False
    for line in child.stdout:
        if line.decode().strip() == name:
            return True
    return False


def stop(child: subprocess.Popen[bytes] | None) -> None:
    """Stop a child from :func:`start` if it still runs (what it saved stays cached: Numba
    writes each cache file whole, then renames it)."""
    if child is not None:
        if child.poll() is None:
            child.terminate()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def main() -> None:
    """Compile every kernel of :data:`SIGNATURES` (loaded instead when already cached)."""
    if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
        return
    for kernel, signature in SIGNATURES:
        kernel.compile(signature)
        sys.stdout.write(f"{kernel.__name__}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
