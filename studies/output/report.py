"""The HTML report of one simulated year: ``write_report(result, out_dir)``.

``out_dir/report.html`` is one self-contained page (inline CSS, no scripts, nothing fetched)
apart from the PNGs it shows from ``out_dir/plots/`` (:data:`studies.output.plots.PLOT_FILES`).
From the top: the provenance (rules name, SHA-256, seed, year, scale, hours); the headline
figures with their units (:func:`headline_rows`); the figures by subject, each a
``<figure id=KEY>`` (``KEY`` from :data:`~studies.output.plots.PLOT_FILES`) whose caption says
what to look for (:data:`CAPTIONS`); the consumer cost by component; the market-power
section; and an appendix with the full summary (every leaf of ``summary.json``). Money is in
million yuan wherever the report chooses the unit (headline, tables, figures); the appendix
keeps the summary's own units, named by each key. Nothing in it depends on the clock, so the
same result writes the same bytes. The page is rendered from the Jinja2 template
``studies/output/templates/report.html.j2`` (autoescaped).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from studies.metrics import RSI_SCREEN, market_power
from studies.output.figures.canvas import MONEY_DIVISOR, MONEY_UNIT
from studies.output.plots import PLOT_FILES, PlotWorker, draw_plots, plot_inputs, send_year

#: Each figure's title and what to look for in it, keyed like
#: :data:`studies.output.plots.PLOT_FILES`.
CAPTIONS: dict[str, tuple[str, str]] = {
    "price_duration": (
        "Price duration curve",
        "Hourly energy prices from highest to lowest. The left panel stops at the 99th "
        "percentile so the body of the year is readable: look for how flat it is and where it "
        "drops to the floor (hours with surplus renewables). The right panel is the top 1 % of "
        "hours at full scale: the scarcity prices up to the cap."),
    "price_profile": (
        "Average price by hour of the day and by month",
        "Left: the mean price at each hour with the 10th-90th percentile band; a midday dip "
        "is solar pushing coal off the margin, an evening peak the hours after sunset. Right: "
        "the monthly means, simple and load-weighted; the windy spring months are cheaper."),
    "price_histogram": (
        "Price histogram",
        "Hours of the year by price, counts on a log scale so the few scarcity hours show "
        "beside the thousands of ordinary ones. Look for the main mode (coal's marginal "
        "cost), the group at or below zero and the isolated hours near the cap."),
    "merit_order": (
        "Merit order of the peak-load hour",
        "Every energy offer of the hour with the highest load, stacked by price (supply), "
        "against the bids by price (demand and exports). The star is the clearing point: the "
        "price is set where the curves cross; offers to its left were accepted."),
    "dispatch_week": (
        "Dispatch in a typical week",
        "MW by technology over the week whose mean load is closest to the median week; "
        "storage charging below zero. Look for coal following the net load, solar at midday "
        "and storage shifting midday energy to the evening."),
    "renewable_share": (
        "Renewable share by month",
        "Wind and solar as shares of generation (storage excluded, as the summary's "
        "renewable_share) month by month, the year's share dashed. Look for the seasons of "
        "wind and sun."),
    "curtailment": (
        "Renewable curtailment by month and by hour of the day",
        "Wind and solar energy available but not used: GWh by month with its share of what "
        "was available (left), mean MW by hour of the day (right). Curtailment at midday "
        "points at solar surplus; at night at wind surplus or coal's minimum output."),
    "storage": (
        "Storage: a typical week and its revenue stack",
        "Left: the storage fleet's charging (below zero) and discharging in the typical week, "
        "and the energy it holds at the end of each hour (its state of charge: charging "
        "raises it by the charged MWh times the round-trip efficiency). A fleet that ends "
        "its evenings empty and its middays full is arbitraging the solar peak. Right: the "
        "storage units' revenue by source against their fixed cost."),
    "reliability": (
        "Reliability: stress hours, lost load and the standard",
        "Stress hours and hours with unserved load by month and by hour of the day, and the "
        "year's loss-of-load hours (LOLE) against the rules' reliability standard (dashed); "
        "the bar is red when the year misses the standard. The expected unserved energy "
        "(EUE) is in the panel title."),
    "emissions": (
        "CO2 emissions by month",
        "Coal's CO2 by month (bars, kt) and the intensity per MWh generated (line): months "
        "with more wind and sun emit less per MWh."),
    "capacity_auction": (
        "Capacity auction",
        "Left: offers as a supply staircase (yuan/kW·yr against accredited MW), the sloped "
        "demand curve, the requirement, Net CONE (and the offer cap when the summary gives "
        "it) and the clearing point (star). Right: MW offered and cleared by technology."),
    "compensation_monthly": (
        "Coal capacity compensation by month",
        "The gross compensation split into the net paid, the part capacity payments offset "
        "and the part failures deducted; markers give the deductions the table asked for "
        "(above the red bar where the offset left nothing to deduct)."),
    "green_monthly": (
        "Green premium, certificate price and volumes by month",
        "Left: the bundled green-power premium (yuan/MWh) and the unbundled certificate "
        "price (yuan per certificate) by month; zero where supply covers the obligation at "
        "no premium. Right: the green volume traded, bundled with the energy or as "
        "certificates alone."),
    "certificates_monthly": (
        "Green certificates issued, traded and retired",
        "Certificates (1 per MWh of wind and solar) issued, traded and retired by month; "
        "retirement happens at the compliance month, December."),
    "consumer_cost": (
        "Consumer cost by component",
        "What consumers paid, per MWh served (left) and for the year in million yuan (right): "
        "energy, capacity, coal compensation, green premium and storage compensation."),
    "revenue_stack": (
        "Revenue stack against fixed cost by technology",
        "Each technology's revenue by source stacked up from zero, variable cost below; the "
        "diamond is revenue less variable cost and the hatched bar the fixed cost. Where the "
        "diamond reaches the hatched bar's top, the technology recovers its fixed cost."),
    "profit_by_technology": (
        "Profit by technology",
        "Producers' profit by technology in million yuan; the labels give the fixed-cost "
        "recovery (revenue net of variable cost over fixed cost; 1 means break-even)."),
}

#: The report's sections of figures, in order; together they hold every plot once.
FIGURE_SECTIONS: dict[str, tuple[str, ...]] = {
    "Energy prices": ("price_duration", "price_profile", "price_histogram", "merit_order"),
    "Dispatch, renewables and storage": ("dispatch_week", "renewable_share", "curtailment",
                                         "storage"),
    "Reliability and emissions": ("reliability", "emissions"),
    "Capacity and compensation": ("capacity_auction", "compensation_monthly"),
    "Green power and certificates": ("green_monthly", "certificates_monthly"),
    "Money": ("consumer_cost", "revenue_stack", "profit_by_technology"),
}

#: Summary keys whose integers are identifiers or calendar years, printed without separators.
ID_KEYS = frozenset({"seed", "year"})

#: Floats this close to zero are the noise of sums of money and energy (-4e-17): shown as 0.
FLOAT_NOISE = 1e-9

MWH_PER_GWH = 1e3
T_PER_MT = 1e6


def format_value(value: Any, small_digits: int = 4) -> str:
    """A summary value as text: thousands separators, 2 decimals from 1 up, ``small_digits``
    significant digits below 1, 0 for float noise (below :data:`FLOAT_NOISE`), an em dash for
    null. The one number format of the report, the plots' labels and the CLI
    (:func:`api.cli.output.number`)."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) < FLOAT_NOISE:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.{small_digits}g}"
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


