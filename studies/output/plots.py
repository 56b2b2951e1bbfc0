"""The seven plots of a year's report, drawn with matplotlib's object API on the Agg canvas.

No ``pyplot``: each function builds a :class:`matplotlib.figure.Figure` of a fixed size, so
nothing touches global backend state and plots can be drawn from worker threads. PNGs are
written without the "Software" metadata, so the same result gives the same bytes.

:class:`PlotWorker` draws them in a child process (:func:`_worker`, this same tree) that is
started before a year runs: matplotlib is imported and its fonts loaded on the other core while
the year runs, and the plots are drawn while the parent writes its files. The bytes are the
same as drawn in-process (the same functions); if the child fails, the parent draws them.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # matplotlib is imported when a figure is first drawn
    from matplotlib.figure import Figure

#: Figure size (inches) and resolution of every plot: 1000 x 500 pixels.
FIGSIZE = (10.0, 5.0)
DPI = 100

#: File name of each plot in ``plots/``, in report order.
PLOT_FILES: dict[str, str] = {
    "price_duration": "price_duration.png",
    "dispatch_week": "dispatch_week.png",
    "capacity_auction": "capacity_auction.png",
    "compensation_monthly": "compensation_monthly.png",
    "certificates_monthly": "certificates_monthly.png",
    "consumer_cost": "consumer_cost.png",
    "profit_by_technology": "profit_by_technology.png",
}

#: Consumer cost components in the order they are drawn (``total`` is the sum, drawn apart).
COST_COMPONENTS = ("energy", "capacity", "compensation", "green", "storage_compensation")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_COLORS = {"coal": "#4d4d4d", "wind": "#2b8cbe", "solar": "#fdae61",
           "storage": "#7b3294", "export": "#1a9850", "load": "#d7191c"}


def yuan_scale(values: np.ndarray | list[float]) -> tuple[float, str]:
    """A divisor and its label for showing amounts of yuan: yuan, thousand, million, billion."""
    peak = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    for divisor, label in ((1e9, "billion yuan"), (1e6, "million yuan"),
                           (1e3, "thousand yuan")):
        if peak >= divisor:
            return divisor, label
    return 1.0, "yuan"


def _figure(title: str) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=14,
            color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def price_duration(hourly: Mapping[str, np.ndarray]) -> Figure:
    """Hourly prices (yuan/MWh) sorted from highest to lowest against hours of the year."""
    fig, ax = _figure("Price duration curve")
    price = np.sort(np.asarray(hourly["price_yuan_per_mwh"], dtype=np.float64))[::-1]
    ax.plot(np.arange(1, price.size + 1), price, color="#d7191c", lw=1.5)
    stress = int(np.count_nonzero(hourly["stress"])) if "stress" in hourly else 0
    ax.axvspan(0.5, stress + 0.5, color="#fdae61", alpha=0.3, lw=0,
               label=f"as many hours as stress hours ({stress})")
    ax.set_xlabel("hours at or above the price")
    ax.set_ylabel("price, yuan/MWh")
    ax.set_xlim(0, max(price.size, 1))
    ax.legend(loc="upper right")
    return fig


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


def dispatch_week(hourly: Mapping[str, np.ndarray]) -> Figure:
    """MW by technology, stacked, over a typical week; storage charging below zero; the load
    and the load plus exports as lines."""
    span = typical_week(hourly["load_mw"])
    first = int(np.asarray(hourly["hour"])[span][0]) if span.stop > span.start else 0
    fig, ax = _figure(f"Dispatch by technology, typical week (from hour {first})")
    x = np.arange(span.stop - span.start)

    def col(name: str) -> np.ndarray:
        return np.asarray(hourly[name], dtype=np.float64)[span]

    ax.stackplot(x, col("coal_mw"), col("wind_mw"), col("solar_mw"),
                 col("storage_discharge_mw"),
                 labels=["coal", "wind", "solar", "storage discharge"],
                 colors=[_COLORS["coal"], _COLORS["wind"], _COLORS["solar"], _COLORS["storage"]])
    ax.fill_between(x, -col("storage_charge_mw"), 0, color=_COLORS["storage"], alpha=0.4,
                    label="storage charge")
    ax.plot(x, col("load_mw"), color=_COLORS["load"], lw=1.5, label="load")
    ax.plot(x, col("load_mw") + col("export_mw"), color=_COLORS["export"], lw=1.2, ls="--",
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


def capacity_auction(capacity: Mapping[str, Any] | None) -> Figure:
    """Capacity offers as a supply staircase (yuan/kW·yr against accredited MW), the sloped
    demand curve through its points, and the clearing point."""
    fig, ax = _figure("Capacity auction: supply, demand and the clearing point")
    if capacity is None:
        _empty(ax, "no capacity market in these rules")
        return fig
    offers = capacity["offers"]
    mw = np.asarray(offers["mw"], dtype=np.float64)
    price = np.asarray(offers["price_yuan_per_kw_yr"], dtype=np.float64)
    order = np.argsort(price, kind="stable")
    edges = np.concatenate([[0.0], np.cumsum(mw[order])])
    if mw.size:
        ax.stairs(price[order], edges, color="#2b8cbe", lw=2, label="offers (supply)",
                  baseline=None)
    points = np.asarray(capacity.get("demand_points") or [], dtype=np.float64).reshape(-1, 2)
    if points.size:
        # Flat at the first point's price (the cap) from 0 MW, zero beyond the last point.
        right = max(float(points[-1, 0]), float(edges[-1])) * 1.05
        dx = np.concatenate([[0.0], points[:, 0], [right]])
        dy = np.concatenate([[points[0, 1]], points[:, 1], [points[-1, 1]]])
        ax.plot(dx, dy, color="#d7191c", lw=2, label="demand curve")
        ax.plot(points[:, 0], points[:, 1], "o", color="#d7191c", ms=4)
    cleared = capacity.get("cleared_mw")
    cprice = capacity.get("price")
    if cleared is not None and cprice is not None:
        ax.plot([cleared], [cprice], marker="*", ms=16, color="black", ls="none",
                label=f"cleared {cleared:,.0f} MW at {cprice:,.2f} yuan/kW·yr")
        ax.axvline(cleared, color="black", lw=0.8, ls=":")
        ax.axhline(cprice, color="black", lw=0.8, ls=":")
    ax.set_xlabel("accredited capacity, MW")
    ax.set_ylabel("price, yuan/kW·yr")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="best")
    return fig


def _grouped_bars(ax: Any, series: list[tuple[str, np.ndarray, str]]) -> None:
    width = 0.8 / len(series)
    x = np.arange(12)
    for i, (label, values, color) in enumerate(series):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=label, color=color)
    ax.set_xticks(x, _MONTHS)
    ax.legend(loc="upper right")


def compensation_monthly(monthly: Mapping[str, np.ndarray]) -> Figure:
    """Coal capacity compensation by month (yuan, scaled): the gross split into what was paid
    (net, the money that moved), what capacity payments offset and what failures deducted,
    stacked; the deductions the table asked for as markers (they exceed the deducted bar
    where the offset left nothing to deduct)."""
    paid = np.asarray(monthly["compensation_paid_yuan"], dtype=np.float64)
    deducted = np.asarray(monthly["compensation_deducted_yuan"], dtype=np.float64)
    n = paid.shape[0]
    offset = np.asarray(monthly.get("compensation_offset_yuan", np.zeros(n)), dtype=np.float64)
    due = np.asarray(monthly.get("compensation_deductions_due_yuan", deducted),
                     dtype=np.float64)
    total = paid.sum()
    divisor, unit = yuan_scale(np.concatenate([paid + offset + deducted, due]))
    fig, ax = _figure(f"Coal capacity compensation by month: {total / divisor:,.2f} {unit} "
                      "paid (net)")
    x = np.arange(12)
    bottom = np.zeros(12)
    for label, values, color in (("paid (net)", paid, "#1a9850"),
                                 ("offset by capacity payments", offset, "#bdbdbd"),
                                 ("deducted for failures", deducted, "#d7191c")):
        ax.bar(x, values / divisor, 0.7, bottom=bottom, label=label, color=color)
        bottom += values / divisor
    if np.any(due > 0):
        ax.plot(x, due / divisor, ls="none", marker="_", ms=22, mew=2.5, color="black",
                label="deductions due by the table")
    ax.set_xticks(x, _MONTHS)
    ax.set_ylabel(unit)
    ax.legend(loc="upper right", fontsize=9)
    return fig


def certificates_monthly(monthly: Mapping[str, np.ndarray]) -> Figure:
    """Green certificates issued, traded and retired, by month (certificates = MWh)."""
    fig, ax = _figure("Green certificates by month")
    _grouped_bars(ax, [
        ("issued", np.asarray(monthly["certificates_issued"], dtype=np.float64), "#1a9850"),
        ("traded", np.asarray(monthly["certificates_traded"], dtype=np.float64), "#2b8cbe"),
        ("retired", np.asarray(monthly["certificates_retired"], dtype=np.float64), "#7b3294"),
    ])
    ax.set_ylabel("certificates (1 = 1 MWh)")
    return fig


def consumer_cost(summary: Mapping[str, Any]) -> Figure:
    """Consumers' cost of the year by component (yuan, scaled), the total in the title."""
    costs = summary.get("consumer_cost_yuan") or {}
    names = [c for c in COST_COMPONENTS if c in costs] + sorted(
        c for c in costs if c not in COST_COMPONENTS and c != "total")
    values = np.array([float(costs[c] or 0.0) for c in names])
    total = costs.get("total")
    divisor, unit = yuan_scale(values)
    title = "Consumer cost by component"
    if total is not None:
        title += f" (total {float(total) / divisor:,.2f} {unit})"
    fig, ax = _figure(title)
    if not names:
        _empty(ax, "no consumer cost in the summary")
        return fig
    bars = ax.bar(names, values / divisor, color="#2b8cbe")
    ax.bar_label(bars, fmt="{:,.2f}", fontsize=9)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(unit)
    return fig


