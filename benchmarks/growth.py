"""How the cost grows (issue 13, item 4): the year's time and peak memory by fleet scale, and
clearing time by book size.

Run: ``python benchmarks/growth.py [--scales 0.1,0.3,1,3] [--sizes 1e3,...,1e7] [--json]``.

* **Year**: each scale in a fresh process (so that each peak is its own): a small warm-up year
  first (scale 0.005: kernels loaded from Numba's cache, never compiled in the timing), then
  the timed year (``run_year`` of the Mengxi preset, its default seed), wall seconds, the
  process's peak resident memory (``VmHWM``, MB, whole process) and the year's bid rows.
* **Clearing**: random books as ``api.timing.random_arrays`` (half buys, half sells,
  150,000 price ticks), each size in a fresh process: ``clear`` on a built book and
  ``OrderBook.from_arrays`` + ``clear``, medians of warm calls (the first call is not timed),
  beside ``np.sort`` of the same prices; per-order nanoseconds show whether the cost is
  linear.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

YEAR = r"""
import json, time
from market.rules import load_preset
from studies.year.run import run_year
rules = load_preset("mengxi")
run_year(rules, rules.meta.seed, 0.005)
t = time.perf_counter()
r = run_year(rules, rules.meta.seed, {scale})
s = time.perf_counter() - t
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({{"scale": {scale}, "year_s": round(s, 3), "peak_mb": round(hwm / 1024),
                  "bid_rows": int(r.bids["hour"].shape[0]),
                  "units": int(r.units["unit_id"].shape[0])}}))
"""

CLEAR = r"""
import json
import numpy as np
from api.timing import median_time, random_arrays
from clearing import OrderBook, clear
n = {n}
ids, sides, prices, qtys = random_arrays(n)
book = OrderBook.from_arrays(ids, sides, prices, qtys)
clear(book)
budget = {budget}
built = median_time(lambda: clear(book), budget_s=budget)[0]
public = median_time(lambda: clear(OrderBook.from_arrays(ids, sides, prices, qtys)),
                     budget_s=budget)[0]
floor = median_time(lambda: np.sort(prices), budget_s=budget)[0]
print(json.dumps({{"orders": n, "clear_s": built, "from_arrays_clear_s": public,
                  "sort_s": floor}}))
"""


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,0.3,1,3")
    parser.add_argument("--sizes", default="1e3,1e4,1e5,1e6,1e7")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="seconds of timed calls per clearing case")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    years = [_run(YEAR.format(scale=float(s))) for s in args.scales.split(",") if s]
    clears = [_run(CLEAR.format(n=int(float(n)), budget=args.budget))
              for n in args.sizes.split(",") if n]
    if args.json:
        print(json.dumps({"years": years, "clearing": clears}, indent=2))
        return
    print(f"{'scale':>6}{'units':>7}{'bid rows':>11}{'year s':>9}{'peak MB':>9}"
          f"{'us/row':>8}")
    for y in years:
        print(f"{y['scale']:>6g}{y['units']:>7}{y['bid_rows']:>11,}{y['year_s']:>9.2f}"
              f"{y['peak_mb']:>9}{1e6 * y['year_s'] / y['bid_rows']:>8.2f}")
    print(f"{'orders':>10}{'clear':>11}{'ns/order':>9}{'from_arrays+clear':>19}"
          f"{'ns/order':>9}{'np.sort':>11}")
    for c in clears:
        n = c["orders"]
        print(f"{n:>10,}{c['clear_s'] * 1e3:>9.3f}ms{1e9 * c['clear_s'] / n:>9.1f}"
              f"{c['from_arrays_clear_s'] * 1e3:>17.3f}ms{1e9 * c['from_arrays_clear_s'] / n:>9.1f}"
              f"{c['sort_s'] * 1e3:>9.3f}ms")


if __name__ == "__main__":
    main()
