"""The HTML report of one simulated year: ``write_report(result, out_dir)``.

``out_dir/report.html`` is one self-contained page (inline CSS, no scripts, nothing fetched)
apart from the seven PNGs it shows from ``out_dir/plots/``
(:data:`studies.output.plots.PLOT_FILES`).
It holds the provenance (rules name, SHA-256, seed, scale, hours), the summary table, the
consumer cost by component, the market-power section and the plots. Nothing in it depends on
the clock, so the same result writes the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from html import escape
from pathlib import Path
from typing import Any

from studies.metrics import RSI_SCREEN, market_power
from studies.output.plots import PLOT_FILES, write_plots

#: Caption of each plot, keyed like :data:`studies.output.plots.PLOT_FILES`.
CAPTIONS: dict[str, str] = {
    "price_duration": "Price duration curve: hourly energy prices from highest to lowest.",
    "dispatch_week": "A typical week of dispatch by technology (the week whose mean load is "
                     "closest to the median week), storage charging below zero.",
    "capacity_auction": "Capacity auction: offers as supply, the demand curve and the "
                        "clearing point.",
    "compensation_monthly": "Coal capacity compensation paid and deducted by month.",
    "certificates_monthly": "Green certificates issued, traded and retired by month.",
    "consumer_cost": "Consumer cost of the year by component.",
    "profit_by_technology": "Producers' profit by technology; labels give the fixed-cost "
                            "recovery (revenue net of variable cost over fixed cost).",
}

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1050px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { border: 1px solid #ddd; padding: .25em .7em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
code { font-size: .95em; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: .95em; }
""".strip()


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


def _cell(value: Any) -> str:
    is_num = isinstance(value, int | float) and not isinstance(value, bool)
    return f'<td class="num">{escape(format_value(value))}</td>' if is_num else \
        f"<td>{escape(format_value(value))}</td>"


def _table(header: list[str], rows: list[list[Any]], first_is_code: bool = True) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        first = f"<td><code>{escape(str(row[0]))}</code></td>" if first_is_code else _cell(row[0])
        out.append("<tr>" + first + "".join(_cell(v) for v in row[1:]) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _market_power_section(mp: Mapping[str, Any]) -> str:
    hhi = mp.get("hhi", {})
    labels = {"energy": "energy (accepted MWh, year)",
              "energy_stress_hours": "energy (accepted MWh, stress hours)",
              "capacity": "capacity (accepted MW)",
              "green": "green certificates (wind and solar MWh)"}
    parts = ["<h2>Market power</h2>",
             "<p>HHI is 10,000 \u00d7 the sum of squared owner shares (10,000 for a monopoly; "
             "above 2,500 counts as highly concentrated).</p>",
             _table(["market", "HHI"], [[labels.get(k, k), v] for k, v in hhi.items()])]
    pivotal = mp.get("pivotal", {})
    rsi = mp.get("rsi", {})
    screen = rsi.get("screen", RSI_SCREEN)
    parts.append(
        "<p>Over the {n} stress hours: an owner is <em>pivotal</em> when demand exceeds the "
        "supply of all other owners; the residual supply index (RSI) of an hour is the lowest "
        "share of demand the other owners could cover without one owner.</p>".format(
            n=escape(format_value(mp.get("stress_hours"))))
    )
    parts.append(_table(["figure", "value"], [
        ["share of stress hours with a pivotal owner", pivotal.get("share_of_stress_hours")],
        ["lowest RSI", rsi.get("min")],
        ["mean RSI", rsi.get("mean")],
        [f"share of stress hours with RSI below {format_value(screen)}",
         rsi.get("share_below_screen")],
    ], first_is_code=False))
    markup = mp.get("markup", {})
    offered = markup.get("offered_by_owner", {}) or {}
    accepted = markup.get("accepted_by_owner", {}) or {}
    by_owner = pivotal.get("by_owner", {}) or {}
    owners = sorted(set(offered) | set(accepted) | set(by_owner))
    rows = [[o, by_owner.get(o), offered.get(o), accepted.get(o)] for o in owners]
    rows.append(["all owners", None, markup.get("offered_all"), markup.get("accepted_all")])
    parts.append("<p>Markup is (offer price \u2212 marginal cost) / marginal cost, weighted by "
                 "offered or accepted MW, over offers with a positive marginal cost priced "
                 "above zero (must-run blocks at the floor take any price).</p>")
    parts.append(_table(["owner", "pivotal (share of stress hours)", "markup, offered",
                         "markup, accepted"], rows))
    return "\n".join(parts)


def render_report(result: Any, plot_files: Mapping[str, str]) -> str:
    """The report page as text; ``plot_files`` maps plot names to paths relative to the page."""
    s = result.summary
    mp = s.get("market_power")
    if not isinstance(mp, Mapping):
        mp = market_power(result)
    name = s.get("rules_name", "")
    provenance = [["rules", name], ["rules SHA-256", s.get("rules_sha256")],
                  ["seed", s.get("seed")], ["scale", s.get("scale")], ["hours", s.get("hours")]]
    summary_rows = [[k, v] for k, v in flatten(
        {k: v for k, v in s.items() if k not in ("market_power", "consumer_cost_yuan")})]
    costs = s.get("consumer_cost_yuan") or {}
    figures = "\n".join(
        f'<figure><img src="{escape(path)}" alt="{escape(CAPTIONS.get(key, key))}" '
        f'width="1000" height="500"><figcaption>{escape(CAPTIONS.get(key, key))}'
        f"</figcaption></figure>"
        for key, path in plot_files.items())
    body = [
        f"<h1>Mengxi sandbox: a simulated year under <code>{escape(str(name))}</code></h1>",
        _table(["run", ""], provenance, first_is_code=False),
        "<h2>Summary</h2>",
        _table(["figure", "value"], summary_rows),
        "<h2>Consumer cost</h2>",
        _table(["component", "yuan"], [[k, v] for k, v in costs.items()]),
        _market_power_section(mp),
        "<h2>Plots</h2>",
        figures,
    ]
    title = f"Mengxi year: {name}, seed {s.get('seed')}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def write_report(result: Any, out_dir: str | Path) -> Path:
    """Write ``out_dir/report.html`` and the seven PNGs in ``out_dir/plots/``; returns the path
    of ``report.html``. ``result`` is a :class:`studies.year.run.YearResult` (or anything with its
    ``summary``, ``hourly``, ``units``, ``capacity``, ``monthly`` and ``bids`` fields)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_plots(result, out / "plots")
    page = render_report(result, {k: f"plots/{v}" for k, v in PLOT_FILES.items()})
    path = out / "report.html"
    path.write_text(page, encoding="utf-8", newline="\n")
    return path
