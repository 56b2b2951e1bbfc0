"""Files of a pathway: ``pathway.json`` (pinned: ``{"years": [...]}``, one record per year with
exactly the keys of :data:`RECORD_KEYS`), ``pathway.csv`` and ``pathway.parquet`` (one row per
year: the record flattened, ``built_mw_wind`` and so on, then the details: backup MW, cost
components per MWh, margins per kW), and ``report.html`` with its plots in ``plots/``.

Everything is written deterministically (sorted JSON keys, fixed float formats, parquet with
fixed options, PNGs without the "Software" metadata): the same pathway gives the same bytes.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from studies.output.files import PARQUET_OPTIONS, csv_text, json_text
from studies.pathway.rules import TECHNOLOGIES
from studies.pathway.run import COST_COMPONENTS, PathwayResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The keys of each year's record in ``pathway.json``, in the issue's order.
RECORD_KEYS = ("year", "capacity_price_yuan_per_kw_yr", "built_mw", "retired_mw", "installed_mw",
               "lole_hours", "eue_mwh", "consumer_cost_yuan_per_mwh", "reserve_margin")
#: Keys whose value is a {technology: MW} table.
TECH_KEYS = ("built_mw", "retired_mw", "installed_mw")
FILES = ("pathway.json", "pathway.csv", "pathway.parquet", "report.html")
PLOT_FILES = {"installed": "installed_mw.png", "changes": "builds_retirements.png",
              "prices": "prices.png", "lole": "lole.png", "consumer_cost": "consumer_cost.png"}
_COLORS = {"coal_ultra_supercritical": "#252525", "coal_supercritical": "#636363",
           "coal_subcritical": "#969696", "wind": "#2b8cbe", "solar": "#fdae61",
           "storage": "#7b3294"}


def pathway_json(result: PathwayResult) -> dict[str, Any]:
    """The pinned document: ``{"years": [record, ...]}``."""
    return {"years": [{k: rec[k] for k in RECORD_KEYS} for rec in result.years]}


def pathway_columns(result: PathwayResult) -> dict[str, np.ndarray]:
    """One row per year: the record's scalars, each technology table as ``<key>_<tech>``
    columns, then the details."""
    cols: dict[str, list[Any]] = {}
    for rec, det in zip(result.years, result.details, strict=True):
        row: dict[str, Any] = {}
        for k in RECORD_KEYS:
            if k in TECH_KEYS:
                row.update({f"{k}_{t}": rec[k][t] for t in TECHNOLOGIES})
            else:
                row[k] = rec[k]
        row.update({k: v for k, v in det.items() if k != "year"})
        for k, v in row.items():
            cols.setdefault(k, []).append(v)
    out: dict[str, np.ndarray] = {}
    for k, values in cols.items():
        if k in ("year", "lole_hours", "lole_hours_before_backup"):
            out[k] = np.asarray(values, dtype=np.int64)
        else:
            out[k] = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return out


def _write_parquet(path: Path, columns: dict[str, np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array(v) for v in columns.values()], names=list(columns))
    pq.write_table(table, path, **PARQUET_OPTIONS)


def write_pathway(result: PathwayResult, out_dir: str | Path) -> Path:
    """Write every file of :data:`FILES` and the plots into ``out_dir``; returns it."""
    out = Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    (out / "pathway.json").write_bytes(json_text(pathway_json(result)).encode("utf-8"))
    columns = pathway_columns(result)
    (out / "pathway.csv").write_bytes(csv_text(columns).encode("utf-8"))
    _write_parquet(out / "pathway.parquet", columns)
    figures = plots(result)
    for name, fig in figures.items():
        fig.savefig(out / "plots" / PLOT_FILES[name], format="png", dpi=100,
                    metadata={"Software": None})
    (out / "report.html").write_bytes(report_html(result).encode("utf-8"))
    return out


def _figure(title: str) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 5.0), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return fig, ax


def plots(result: PathwayResult) -> dict[str, Figure]:
    """The report's figures by :data:`PLOT_FILES` name."""
    years = np.array([r["year"] for r in result.years])
    figs: dict[str, Figure] = {}

    fig, ax = _figure("Installed capacity by technology")
    stack = [np.array([r["installed_mw"][t] for r in result.years]) for t in TECHNOLOGIES]
    ax.stackplot(years, stack, labels=list(TECHNOLOGIES),
                 colors=[_COLORS[t] for t in TECHNOLOGIES])
    backup = np.array([d["backup_mw"] for d in result.details])
    if backup.any():
        ax.plot(years, np.sum(stack, axis=0) + backup, "k--", label="+ emergency backup")
    ax.set_ylabel("MW")
    ax.legend(loc="upper left", fontsize=8)
    figs["installed"] = fig

    fig, ax = _figure("Capacity entering (up) and closing (down) each year")
    width = 0.8 / len(TECHNOLOGIES)
    for i, t in enumerate(TECHNOLOGIES):
        built = np.array([r["built_mw"][t] for r in result.years])
        gone = np.array([r["retired_mw"][t] for r in result.years])
        x = years + (i - len(TECHNOLOGIES) / 2 + 0.5) * width
        ax.bar(x, built, width, color=_COLORS[t], label=t)
        ax.bar(x, -gone, width, color=_COLORS[t], hatch="//", edgecolor="white")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("MW")
    ax.legend(loc="upper left", fontsize=8)
    figs["changes"] = fig

    fig, ax = _figure("Prices")
    ax.plot(years, [d["avg_energy_price_yuan_per_mwh"] for d in result.details], "o-",
            label="energy, load-weighted (yuan/MWh)")
    caps = [r["capacity_price_yuan_per_kw_yr"] for r in result.years]
    if any(c is not None for c in caps):
        ax.plot(years, [np.nan if c is None else c for c in caps], "s-",
                label="capacity clearing price (yuan/kW-yr)")
    ax.legend(loc="upper left", fontsize=8)
    figs["prices"] = fig

    fig, ax = _figure("Loss of load against the standard")
    ax.bar(years, [r["lole_hours"] for r in result.years], color="#d7191c", label="LOLE, hours")
    ax.plot(years, [d["lole_hours_before_backup"] for d in result.details], "kx",
            label="LOLE before emergency backup")
    ax.axhline(result.standard_lole_hours, color="black", linestyle="--",
               label=f"standard ({result.standard_lole_hours:g} h)")
    ax.set_ylabel("hours")
    ax.legend(loc="upper left", fontsize=8)
    figs["lole"] = fig

    fig, ax = _figure("Consumer cost per MWh by component")
    bottom = np.zeros(len(years))
    for c in COST_COMPONENTS:
        v = np.array([d[f"cost_{c}_yuan_per_mwh"] for d in result.details])
        ax.bar(years, v, bottom=bottom, label=c)
        bottom += v
    ax.set_ylabel("yuan/MWh of load")
    ax.legend(loc="upper left", fontsize=8)
    figs["consumer_cost"] = fig
    for fig in figs.values():
        fig.axes[0].set_xticks(years, [str(y) for y in years])
    return figs


