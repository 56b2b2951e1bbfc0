"""Coal capacity compensation: calls and failures, monthly payments, deductions, the offset
against capacity payments, funding and postings.

Entry points: :func:`call_records` (by ``compensation.failure_basis``),
:func:`settle_compensation` (count, compensate, fund and post months), and the parts it uses,
:func:`compensate_year` and :func:`fund_compensation`.

>>> from market.rules import load_preset
>>> deduction_fractions([1, 2, 3, 4], load_preset("mengxi").compensation).tolist()
[0.0, 0.1, 0.5, 1.0]
"""

from market.compensation.calls import FAILURE_BASES, Calls, call_records
from market.compensation.funding import (
    Funding,
    fund_compensation,
    post_compensation_year,
    settle_compensation,
)
from market.compensation.scheme import (
    CompensationYear,
    compensate_year,
    count_failures,
    deduction_fractions,
    eligible_units,
    month_periods,
)

__all__ = ["FAILURE_BASES", "Calls", "CompensationYear", "Funding", "call_records",
           "compensate_year", "count_failures", "deduction_fractions", "eligible_units",
           "fund_compensation", "month_periods", "post_compensation_year",
           "settle_compensation"]
