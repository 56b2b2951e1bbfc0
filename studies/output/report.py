"""The HTML report of one simulated year: ``write_report(result, out_dir)``.

``out_dir/report.html`` is one self-contained page (inline CSS, no scripts, nothing fetched)
apart from the seven PNGs it shows from ``out_dir/plots/``
(:data:`studies.output.plots.PLOT_FILES`).
It holds the provenance (rules name, SHA-256, seed, scale, hours), the summary table, the
consumer cost by component, the market-power section and the plots. Nothing in it depends on
the clock, so the same result writes the same bytes. The page is rendered from the Jinja2
template ``studies/output/templates/report.html.j2`` (autoescaped).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from studies.metrics import RSI_SCREEN, market_power
from studies.output.plots import PLOT_FILES, PlotWorker, draw_plots, plot_inputs

#: Caption of each plot, keyed like :data:`studies.output.plots.PLOT_FILES`.
CAPTIONS: dict[str, str] = {
    "price_duration": "Price duration curve: hourly energy prices from highest to lowest.",
    "dispatch_week": "A typical week of dispatch by technology (the week whose mean load is "
                     "closest to the median week), storage charging below zero.",
    "capacity_auction": "Capacity auction: offers as supply, the demand curve and the "
                        "clearing point.",
    "compensation_monthly": "Coal capacity compensation by month: the gross split into the "
                            "net paid, the part capacity payments offset and the part failures "
                            "deducted; markers give the deductions the table asked for.",
    "certificates_monthly": "Green certificates issued, traded and retired by month.",
    "consumer_cost": "Consumer cost of the year by component.",
    "profit_by_technology": "Producers' profit by technology; labels give the fixed-cost "
                            "recovery (revenue net of variable cost over fixed cost).",
}

def format_value(value: Any) -> str:
    """A summary value as text: thousands separators, 2 decimals from 1 up, 4 significant
    digits below 1, an em dash for null."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.4g}"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every leaf of a nested dict, keys in sorted order."""
    for key in sorted(tree):
        value = tree[key]
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, f"{path}.")
        else:
            yield path, value


def _is_numeric(value: Any) -> bool:
    """Numbers are right-aligned (``td.num``); booleans are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _escape(value: Any) -> Any:
    """Every value the template prints, escaped as :func:`html.escape` does (``'`` as
    ``&#x27;``, ``"`` as ``&quot;``; Jinja's own escape writes ``&#39;`` and ``&#34;``), so the
    page keeps the bytes it has always had. Markup the template built itself (its macros'
    output) passes as it is."""
    if hasattr(value, "__html__"):
        return value
    return Markup(escape(str(value)))


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("studies.output", "templates"),
        autoescape=True,
        finalize=_escape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["value"] = format_value
    env.tests["numeric"] = _is_numeric
    return env


def _market_power_rows(mp: Mapping[str, Any]) -> dict[str, Any]:
    hhi = mp.get("hhi", {})
    labels = {"energy": "energy (accepted MWh, year)",
              "energy_stress_hours": "energy (accepted MWh, stress hours)",
              "capacity": "capacity (accepted MW)",
              "green": "green certificates (wind and solar MWh)"}
    pivotal = mp.get("pivotal", {})
    rsi = mp.get("rsi", {})
    screen = rsi.get("screen", RSI_SCREEN)
    markup = mp.get("markup", {})
    offered = markup.get("offered_by_owner", {}) or {}
    accepted = markup.get("accepted_by_owner", {}) or {}
    by_owner = pivotal.get("by_owner", {}) or {}
    owners = sorted(set(offered) | set(accepted) | set(by_owner))
    owner_rows = [[o, by_owner.get(o), offered.get(o), accepted.get(o)] for o in owners]
    owner_rows.append(["all owners", None, markup.get("offered_all"), markup.get("accepted_all")])
    return {
        "hhi_rows": [[labels.get(k, k), v] for k, v in hhi.items()],
        "stress_hours": mp.get("stress_hours"),
        "rsi_rows": [
            ["share of stress hours with a pivotal owner", pivotal.get("share_of_stress_hours")],
            ["lowest RSI", rsi.get("min")],
            ["mean RSI", rsi.get("mean")],
            [f"share of stress hours with RSI below {format_value(screen)}",
             rsi.get("share_below_screen")],
        ],
        "owner_rows": owner_rows,
    }


def render_report(result: Any, plot_files: Mapping[str, str]) -> str:
    """The report page as text (``templates/report.html.j2``); ``plot_files`` maps plot names
    to paths relative to the page."""
    s = result.summary
    mp = s.get("market_power")
    if not isinstance(mp, Mapping):
        mp = market_power(result)
    costs = s.get("consumer_cost_yuan") or {}
    return _environment().get_template("report.html.j2").render(
        name=s.get("rules_name", ""),
        seed=s.get("seed"),
        provenance=[["rules", s.get("rules_name", "")], ["rules SHA-256", s.get("rules_sha256")],
                    ["seed", s.get("seed")], ["scale", s.get("scale")],
                    ["hours", s.get("hours")]],
        summary_rows=[[k, v] for k, v in flatten(
            {k: v for k, v in s.items() if k not in ("market_power", "consumer_cost_yuan")})],
        cost_rows=[[k, v] for k, v in costs.items()],
        figures=[{"src": path, "caption": CAPTIONS.get(key, key)}
                 for key, path in plot_files.items()],
        **_market_power_rows(mp),
    )


def write_report(result: Any, out_dir: str | Path,
                 plot_worker: PlotWorker | Sequence[PlotWorker] | None = None) -> Path:
    """Write ``out_dir/report.html`` and the seven PNGs in ``out_dir/plots/``; returns the path
    of ``report.html``. ``result`` is a :class:`studies.year.run.YearResult` (or anything with its
    ``summary``, ``hourly``, ``units``, ``capacity``, ``monthly`` and ``bids`` fields).
    ``plot_worker``: started :class:`~studies.output.plots.PlotWorker` (one, or several that
    share the plots, :func:`~studies.output.plots.start_workers`) that draw the plots while
    the page is written (the same bytes); plots no worker draws are drawn here."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workers = ([] if plot_worker is None else
               [plot_worker] if isinstance(plot_worker, PlotWorker) else list(plot_worker))
    data = plot_inputs(result)
    for w in workers:
        w.send(data, out / "plots")
    left = tuple(n for n in PLOT_FILES if not any(n in w.names for w in workers))
    if left:
        draw_plots(data, out / "plots", left)
    page = render_report(result, {k: f"plots/{v}" for k, v in PLOT_FILES.items()})
    path = out / "report.html"
    path.write_text(page, encoding="utf-8", newline="\n")
    for w in workers:
        w.wait()
    return path
