"""Continuous double auction: events per second, Numba kernel vs the pure-Python reference.

Run: ``pytest benchmarks/test_bench_continuous.py --benchmark-only -q``. Every benchmark warms
the kernel first (compilation is never timed) and builds a fresh book in an untimed setup, so
each round processes the same stream from an empty book. Events/s (from the median) are put in
``extra_info`` and printed.

The stream (seed 2023): 55 % limit orders, 10 % immediate-or-cancel, 35 % cancels of a recent
id (live, already filled, or never added: all three statuses occur). Prices follow a random walk
around 300 yuan/MWh with a spread of about 0.3 yuan on a 0.01 tick, so levels are shared by many
orders and about a third of the orders trade on arrival; quantities 0.001-100 MW.
"""

from __future__ import annotations

import pytest

from api.timing import event_stream
from clearing.continuous import CANCEL, ContinuousBook
from clearing.reference import reference_continuous

SEED = 2023
N_KERNEL = 1_000_000
N_REFERENCE = 20_000
N_SUBMIT = 10_000


def per_second(benchmark, n: int) -> None:
    median = benchmark.stats.stats.median
    benchmark.extra_info["events"] = n
    benchmark.extra_info["events_per_second"] = n / median
    print(f"\n{benchmark.name}: {n} events, median {median * 1e3:.2f} ms, "
          f"{n / median:,.0f} events/s")


def warm_up() -> None:
    book = ContinuousBook(capacity=1)
    book.process(event_stream(2_000, seed=1))
    book.submit(10**9, "buy", 1.0, 1.0)
    book.cancel(10**9)


@pytest.fixture(scope="module")
def kernel_stream():
    return event_stream(N_KERNEL)


def test_bench_process_batch(benchmark, kernel_stream):
    """One ``process`` call on 1e6 events: intake validation, the kernel, trade decoding."""
    warm_up()
    result = benchmark.pedantic(lambda book: book.process(kernel_stream),
                                setup=lambda: ((ContinuousBook(),), {}), rounds=5, iterations=1)
    assert result.trades.shape[0] > 0 and (result.status == 0).mean() > 0.5
    per_second(benchmark, N_KERNEL)


def test_bench_kernel_loop(benchmark, kernel_stream):
    """The same 1e6 events already validated as int64 ticks: the kernel loop (with its array
    growth) and trade decoding, without the float intake."""
    warm_up()
    ev, problems = ContinuousBook()._encode(kernel_stream)
    assert not problems
    result = benchmark.pedantic(lambda book: book._run(ev),
                                setup=lambda: ((ContinuousBook(),), {}), rounds=5, iterations=1)
    assert result.trades.shape[0] > 0
    per_second(benchmark, N_KERNEL)


def test_bench_reference(benchmark):
    """The pure-Python reference on the first 2e4 events of the same kind of stream."""
    events = event_stream(N_REFERENCE)
    ticks = [(int(e["kind"]), int(e["order_id"]), int(e["side"]), round(e["price"] * 100),
              round(e["quantity"] * 1000)) for e in events]
    trades, statuses, _ = benchmark.pedantic(reference_continuous, args=(ticks,), rounds=3,
                                             iterations=1)
    book = ContinuousBook()
    result = book.process(events)
    assert statuses == result.status.tolist() and len(trades) == result.trades.shape[0]
    per_second(benchmark, N_REFERENCE)


def test_bench_submit_one_by_one(benchmark):
    """The game-mode path: 1e4 ``submit`` calls from Python, one order each (no cancels)."""
    events = event_stream(N_SUBMIT)
    events = events[events["kind"] != CANCEL]
    rows = [(int(e["order_id"]), int(e["side"]), float(e["price"]), float(e["quantity"]))
            for e in events]
    warm_up()

    def run(book):
        for oid, side, price, qty in rows:
            book.submit(oid, side, price, qty)

    benchmark.pedantic(run, setup=lambda: ((ContinuousBook(),), {}), rounds=3, iterations=1)
    per_second(benchmark, len(rows))