def _as_shown(path: str, value: Any) -> Any:
    """An identifier or a calendar year (:data:`ID_KEYS`) as plain text: ``seed 20231005``,
    ``year 2025``, never ``20,231,005``."""
    if path.rsplit(".", 1)[-1] in ID_KEYS and isinstance(value, int) \
            and not isinstance(value, bool):
        return str(value)
    return value


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
def report_environment() -> Environment:
    """The Jinja2 environment of the sandbox's pages (``studies/output/templates``)."""
    return _environment()


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


def _get(tree: Mapping[str, Any], path: str) -> float | None:
    """The number at dotted ``path`` of the summary, ``None`` if absent or not a number."""
    node: Any = tree
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return float(node) if _is_numeric(node) and math.isfinite(node) else None


def fixed(value: float | None, decimals: int = 0, divisor: float = 1.0) -> str:
    """``value / divisor`` with thousands separators and ``decimals`` decimals; an em dash for
    ``None``; never ``-0``."""
    if value is None:
        return "\u2014"
    x = value / divisor
    if abs(x) < 0.5 * 10.0 ** -decimals:
        x = 0.0
    return f"{x:,.{decimals}f}"


def _hourly_sum(hourly: Mapping[str, Any], *names: str) -> float | None:
    if not all(n in hourly for n in names):
        return None
    return float(sum(np.asarray(hourly[n], dtype=np.float64).sum() for n in names))


