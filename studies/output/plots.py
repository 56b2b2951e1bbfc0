"""The figures of a year's report: their files (:data:`PLOT_FILES`), what they read of a
result (:func:`plot_inputs`), and the worker processes that draw them (:class:`PlotWorker`).
The drawings themselves are in :mod:`studies.output.figures`.

Matplotlib's object API on the Agg canvas, no ``pyplot``: each function builds a
:class:`matplotlib.figure.Figure` of a fixed size, so nothing touches global backend state.
PNGs are written without the "Software" metadata, so the same result gives the same bytes.

:class:`PlotWorker` draws them in a child process (:func:`_worker`, this same tree) that is
started before a year runs: matplotlib is imported and its fonts loaded on the other core while
the year runs, and the plots are drawn while the parent writes its files. The bytes are the
same as drawn in-process (the same functions); if the child fails, the parent draws them.
"""

from __future__ import annotations

import gc
import io
import pickle
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studies.output.figures.canvas import (
    DPI,
    FIGSIZE,
    MONEY_UNIT,
    readable_numbers,
    typical_week,
)
from studies.output.figures.markets import (
    capacity_auction,
    certificates_monthly,
    compensation_monthly,
    green_monthly,
)
from studies.output.figures.money import (
    COST_COMPONENTS,
    consumer_cost,
    profit_by_technology,
    revenue_stack,
)
from studies.output.figures.prices import (
    merit_order,
    merit_order_hour,
    price_duration,
    price_histogram,
    price_profile,
)
from studies.output.figures.system import (
    curtailment,
    dispatch_week,
    emissions,
    reliability,
    renewable_share,
    storage,
)

if TYPE_CHECKING:  # matplotlib is imported when a figure is first drawn
    from matplotlib.figure import Figure

__all__ = ["COST_COMPONENTS", "DPI", "EARLY_PLOTS", "FIGSIZE", "MONEY_UNIT", "PLOT_FILES",
           "PLOT_SPLIT", "PlotWorker", "capacity_auction", "certificates_monthly",
           "compensation_monthly", "consumer_cost", "curtailment", "dispatch_week",
           "draw_plots", "emissions", "green_monthly", "merit_order", "plot_inputs",
           "price_duration", "price_histogram", "price_profile", "profit_by_technology",
           "reliability", "renewable_share", "revenue_stack", "send_hourly", "send_year",
           "start_workers", "storage", "typical_week", "write_plots"]

#: File name of each plot in ``plots/``, in report order; the key is the figure's id in the
#: report page.
PLOT_FILES: dict[str, str] = {
    "price_duration": "price_duration.png",
    "price_profile": "price_profile.png",
    "price_histogram": "price_histogram.png",
    "merit_order": "merit_order.png",
    "dispatch_week": "dispatch_week.png",
    "renewable_share": "renewable_share.png",
    "curtailment": "curtailment.png",
    "storage": "storage.png",
    "reliability": "reliability.png",
    "emissions": "emissions.png",
    "capacity_auction": "capacity_auction.png",
    "compensation_monthly": "compensation_monthly.png",
    "green_monthly": "green_monthly.png",
    "certificates_monthly": "certificates_monthly.png",
    "consumer_cost": "consumer_cost.png",
    "revenue_stack": "revenue_stack.png",
    "profit_by_technology": "profit_by_technology.png",
}


#: zlib level of the PNGs: 1 encodes a third faster than the default (6) for files about a
#: tenth larger (flat-coloured plots compress well either way).
PNG_COMPRESSION = 1


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as PNG at ``path`` (no metadata that changes between runs), its numeric
    tick labels made readable (:func:`~studies.output.figures.canvas.readable_numbers`)."""
    readable_numbers(fig)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None},
                pil_kwargs={"compress_level": PNG_COMPRESSION})
    return path


def plot_inputs(result: Any) -> dict[str, Any]:
    """What the plots read of a year's result (a :class:`studies.year.run.YearResult`): the
    hourly, monthly and unit tables, the capacity record, the summary, the bids of the
    peak-load hour alone (:func:`~studies.output.figures.prices.merit_order_hour`, not the
    year's bids) and the hours with unserved load (bool, by the year's own tolerance)."""
    from studies.year.run import UNSERVED_TOLERANCE_MWH

    hourly = result.hourly
    lost = hourly["unserved_mw"] > UNSERVED_TOLERANCE_MWH if "unserved_mw" in hourly else None
    return {"hourly": hourly, "capacity": result.capacity, "monthly": result.monthly,
            "summary": result.summary, "units": result.units,
            "merit_order": merit_order_hour(hourly, getattr(result, "bids", None)),
            "lost_load_hours": lost}


#: The plots drawn from the hourly table alone: ``mengxi simulate`` sends them to the plots'
#: children as soon as the energy year is cleared (:func:`send_hourly`), so they are drawn
#: while the year settles and trades green, not after it.
EARLY_PLOTS: tuple[str, ...] = ("price_duration", "price_profile", "price_histogram",
                                "dispatch_week", "renewable_share", "curtailment", "emissions")


def _drawings(data: Mapping[str, Any]) -> dict[str, Callable[[], Figure]]:
    # The early plots' data is the hourly table alone; the others read the rest when drawn.
    hourly, units, summary = data["hourly"], data.get("units") or {}, data.get("summary") or {}
    return {
        "price_duration": lambda: price_duration(hourly),
        "price_profile": lambda: price_profile(hourly),
        "price_histogram": lambda: price_histogram(hourly),
        "merit_order": lambda: merit_order(data["merit_order"]),
        "dispatch_week": lambda: dispatch_week(hourly),
        "renewable_share": lambda: renewable_share(hourly),
        "curtailment": lambda: curtailment(hourly),
        "storage": lambda: storage(hourly, units),
        "reliability": lambda: reliability(hourly, summary, data["lost_load_hours"]),
        "emissions": lambda: emissions(hourly),
        "capacity_auction": lambda: capacity_auction(
            data["capacity"], summary.get("capacity") or {}, units),
        "compensation_monthly": lambda: compensation_monthly(data["monthly"]),
        "green_monthly": lambda: green_monthly(data["monthly"]),
        "certificates_monthly": lambda: certificates_monthly(data["monthly"]),
        "consumer_cost": lambda: consumer_cost(summary),
        "revenue_stack": lambda: revenue_stack(units),
        "profit_by_technology": lambda: profit_by_technology(units),
    }


def draw_plots(data: Mapping[str, Any], plots_dir: Path,
               names: tuple[str, ...] | None = None) -> dict[str, Path]:
    """Draw the plots ``names`` (default all, in :data:`PLOT_FILES` order) of a year's
    :func:`plot_inputs` into ``plots_dir``; returns their paths by name."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    return {name: save(draw(), plots_dir / PLOT_FILES[name])
            for name, draw in _drawings(data).items() if names is None or name in names}


