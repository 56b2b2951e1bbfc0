"""Rules of the capacity compensation of coal units that support renewable bases
(NDRC/NEA notice 1501 of 2023, and Guofa [2023] No. 16 item 17)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from market.rules.base import Flag, Fraction, NonNegative, RulesModel, num, pick, raise_problems
from market.rules.sections.capacity import drop_defaults


class Deduction(RulesModel):
    """One row of the deduction table: ``failures`` or more in a month lose ``fraction`` of
    that month's payment (the last row applies to any larger count)."""

    failures: Annotated[int, Field(strict=True, ge=1)]
    """Failures to deliver declared output on call, in one month."""
    fraction: Fraction
    """Share of the month's payment deducted."""


def _default_deductions() -> tuple[Deduction, ...]:
    return (
        Deduction(failures=2, fraction=0.10),
        Deduction(failures=3, fraction=0.50),
        Deduction(failures=4, fraction=1.00),
    )


class CompensationRules(RulesModel):
    """Monthly payment = fixed-cost standard x recovery ratio x declared maximum output / 12."""

    enabled: Flag = True
    """Whether the compensation is paid at all."""
    eligibility: Literal["supporting", "all_coal"] = "supporting"
    """Only coal registered as supporting a renewable base, or all coal (national 2024 scheme)."""
    fixed_cost_standard_yuan_per_kw_yr: NonNegative = 330.0
    """Fixed-cost standard of coal units, yuan/kW-yr [S]."""
    recovery_ratio: Fraction = 0.30
    """Share of the standard recovered (0.30 in 2024-25; at least 0.50 from 2026) [S]."""
    deductions: tuple[Deduction, ...] = Field(default_factory=_default_deductions)
    """Deduction table by monthly failures [R]."""
    full_losses_to_end_eligibility: Annotated[int, Field(strict=True, ge=1)] = 3
    """Months with a 100 % deduction in a year that end a unit's eligibility [R]."""
    funding: Literal["industrial_commercial_load", "supported_renewables"] = (
        "industrial_commercial_load"
    )
    """Who pays: industrial and commercial load by monthly MWh [R], or the supported renewables."""
    offset: Literal["capacity_payment", "none"] = "capacity_payment"
    """What a compensated unit's capacity-market payment does to its compensation [E] (the
    sandbox's reading of "no double payment"; 1501 does not say): ``capacity_payment`` -- the
    month's capacity payment replaces the compensation up to its gross, and only the rest,
    less the failure deduction, is paid (the unit gets max(capacity payment, compensation
    after deduction)); ``none`` -- paid in both markets, so deductions always move money.
    Rule files written before this key may say ``allow_double_payment = true`` (= ``none``)
    or ``false``."""
    failure_basis: Literal["daily_outage", "hourly_available"] = "daily_outage"
    """A call is a day a unit was dispatched (or offered in a stress hour), failed by an
    outage in a called hour; or every test-call and stress hour, failed when available MW is
    below the declared maximum [E]."""

    @model_validator(mode="before")
    @classmethod
    def _legacy_double_payment(cls, data: Any) -> Any:
        """Read the key ``offset`` replaced: ``allow_double_payment`` true is ``offset =
        "none"``; false keeps ``offset`` (the default offsets), unless it says ``"none"``."""
        if not isinstance(data, Mapping) or not isinstance(
                data.get("allow_double_payment"), bool):
            return data
        out = dict(data)
        if out.pop("allow_double_payment"):
            out["offset"] = "none"
        elif out.get("offset") == "none":
            raise_problems([("allow_double_payment", 'false contradicts offset = "none"; give '
                             "offset alone (allow_double_payment is its old name)")])
        return out

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        data = drop_defaults(self, handler(self), info, ("failure_basis",))
        if info.mode_is_json() and "offset" in data:
            # The JSON of a rule set (so its sha256, and a saved session's rules) says what it
            # said before ``offset`` replaced ``allow_double_payment``.
            data = {("allow_double_payment" if k == "offset" else k):
                    (v == "none" if k == "offset" else v) for k, v in data.items()}
        return data

    @property
    def allow_double_payment(self) -> bool:
        """True when compensation is paid on top of capacity payments (``offset = "none"``)."""
        return self.offset == "none"

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        rows = values.get("deductions")
        if not isinstance(rows, list | tuple):
            return problems
        for i in range(1, len(rows)):
            before_n, here_n = pick(rows, i - 1, "failures"), pick(rows, i, "failures")
            if isinstance(before_n, int) and isinstance(here_n, int) and here_n <= before_n:
                problems.append(
                    (
                        f"deductions[{i}].failures",
                        f"must be above the previous row's ({before_n}): failure counts "
                        "strictly increase down the table",
                    )
                )
            before_f = num(pick(rows, i - 1, "fraction"))
            here_f = num(pick(rows, i, "fraction"))
            if before_f is not None and here_f is not None and here_f < before_f:
                problems.append(
                    (
                        f"deductions[{i}].fraction",
                        f"must be at least the previous row's ({before_f:g}): more failures "
                        "never cost less",
                    )
                )
        return problems

    def monthly_payment_yuan_per_kw(self) -> float:
        """Undeducted payment per kW of declared maximum output per month, yuan/kW."""
        return self.fixed_cost_standard_yuan_per_kw_yr * self.recovery_ratio / 12.0

    def deduction_fraction(self, failures: int) -> float:
        """Share of a month's payment deducted for ``failures`` failures in that month."""
        fraction = 0.0
        for row in self.deductions:
            if failures >= row.failures:
                fraction = row.fraction
        return fraction