def report_html(result: PathwayResult) -> str:
    """A self-contained page: the figures (``plots/``) and the year table."""
    rows = []
    for rec, det in zip(result.years, result.details, strict=True):
        firm = sum(rec["installed_mw"][t] for t in TECHNOLOGIES if t.startswith("coal"))
        cap = rec["capacity_price_yuan_per_kw_yr"]
        rows.append(
            f"<tr><td>{rec['year']}</td><td>{firm:,.1f}</td>"
            f"<td>{rec['installed_mw']['storage']:,.1f}</td>"
            f"<td>{rec['installed_mw']['wind'] + rec['installed_mw']['solar']:,.1f}</td>"
            f"<td>{det['backup_mw']:,.1f}</td>"
            f"<td>{sum(rec['built_mw'].values()):,.1f}</td>"
            f"<td>{sum(rec['retired_mw'].values()):,.1f}</td>"
            f"<td>{'-' if cap is None else f'{cap:,.2f}'}</td>"
            f"<td>{det['avg_energy_price_yuan_per_mwh']:,.2f}</td>"
            f"<td>{rec['reserve_margin']:.3f}</td><td>{rec['lole_hours']}</td>"
            f"<td>{rec['eue_mwh']:,.1f}</td><td>{rec['consumer_cost_yuan_per_mwh']:,.2f}</td></tr>")
    images = "\n".join(f'<h2>{html.escape(name.replace("_", " "))}</h2>'
                       f'<img src="plots/{f}" alt="{html.escape(name)}" width="1000">'
                       for name, f in PLOT_FILES.items())
    title = html.escape(f"Pathway: {result.rules_name}, seed {result.seed}, "
                        f"scale {result.scale:g}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}</style></head><body>
<h1>{title}</h1>
<p>MW at the run's scale. Coal = the three coal classes; backup = closed coal kept as emergency
backup (serves unserved load only). LOLE standard {result.standard_lole_hours:g} h a year.</p>
<table><tr><th>year</th><th>coal MW</th><th>storage MW</th><th>wind + solar MW</th>
<th>backup MW</th><th>built MW</th><th>retired MW</th><th>capacity price yuan/kW-yr</th>
<th>energy price yuan/MWh</th><th>reserve margin</th><th>LOLE h</th><th>EUE MWh</th>
<th>consumer cost yuan/MWh</th></tr>
{chr(10).join(rows)}
</table>
{images}
</body></html>
"""