def headline_rows(summary: Mapping[str, Any], hourly: Mapping[str, Any]
                  ) -> list[tuple[str, str, str, str]]:
    """The report's headline: (what, value, unit, note) rows, the values formatted for
    reading (money in :data:`~studies.output.figures.canvas.MONEY_UNIT`, energy in GWh
    except lost load in MWh, CO2 in Mt)."""
    s = summary

    def g(path: str) -> float | None:
        return _get(s, path)

    rows: list[tuple[str, str, str, str]] = []
    lo, hi = g("energy.min_price_yuan_per_mwh"), g("energy.max_price_yuan_per_mwh")
    rows.append(("Average energy price (load-weighted)",
                 fixed(g("energy.avg_price_yuan_per_mwh"), 2), "yuan/MWh",
                 f"simple mean {fixed(g('energy.simple_avg_price_yuan_per_mwh'), 2)}; "
                 f"lowest {fixed(lo, 2)}, highest {fixed(hi, 2)}"))
    cap = s.get("capacity")
    enabled = cap.get("enabled") if isinstance(cap, Mapping) else None
    if enabled is False or g("capacity.clearing_price_yuan_per_kw_yr") is None:
        cap_note = "no capacity market cleared under these rules"
    else:
        cap_note = (f"Net CONE {fixed(g('capacity.net_cone_yuan_per_kw_yr'), 2)}; cleared "
                    f"{fixed(g('capacity.cleared_mw'))} MW of a "
                    f"{fixed(g('capacity.requirement_mw'))} MW requirement")
    rows.append(("Capacity clearing price", fixed(g("capacity.clearing_price_yuan_per_kw_yr"), 2),
                 "yuan/kW·yr", cap_note))
    per_mwh = s.get("consumer_cost_yuan_per_mwh") or {}
    parts = ", ".join(f"{k.replace('_', ' ')} {fixed(_get(per_mwh, k), 2)}"
                      for k in per_mwh if k != "total")
    rows.append(("Consumer cost per MWh served", fixed(g("consumer_cost_yuan_per_mwh.total"), 2),
                 "yuan/MWh", parts))
    rows.append(("Consumer cost of the year", fixed(g("consumer_cost_yuan.total"), 1,
                                                    MONEY_DIVISOR), MONEY_UNIT,
                 f"load served {fixed(g('energy.served_load_mwh'), 0, MWH_PER_GWH)} GWh"))
    unserved, load = g("energy.unserved_mwh"), g("energy.load_mwh")
    rows.append(("Unserved energy (EUE)", fixed(unserved if unserved is not None
                                                else g("reliability.eue_mwh"), 1), "MWh",
                 f"{fixed(100.0 * unserved / load, 4)} % of load"
                 if unserved is not None and load else ""))
    standard, met = g("reliability.standard_lole_hours"), (s.get("reliability") or {}).get(
        "meets_standard")
    rows.append(("Loss-of-load hours (LOLE)", fixed(g("reliability.lole_hours")), "h/yr",
                 "" if standard is None else
                 f"standard {standard:g} h: {'met' if met else 'not met'}"))
    rows.append(("Stress hours", fixed(g("energy.stress_hours")), "h",
                 "hours the market flagged as scarce (the pivotal and RSI figures below)"))
    rows.append(("CO2 emissions", fixed(g("emissions.co2_t"), 2, T_PER_MT), "Mt", ""))
    rows.append(("Emission intensity", fixed(g("emissions.intensity_t_per_mwh"), 3), "t/MWh",
                 "per MWh generated, storage discharge included"))
    share = g("renewable_share")
    rows.append(("Renewable share", fixed(None if share is None else 100.0 * share, 1), "%",
                 "wind and solar of generation (storage excluded)"))
    curtailed = g("energy.renewable_curtailed_mwh")
    available = _hourly_sum(hourly, "wind_available_mw", "solar_available_mw")
    rows.append(("Renewable curtailment", fixed(curtailed, 1, MWH_PER_GWH), "GWh",
                 f"{fixed(100.0 * curtailed / available, 2)} % of available wind and solar"
                 if curtailed is not None and available else ""))
    rows.append(("Coal capacity compensation paid (net)",
                 fixed(g("compensation.paid_yuan"), 1, MONEY_DIVISOR), MONEY_UNIT,
                 f"gross {fixed(g('compensation.gross_yuan'), 1, MONEY_DIVISOR)}, offset by "
                 f"capacity payments {fixed(g('compensation.offset_yuan'), 1, MONEY_DIVISOR)}"
                 f", deducted {fixed(g('compensation.deducted_yuan'), 1, MONEY_DIVISOR)}"))
    rows.append(("Certificate price (unbundled, average)",
                 fixed(g("green.avg_certificate_price_yuan"), 2), "yuan per certificate",
                 f"bundled green premium {fixed(g('green.avg_premium_yuan_per_mwh'), 2)} "
                 f"yuan/MWh; 1 certificate = 1 MWh"))
    rows.append(("Storage discharge", fixed(g("energy.storage_discharge_mwh"), 1, MWH_PER_GWH),
                 "GWh", f"charge {fixed(g('energy.storage_charge_mwh'), 1, MWH_PER_GWH)} GWh"))
    return rows


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


