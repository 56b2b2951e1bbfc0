"""The auctions as linear programs solved by HiGHS (``highspy``, a dev dependency): the exact,
independent peers that tests cross-check the kernels against and ``mengxi bench`` times.

``highspy`` is imported when a program is solved, so the clearing core itself needs only NumPy
and Numba.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _solver():  # type: ignore[no-untyped-def]
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h, highspy


def lp_welfare(sides: np.ndarray, prices: np.ndarray, qtys: np.ndarray) -> tuple[float, float]:
    """The uniform double auction: maximise Σ buy price·x − Σ sell price·x subject to
    Σ sell x = Σ buy x and 0 <= x <= q.

    ``sides`` +1 sell / −1 buy, ``prices`` (yuan/MWh) and ``qtys`` (MW), float64 (n,). Returns
    (welfare in yuan, the balance row's dual price in yuan/MWh); NaN dual for an empty book.
    """
    n = len(sides)
    if n == 0:
        return 0.0, float("nan")
    h, highspy = _solver()
    # HiGHS minimises: cost = sell price for sells, -buy price for buys.
    cost = np.where(sides > 0, prices, -prices).astype(np.float64)
    empty_i = np.array([], dtype=np.int32)
    h.addCols(n, cost, np.zeros(n), np.asarray(qtys, dtype=np.float64), 0, empty_i, empty_i,
              np.array([]))
    h.addRow(0.0, 0.0, n, np.arange(n, dtype=np.int32), np.where(sides > 0, 1.0, -1.0))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS did not solve the auction: {h.getModelStatus()}")
    return -h.getInfo().objective_function_value, abs(h.getSolution().row_dual[0])


def lp_capacity(prices: Sequence[float] | np.ndarray, mw: Sequence[float] | np.ndarray,
                curve: Sequence[tuple[float, float]], steps: int = 64
                ) -> tuple[float, float, float]:
    """Sloped-demand capacity clearing: maximise the area under the demand curve minus the offer
    cost, as an LP on the curve cut into steps.

    Variables: offers x_i in [0, mw_i]; demand steps d_k: the flat piece left of the first
    point (at its price), and each segment of length L > 0 cut into ``steps`` steps of
    L / steps, each worth the curve's average over it (so a full step is exact). Balance:
    Σ x = Σ d. Units: yuan/kW·yr and MW; ``curve`` is (MW, price) points, decreasing in price.
    Returns (welfare in MW × yuan/kW·yr, cleared MW, bound), where ``bound`` =
    max L × price drop / (8 steps²) bounds the error of the steps: only the one partly taken
    step is off, by at most that. (A QP with the exact quadratic worth is the direct form, but
    HiGHS's QP solver returned kSolveError on some small degenerate cases.)
    """
    widths: list[float] = []
    values: list[float] = []
    bound = 0.0
    if curve[0][0] > 0:
        widths.append(curve[0][0])
        values.append(curve[0][1])
    for (qa, pa), (qb, pb) in zip(curve, curve[1:], strict=False):
        if qb > qa:
            edges = np.linspace(pa, pb, steps + 1)
            widths += [(qb - qa) / steps] * steps
            values += list((edges[:-1] + edges[1:]) / 2)
            bound = max(bound, (qb - qa) * (pa - pb) / (8 * steps**2))
    n, m = len(prices), len(widths)
    if n == 0 or m == 0:
        return 0.0, 0.0, 0.0
    h, highspy = _solver()
    cost = np.concatenate([np.asarray(prices, float), -np.asarray(values)])
    upper = np.concatenate([np.asarray(mw, float), np.asarray(widths)])
    empty_i = np.array([], dtype=np.int32)
    h.addCols(n + m, cost, np.zeros(n + m), upper, 0, empty_i, empty_i, np.array([]))
    h.addRow(0.0, 0.0, n + m, np.arange(n + m, dtype=np.int32),
             np.concatenate([np.ones(n), -np.ones(m)]))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS did not solve the capacity auction: {h.getModelStatus()}")
    x = np.asarray(h.getSolution().col_value)
    return -h.getInfo().objective_function_value, float(x[:n].sum()), bound
