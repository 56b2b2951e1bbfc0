"""The year report (issue 14, item 3): the files it writes; what the page holds, from the
headline table with its units through the figures, each by id with a caption, to the appendix
with the full summary; what each figure draws; numbers written for reading; and that the same
result writes the same bytes. A hand-built YearResult-like object stands in for ``run_year``
(the contract's fields, filled from small arrays); one test runs a real year."""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studies.metrics import market_power
from studies.output.plots import (
    PLOT_FILES,
    PLOT_SPLIT,
    capacity_auction,
    consumer_cost,
    merit_order,
    plot_inputs,
    price_duration,
    profit_by_technology,
    reliability,
    revenue_stack,
    storage,
    typical_week,
)
from studies.output.report import (
    CAPTIONS,
    FIGURE_SECTIONS,
    fixed,
    flatten,
    format_value,
    render_report,
    write_report,
)


@dataclass(frozen=True)
class FakeYear:
    summary: dict
    hourly: dict
    units: dict
    ledger: Any
    capacity: dict | None
    monthly: dict
    failures: dict
    bids: dict


def fake_year(n_hours: int = 360, with_market_power: bool = True) -> FakeYear:
    """A small year: 3 gencos' coal, wind and storage, one retailer, ``n_hours`` hours."""
    rng = np.random.default_rng(11)
    h = np.arange(n_hours)
    load = 800 + 200 * np.sin(2 * np.pi * h / 24) + rng.normal(0, 20, n_hours)
    wind_av = 300 + 150 * rng.random(n_hours)
    solar_av = np.clip(250 * np.sin(2 * np.pi * (h % 24 - 6) / 24), 0, None)
    price = 200 + 0.3 * (load - 800) + rng.normal(0, 10, n_hours)
    price[::50] = 1500.0
    stress = price >= 1500.0
    wind = wind_av * 0.9
    solar = solar_av
    discharge = np.where(h % 24 == 19, 50.0, 0.0)
    charge = np.where(h % 24 == 12, 60.0, 0.0)
    export = np.full(n_hours, 100.0)
    coal = np.clip(load + export + charge - wind - solar - discharge, 0, None)
    unserved = np.where(np.isin(h, [17, 41]), 6.25, 0.0)  # 2 hours with lost load
    hourly = {
        "hour": h, "price_yuan_per_mwh": price, "load_mw": load,
        "unserved_mw": unserved, "curtailed_mw": wind_av - wind,
        "served_load_mw": load - unserved, "co2_t": coal * 0.85, "coal_mw": coal,
        "wind_mw": wind, "solar_mw": solar,
        "storage_discharge_mw": discharge, "storage_charge_mw": charge, "export_mw": export,
        "wind_available_mw": wind_av, "solar_available_mw": solar_av, "stress": stress,
        "reserve_margin": rng.random(n_hours),
    }
    units = {
        "unit_id": np.array(["coal-1", "coal-2", "wind-1", "solar-1", "storage-1"]),
        "owner": np.array(["genco-1", "genco-2", "genco-3", "genco-1", "genco-2"]),
        "technology": np.array(["coal_supercritical", "coal_subcritical", "wind", "solar",
                                "storage"]),
        "nameplate_mw": np.array([600.0, 350.0, 500.0, 500.0, 100.0]),
        "accredited_mw": np.array([528.0, 297.5, 50.0, 15.0, 60.0]),
        "marginal_cost_yuan_per_mwh": np.array([250.0, 300.0, 0.0, 0.0, 0.0]),
        "energy_mwh": np.array([3e5, 1e5, 1.2e5, 4e4, 1e3]),
        "profit_yuan": np.array([2.5e7, -4e6, 3e7, 8e6, 1e6]),
        "fixed_cost_recovery": np.array([1.1, 0.7, 1.5, 1.2, np.nan]),
    }
    for col in ("energy_revenue_yuan", "capacity_revenue_yuan", "performance_penalty_yuan",
                "compensation_yuan", "deduction_yuan", "green_revenue_yuan",
                "storage_compensation_yuan", "variable_cost_yuan", "fixed_cost_yuan"):
        units[col] = np.linspace(1e5, 5e6, 5)
    capacity = {
        "offers": {"unit_id": np.array(["coal-1", "coal-2", "wind-1", "storage-1"]),
                   "mw": np.array([528.0, 297.5, 50.0, 60.0]),
                   "price_yuan_per_kw_yr": np.array([120.0, 300.0, 0.0, 80.0]),
                   "accepted_mw": np.array([528.0, 162.0, 50.0, 60.0])},
        "demand_points": [[700.0, 495.0], [800.0, 248.0], [900.0, 0.0]],
        "price": 300.0,
        "cleared_mw": 800.0,
    }
    month = np.arange(1, 13)
    monthly = {
        "month": month,
        "compensation_paid_yuan": np.full(12, 2.0e6),
        "compensation_deducted_yuan": np.where(month == 7, 2.0e5, 0.0),
        "failures": np.where(month == 7, 2, 0),
        "certificates_issued": 1000 + 100 * month,
        "certificates_traded": 500 + 50 * month,
        "certificates_retired": np.full(12, 300),
        "green_premium_yuan_per_mwh": np.full(12, 20.0),
    }
    # per hour: coal-1, coal-2 and wind-1 offer, the retailer bids
    n = n_hours
    bids = {
        "hour": np.repeat(h, 4),
        "owner": np.tile(np.array(["genco-1", "genco-2", "genco-3", "retailer-1"]), n),
        "unit_id": np.tile(np.array(["coal-1", "coal-2", "wind-1", ""]), n),
        "side": np.tile(np.array([1, 1, 1, -1], dtype=np.int8), n),
        "price_yuan_per_mwh": np.tile(np.array([260.0, 330.0, 0.0, 1500.0]), n),
        "quantity_mw": np.column_stack([np.full(n, 600.0), np.full(n, 350.0), wind_av,
                                        load]).ravel(),
        "accepted_mw": np.column_stack([np.minimum(coal, 600.0),
                                        np.clip(coal - 600.0, 0, 350.0), wind, load]).ravel(),
        "marginal_cost_yuan_per_mwh": np.tile(np.array([250.0, 300.0, 0.0, np.nan]), n),
    }
    summary = {
        "energy": {"avg_price_yuan_per_mwh": 231.25, "simple_avg_price_yuan_per_mwh": 229.5,
                   "min_price_yuan_per_mwh": float(price.min()),
                   "max_price_yuan_per_mwh": float(price.max()),
                   "stress_hours": int(stress.sum()), "unserved_mwh": 12.5,
                   "load_mwh": float(load.sum()), "served_load_mwh": float(load.sum()) - 12.5,
                   "renewable_curtailed_mwh": float((wind_av - wind).sum()),
                   "storage_discharge_mwh": float(discharge.sum()),
                   "storage_charge_mwh": float(charge.sum())},
        "emissions": {"co2_t": float(coal.sum() * 0.85), "intensity_t_per_mwh": 0.6123},
        "capacity": {"enabled": True, "clearing_price_yuan_per_kw_yr": 300.0,
                     "cleared_mw": 800.0, "requirement_mw": 820.0,
                     "net_cone_yuan_per_kw_yr": 165.0},
        "compensation": {"paid_yuan": 2.4e7, "gross_yuan": 2.6e7, "offset_yuan": 1.8e6,
                         "deducted_yuan": 2.0e5},
        "green": {"certificates_issued": 19_800, "certificates_retired": 3_600,
                  "avg_premium_yuan_per_mwh": 20.0, "avg_certificate_price_yuan": 35.5},
        "renewable_share": 0.3125,
        "consumer_cost_yuan": {"energy": 1.6e9, "capacity": 2.4e8, "compensation": 2.4e7,
                               "green": 3.0e6, "storage_compensation": 1.1e6,
                               "total": 1.8681e9},
        "consumer_cost_yuan_per_mwh": {"energy": 231.0, "capacity": 34.65,
                                       "compensation": 3.465, "green": 0.433,
                                       "storage_compensation": 0.159, "total": 269.707},
        "reliability": {"lole_hours": 2, "eue_mwh": 12.5, "standard_lole_hours": 3.0,
                        "meets_standard": True},
        "ledger": {"imbalance_yuan": -4.0e-17},
        "seed": 7, "year": 2025, "rules_sha256": "ab" * 32, "rules_name": "mengxi-test",
        "scale": 0.01, "hours": n_hours,
    }
    year = FakeYear(summary, hourly, units, None, capacity, monthly,
                    {"unit_id": np.array(["coal-2"]), "month": np.array([7]),
                     "failures": np.array([2])}, bids)
    if with_market_power:
        summary["market_power"] = market_power(year)
    return year


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def page(year: Any) -> str:
    """The report page alone (no plots drawn), as ``write_report`` writes it."""
    return render_report(year, {k: f"plots/{v}" for k, v in PLOT_FILES.items()})


