"""What every figure of the report shares: size, colours, the one money unit, empty panels,
and sums of hourly columns by month and by hour of day (``numpy.bincount``, no hour loops)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # matplotlib is imported when a figure is first drawn
    from matplotlib.figure import Figure

#: Figure size (inches) and resolution of every plot: 1000 x 500 pixels.
FIGSIZE = (10.0, 5.0)
DPI = 100

#: Money in the report and its figures: totals in million yuan (prices keep their own units,
#: yuan/MWh, yuan/kW·yr, yuan per certificate).
MONEY_DIVISOR = 1e6
MONEY_UNIT = "million yuan"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Days of each month of a 365-day year (the year's hour index starts at 1 January 00:00).
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
HOURS_PER_DAY = 24

COLORS = {"coal": "#4d4d4d", "wind": "#2b8cbe", "solar": "#fdae61", "storage": "#7b3294",
          "export": "#1a9850", "load": "#d7191c", "price": "#d7191c", "stress": "#fdae61",
          "green": "#1a9850", "grey": "#bdbdbd", "deducted": "#d7191c"}

#: Costs and revenues by component, in the order they are stacked, with their colours.
COMPONENT_COLORS = {"energy": "#2b8cbe", "capacity": "#7b3294", "compensation": "#4d4d4d",
                    "green": "#1a9850", "storage_compensation": "#c2a5cf",
                    "performance": "#fdae61", "funding charge": "#f4a582",
                    "variable cost": "#d7191c"}


#: Margins of the figures, in fractions of the figure (a fixed layout: matplotlib's
#: constrained layout measured every tick label and took 40 % of the drawing time).
MARGINS = {"left": 0.09, "right": 0.98, "bottom": 0.11, "top": 0.9, "wspace": 0.22}


def figure(title: str, ncols: int = 1, width_ratios: tuple[float, ...] | None = None,
           **margins: float) -> tuple[Figure, list[Any]]:
    """A figure of :data:`FIGSIZE` with ``ncols`` axes side by side, a grid on each, ``title``
    as the figure's title (one panel: the axes' title); ``margins`` override
    :data:`MARGINS` (e.g. ``right=0.92`` for a twin axis' label)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    gaps = {**MARGINS, **({"top": 0.86} if ncols > 1 else {}), **margins}
    axes = list(np.atleast_1d(fig.subplots(1, ncols, width_ratios=width_ratios,
                                           gridspec_kw=gaps)))
    for ax in axes:
        ax.grid(True, alpha=0.3)
    if ncols == 1:
        axes[0].set_title(title)
    else:
        fig.suptitle(title)
    return fig, axes


def _number(x: float, _pos: int | None = None) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"


def readable_numbers(fig: Figure) -> None:
    """Numeric tick labels of every axis with thousands separators and no offset or ``1e7``
    multiplier; axes of categories, fixed labels (months) and log scales keep theirs."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(FuncFormatter(_number))


def empty(ax: Any, message: str) -> None:
    """Say why a panel has nothing to draw."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=14,
            color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def column(table: Mapping[str, Any], name: str, n: int | None = None) -> np.ndarray:
    """``table[name]`` as float64; zeros of length ``n`` when the column is absent."""
    if name not in table:
        return np.zeros(0 if n is None else n)
    return np.asarray(table[name], dtype=np.float64)


def month_index(hourly: Mapping[str, Any]) -> np.ndarray:
    """Month of each hour, 0..11 (int64): the ``month`` column (1..12) when there is one, else
    from the hour index of a 365-day year."""
    if "month" in hourly:
        return np.asarray(hourly["month"], dtype=np.int64) - 1
    day = np.asarray(hourly["hour"], dtype=np.int64) // HOURS_PER_DAY
    return np.searchsorted(np.cumsum(_MONTH_DAYS), day % 365, side="right")


def hour_of_day(hourly: Mapping[str, Any]) -> np.ndarray:
    """Hour of the day of each hour, 0..23 (int64)."""
    return np.asarray(hourly["hour"], dtype=np.int64) % HOURS_PER_DAY


def by_month(hourly: Mapping[str, Any], values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` (one per hour) in each month, (12,) float64."""
    return np.bincount(month_index(hourly), weights=values, minlength=12)[:12]


def by_hour_of_day(hourly: Mapping[str, Any], values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` (one per hour) at each hour of the day, (24,) float64."""
    return np.bincount(hour_of_day(hourly), weights=values, minlength=HOURS_PER_DAY)


def mean_by(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Mean of ``values`` for each code 0..size-1 (NaN where a code has no hours)."""
    total = np.bincount(codes, weights=values, minlength=size)[:size]
    count = np.bincount(codes, minlength=size)[:size]
    return np.divide(total, count, out=np.full(size, np.nan), where=count > 0)


def share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` where ``whole`` > 0, NaN elsewhere."""
    return np.divide(part, whole, out=np.full(np.shape(part), np.nan), where=whole > 0)


def month_axis(ax: Any, narrow: bool = False) -> None:
    """Months as x tick labels (their initials on a ``narrow`` panel)."""
    ax.set_xticks(np.arange(12), [m[0] for m in MONTHS] if narrow else MONTHS)


def hour_axis(ax: Any) -> None:
    ax.set_xticks(np.arange(0, HOURS_PER_DAY, 3))
    ax.set_xlabel("hour of the day")
    ax.set_xlim(-0.6, HOURS_PER_DAY - 0.4)


def typical_week(load_mw: np.ndarray, hours_per_week: int = 168) -> slice:
    """Hours of the week (168 hours from a day boundary) whose mean load is closest to the
    median weekly mean load; the earliest such week on ties; every hour if under a week."""
    load = np.asarray(load_mw, dtype=np.float64)
    n_weeks = load.size // hours_per_week
    if n_weeks == 0:
        return slice(0, load.size)
    means = load[: n_weeks * hours_per_week].reshape(n_weeks, hours_per_week).mean(axis=1)
    week = int(np.argmin(np.abs(means - np.median(means))))
    return slice(week * hours_per_week, (week + 1) * hours_per_week)


def sum_by_technology(units: Mapping[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(technology names sorted, sum of the units' column ``name`` per technology); zeros for
    a column the table lacks."""
    tech = np.asarray(units["technology"]).astype(str)
    names, codes = np.unique(tech, return_inverse=True)
    values = column(units, name, tech.size)
    return names, np.bincount(codes.ravel(), weights=values, minlength=names.size)
