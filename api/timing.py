"""Measurements behind ``mengxi bench``: warm medians side by side in one run.

Every kernel is called once before timing (compilation is never timed); the first-call
compile time is measured separately in a fresh process with the Numba cache off.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from clearing import ContinuousBook, DemandCurve, OrderBook, clear, clear_batch, clear_capacity
from clearing.continuous import CANCEL, IOC, LIMIT, make_events
from clearing.grid import PRICE_TICK, QUANTITY_TICK, from_ticks
from clearing.reference.lp import lp_welfare


@dataclass
class Measurement:
    """One timed case: ``median_s`` over ``runs`` warm calls (seconds)."""

    case: str
    size: int
    engine: str
    median_s: float | None
    runs: int
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def random_arrays(n: int, seed: int = 0, levels: int = 150_000
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ids, sides, prices, quantities of a random book as a caller holds them: int ids 0..n-1,
    +1/-1 sides (int8), prices on ``levels`` ticks of 0.01 yuan (0 to 1,500 yuan/MWh),
    quantities 0.001-100 MW."""
    rng = np.random.default_rng(seed)
    sides = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    prices = np.asarray(from_ticks(rng.integers(0, levels, n), PRICE_TICK))
    qtys = np.asarray(from_ticks(rng.integers(1, 100_000, n), QUANTITY_TICK))
    return np.arange(n), sides, prices, qtys


def random_book(n: int, seed: int = 0, levels: int = 150_000) -> OrderBook:
    """The book of :func:`random_arrays`."""
    return OrderBook.from_arrays(*random_arrays(n, seed, levels))


def public_path(ids: np.ndarray, sides: np.ndarray, prices: np.ndarray,
                qtys: np.ndarray) -> object:
    """What a user calls: build the book from arrays and clear it."""
    return clear(OrderBook.from_arrays(ids, sides, prices, qtys))


def public_path_read(ids: np.ndarray, sides: np.ndarray, prices: np.ndarray,
                     qtys: np.ndarray) -> object:
    """:func:`public_path`, then read the per-order arrays (decoded on first read)."""
    result = clear(OrderBook.from_arrays(ids, sides, prices, qtys))
    return result.accepted, result.settlement_price


