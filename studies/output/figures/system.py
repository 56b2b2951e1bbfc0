"""The physical year: dispatch, renewable share and curtailment, storage, reliability and
emissions (MW, MWh; GWh and kt where a month's sum is shown)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from studies.output.figures.canvas import (
    COLORS,
    HOURS_PER_DAY,
    by_hour_of_day,
    by_month,
    column,
    empty,
    figure,
    hour_axis,
    month_axis,
    share,
    typical_week,
)
from studies.output.figures.money import revenue_components, stack_revenue

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MWH_PER_GWH = 1e3
T_PER_KT = 1e3


def dispatch_week(hourly: Mapping[str, Any]) -> Figure:
    """MW by technology, stacked, over a typical week; storage charging below zero; the load
    and the load plus exports as lines."""
    span = typical_week(hourly["load_mw"])
    first = int(np.asarray(hourly["hour"])[span][0]) if span.stop > span.start else 0
    fig, (ax,) = figure(f"Dispatch by technology, typical week (from hour {first})")
    x = np.arange(span.stop - span.start)

    def col(name: str) -> np.ndarray:
        return column(hourly, name)[span]

    ax.stackplot(x, col("coal_mw"), col("wind_mw"), col("solar_mw"),
                 col("storage_discharge_mw"),
                 labels=["coal", "wind", "solar", "storage discharge"],
                 colors=[COLORS["coal"], COLORS["wind"], COLORS["solar"], COLORS["storage"]])
    ax.fill_between(x, -col("storage_charge_mw"), 0, color=COLORS["storage"], alpha=0.4,
                    label="storage charge")
    ax.plot(x, col("load_mw"), color=COLORS["load"], lw=1.5, label="load")
    ax.plot(x, col("load_mw") + col("export_mw"), color=COLORS["export"], lw=1.2, ls="--",
            label="load + export")
    top = float(np.max(col("load_mw") + col("export_mw"), initial=0.0))
    stacked = col("coal_mw") + col("wind_mw") + col("solar_mw") + col("storage_discharge_mw")
    top = max(top, float(np.max(stacked, initial=0.0)))
    if top > 0:
        ax.set_ylim(top=top * 1.25)  # room for the legend above the curves
    ax.set_xlabel("hour of the week")
    ax.set_ylabel("MW")
    ax.set_xlim(0, max(x.size - 1, 1))
    ax.legend(loc="upper left", ncol=4, fontsize=9)
    return fig


def renewable_share(hourly: Mapping[str, Any]) -> Figure:
    """Wind and solar as shares of generation (coal, wind and solar; storage excluded, as in
    the summary's ``renewable_share``) by month, stacked, with the year's share as a line."""
    fig, (ax,) = figure("Renewable share of generation by month")
    wind, solar = by_month(hourly, column(hourly, "wind_mw")), by_month(
        hourly, column(hourly, "solar_mw"))
    gen = wind + solar + by_month(hourly, column(hourly, "coal_mw"))
    if not np.any(gen > 0):
        empty(ax, "no generation")
        return fig
    x = np.arange(12)
    wind_share, solar_share = share(wind, gen) * 100.0, share(solar, gen) * 100.0
    ax.bar(x, wind_share, 0.7, color=COLORS["wind"], label="wind")
    ax.bar(x, solar_share, 0.7, bottom=wind_share, color=COLORS["solar"], label="solar")
    year = 100.0 * float((wind.sum() + solar.sum()) / gen.sum())
    ax.axhline(year, color="black", lw=1.2, ls="--", label=f"year {year:.1f} %")
    month_axis(ax)
    ax.set_ylabel("% of generation")
    ax.set_ylim(0, max(100.0, float(np.nanmax(wind_share + solar_share)) * 1.1))
    ax.legend(loc="upper right")
    return fig


def curtailment(hourly: Mapping[str, Any]) -> Figure:
    """Wind and solar curtailed: GWh by month with the share of what was available (left),
    and mean MW by hour of the day (right)."""
    fig, (month, day) = figure("Renewable curtailment", 2, wspace=0.32)
    curtailed = column(hourly, "curtailed_mw")
    if curtailed.size == 0:
        empty(month, "no curtailment column")
        empty(day, "no curtailment column")
        return fig
    available = column(hourly, "wind_available_mw", curtailed.size) + column(
        hourly, "solar_available_mw", curtailed.size)
    gwh = by_month(hourly, curtailed) / MWH_PER_GWH
    month.bar(np.arange(12), gwh, 0.7, color=COLORS["wind"], label="curtailed, GWh")
    month_axis(month)
    month.set_ylabel("GWh")
    month.set_title(f"by month ({float(gwh.sum()):,.1f} GWh in the year)", fontsize=10)
    rate = month.twinx()
    rate.plot(np.arange(12), 100.0 * share(by_month(hourly, curtailed),
                                           by_month(hourly, available)),
              color="black", marker="o", ms=4, label="% of available wind and solar")
    rate.set_ylabel("% of available")
    rate.set_ylim(bottom=0)
    handles = month.get_legend_handles_labels()
    more = rate.get_legend_handles_labels()
    month.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=9)
    days = max(1.0, curtailed.size / HOURS_PER_DAY)
    day.bar(np.arange(HOURS_PER_DAY), by_hour_of_day(hourly, curtailed) / days, 0.8,
            color=COLORS["solar"])
    hour_axis(day)
    day.set_ylabel("mean MW curtailed")
    day.set_title("by hour of the day", fontsize=10)
    return fig


def storage(hourly: Mapping[str, Any], units: Mapping[str, Any]) -> Figure:
    """Storage over the typical week: charge below zero, discharge above (MW) and the fleet's
    state of charge (MWh, the hourly table's ``storage_soc_mwh``; for a result without it,
    approximated by cumulative charge x the year's discharge/charge ratio less discharge, from
    the week's lowest level); and the storage units' revenue stack against their fixed cost
    (million yuan)."""
    fig, (week, money) = figure("Storage: a typical week and its revenue stack", 2, (1.8, 1.0),
                                wspace=0.5, right=0.8)
    charge, discharge = column(hourly, "storage_charge_mw"), column(
        hourly, "storage_discharge_mw")
    if charge.size == 0 or not np.any(charge + discharge > 0):
        empty(week, "no storage dispatch")
    else:
        ratio = float(discharge.sum() / charge.sum()) if charge.sum() > 0 else 1.0
        span = typical_week(hourly["load_mw"])
        x = np.arange(span.stop - span.start)
        stored = column(hourly, "storage_soc_mwh")
        exact = stored.size == charge.size
        if exact:  # the year's own state of charge, end of each hour
            level = stored[span]
        else:  # an older result without the column: cumulative charge, scaled
            level = np.cumsum(charge[span] * ratio - discharge[span])
            level = level - float(level.min(initial=0.0))
        edges = np.arange(x.size + 1) - 0.5
        week.stairs(discharge[span], edges, fill=True, color=COLORS["storage"],
                    label="discharge, MW")
        week.stairs(-charge[span], edges, fill=True, color=COLORS["storage"], alpha=0.4,
                    label="charge, MW")
        week.set_xlabel("hour of the typical week")
        week.set_ylabel("MW")
        soc = week.twinx()
        soc.plot(x, level, color="black", lw=1.5,
                 label="state of charge" if exact
                 else f"state of charge (approx., round trip {ratio:.2f})")
        soc.set_ylabel("MWh stored" if exact else "MWh stored (approx.)")
        soc.set_ylim(bottom=0)
        handles, more = week.get_legend_handles_labels(), soc.get_legend_handles_labels()
        week.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
    tech = np.asarray(units.get("technology", np.zeros(0, dtype=str))).astype(str)
    rows = tech == "storage"
    if not rows.any():
        empty(money, "no storage units")
        return fig
    names, parts, fixed = revenue_components(units, rows)
    stack_revenue(money, names.tolist(), parts, fixed)
    money.set_ylabel("")
    money.set_title("revenue against fixed cost,\nmillion yuan", fontsize=10)
    money.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7)
    return fig


def reliability(hourly: Mapping[str, Any], summary: Mapping[str, Any],
                lost: np.ndarray | None = None) -> Figure:
    """Stress hours and hours with unserved load (``lost``, bool per hour; default
    ``unserved_mw > 0``) by month and by hour of the day; the year's LOLE (h) against the
    reliability standard, EUE (MWh) in the panel title."""
    fig, (month, day, lole) = figure("Reliability: stress hours, lost load and the standard",
                                     3, (1.6, 1.6, 0.8), wspace=0.3)
    n = column(hourly, "price_yuan_per_mwh").size
    stress = np.asarray(hourly.get("stress", np.zeros(n, dtype=bool)), dtype=np.float64)
    if lost is None:
        lost = column(hourly, "unserved_mw", n) > 0
    lost = np.asarray(lost, dtype=np.float64)
    for ax, sums in ((month, by_month), (day, by_hour_of_day)):
        a, b = sums(hourly, stress), sums(hourly, lost)
        x = np.arange(a.size)
        ax.bar(x - 0.2, a, 0.4, color=COLORS["stress"], label="stress hours")
        ax.bar(x + 0.2, b, 0.4, color=COLORS["load"], label="hours with unserved load")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("hours")
    month_axis(month, narrow=True)
    hour_axis(day)
    month.legend(loc="upper left", fontsize=8)
    rel = summary.get("reliability") or {}
    hours = rel.get("lole_hours")
    standard = rel.get("standard_lole_hours")
    if hours is None:
        empty(lole, "no reliability\nin the summary")
        return fig
    lole.bar(["LOLE"], [float(hours)], 0.5,
             color=COLORS["load"] if rel.get("meets_standard") is False else COLORS["green"])
    if standard is not None:
        lole.axhline(float(standard), color="black", lw=1.5, ls="--",
                     label=f"standard {float(standard):g} h")
        lole.legend(loc="upper right", fontsize=8)
    lole.set_ylabel("hours per year")
    eue = rel.get("eue_mwh")
    lole.set_title("EUE " + ("-" if eue is None else f"{float(eue):,.1f} MWh"), fontsize=10)
    return fig


def emissions(hourly: Mapping[str, Any]) -> Figure:
    """CO2 by month (kt) and its intensity (t per MWh of generation and storage discharge, as
    the summary's ``intensity_t_per_mwh``)."""
    fig, (ax,) = figure("CO2 emissions by month", right=0.91)
    co2 = by_month(hourly, column(hourly, "co2_t"))
    if not np.any(co2 > 0):
        empty(ax, "no emissions")
        return fig
    out = sum(by_month(hourly, column(hourly, c)) for c in
              ("coal_mw", "wind_mw", "solar_mw", "storage_discharge_mw"))
    ax.bar(np.arange(12), co2 / T_PER_KT, 0.7, color=COLORS["coal"], label="CO2, kt")
    month_axis(ax)
    ax.set_ylabel("kt CO2")
    rate = ax.twinx()
    rate.plot(np.arange(12), share(co2, np.asarray(out)), color=COLORS["load"], marker="o",
              ms=4, label="intensity, t/MWh")
    rate.set_ylabel("t CO2 per MWh")
    rate.set_ylim(bottom=0)
    handles, more = ax.get_legend_handles_labels(), rate.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="lower left", fontsize=9)
    return fig
