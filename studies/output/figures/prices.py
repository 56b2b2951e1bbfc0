"""Energy prices: the duration curve, the daily and seasonal shape, the histogram, and the
merit order of one hour (prices in yuan/MWh)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from studies.output.figures.canvas import (
    COLORS,
    HOURS_PER_DAY,
    column,
    empty,
    figure,
    hour_axis,
    hour_of_day,
    mean_by,
    month_axis,
    month_index,
    share,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The duration curve's main panel shows prices up to this percentile; the tail panel the
#: hours above it.
BODY_PERCENTILE = 99.0
PRICE = "price, yuan/MWh"
#: The bid columns :func:`merit_order` reads.
MERIT_ORDER_COLUMNS = ("hour", "side", "price_yuan_per_mwh", "quantity_mw", "accepted_mw")


def price_duration(hourly: Mapping[str, Any]) -> Figure:
    """Hourly prices (yuan/MWh) sorted from highest to lowest against hours of the year: the
    whole year with the price axis up to the 99th percentile (left; the line holds every
    hour), and the top 1 % of hours at full scale (right)."""
    fig, (body, tail) = figure("Price duration curve", 2, (3.0, 1.0))
    price = np.sort(column(hourly, "price_yuan_per_mwh"))[::-1]
    hours = np.arange(1, price.size + 1)
    body.plot(hours, price, color=COLORS["price"], lw=1.5)
    stress = int(np.count_nonzero(hourly["stress"])) if "stress" in hourly else 0
    body.axvspan(0.5, stress + 0.5, color=COLORS["stress"], alpha=0.3, lw=0,
                 label=f"as many hours as stress hours ({stress})")
    body.set_xlabel("hours at or above the price")
    body.set_ylabel(PRICE)
    body.set_xlim(0, max(price.size, 1))
    n_tail = max(1, math.ceil(price.size * (100.0 - BODY_PERCENTILE) / 100.0))
    if price.size:
        top = float(np.percentile(price, BODY_PERCENTILE))
        low = float(price[-1])
        if float(price[0]) > top > low:
            pad = 0.05 * (top - low)
            body.set_ylim(low - pad, top + pad)
            body.set_title(f"whole year, axis up to the {BODY_PERCENTILE:.0f}th percentile "
                           f"({top:,.0f})", fontsize=10)
        else:
            body.set_title("whole year", fontsize=10)
        tail.plot(hours[:n_tail], price[:n_tail], color=COLORS["price"], lw=1.5,
                  marker="." if n_tail <= 100 else None)
    tail.set_title(f"the {n_tail} highest hours, full scale", fontsize=10)
    tail.set_xlabel("hours at or above the price")
    body.legend(loc="upper right")
    return fig


def price_profile(hourly: Mapping[str, Any]) -> Figure:
    """Mean price (yuan/MWh) by hour of the day with the 10th-90th percentile band (left) and
    by month, simple and load-weighted (right)."""
    fig, (day, year) = figure("Average energy price by hour of the day and by month", 2)
    price = column(hourly, "price_yuan_per_mwh")
    if price.size == 0:
        empty(day, "no hours")
        empty(year, "no hours")
        return fig
    hod = hour_of_day(hourly)
    day.plot(np.arange(HOURS_PER_DAY), mean_by(hod, price, HOURS_PER_DAY), color=COLORS["price"],
             lw=2, marker="o", ms=3, label="mean")
    if price.size % HOURS_PER_DAY == 0 and int(hod[0]) == 0:
        days = price.reshape(-1, HOURS_PER_DAY)
        lo, hi = np.percentile(days, [10.0, 90.0], axis=0)
        day.fill_between(np.arange(HOURS_PER_DAY), lo, hi, color=COLORS["price"], alpha=0.15,
                         lw=0, label="10th-90th percentile")
    hour_axis(day)
    day.set_ylabel(PRICE)
    day.legend(loc="upper left", fontsize=9)
    month = month_index(hourly)
    load = column(hourly, "load_mw", price.size)
    weighted = share(np.bincount(month, weights=price * load, minlength=12)[:12],
                     np.bincount(month, weights=load, minlength=12)[:12])
    year.bar(np.arange(12), mean_by(month, price, 12), 0.7, color="#fc8d59",
             label="simple mean")
    year.plot(np.arange(12), weighted, ls="none", marker="_", ms=18, mew=2.5, color="black",
              label="load-weighted")
    month_axis(year)
    year.set_ylabel(PRICE)
    year.legend(loc="lower right", fontsize=9)
    return fig


def price_histogram(hourly: Mapping[str, Any]) -> Figure:
    """Hours of the year by price (yuan/MWh), counts on a log axis so the few hours at the cap
    show beside the many in the body; mean and median marked."""
    fig, (ax,) = figure("How many hours at each price")
    price = column(hourly, "price_yuan_per_mwh")
    if price.size == 0:
        empty(ax, "no hours")
        return fig
    counts, edges = np.histogram(price, bins=60)
    ax.stairs(counts, edges, fill=True, color="#fc8d59", alpha=0.8)
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.8)
    ax.axvline(float(price.mean()), color="black", lw=1.5,
               label=f"mean {float(price.mean()):,.1f}")
    ax.axvline(float(np.median(price)), color="black", lw=1.5, ls="--",
               label=f"median {float(np.median(price)):,.1f}")
    ax.set_xlabel(PRICE)
    ax.set_ylabel("hours (log scale)")
    ax.legend(loc="upper right")
    return fig


def merit_order_hour(hourly: Mapping[str, Any], bids: Mapping[str, Any] | None
                     ) -> dict[str, Any] | None:
    """The bid rows of the peak-load hour for :func:`merit_order` (a small dict the plot
    workers can be sent instead of every bid of the year); ``None`` without bids."""
    load = column(hourly, "load_mw")
    if not bids or any(k not in bids for k in MERIT_ORDER_COLUMNS) or load.size == 0:
        return None
    row = int(np.argmax(load))
    hour = int(np.asarray(hourly["hour"])[row])
    rows = np.flatnonzero(np.asarray(bids["hour"]) == hour)
    return {"hour": hour, "load_mw": float(load[row]),
            "clearing_price_yuan_per_mwh": float(column(hourly, "price_yuan_per_mwh")[row]),
            **{k: np.asarray(bids[k])[rows]
               for k in MERIT_ORDER_COLUMNS[1:]}}


def _steps(price: np.ndarray, mw: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-price if descending else price, kind="stable")
    return price[order], np.concatenate([[0.0], np.cumsum(mw[order])])


def merit_order(hour: Mapping[str, Any] | None) -> Figure:
    """The energy offers (supply, by price up) and bids (demand, by price down) of the
    peak-load hour as staircases of price (yuan/MWh) against MW, the clearing price and the
    accepted supply."""
    if hour is None:
        fig, (ax,) = figure("Merit order")
        empty(ax, "no bids in the result")
        return fig
    fig, (ax,) = figure(f"Merit order of the peak-load hour (hour {hour['hour']}, "
                        f"load {hour['load_mw']:,.0f} MW)")
    side = np.asarray(hour["side"])
    price = np.asarray(hour["price_yuan_per_mwh"], dtype=np.float64)
    mw = np.asarray(hour["quantity_mw"], dtype=np.float64)
    sell, buy = side > 0, side < 0
    if sell.any():
        values, edges = _steps(price[sell], mw[sell], descending=False)
        ax.stairs(values, edges, baseline=None, color=COLORS["wind"], lw=2,
                  label="offers (supply)")
    if buy.any():
        values, edges = _steps(price[buy], mw[buy], descending=True)
        ax.stairs(values, edges, baseline=None, color=COLORS["load"], lw=2,
                  label="bids (demand and exports)")
    clearing = float(hour["clearing_price_yuan_per_mwh"])
    accepted = float(np.asarray(hour["accepted_mw"], dtype=np.float64)[sell].sum())
    ax.axhline(clearing, color="black", lw=0.8, ls=":")
    ax.axvline(accepted, color="black", lw=0.8, ls=":")
    ax.plot([accepted], [clearing], marker="*", ms=16, color="black", ls="none",
            label=f"cleared {accepted:,.0f} MW at {clearing:,.2f} yuan/MWh")
    ax.set_xlabel("MW")
    ax.set_ylabel(PRICE)
    ax.set_xlim(left=0)
    ax.legend(loc="center right")
    return fig