def cost_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Consumer cost by component: (component, million yuan, yuan per MWh served)."""
    costs = summary.get("consumer_cost_yuan") or {}
    per_mwh = summary.get("consumer_cost_yuan_per_mwh") or {}
    return [(k, fixed(_get(costs, k), 1, MONEY_DIVISOR), fixed(_get(per_mwh, k), 2))
            for k in costs]


def appendix_rows(summary: Mapping[str, Any]) -> list[list[Any]]:
    """Every leaf of the summary as [dotted key, value] (identifiers and years as text)."""
    return [[k, _as_shown(k, v)] for k, v in flatten(summary)]


def figure_sections(plot_files: Mapping[str, str]) -> list[dict[str, Any]]:
    """The figures of ``plot_files`` (name -> path relative to the page) by section: title,
    id, src, figure title and caption; figures no section names go last, under "Other"."""
    placed = {k for keys in FIGURE_SECTIONS.values() for k in keys}
    sections = [*FIGURE_SECTIONS.items(),
                ("Other figures", tuple(k for k in plot_files if k not in placed))]
    out = []
    for title, keys in sections:
        figures = [{"id": k, "src": plot_files[k], "title": CAPTIONS.get(k, (k, ""))[0],
                    "caption": CAPTIONS.get(k, (k, ""))[1]} for k in keys if k in plot_files]
        if figures:
            out.append({"title": title, "figures": figures})
    return out


def render_report(result: Any, plot_files: Mapping[str, str]) -> str:
    """The report page as text (``templates/report.html.j2``); ``plot_files`` maps plot names
    to paths relative to the page."""
    s = result.summary
    mp = s.get("market_power")
    if not isinstance(mp, Mapping):
        mp = market_power(result)
    provenance = [["rules", s.get("rules_name", "")], ["rules SHA-256", s.get("rules_sha256")],
                  ["seed", _as_shown("seed", s.get("seed"))],
                  ["year", _as_shown("year", s.get("year"))],
                  ["scale", s.get("scale")], ["hours", s.get("hours")]]
    return _environment().get_template("report.html.j2").render(
        name=s.get("rules_name", ""),
        seed=s.get("seed"),
        provenance=[row for row in provenance if row[1] is not None or row[0] == "seed"],
        money_unit=MONEY_UNIT,
        headline=headline_rows(s, result.hourly),
        sections=figure_sections(plot_files),
        cost_rows=cost_rows(s),
        appendix_rows=appendix_rows(s),
        **_market_power_rows(mp),
    )


def write_report(result: Any, out_dir: str | Path,
                 plot_worker: PlotWorker | Sequence[PlotWorker] | None = None) -> Path:
    """Write ``out_dir/report.html`` and the PNGs of :data:`~studies.output.plots.PLOT_FILES`
    in ``out_dir/plots/``; returns the path of ``report.html``. ``result`` is a
    :class:`studies.year.run.YearResult` (or anything with its ``summary``, ``hourly``,
    ``units``, ``capacity``, ``monthly`` and ``bids`` fields). ``plot_worker``: started
    :class:`~studies.output.plots.PlotWorker` (one, or several that share the plots,
    :func:`~studies.output.plots.start_workers`) that draw the plots while the page is
    written (the same bytes), sent the year here unless :func:`~studies.output.plots.send_year`
    sent it earlier; plots no worker draws are drawn here."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workers = ([] if plot_worker is None else
               [plot_worker] if isinstance(plot_worker, PlotWorker) else list(plot_worker))
    send_year(workers, result, out / "plots")  # no-op for those already sent this year
    left = tuple(n for n in PLOT_FILES if not any(n in w.names for w in workers))
    if left:
        draw_plots(plot_inputs(result), out / "plots", left)
    page = render_report(result, {k: f"plots/{v}" for k, v in PLOT_FILES.items()})
    path = out / "report.html"
    path.write_text(page, encoding="utf-8", newline="\n")
    for w in workers:
        w.wait()
    return path
