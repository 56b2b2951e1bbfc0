"""The markets beside energy: the capacity auction, coal capacity compensation and green
certificates (capacity prices in yuan/kW·yr, money in million yuan, certificates in MWh)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from studies.output.figures.canvas import (
    COLORS,
    MONEY_DIVISOR,
    MONEY_UNIT,
    column,
    empty,
    figure,
    month_axis,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CAPACITY_PRICE = "price, yuan/kW·yr"
OFFER_CAP_KEY = "offer_cap_yuan_per_kw_yr"


def _technology_of(unit_ids: np.ndarray, units: Mapping[str, Any] | None) -> np.ndarray:
    """Technology of each unit id (``other`` for an id the units table lacks)."""
    ids = np.asarray(unit_ids).astype(str)
    if not units or "unit_id" not in units:
        return np.full(ids.size, "other")
    lookup = dict(zip(np.asarray(units["unit_id"]).astype(str).tolist(),
                      np.asarray(units["technology"]).astype(str).tolist(), strict=True))
    return np.array([lookup.get(u, "other") for u in ids.tolist()], dtype=str)


def _auction(ax: Any, capacity: Mapping[str, Any], terms: Mapping[str, Any]) -> None:
    offers = capacity["offers"]
    mw = np.asarray(offers["mw"], dtype=np.float64)
    price = np.asarray(offers["price_yuan_per_kw_yr"], dtype=np.float64)
    order = np.argsort(price, kind="stable")
    edges = np.concatenate([[0.0], np.cumsum(mw[order])])
    if mw.size:
        ax.stairs(price[order], edges, color=COLORS["wind"], lw=2, label="offers (supply)",
                  baseline=None)
    points = np.asarray(capacity.get("demand_points") or [], dtype=np.float64).reshape(-1, 2)
    right = float(edges[-1])
    if points.size:
        # Flat at the first point's price (the cap) from 0 MW, zero beyond the last point.
        right = max(float(points[-1, 0]), right) * 1.05
        dx = np.concatenate([[0.0], points[:, 0], [right]])
        dy = np.concatenate([[points[0, 1]], points[:, 1], [points[-1, 1]]])
        ax.plot(dx, dy, color=COLORS["load"], lw=2, label="demand curve")
        ax.plot(points[:, 0], points[:, 1], "o", color=COLORS["load"], ms=4)
    requirement = capacity.get("requirement_mw", terms.get("requirement_mw"))
    if requirement is not None:
        ax.axvline(float(requirement), color=COLORS["green"], lw=1.2, ls="--",
                   label=f"requirement {float(requirement):,.0f} MW")
    net_cone = terms.get("net_cone_yuan_per_kw_yr")
    if net_cone is not None:
        ax.axhline(float(net_cone), color=COLORS["storage"], lw=1.2, ls="-.",
                   label=f"Net CONE {float(net_cone):,.2f}")
    cleared = capacity.get("cleared_mw")
    cprice = capacity.get("price")
    if cleared is not None and cprice is not None:
        ax.plot([cleared], [cprice], marker="*", ms=16, color="black", ls="none",
                label=f"cleared {cleared:,.0f} MW at {cprice:,.2f} yuan/kW·yr")
        ax.axvline(cleared, color="black", lw=0.8, ls=":")
        ax.axhline(cprice, color="black", lw=0.8, ls=":")
    ax.set_xlabel("accredited capacity, MW")
    ax.set_ylabel(CAPACITY_PRICE)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    cap = capacity.get(OFFER_CAP_KEY, terms.get(OFFER_CAP_KEY))
    if cap is not None:
        # The cap is often far above every offer: a line when it fits, else a note.
        top = ax.get_ylim()[1]
        if float(cap) <= 1.5 * top:
            ax.axhline(float(cap), color="#555555", lw=1.2, ls="--",
                       label=f"offer cap {float(cap):,.0f}")
        else:
            ax.plot([], [], " ", label=f"offer cap {float(cap):,.0f} (above the axis)")
    ax.legend(loc="upper left", fontsize=8)


def capacity_auction(capacity: Mapping[str, Any] | None,
                     terms: Mapping[str, Any] | None = None,
                     units: Mapping[str, Any] | None = None) -> Figure:
    """Capacity offers as a supply staircase (yuan/kW·yr against accredited MW), the sloped
    demand curve through its points, the requirement, Net CONE (and the offer cap when
    ``terms``, the summary's ``capacity``, gives it) and the clearing point (left); MW offered
    and cleared by technology (right, ``units`` maps offers to technologies)."""
    fig, (ax, techs) = figure("Capacity auction: supply, demand and the clearing point", 2,
                              (2.0, 1.0))
    if capacity is None:
        empty(ax, "no capacity market in these rules")
        empty(techs, "no capacity market")
        return fig
    _auction(ax, capacity, terms or {})
    offers = capacity["offers"]
    tech = _technology_of(offers["unit_id"], units)
    names, codes = np.unique(tech, return_inverse=True)
    codes = codes.ravel()
    offered = np.bincount(codes, weights=column(offers, "mw"), minlength=names.size)
    accepted = np.bincount(codes, weights=column(offers, "accepted_mw", tech.size),
                           minlength=names.size)
    if names.size == 0:
        empty(techs, "no offers")
        return fig
    y = np.arange(names.size)
    techs.barh(y + 0.2, offered, 0.4, color=COLORS["grey"], label="offered")
    techs.barh(y - 0.2, accepted, 0.4, color=COLORS["wind"], label="cleared")
    techs.set_yticks(y, names.tolist(), fontsize=8)
    techs.set_xlabel("accredited MW")
    techs.set_title("by technology", fontsize=10)
    techs.legend(loc="lower right", fontsize=8)
    return fig


def compensation_monthly(monthly: Mapping[str, Any]) -> Figure:
    """Coal capacity compensation by month (million yuan): the gross split into what was paid
    (net, the money that moved), what capacity payments offset and what failures deducted,
    stacked; the deductions the table asked for as markers (they exceed the deducted bar
    where the offset left nothing to deduct)."""
    paid = column(monthly, "compensation_paid_yuan")
    deducted = column(monthly, "compensation_deducted_yuan")
    n = paid.shape[0]
    offset = column(monthly, "compensation_offset_yuan", n)
    due = (column(monthly, "compensation_deductions_due_yuan")
           if "compensation_deductions_due_yuan" in monthly else deducted)
    gross = paid + offset + deducted
    fig, (ax,) = figure(f"Coal capacity compensation by month: gross "
                        f"{gross.sum() / MONEY_DIVISOR:,.1f}, paid (net) "
                        f"{paid.sum() / MONEY_DIVISOR:,.1f} {MONEY_UNIT}")
    x = np.arange(12)
    bottom = np.zeros(12)
    for label, values, color in (("paid (net)", paid, COLORS["green"]),
                                 ("offset by capacity payments", offset, COLORS["grey"]),
                                 ("deducted for failures", deducted, COLORS["deducted"])):
        ax.bar(x, values / MONEY_DIVISOR, 0.7, bottom=bottom, label=label, color=color)
        bottom += values / MONEY_DIVISOR
    if np.any(due > 0):
        ax.plot(x, due / MONEY_DIVISOR, ls="none", marker="_", ms=22, mew=2.5, color="black",
                label="deductions due by the table")
    month_axis(ax)
    ax.set_ylabel(MONEY_UNIT)
    top = float(np.max(np.concatenate([bottom, due / MONEY_DIVISOR]), initial=0.0))
    if top > 0:
        ax.set_ylim(top=top * 1.3)  # room for the legend above the bars
    ax.legend(loc="upper right", fontsize=9, ncol=2)
    return fig


def green_monthly(monthly: Mapping[str, Any]) -> Figure:
    """Green prices by month: the bundled green-power premium (yuan/MWh) and the unbundled
    certificate price (yuan per certificate), gaps where nothing traded (left); green volume
    traded by month, bundled (with the energy) and unbundled (certificates alone), GWh
    (right)."""
    fig, (prices, volume) = figure("Green power and certificates by month", 2)
    x = np.arange(12)
    premium = column(monthly, "green_premium_yuan_per_mwh", 12)
    cert = column(monthly, "certificate_price_yuan", 12)
    prices.plot(x, premium, marker="o", color=COLORS["green"],
                label="bundled premium, yuan/MWh")
    prices.plot(x, cert, marker="s", color=COLORS["wind"],
                label="certificate price, yuan per certificate")
    month_axis(prices)
    prices.set_ylabel("yuan (per MWh = per certificate)")
    prices.set_ylim(bottom=0, top=max(1.0, float(np.nanmax(np.concatenate(
        [premium, cert, [0.0]]))) * 1.2))
    prices.legend(loc="upper left", fontsize=8)
    bundled = column(monthly, "bundled_mwh", 12)
    unbundled = np.maximum(column(monthly, "certificates_traded", 12) - bundled, 0.0)
    volume.bar(x, bundled / 1e3, 0.7, color=COLORS["green"], label="bundled")
    volume.bar(x, unbundled / 1e3, 0.7, bottom=bundled / 1e3, color=COLORS["wind"],
               label="unbundled certificates")
    month_axis(volume)
    volume.set_ylabel("GWh (1 certificate = 1 MWh)")
    volume.legend(loc="lower right", fontsize=8)
    return fig


def certificates_monthly(monthly: Mapping[str, Any]) -> Figure:
    """Green certificates issued, traded and retired, by month (certificates = MWh)."""
    fig, (ax,) = figure("Green certificates by month")
    series = [("issued", column(monthly, "certificates_issued"), COLORS["green"]),
              ("traded", column(monthly, "certificates_traded"), COLORS["wind"]),
              ("retired", column(monthly, "certificates_retired"), COLORS["storage"])]
    width = 0.8 / len(series)
    x = np.arange(12)
    for i, (label, values, color) in enumerate(series):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=label,
               color=color)
    month_axis(ax)
    ax.legend(loc="upper right")
    ax.set_ylabel("certificates (1 = 1 MWh)")
    return fig