@contextlib.contextmanager
def stdout_to(target: int | str) -> Iterator[None]:
    """Send everything written to file descriptor 1 (C libraries included: HiGHS prints its
    banner there) to ``target`` (a descriptor, or a path such as ``os.devnull``) inside the
    block."""
    fd = (os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
          if isinstance(target, str) else target)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(fd, 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        if isinstance(target, str):
            os.close(fd)


def median_time(fn: Callable[[], object], budget_s: float = 1.0, min_runs: int = 3,
                max_runs: int = 1000) -> tuple[float, int]:
    """Median wall time of ``fn`` over as many runs as fit ``budget_s`` (after one warm call)."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        while len(times) < max_runs and (len(times) < min_runs
                                         or time.perf_counter() - start < budget_s):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()
    return float(np.median(times)), len(times)


def lp_clear(book: OrderBook) -> float:
    """Solve the welfare LP of the book with HiGHS; returns the welfare (yuan)."""
    return lp_welfare(book.sides, book.prices, book.quantities)[0]


def measure_uniform(sizes: list[int], budget_s: float = 1.0, with_peers: bool = True,
                    reference_max: int = 1_000, lp_max: int = 10_000) -> list[Measurement]:
    """The public path (``OrderBook.from_arrays`` + ``clear``) and ``clear`` on a built book,
    beside the sort floor, the plain-Python reference and the HiGHS LP."""
    from clearing.reference import reference_uniform

    out = []
    for n in sizes:
        arrays = random_arrays(n, seed=n)
        book = OrderBook.from_arrays(*arrays)
        t, runs = median_time(partial(public_path, *arrays), budget_s)
        out.append(Measurement("uniform", n, "from_arrays + clear", t, runs))
        t, runs = median_time(partial(public_path_read, *arrays), budget_s)
        out.append(Measurement("uniform", n, "from_arrays + clear + read arrays", t, runs,
                               "accepted and settlement_price read"))
        t, runs = median_time(partial(clear, book), budget_s)
        out.append(Measurement("uniform", n, "clear", t, runs, "on a built book"))
        prices = arrays[2]
        t, runs = median_time(partial(np.sort, prices), budget_s)
        out.append(Measurement("uniform", n, "np.sort (floor)", t, runs))
        if not with_peers:
            continue
        if n <= reference_max:
            args = (book.sides.tolist(), book.price_ticks.tolist(), book.quantity_ticks.tolist())
            t, runs = median_time(partial(reference_uniform, *args), budget_s,
                                         min_runs=1)
            out.append(Measurement("uniform", n, "Python reference", t, runs))
        else:
            out.append(Measurement("uniform", n, "Python reference", None, 0,
                                   f"skipped > {reference_max:,}"))
        if n <= lp_max:
            with stdout_to(os.devnull):  # HiGHS prints a banner before any option is set
                t, runs = median_time(partial(lp_clear, book), budget_s, min_runs=1)
            out.append(Measurement("uniform", n, "HiGHS LP", t, runs))
        else:
            out.append(Measurement("uniform", n, "HiGHS LP", None, 0,
                                   f"skipped > {lp_max:,}"))
    return out


def measure_csv(n: int = 1_000_000, budget_s: float = 1.0) -> list[Measurement]:
    """A CSV book of ``n`` random orders (:func:`random_arrays`) read and cleared, as
    ``mengxi clear FILE`` does after its imports, beside pyarrow reading the same file (its
    default threads)."""
    import tempfile
    from pathlib import Path

    from pyarrow import csv as pacsv

    with tempfile.TemporaryDirectory(prefix="mengxi-bench-") as folder:
        path = Path(folder) / "book.csv"
        OrderBook.from_arrays(*random_arrays(n, seed=n)).to_csv(path)
        out = []
        t, runs = median_time(lambda: clear(OrderBook.from_csv(path)), budget_s)
        out.append(Measurement("csv", n, "from_csv + clear", t, runs))
        t, runs = median_time(lambda: pacsv.read_csv(path), budget_s)
        out.append(Measurement("csv", n, "pyarrow read_csv", t, runs, "the file read alone"))
    return out


def measure_batch(n_auctions: int = 8_760, per_auction: int = 300,
                  budget_s: float = 1.0) -> Measurement:
    """Batched clearing of a year of hourly auctions in one call."""
    n = n_auctions * per_auction
    book = random_book(n, seed=8760)
    offsets = np.arange(0, n + 1, per_auction)
    t, runs = median_time(lambda: clear_batch(book, offsets), budget_s)
    return Measurement("batch", n_auctions, f"clear_batch x{per_auction}", t, runs)


def capacity_case(n: int, seed: int = 0) -> tuple[OrderBook, DemandCurve]:
    """n capacity offers priced uniformly on 0-600 yuan/kW·yr, 0.001-2 MW each, against the
    Mengxi-shaped curve (495 / 248 / 0 at 0.97 / 1.03 / 1.10 of the requirement) scaled to a
    requirement of half the offered MW, so the curve crosses the supply mid-range."""
    rng = np.random.default_rng(seed)
    prices = np.asarray(from_ticks(rng.integers(0, 60_001, n), PRICE_TICK))
    mw = np.asarray(from_ticks(rng.integers(1, 2_001, n), QUANTITY_TICK))
    book = OrderBook.from_arrays(np.arange(n), np.ones(n, dtype=np.int8), prices, mw)
    rr = round(float(mw.sum()) / 2)
    curve = DemandCurve.from_points([(rr * 0.97, 495.0), (rr * 1.03, 248.0), (rr * 1.10, 0.0)])
    return book, curve


def measure_capacity(n: int = 100_000, budget_s: float = 1.0) -> list[Measurement]:
    """Sloped-demand capacity clearing beside the sort floor of the same prices."""
    book, curve = capacity_case(n, seed=n)
    t, runs = median_time(lambda: clear_capacity(book, curve), budget_s)
    out = [Measurement("capacity", n, "clear_capacity", t, runs)]
    prices = book.prices
    t, runs = median_time(lambda: np.sort(prices), budget_s)
    out.append(Measurement("capacity", n, "np.sort (floor)", t, runs))
    return out


def event_stream(n: int, seed: int = 2023) -> np.ndarray:
    """``n`` mixed continuous-auction events (``EVENT_DTYPE``); event i uses order id i.

    55 % limit orders, 10 % immediate-or-cancel, 35 % cancels of a recent id (live, filled or
    never added); prices a random walk around 300 yuan/MWh with a spread of about 0.3 yuan on
    a 0.01 tick, so levels are shared and about a third of orders trade on arrival.
    """
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    kind = np.where(u < 0.55, LIMIT, np.where(u < 0.65, IOC, CANCEL))
    side = np.where(rng.random(n) < 0.5, -1, 1)
    mid = 30_000 + np.cumsum(rng.integers(-1, 2, n))  # ticks of 0.01 yuan
    price = mid - side * np.rint(rng.normal(10, 30, n)).astype(np.int64)
    qty = rng.integers(1, 100_001, n)  # ticks of 0.001 MW
    ids = np.arange(n, dtype=np.int64)
    back = np.minimum(rng.geometric(0.01, n), np.maximum(ids, 1))
    ids = np.where(kind == CANCEL, ids - back, ids)
    return make_events(kind, ids, side, from_ticks(price, PRICE_TICK),
                       from_ticks(qty, QUANTITY_TICK))


def measure_continuous(n: int = 1_000_000, budget_s: float = 1.0) -> Measurement:
    """Events per second of one ``ContinuousBook.process`` call on a fresh book."""
    events = event_stream(n)
    ContinuousBook().process(event_stream(2_000, seed=1))  # warm
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget_s and len(times) < 50):
        book = ContinuousBook()
        t0 = time.perf_counter()
        book.process(events)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    return Measurement("continuous", n, "ContinuousBook.process", med, len(times),
                       f"{n / med:,.0f} events/s", {"events_per_second": n / med})


#: The 1e6-order memory case as a user runs it: import the core, hold the arrays, build the
#: book, clear it and read the per-order results. It prints its peak resident set.
_MEMORY_CASE = """
import resource, sys
import numpy as np
from clearing import OrderBook, clear

def hwm_mb():  # this program's own peak; ru_maxrss also counts the parent's pages before exec
    try:
        for line in open('/proc/self/status'):
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

n = int(sys.argv[1])
rng = np.random.default_rng(n)
sides = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
prices = rng.integers(0, 150_000, n) / 100
qtys = rng.integers(1, 100_000, n) / 1000
ids = np.arange(n)
base = hwm_mb()
result = clear(OrderBook.from_arrays(ids, sides, prices, qtys))
result.accepted, result.settlement_price
print(base, hwm_mb())
"""


def peak_memory_mb(n: int) -> dict[str, float]:
    """Peak resident memory (MB) of a fresh Python process that imports the clearing core,
    makes the arrays of an n-order book, builds the book with ``OrderBook.from_arrays``, clears
    it and reads the per-order results: what ``/usr/bin/time -v`` would report for that script.

    ``peak_mb``: the whole process's peak resident set (``VmHWM`` of ``/proc/self/status``:
    interpreter, NumPy, Numba, the cached kernels and the data); ``baseline_mb``: its peak
    after the imports and the input arrays, before the book; ``book_and_clear_mb``: the
    difference (the kernels loaded from the Numba cache included). Not ``ru_maxrss``: on Linux
    a child's ``ru_maxrss`` starts from the resident size of the parent it was forked from (the
    bench process, hundreds of MB), so it overstates a small program's peak.
    """
    res = subprocess.run([sys.executable, "-c", _MEMORY_CASE, str(n)], capture_output=True,
                         text=True, check=True)
    base, peak = (float(v) for v in res.stdout.split())
    return {"baseline_mb": base, "peak_mb": peak, "book_and_clear_mb": peak - base}


def compile_seconds() -> dict[str, float]:
    """First-call time of each kernel in a fresh process with the Numba cache off."""
    code = (
        "import json, time\n"
        "import numpy as np\n"
        "from clearing import OrderBook, clear, clear_batch\n"
        "b = OrderBook.from_arrays([1, 2], [1, -1], [1.0, 2.0], [1.0, 1.0])\n"
        "out = {}\n"
        "t = time.perf_counter(); clear(b); out['clear'] = time.perf_counter() - t\n"
        "t = time.perf_counter(); clear_batch(b, np.array([0, 2]))\n"
        "out['clear_batch'] = time.perf_counter() - t\n"
        "print(json.dumps(out))\n"
    )
    env = dict(os.environ, MENGXI_NUMBA_CACHE="0")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(res.stdout)


def self_peak_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
