"""``clearing.kernels.warm``: the kernels and types its child compiles are the ones a simulated
year calls, a warm cache starts no child, and the child names each kernel as it saves it."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import pytest

from clearing.kernels import warm

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT,
                                reason="NUMBA_DISABLE_JIT=1: the kernels are plain Python")


def test_the_warm_signatures_are_the_years_own():
    from market.rules import load_preset
    from studies.year.run import run_year

    run_year(load_preset("mengxi"), 1, 0.005)
    for kernel, signature in warm.SIGNATURES:
        assert tuple(signature) in [tuple(s) for s in kernel.signatures], kernel.__name__


def test_a_warm_cache_starts_no_child():
    if not warm.NJIT.get("cache"):
        pytest.skip("the Numba cache is off in this environment (MENGXI_NUMBA_CACHE=0)")
    warm.main()  # compiled or loaded: every kernel is in the cache now
    assert not warm.cold()
    assert warm.start() is None
    assert warm.wait_for(None, "clear_batched") is False
    warm.stop(None)


@pytest.mark.slow
def test_the_child_compiles_into_a_fresh_cache_and_names_each_kernel(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = "from clearing.kernels import warm; assert warm.cold(); warm.main(); " \
           "assert not warm.cold()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [k.__name__ for k, _ in warm.SIGNATURES]
    assert any(p.suffix == ".nbi" for p in tmp_path.rglob("*"))


def test_nothing_to_compile_without_the_jit(monkeypatch):
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    assert not warm.cold() and warm.start() is None
    warm.main()  # returns without compiling