def section(html: str, start: str, end: str | None = None) -> str:
    """The page from the heading with id ``start`` to the next ``<h2`` (or ``end``)."""
    i = html.index(f'<h2 id="{start}">')
    j = html.index(end, i) if end else html.find("<h2", i + 4)
    return html[i:] if j < 0 else html[i:j]


def digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The fake year's report, written once: (folder, page)."""
    out = tmp_path_factory.mktemp("report")
    path = write_report(fake_year(), out)
    return out, path.read_text(encoding="utf-8")


# --------------------------------------------------------------------- files and page


def test_write_report_writes_the_page_and_a_fixed_size_png_per_figure(tmp_path: Path):
    path = write_report(fake_year(), tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    plots = sorted(p.name for p in (tmp_path / "out" / "plots").iterdir())
    assert plots == sorted(PLOT_FILES.values())
    assert len(plots) >= 16
    for name in plots:
        assert png_size(tmp_path / "out" / "plots" / name) == (1000, 500)


@pytest.mark.parametrize("key", list(PLOT_FILES))
def test_every_figure_is_in_the_page_by_id_with_its_caption_and_png(
        key: str, written: tuple[Path, str]):
    out, html = written
    title, caption = CAPTIONS[key]
    match = re.search(rf'<figure id="{key}"><img src="([^"]+)" alt="([^"]*)" width="1000" '
                      rf'height="500"><figcaption>(.*?)</figcaption></figure>', html)
    assert match, f"no <figure id={key!r}> with an image and a caption"
    src, alt, text = match.groups()
    assert src == f"plots/{PLOT_FILES[key]}"
    assert alt == escape(title)
    assert text == f"<strong>{escape(title)}.</strong> {escape(caption)}"
    assert len(caption) > 60  # says what to look for, not just the title again
    png = out / src
    assert png.is_file() and png.stat().st_size > 5_000
    assert f'<a href="#{key}">' in html  # listed under "Figures"


def test_every_figure_has_one_section_a_caption_and_a_worker():
    placed = [k for keys in FIGURE_SECTIONS.values() for k in keys]
    assert sorted(placed) == sorted(PLOT_FILES)
    assert set(CAPTIONS) == set(PLOT_FILES)
    assert sorted(n for names in PLOT_SPLIT for n in names) == sorted(PLOT_FILES)


def test_page_order_is_provenance_headline_figures_cost_market_power_appendix(
        written: tuple[Path, str]):
    _, html = written
    marks = ["<h1>", 'id="headline"', 'id="figures"', '<figure id="price_duration"',
             'id="consumer-cost"', 'id="market-power"', 'id="appendix"']
    positions = [html.index(m) for m in marks]
    assert positions == sorted(positions)
    assert html.index('<figure id="profit_by_technology"') < html.index('id="consumer-cost"')


def test_headline_table_has_a_unit_on_every_row(written: tuple[Path, str]):
    _, html = written
    table = section(html, "headline", "</table>")
    rows = re.findall(r'<tr><td>([^<]+)</td><td class="num">([^<]+)</td><td>([^<]*)</td>'
                      r'<td class="note">([^<]*)</td></tr>', table)
    assert len(rows) >= 12
    assert all(unit.strip() for _, _, unit, _ in rows)
    by_name = {name: (value, unit, note) for name, value, unit, note in rows}
    assert by_name["Average energy price (load-weighted)"][:2] == ("231.25", "yuan/MWh")
    assert by_name["Capacity clearing price"][:2] == ("300.00", "yuan/kW·yr")
    assert "Net CONE 165.00" in by_name["Capacity clearing price"][2]
    assert by_name["Consumer cost per MWh served"][:2] == ("269.71", "yuan/MWh")
    assert by_name["Consumer cost of the year"][:2] == ("1,868.1", "million yuan")
    assert by_name["Unserved energy (EUE)"][:2] == ("12.5", "MWh")
    assert by_name["Loss-of-load hours (LOLE)"] == ("2", "h/yr", "standard 3 h: met")
    assert by_name["CO2 emissions"][1] == "Mt"
    assert by_name["Emission intensity"][:2] == ("0.612", "t/MWh")
    assert by_name["Renewable share"][:2] == ("31.2", "%")
    assert by_name["Renewable curtailment"][1] == "GWh"
    assert by_name["Coal capacity compensation paid (net)"][:2] == ("24.0", "million yuan")
    assert by_name["Certificate price (unbundled, average)"][:2] == (
        "35.50", "yuan per certificate")
    assert "money in million yuan" in html


def test_money_has_one_unit_in_the_page(written: tuple[Path, str]):
    _, html = written
    body = html[:html.index('id="appendix"')]
    assert "billion" not in body and "thousand yuan" not in body
    cost = section(html, "consumer-cost")
    assert "<th>million yuan</th>" in cost
    assert '<td class="num">1,600.0</td><td class="num">231.00</td>' in cost


def test_appendix_holds_the_full_summary(written: tuple[Path, str]):
    _, html = written
    appendix = section(html, "appendix")
    year = fake_year()
    leaves = list(flatten(year.summary))
    assert len(leaves) > 40  # market power included
    for key, _ in leaves:
        assert f"<td><code>{escape(key)}</code></td>" in appendix, key
    assert "market_power.hhi.energy" in appendix
    assert "consumer_cost_yuan.energy" in appendix


def test_identifiers_and_years_are_not_written_as_quantities():
    year = fake_year()
    year = replace(year, summary=dict(year.summary, seed=20231005))
    html = page(year)
    assert "20,231,005" not in html and "2,025" not in html
    assert "<td>seed</td><td>20231005</td>" in html
    assert "<td>year</td><td>2025</td>" in html
    assert "<td><code>seed</code></td><td>20231005</td>" in html


def test_float_noise_is_written_as_zero():
    html = page(fake_year())
    assert "e-17" not in html
    assert '<td><code>ledger.imbalance_yuan</code></td><td class="num">0</td>' in html
    assert format_value(-4e-17) == "0"
    assert fixed(-0.004, 2) == "0.00" and fixed(-0.006, 2) == "-0.01"
    assert fixed(None) == "\u2014" and fixed(2.5e9, 1, 1e6) == "2,500.0"


def test_market_power_is_computed_when_the_summary_lacks_it():
    year = fake_year(with_market_power=False)
    assert "market_power" not in year.summary
    html = page(year)
    assert format_value(market_power(year)["hhi"]["energy"]) in html


def test_page_holds_provenance_market_power_and_is_self_contained(written: tuple[Path, str]):
    out, html = written
    year = fake_year()
    assert "mengxi-test" in html
    assert "ab" * 32 in html  # the full SHA-256
    assert re.search(r"<td>seed</td><td>7</td>", html)
    hhi = year.summary["market_power"]["hhi"]["energy"]
    assert format_value(hhi) in section(html, "market-power")
    for owner in ("genco-1", "genco-2", "genco-3"):
        assert f"<code>{owner}</code>" in html
    # self-contained: no scripts, nothing fetched; every image is one of our PNGs, present
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources == [f"plots/{f}" for f in PLOT_FILES.values()]
    for src in sources:
        assert (out / src).is_file()


def test_same_result_writes_the_same_bytes(tmp_path: Path):
    write_report(fake_year(), tmp_path / "a")
    write_report(fake_year(), tmp_path / "b")
    a, b = digest_tree(tmp_path / "a"), digest_tree(tmp_path / "b")
    assert len(a) == 1 + len(PLOT_FILES)
    assert a == b


def test_without_capacity_market_the_report_still_has_every_plot(tmp_path: Path):
    year = fake_year()
    summary = dict(year.summary, capacity={"enabled": False,
                                           "clearing_price_yuan_per_kw_yr": None,
                                           "cleared_mw": 0.0})
    year = replace(year, capacity=None, summary=summary)
    html = write_report(year, tmp_path).read_text(encoding="utf-8")
    assert png_size(tmp_path / "plots" / PLOT_FILES["capacity_auction"]) == (1000, 500)
    assert re.search(r"capacity\.clearing_price_yuan_per_kw_yr</code></td><td>\u2014</td>", html)
    assert "no capacity market cleared under these rules" in html
    fig = capacity_auction(None)
    assert all("no capacity market" in ax.texts[0].get_text() for ax in fig.axes)


def test_text_from_the_rules_is_escaped():
    year = fake_year()
    year = replace(year, summary=dict(year.summary, rules_name="<script>alert(1)</script>"))
    html = page(year)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_quotes_are_escaped_as_html_escape_does(tmp_path: Path):
    # the page is rendered from a Jinja2 template but keeps the bytes of html.escape
    year = fake_year()
    year = replace(year, summary=dict(year.summary, rules_name="a'b\"c&d"))
    html = page(year)
    path = write_report(year, tmp_path)
    assert path.read_text(encoding="utf-8") == html
    assert "<code>a&#x27;b&quot;c&amp;d</code>" in html
    assert "<title>Mengxi year: a&#x27;b&quot;c&amp;d, seed 7</title>" in html
    assert "<strong>Profit by technology.</strong> Producers&#x27; profit" in html
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n")
    assert html.endswith("</table>\n</body>\n</html>\n")


# --------------------------------------------------------------------- what the plots draw


def test_price_duration_curve_is_the_prices_sorted_high_to_low_with_a_tail_panel():
    year = fake_year()
    price = np.minimum(year.hourly["price_yuan_per_mwh"], 400.0)
    price[[10, 200]] = 1500.0  # two scarcity hours, under 1 % of 360
    hourly = dict(year.hourly, price_yuan_per_mwh=price)
    body, tail = price_duration(hourly).axes
    y = body.lines[0].get_ydata()
    assert np.array_equal(y, np.sort(price)[::-1])
    assert np.array_equal(body.lines[0].get_xdata(), np.arange(1, 361))
    # the body's axis stops near the 99th percentile; the tail panel has the top 1 % (4 h)
    p99 = np.percentile(price, 99)
    assert body.get_ylim()[1] < 1500.0 and body.get_ylim()[1] == pytest.approx(p99, rel=0.1)
    assert tail.lines[0].get_ydata().tolist() == y[:4].tolist()
    assert tail.get_ylim()[1] > 1500.0


def test_typical_week_is_the_week_nearest_the_median_week():
    # weekly means 1, 5, 3 (+ a partial week ignored): median 3 -> the third week
    load = np.concatenate([np.full(168, 1.0), np.full(168, 5.0), np.full(168, 3.0),
                           np.full(10, 100.0)])
    assert typical_week(load) == slice(336, 504)
    # four weeks 1, 2, 4, 8: median 3, weeks 2 and 4 tie at distance 1 -> the earlier one
    load = np.repeat([1.0, 2.0, 4.0, 8.0], 168)
    assert typical_week(load) == slice(168, 336)
    assert typical_week(np.ones(50)) == slice(0, 50)


def test_merit_order_is_the_peak_hours_offers_and_bids_with_the_clearing_point():
    year = fake_year()
    data = plot_inputs(year)
    hour = data["merit_order"]
    peak = int(np.argmax(year.hourly["load_mw"]))
    assert hour["hour"] == peak and len(hour["side"]) == 4  # that hour's rows only
    ax = merit_order(hour).axes[0]
    supply, demand = ax.patches[0], ax.patches[1]
    values, edges, _ = supply.get_data()
    assert values.tolist() == [0.0, 260.0, 330.0]  # wind, coal-1, coal-2 by price
    assert edges.tolist() == pytest.approx(
        [0.0, year.hourly["wind_available_mw"][peak], year.hourly["wind_available_mw"][peak]
         + 600.0, year.hourly["wind_available_mw"][peak] + 950.0])
    assert demand.get_data()[0].tolist() == [1500.0]
    star = [ln for ln in ax.lines if ln.get_marker() == "*"][0]
    assert star.get_ydata()[0] == year.hourly["price_yuan_per_mwh"][peak]
    accepted = year.bids["accepted_mw"][year.bids["hour"] == peak]
    sell = year.bids["side"][year.bids["hour"] == peak] > 0
    assert star.get_xdata()[0] == pytest.approx(accepted[sell].sum())
    assert "no bids" in merit_order(None).axes[0].texts[0].get_text()


def test_capacity_plot_marks_the_clearing_point_requirement_and_net_cone():
    year = fake_year()
    fig = capacity_auction(year.capacity, year.summary["capacity"], year.units)
    ax, techs = fig.axes
    star = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(star) == 1
    assert (star[0].get_xdata()[0], star[0].get_ydata()[0]) == (800.0, 300.0)
    # the staircase: offers by price 0 (50 MW), 80 (60), 120 (528), 300 (297.5)
    stairs = ax.patches[0]
    values, edges, _ = stairs.get_data()
    assert values.tolist() == [0.0, 80.0, 120.0, 300.0]
    assert edges.tolist() == [0.0, 50.0, 110.0, 638.0, 935.5]
    labels = ax.get_legend_handles_labels()[1]
    assert "requirement 820 MW" in labels and "Net CONE 165.00" in labels
    # cleared MW by technology: the offers' accepted MW summed
    names = [t.get_text() for t in techs.get_yticklabels()]
    widths = [p.get_width() for p in techs.patches]
    cleared = dict(zip(names, widths[len(names):], strict=True))
    assert cleared == {"coal_subcritical": 162.0, "coal_supercritical": 528.0,
                       "storage": 60.0, "wind": 50.0}


def test_an_offer_cap_the_summary_gives_is_drawn_or_noted():
    year = fake_year()
    terms = dict(year.summary["capacity"], offer_cap_yuan_per_kw_yr=400.0)
    labels = capacity_auction(year.capacity, terms).axes[0].get_legend_handles_labels()[1]
    assert "offer cap 400" in labels
    terms = dict(year.summary["capacity"], offer_cap_yuan_per_kw_yr=4000.0)
    labels = capacity_auction(year.capacity, terms).axes[0].get_legend_handles_labels()[1]
    assert "offer cap 4,000 (above the axis)" in labels


def test_consumer_cost_bars_are_per_mwh_and_in_million_yuan():
    year = fake_year()
    per_mwh, money = consumer_cost(year.summary).axes
    assert [p.get_height() for p in per_mwh.patches] == pytest.approx(
        [231.0, 34.65, 3.465, 0.433, 0.159])
    assert [p.get_height() for p in money.patches] == pytest.approx(
        [1600.0, 240.0, 24.0, 3.0, 1.1])
    assert "total 1,868.1 million yuan" in money.get_title()
    assert "total 269.71 yuan/MWh served" in per_mwh.get_title()


def test_profit_bars_sum_units_by_technology_in_million_yuan():
    year = fake_year()
    ax = profit_by_technology(year.units).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    heights = dict(zip(labels, [p.get_height() for p in ax.patches], strict=True))
    # million yuan: coal_sc 25, coal_sub -4, wind 30, solar 8, storage 1
    assert heights == pytest.approx({"coal_subcritical": -4.0, "coal_supercritical": 25.0,
                                     "solar": 8.0, "storage": 1.0, "wind": 30.0})
    assert ax.get_ylabel() == "million yuan"


def test_revenue_stack_nets_to_revenue_less_variable_cost_beside_fixed_cost():
    year = fake_year()
    ax = revenue_stack(year.units).axes[0]
    diamond = [ln for ln in ax.lines if ln.get_marker() == "D"][0]
    u = year.units
    # every money column is linspace(1e5, 5e6, 5): revenue columns minus penalty, funding
    # charge and variable cost
    plus = ("energy_revenue_yuan", "capacity_revenue_yuan", "compensation_yuan",
            "green_revenue_yuan", "storage_compensation_yuan")
    net = sum(u[c] for c in plus) - u["performance_penalty_yuan"] - u["variable_cost_yuan"]
    order = np.argsort(u["technology"])
    assert diamond.get_ydata() == pytest.approx(net[order] / 1e6)
    hatched = [p for p in ax.patches if p.get_hatch() == "//"]
    assert [p.get_height() for p in hatched] == pytest.approx(u["fixed_cost_yuan"][order] / 1e6)


def test_storage_week_approximates_the_state_of_charge_from_charge_and_discharge():
    year = fake_year()
    week = storage(year.hourly, year.units).axes
    soc = [ax for ax in week if ax.get_ylabel().startswith("MWh stored")][0]
    level = soc.lines[0].get_ydata()
    charge, discharge = year.hourly["storage_charge_mw"], year.hourly["storage_discharge_mw"]
    ratio = discharge.sum() / charge.sum()
    span = typical_week(year.hourly["load_mw"])
    expected = np.cumsum(charge[span] * ratio - discharge[span])
    assert level == pytest.approx(expected - min(expected.min(), 0.0))
    assert "round trip 0.83" in soc.lines[0].get_label()


def test_reliability_counts_stress_and_lost_load_hours_against_the_standard():
    year = fake_year()
    data = plot_inputs(year)
    month, day, lole = reliability(year.hourly, year.summary, data["lost_load_hours"]).axes
    heights = [p.get_height() for p in month.patches]
    assert sum(heights[:12]) == year.summary["energy"]["stress_hours"]
    assert sum(heights[12:]) == 2  # hours 17 and 41 lost load
    day_heights = [p.get_height() for p in day.patches]
    assert day_heights[24 + 17] == 2  # both at 17:00
    assert [p.get_height() for p in lole.patches] == [2.0]
    assert lole.lines[0].get_ydata()[0] == 3.0  # the standard
    assert lole.get_title() == "EUE 12.5 MWh"


def test_figures_say_why_a_panel_is_empty_rather_than_fail():
    year = fake_year()
    units = {k: v[:0] for k, v in year.units.items()}
    assert "no units" in revenue_stack(units).axes[0].texts[0].get_text()
    no_storage = {k: v[:2] for k, v in year.units.items()}
    assert "no storage units" in storage(year.hourly, no_storage).axes[1].texts[0].get_text()
    assert "no reliability" in reliability(year.hourly, {}).axes[2].texts[0].get_text()


def test_value_format():
    assert format_value(None) == "\u2014"
    assert format_value(1234567) == "1,234,567"
    assert format_value(1234567.8) == "1,234,568"
    assert format_value(12.345) == "12.35"
    assert format_value(0.0123456) == "0.01235"
    assert format_value(True) == "yes"


# --------------------------------------------------------------------- a real year


@pytest.mark.slow
def test_a_real_small_year_writes_the_same_report_twice(tmp_path: Path):
    from market.rules import load_preset
    from studies.year.run import run_year

    rules = load_preset("mengxi")
    first = run_year(rules, 0, scale=0.02)
    assert first.summary["energy"]["stress_hours"] > 0  # the pivotal/RSI section has data
    path = write_report(first, tmp_path / "a")
    write_report(run_year(rules, 0, scale=0.02), tmp_path / "b")
    a, b = digest_tree(tmp_path / "a"), digest_tree(tmp_path / "b")
    assert len(a) == 1 + len(PLOT_FILES) and a == b
    html = path.read_text(encoding="utf-8")
    assert rules.sha256() in html and "<code>mengxi</code>" in html
    rsi = first.summary["market_power"]["rsi"]["mean"]
    assert format_value(rsi) in html
    for key, name in PLOT_FILES.items():
        assert png_size(tmp_path / "a" / "plots" / name) == (1000, 500)
        assert f'<figure id="{key}">' in html
    appendix = section(html, "appendix")
    for key, _ in flatten(first.summary):
        assert f"<td><code>{escape(key)}</code></td>" in appendix
