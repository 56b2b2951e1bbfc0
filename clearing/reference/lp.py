"""The uniform auction as a linear program solved by HiGHS, for cross-checks."""

from __future__ import annotations

import highspy
import numpy as np


def lp_welfare(sides: np.ndarray, prices: np.ndarray, qtys: np.ndarray) -> tuple[float, float]:
    """Maximise sum(buy price x) - sum(sell price x) s.t. sum(sell x) = sum(buy x), 0<=x<=q.

    Returns (welfare, dual price of the balance row) in the units of the inputs.
    """
    n = len(sides)
    if n == 0:
        return 0.0, float("nan")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # HiGHS minimises: cost = sell price for sells, -buy price for buys.
    cost = np.where(sides > 0, prices, -prices).astype(np.float64)
    h.addCols(n, cost, np.zeros(n), qtys.astype(np.float64), 0,
              np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([]))
    coef = np.where(sides > 0, 1.0, -1.0)
    h.addRow(0.0, 0.0, n, np.arange(n, dtype=np.int32), coef)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    welfare = -h.getInfo().objective_function_value
    dual = h.getSolution().row_dual[0]
    return welfare, abs(dual)