#: How :func:`start_workers` shares the plots between two children (about the same drawing
#: time each; measured with ``benchmarks``-sized years).
PLOT_SPLIT: tuple[tuple[str, ...], ...] = (
    ("price_duration", "price_histogram", "curtailment",
     "merit_order", "storage", "capacity_auction", "consumer_cost"),
    ("price_profile", "dispatch_week", "renewable_share", "emissions",
     "reliability", "compensation_monthly", "green_monthly", "certificates_monthly",
     "revenue_stack", "profit_by_technology"),
)


def write_plots(result: Any, plots_dir: Path) -> dict[str, Path]:
    """Draw every plot of ``result`` (a YearResult) into ``plots_dir``; returns each plot's
    path by name (the keys of :data:`PLOT_FILES`)."""
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
        self.early: tuple[str, ...] = ()  # drawn from the hourly table, sent before the year
        self.early_dir: Path | None = None

    @classmethod
    def start(cls, names: tuple[str, ...] = tuple(PLOT_FILES)) -> PlotWorker | None:
        try:
            return cls(names)
        except OSError:
            return None

    def send_hourly(self, hourly: Any, plots_dir: Path) -> None:
        """Hand the child the year's hourly table early, to draw its :data:`EARLY_PLOTS`
        while the year goes on; :meth:`send` later gives it the rest."""
        if self.sent is not None or self.early:
            raise RuntimeError("send_hourly after send, or twice")
        early = tuple(n for n in self.names if n in EARLY_PLOTS)
        if not early:
            return
        plots_dir.mkdir(parents=True, exist_ok=True)
        self.early, self.early_dir = early, plots_dir
        assert self.proc.stdin is not None
        try:
            pickle.dump(({"hourly": hourly}, str(plots_dir), early), self.proc.stdin,
                        protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
        except OSError:  # the child is gone: wait() draws in this process
            pass

    def send(self, data: dict[str, Any], plots_dir: Path) -> None:
        """Hand the child a year's plot inputs and the folder to draw into (created here):
        the plots not already sent with :meth:`send_hourly`."""
        if self.early_dir is not None and Path(self.early_dir) != Path(plots_dir):
            raise ValueError(f"plot worker drew early plots into {self.early_dir}, "
                             f"not {plots_dir}")
        plots_dir.mkdir(parents=True, exist_ok=True)
        self.sent = (data, plots_dir)
        assert self.proc.stdin is not None
        rest = tuple(n for n in self.names if n not in self.early)
        try:
            pickle.dump((data, str(plots_dir), rest), self.proc.stdin,
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


def send_year(workers: list[PlotWorker], result: Any, plots_dir: Path) -> None:
    """Hand ``result`` (a YearResult) to each of ``workers`` not yet sent a year, to draw
    into ``plots_dir``. ``run_year(..., tables_ready=...)`` calls it before the year's last
    step (the market-power metrics), so the drawing overlaps that step and the files."""
    pending = [w for w in workers if w.sent is None]
    for w in workers:
        if w.sent is not None and Path(w.sent[1]) != Path(plots_dir):
            raise ValueError(f"plot worker already drawing into {w.sent[1]}, not {plots_dir}")
    if pending:
        data = plot_inputs(result)
        for w in pending:
            w.send(data, plots_dir)


def send_hourly(workers: list[PlotWorker], hourly: Any, plots_dir: Path) -> None:
    """Hand the year's hourly table to each of ``workers`` to draw its :data:`EARLY_PLOTS`
    into ``plots_dir`` now. ``run_year(..., hourly_ready=...)`` calls it once the energy year
    is cleared, so that drawing overlaps the settlement, green trading and tables."""
    for w in workers:
        if w.sent is None and not w.early:
            w.send_hourly(hourly, plots_dir)


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
    # Matplotlib makes many small objects and this process ends after drawing: the cyclic
    # collector's passes are time (about 7 %) for no memory worth having back.
    gc.disable()
    while True:  # the early plots (hourly table), then the rest of the year
        try:
            data, plots_dir, names = pickle.load(sys.stdin.buffer)  # noqa: S301 - parent's pipe
        except EOFError:  # the parent closed the pipe: all sent (or no year)
            return 0
        draw_plots(data, Path(plots_dir), names)


if __name__ == "__main__":
    sys.exit(_worker())