def profit_by_technology(units: Mapping[str, np.ndarray]) -> Figure:
    """Producers' profit of the year summed by technology (yuan, scaled), with the
    capacity-weighted fixed-cost recovery of each technology above its bar."""
    tech = np.asarray(units["technology"]).astype(str)
    profit = np.asarray(units["profit_yuan"], dtype=np.float64)
    names, codes = np.unique(tech, return_inverse=True)
    codes = codes.ravel()
    by_tech = np.bincount(codes, weights=profit, minlength=names.size)
    divisor, unit = yuan_scale(by_tech)
    fig, ax = _figure("Profit by technology (label: fixed-cost recovery)")
    if names.size == 0:
        _empty(ax, "no units")
        return fig
    bars = ax.bar(names.tolist(), by_tech / divisor,
                  color=np.where(by_tech >= 0, "#1a9850", "#d7191c").tolist())
    if "fixed_cost_recovery" in units and "nameplate_mw" in units:
        recovery = np.asarray(units["fixed_cost_recovery"], dtype=np.float64)
        weight = np.asarray(units["nameplate_mw"], dtype=np.float64)
        ok = np.isfinite(recovery)
        num = np.bincount(codes[ok], weights=(recovery * weight)[ok], minlength=names.size)
        den = np.bincount(codes[ok], weights=weight[ok], minlength=names.size)
        labels = [f"{n / d:.2f}" if d > 0 else "-" for n, d in zip(num, den, strict=True)]
        ax.bar_label(bars, labels=labels, fontsize=9)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(unit)
    ax.tick_params(axis="x", labelrotation=15)
    return fig


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as PNG at ``path`` (no metadata that changes between runs)."""
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def plot_inputs(result: Any) -> dict[str, Any]:
    """What the plots read of a year's result (a :class:`studies.year.run.YearResult`): the
    hourly, monthly and unit tables, the capacity record and the summary (no bid rows)."""
    return {"hourly": result.hourly, "capacity": result.capacity, "monthly": result.monthly,
            "summary": result.summary, "units": result.units}


def _drawings(data: Mapping[str, Any]) -> dict[str, Callable[[], Figure]]:
    return {
        "price_duration": lambda: price_duration(data["hourly"]),
        "dispatch_week": lambda: dispatch_week(data["hourly"]),
        "capacity_auction": lambda: capacity_auction(data["capacity"]),
        "compensation_monthly": lambda: compensation_monthly(data["monthly"]),
        "certificates_monthly": lambda: certificates_monthly(data["monthly"]),
        "consumer_cost": lambda: consumer_cost(data["summary"]),
        "profit_by_technology": lambda: profit_by_technology(data["units"]),
    }


def draw_plots(data: Mapping[str, Any], plots_dir: Path,
               names: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Draw the plots ``names`` (default all, in :data:`PLOT_FILES` order) of a year's
    :func:`plot_inputs` into ``plots_dir``; returns their paths by name."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    return {name: save(draw(), plots_dir / PLOT_FILES[name])
            for name, draw in _drawings(data).items() if names is None or name in names}


#: How :func:`start_workers` shares the plots between two children (about the same drawing
#: time each: the two hourly plots are the slow ones).
PLOT_SPLIT: tuple[tuple[str, ...], ...] = (
    ("price_duration", "capacity_auction", "compensation_monthly", "consumer_cost"),
    ("dispatch_week", "certificates_monthly", "profit_by_technology"),
)


def write_plots(result: Any, plots_dir: Path) -> dict[str, Path]:
    """Draw the seven plots of ``result`` (a YearResult) into ``plots_dir``; returns each
    plot's path by name (the keys of :data:`PLOT_FILES`)."""
    return draw_plots(plot_inputs(result), plots_dir)


