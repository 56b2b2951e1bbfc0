"""The public clearing path, ``OrderBook.from_arrays`` + ``clear``, beside NumPy's sort of the
same prices and the uniform kernel alone; and ``OrderBook.from_csv`` beside pyarrow's CSV read.

Run: ``pytest benchmarks/test_bench_public_path.py --benchmark-only
--benchmark-columns=median,min,max,rounds -s``. Each group is one book size, so the engines are
timed side by side in one run; kernels are warmed before timing (compilation is never timed).
After the last test the module prints the ratios of the medians (public path / sort, public
path / kernel).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clearing import OrderBook, clear
from clearing.kernels import uniform as k

SIZES = [1_000, 10_000, 1_000_000]
CSV_ROWS = 1_000_000
_ARRAYS: dict[int, tuple[np.ndarray, ...]] = {}
_MEDIANS: dict[tuple[str, int], float] = {}


def arrays(n: int) -> tuple[np.ndarray, ...]:
    """ids, sides, prices, quantities of a random book as a caller holds them: int ids,
    +1/-1 sides, prices on 150,000 ticks of 0.01 yuan, quantities 0.001-100 MW (as
    ``api.timing.random_book``)."""
    if n not in _ARRAYS:
        rng = np.random.default_rng(n)
        sides = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
        prices = rng.integers(0, 150_000, n) / 100
        qtys = rng.integers(1, 100_000, n) / 1000
        _ARRAYS[n] = (np.arange(n), sides, prices, qtys)
        public_path(*_ARRAYS[n])  # warm
    return _ARRAYS[n]


def public_path(ids, sides, prices, qtys):
    return clear(OrderBook.from_arrays(ids, sides, prices, qtys))


def public_path_read(ids, sides, prices, qtys):
    """The public path, then the per-order arrays read (``clear`` decodes them on first read)."""
    r = clear(OrderBook.from_arrays(ids, sides, prices, qtys))
    return r.accepted, r.settlement_price


def _keep(benchmark, name: str, n: int) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        _MEDIANS[(name, n)] = float(stats.stats.median)


@pytest.mark.parametrize("n", SIZES)
def test_public_path(benchmark, n):
    a = arrays(n)
    benchmark.group = f"public path {n:>9,} orders"
    result = benchmark(public_path, *a)
    assert result.volume > 0
    _keep(benchmark, "public", n)


@pytest.mark.parametrize("n", SIZES)
def test_public_path_read_arrays(benchmark, n):
    a = arrays(n)
    public_path_read(*a)
    benchmark.group = f"public path {n:>9,} orders"
    benchmark(public_path_read, *a)
    _keep(benchmark, "public+read", n)


@pytest.mark.parametrize("n", SIZES)
def test_sort_floor(benchmark, n):
    prices = arrays(n)[2]
    benchmark.group = f"public path {n:>9,} orders"
    benchmark(np.sort, prices)
    _keep(benchmark, "sort", n)


@pytest.mark.parametrize("n", SIZES)
def test_kernel_alone(benchmark, n):
    b = OrderBook.from_arrays(*arrays(n))
    args = (b.sides, b.price_ticks, b.quantity_ticks, b.sequence, False)
    k.clear_uniform(*args)
    benchmark.group = f"public path {n:>9,} orders"
    benchmark(k.clear_uniform, *args)
    _keep(benchmark, "kernel", n)


@pytest.mark.parametrize("n", SIZES)
def test_clear_alone(benchmark, n):
    b = OrderBook.from_arrays(*arrays(n))
    benchmark.group = f"public path {n:>9,} orders"
    benchmark(clear, b)
    _keep(benchmark, "clear", n)


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "book.csv"
    OrderBook.from_arrays(*arrays(CSV_ROWS)).to_csv(path)
    return path


def test_from_csv(benchmark, csv_path):
    benchmark.group = f"read CSV {CSV_ROWS:,} rows"
    book = benchmark.pedantic(OrderBook.from_csv, args=(csv_path,), rounds=3, iterations=1,
                              warmup_rounds=1)
    assert len(book) == CSV_ROWS
    _keep(benchmark, "from_csv", CSV_ROWS)


def _read_and_clear(path: Path):
    return clear(OrderBook.from_csv(path))


def test_from_csv_and_clear(benchmark, csv_path):
    """What ``mengxi clear FILE`` does after its imports: read the book, clear it."""
    benchmark.group = f"read CSV {CSV_ROWS:,} rows"
    result = benchmark.pedantic(_read_and_clear, args=(csv_path,), rounds=3, iterations=1,
                                warmup_rounds=1)
    assert result.accepted.shape[0] == CSV_ROWS
    _keep(benchmark, "from_csv+clear", CSV_ROWS)


def test_pyarrow_csv(benchmark, csv_path):
    from pyarrow import csv as pacsv

    benchmark.group = f"read CSV {CSV_ROWS:,} rows"
    table = benchmark.pedantic(pacsv.read_csv, args=(csv_path,), rounds=3, iterations=1,
                               warmup_rounds=1)
    assert table.num_rows == CSV_ROWS
    _keep(benchmark, "pyarrow", CSV_ROWS)


@pytest.fixture(scope="module", autouse=True)
def print_ratios():
    """After the module: side-by-side ratios of the medians (nothing when benchmarks are off)."""
    yield
    lines = []
    for n in SIZES:
        pub, srt, ker, clr, rd = (_MEDIANS.get((name, n)) for name in (
            "public", "sort", "kernel", "clear", "public+read"))
        if pub and srt and ker:
            lines.append(f"{n:>9,} orders: from_arrays+clear {pub * 1e6:10.1f} us | "
                         f"+ read arrays {(rd or 0) * 1e6:10.1f} us | "
                         f"np.sort {srt * 1e6:10.1f} us | kernel {ker * 1e6:10.1f} us | "
                         f"clear(book) {(clr or 0) * 1e6:10.1f} us | "
                         f"public/sort {pub / srt:5.2f}x | public/kernel {pub / ker:5.2f}x")
    fc, pa = _MEDIANS.get(("from_csv", CSV_ROWS)), _MEDIANS.get(("pyarrow", CSV_ROWS))
    fcc = _MEDIANS.get(("from_csv+clear", CSV_ROWS))
    if fc and pa:
        lines.append(f"CSV {CSV_ROWS:,} rows: from_csv {fc * 1e3:.1f} ms | pyarrow "
                     f"{pa * 1e3:.1f} ms | ratio {fc / pa:.2f}x")
    if fcc and pa:
        lines.append(f"CSV {CSV_ROWS:,} rows: from_csv + clear {fcc * 1e3:.1f} ms | ratio to "
                     f"pyarrow's read {fcc / pa:.2f}x (target <= 2x)")
    if lines:
        print("\n" + "\n".join(lines))
