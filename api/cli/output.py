"""What the ``mengxi`` commands print, and where they write.

Money: every sum of money a command prints is in **million yuan** (10^6 yuan), with thousands
separators and two decimals (``12,345.68 million yuan``); a sum below 0.01 million that is not
zero keeps two significant digits (``0.0049``), so it never prints as 0.00. The unit is written
beside the value, or once in a caption when a table's rows carry different units. Prices and
rates keep their own units (yuan/MWh, yuan/kW-yr); the files the commands write keep yuan.

Tables fit the terminal (80 columns and up) without breaking a number across lines: every
column of numbers is ``no_wrap``; only the name column, and an interval column between its two
bounds, may wrap.

**The output folder** (:func:`check_out`). Every ``mengxi`` command that takes ``--out``
(``simulate``, ``compare``, ``sweep``, ``calibrate``, ``pathway``, ``learn``) calls
:func:`check_out` first, so a run of minutes is never thrown away at the end because its
folder cannot be written, and files of an earlier run are never mixed with a new one's unless
asked for. Refused, with one line and exit status 2:

* an ``--out`` that is a file, or lies under a file;
* an ``--out`` folder that already holds something, unless ``--force`` is given (then the
  command writes into it, replacing files of the same names and leaving the others).

A missing or empty folder is always accepted. A command's own default folder
(``out/<scenario>-seed<S>``) is checked for the first rule only: it is rewritten by each run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from studies.output.figures.canvas import MONEY_DIVISOR, MONEY_UNIT

# The unit of every sum of money the CLI prints is the report's (MONEY_UNIT, yuan per one of
# it MONEY_DIVISOR): one convention across the CLI, the report and its plots.

#: A value that is not defined (no seed where both rule sets have it, no capacity market).
NONE = "\u2014"


def million_yuan(yuan: float) -> str:
    """``yuan`` as a number of million yuan, without the unit (see the module docstring)."""
    m = yuan / MONEY_DIVISOR
    if m != 0 and abs(m) < 0.01:
        return f"{m:.2g}"
    return f"{m:,.2f}"


def money(yuan: float | None) -> str:
    """A sum of money with its unit: ``1,234.57 million yuan``; a dash for None or NaN."""
    if yuan is None or not math.isfinite(yuan):
        return NONE
    return f"{million_yuan(yuan)} {MONEY_UNIT}"


def is_money(path: str) -> bool:
    """Whether a summary figure (a dotted path) is a sum of money in yuan: some part of the
    path ends in ``_yuan`` (``consumer_cost_yuan.total``, ``compensation.paid_yuan``), not a
    price such as ``avg_price_yuan_per_mwh``."""
    return any(part.endswith("_yuan") for part in path.split("."))


def number(value: float | None) -> str:
    """A plain figure as the report writes it (:func:`studies.output.report.format_value`:
    thousands separators, whole from 1,000 up, two decimals from 1 up), three significant
    digits below 1, a dash for None or NaN."""
    from studies.output.report import format_value

    if value is None or not math.isfinite(value):
        return NONE
    return format_value(value, small_digits=3)


def figure(path: str, value: float | None) -> str:
    """The value of the summary figure ``path``: sums of money in million yuan (without the
    unit), anything else as :func:`number`."""
    if value is None or not math.isfinite(value):
        return NONE
    return million_yuan(value) if is_money(path) else number(value)


def interval(path: str, low: float | None, high: float | None) -> str:
    """``[low, high]`` in the units of :func:`figure`; a dash when either end is undefined."""
    if low is None or high is None:
        return NONE
    return f"[{figure(path, low)}, {figure(path, high)}]"


def money_caption(paths: Sequence[str]) -> str:
    """The caption line that names the unit of the money rows, or "" when there are none."""
    if not any(is_money(p) for p in paths):
        return ""
    return f"sums of money (figures ending _yuan) in {MONEY_UNIT}"


def figures_table(title: str, names: Sequence[str], numbers: Sequence[str],
                  interval_column: str | None = None, caption: str = "") -> Table:
    """A table whose first columns (``names``) hold text that may wrap and whose other
    columns (``numbers``) hold one number each and never wrap; ``interval_column``, one of
    ``numbers``, holds ``[low, high]`` and may wrap between the two bounds."""
    table = Table(title=title or None, title_justify="left", caption=caption or None,
                  caption_justify="left")
    for name in names:
        table.add_column(name, overflow="fold")
    for name in numbers:
        wraps = name == interval_column
        table.add_column(name, justify="right", no_wrap=not wraps,
                         overflow="fold" if wraps else "ellipsis")
    return table


EXIT_REFUSED = 2
"""The exit status of every ``mengxi`` command that refuses its input."""


def refuse(why: str) -> NoReturn:
    """Refuse the command's input: ``refused: <why>`` as one line on stderr, exit status
    :data:`EXIT_REFUSED`."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"refused: {why}", markup=False)
    raise typer.Exit(EXIT_REFUSED)

#: The ``--force`` option of every command with ``--out``.
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Write into an --out folder that already holds files (files of the same "
                    "names are replaced).")]


def out_problem(out: Path, force: bool, *, explicit: bool = True) -> str | None:
    """Why ``out`` cannot be the output folder (see the module docstring), or None.

    ``explicit`` is False for a command's default folder, which is not refused for holding
    files."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; give a folder"
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"--out {out} lies under {parent}, which is a file"
            break
    if explicit and not force and out.is_dir() and any(out.iterdir()):
        return f"--out {out} is not empty; pass --force to write into it"
    return None


def check_out(out: Path | None, force: bool, *, explicit: bool = True) -> None:
    """Refuse an unusable output folder: print ``refused: <why>`` as one line on stderr and
    exit with status 2. Does nothing for ``None`` (no folder asked for)."""
    if out is None:
        return
    problem = out_problem(out, force, explicit=explicit)
    if problem is not None:
        refuse(problem)


def parse_strategies(items: Sequence[str] | None, flag: str = "--strategy") -> dict[str, str]:
    """``KEY=NAME`` items (owner, technology or role KEY plays strategy NAME) as a dict.
    Raises ValueError naming ``flag`` and the item for anything else."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{flag} must be KEY=NAME (e.g. genco-1=markup), got {item!r}")
        out[key.strip()] = value.strip()
    return out