class PlotWorker:
    """A child process that draws the plots of one year (see the module docstring).

    ``PlotWorker.start(names)`` before the year (``None`` if no child can be started; default:
    every plot); :meth:`send` the year's :func:`plot_inputs` and the folder; :meth:`wait` for
    the PNGs. :meth:`close` (or leaving the ``with`` block) stops a child that was never sent
    a year. :func:`start_workers` starts two that share the plots."""

    def __init__(self, names: tuple[str, ...] = tuple(PLOT_FILES)) -> None:
        self.names = tuple(names)
        # The child imports this very tree (its root first on sys.path), whatever its cwd.
        root = str(Path(__file__).resolve().parents[2])
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from studies.output.plots import _worker; sys.exit(_worker())")
        self.proc = subprocess.Popen([sys.executable, "-c", code, root],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.sent: tuple[dict[str, Any], Path] | None = None

    @classmethod
    def start(cls, names: tuple[str, ...] = tuple(PLOT_FILES)) -> PlotWorker | None:
        try:
            return cls(names)
        except OSError:
            return None

    def send(self, data: dict[str, Any], plots_dir: Path) -> None:
        """Hand the child a year's plot inputs and the folder to draw into (created here)."""
        plots_dir.mkdir(parents=True, exist_ok=True)
        self.sent = (data, plots_dir)
        assert self.proc.stdin is not None
        try:
            pickle.dump((data, str(plots_dir), self.names), self.proc.stdin,
                        protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.close()
        except OSError:  # the child is gone: wait() draws in this process
            pass

    def wait(self) -> dict[str, Path]:
        """The PNGs' paths once the child has drawn them; drawn here if the child failed."""
        if self.sent is None:
            raise RuntimeError("PlotWorker.wait before send")
        data, plots_dir = self.sent
        self._finish()
        paths = {name: plots_dir / PLOT_FILES[name] for name in self.names}
        if self.proc.returncode != 0 or not all(p.is_file() for p in paths.values()):
            return draw_plots(data, plots_dir, self.names)
        return paths

    def close(self) -> None:
        """Stop the child if it still runs (it was never sent a year, or the caller gave up)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self._finish()

    def _finish(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                try:
                    if pipe is self.proc.stderr:
                        pipe.read()  # the child's messages, if any: not shown, it is redrawn
                    pipe.close()
                except OSError:  # the child left before reading what was sent
                    pass
        self.proc.wait()

    def __enter__(self) -> PlotWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_workers() -> list[PlotWorker]:
    """Two children that share the plots (:data:`PLOT_SPLIT`): drawn in half the time when
    the machine has a core for each. Empty if none can be started."""
    workers = [PlotWorker.start(names) for names in PLOT_SPLIT]
    return [w for w in workers if w is not None]


def _worker() -> int:
    """The child's side of :class:`PlotWorker`: load matplotlib and its fonts, then draw the
    year read from stdin (pickled by the parent, which started this process)."""
    from matplotlib.figure import Figure

    warm = Figure(figsize=(1.0, 1.0), dpi=DPI)
    warm.text(0.5, 0.5, "0")
    warm.savefig(io.BytesIO(), format="png")
    try:
        data, plots_dir, names = pickle.load(sys.stdin.buffer)  # noqa: S301 - parent's pipe
    except EOFError:  # the parent closed the pipe without a year
        return 0
    draw_plots(data, Path(plots_dir), names)
    return 0


if __name__ == "__main__":
    sys.exit(_worker())
