"""Errors of the clearing core. All are ``ValueError`` subclasses with actionable messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrderProblem:
    """One thing wrong with one order (or with the book as a whole when ``row`` is None).

    ``row`` is the 0-based position in the input arrays; ``line`` the 1-based line of the file
    when the book came from a file.
    """

    row: int | None
    reason: str
    line: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(self.source)
        if self.line is not None:
            where.append(f"line {self.line}")
        elif self.row is not None:
            where.append(f"order {self.row}")
        prefix = " ".join(where)
        return f"{prefix}: {self.reason}" if prefix else self.reason


class OrderBookError(ValueError):
    """An order book was refused; ``problems`` lists every reason at once."""

    def __init__(self, problems: list[OrderProblem]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        n = len(self.problems)
        super().__init__(f"order book refused, {n} problem{'s' * (n != 1)}:\n{shown}{tail}")


class ClearingInputError(ValueError):
    """A clearing call got arguments it cannot use (unknown rule, cap below floor, ...)."""
