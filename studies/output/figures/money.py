"""Money: what consumers paid by component, and what producers earned against their costs, by
technology. Totals in :data:`~studies.output.figures.canvas.MONEY_UNIT`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from studies.output.figures.canvas import (
    COMPONENT_COLORS,
    MONEY_DIVISOR,
    MONEY_UNIT,
    column,
    empty,
    figure,
    sum_by_technology,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Consumer cost components in the order they are drawn (``total`` is the sum, drawn apart).
COST_COMPONENTS = ("energy", "capacity", "compensation", "green", "storage_compensation")

#: A unit's revenue by component: the units-table columns added (+1) or taken (-1) for each.
REVENUE_COMPONENTS: dict[str, tuple[tuple[str, int], ...]] = {
    "energy": (("energy_revenue_yuan", 1),),
    "capacity": (("capacity_revenue_yuan", 1),),
    "performance": (("performance_bonus_yuan", 1), ("performance_penalty_yuan", -1)),
    "compensation": (("compensation_yuan", 1),),
    "green": (("green_revenue_yuan", 1),),
    "storage_compensation": (("storage_compensation_yuan", 1),),
    "funding charge": (("funding_charge_yuan", -1),),
    "variable cost": (("variable_cost_yuan", -1),),
}


def _cost_names(costs: Mapping[str, Any]) -> list[str]:
    return [c for c in COST_COMPONENTS if c in costs] + sorted(
        c for c in costs if c not in COST_COMPONENTS and c != "total")


def consumer_cost(summary: Mapping[str, Any]) -> Figure:
    """Consumers' cost of the year by component: yuan per MWh served (left, the total in the
    panel's title) and the year's total in million yuan (right)."""
    per_mwh = summary.get("consumer_cost_yuan_per_mwh") or {}
    costs = summary.get("consumer_cost_yuan") or {}
    fig, (left, right) = figure("Consumer cost by component: per MWh served and for the year",
                                2, bottom=0.14)
    for ax, table, unit, decimals, divisor in (
            (left, per_mwh, "yuan/MWh served", 2, 1.0),
            (right, costs, MONEY_UNIT, 1, MONEY_DIVISOR)):
        names = _cost_names(table)
        if not names:
            empty(ax, "not in the summary")
            continue
        values = np.array([float(table[c] or 0.0) for c in names]) / divisor
        bars = ax.bar([c.replace("_", "\n") for c in names], values,
                      color=[COMPONENT_COLORS.get(c, "#999999") for c in names])
        ax.bar_label(bars, fmt=f"{{:,.{decimals}f}}", fontsize=9)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel(unit)
        ax.tick_params(axis="x", labelsize=8)
        if table.get("total") is not None:
            ax.set_title(f"total {float(table['total']) / divisor:,.{decimals}f} {unit}",
                         fontsize=10)
    return fig


def revenue_components(units: Mapping[str, Any], rows: np.ndarray | None = None
                       ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(technologies, revenue by component per technology, fixed cost per technology) in
    yuan, over the units ``rows`` (a boolean mask; default all). Components are
    :data:`REVENUE_COMPONENTS`, variable cost among them as a negative amount."""
    sub = units if rows is None else {k: np.asarray(v)[rows] for k, v in units.items()}
    names, fixed = sum_by_technology(sub, "fixed_cost_yuan")
    parts: dict[str, np.ndarray] = {}
    for label, cols in REVENUE_COMPONENTS.items():
        total = np.zeros(names.size)
        for col, sign in cols:
            total += sign * sum_by_technology(sub, col)[1]
        parts[label] = total
    return names, parts, fixed


def stack_revenue(ax: Any, names: list[str], parts: Mapping[str, np.ndarray],
                  fixed: np.ndarray) -> None:
    """Revenue components as bars stacked up (positive) and down (negative) from zero, the net
    (revenue less variable cost) as a diamond and the fixed cost as a bar, in million yuan."""
    x = np.arange(len(names))
    up, down = np.zeros(len(names)), np.zeros(len(names))
    for label, values in parts.items():
        v = values / MONEY_DIVISOR
        if not np.any(np.abs(v) > 0):
            continue
        base = np.where(v >= 0, up, down)
        ax.bar(x - 0.18, v, 0.36, bottom=base, label=label,
               color=COMPONENT_COLORS.get(label, "#999999"))
        up += np.maximum(v, 0.0)
        down += np.minimum(v, 0.0)
    ax.bar(x + 0.18, fixed / MONEY_DIVISOR, 0.36, color="none", edgecolor="black", hatch="//",
           label="fixed cost")
    net = sum(parts.values(), np.zeros(len(names))) / MONEY_DIVISOR
    ax.plot(x - 0.18, net, ls="none", marker="D", ms=7, color="black",
            label="revenue less variable cost")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, names)
    ax.set_ylabel(MONEY_UNIT)


def revenue_stack(units: Mapping[str, Any]) -> Figure:
    """Revenue by component per technology (million yuan; variable cost below zero) beside
    its fixed cost: a technology recovers its fixed cost where the diamond reaches the top of
    the hatched bar."""
    fig, (ax,) = figure("Revenue stack against fixed cost, by technology", bottom=0.16)
    names, parts, fixed = revenue_components(units)
    if names.size == 0:
        empty(ax, "no units")
        return fig
    stack_revenue(ax, names.tolist(), parts, fixed)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.3 * (high - low))  # room for the legend
    ax.tick_params(axis="x", labelrotation=15)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    return fig


def profit_by_technology(units: Mapping[str, Any]) -> Figure:
    """Producers' profit of the year summed by technology (million yuan), with the
    capacity-weighted fixed-cost recovery of each technology above its bar."""
    names, by_tech = sum_by_technology(units, "profit_yuan")
    fig, (ax,) = figure("Profit by technology (label: fixed-cost recovery)", bottom=0.16)
    if names.size == 0:
        empty(ax, "no units")
        return fig
    bars = ax.bar(names.tolist(), by_tech / MONEY_DIVISOR,
                  color=np.where(by_tech >= 0, "#1a9850", "#d7191c").tolist())
    if "fixed_cost_recovery" in units and "nameplate_mw" in units:
        tech = np.asarray(units["technology"]).astype(str)
        codes = np.searchsorted(names, tech)
        recovery = column(units, "fixed_cost_recovery")
        weight = column(units, "nameplate_mw")
        ok = np.isfinite(recovery)
        num = np.bincount(codes[ok], weights=(recovery * weight)[ok], minlength=names.size)
        den = np.bincount(codes[ok], weights=weight[ok], minlength=names.size)
        labels = [f"{n / d:.2f}" if d > 0 else "-" for n, d in zip(num, den, strict=True)]
        ax.bar_label(bars, labels=labels, fontsize=9)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(MONEY_UNIT)
    ax.tick_params(axis="x", labelrotation=15)
    return fig
