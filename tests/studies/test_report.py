"""The year report: the files it writes, what the page holds, what each plot draws, and that
the same result writes the same bytes. A hand-built YearResult-like object stands in for
``run_year`` (the contract's fields, filled from small arrays); one test runs a real year."""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studies.metrics import market_power
from studies.output.plots import (
    PLOT_FILES,
    capacity_auction,
    consumer_cost,
    price_duration,
    profit_by_technology,
    typical_week,
    yuan_scale,
)
from studies.output.report import format_value, render_report, write_report


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
    hourly = {
        "hour": h, "price_yuan_per_mwh": price, "load_mw": load,
        "unserved_mw": np.zeros(n_hours), "curtailed_mw": wind_av - wind,
        "served_load_mw": load, "co2_t": coal * 0.85, "coal_mw": coal, "wind_mw": wind,
        "solar_mw": solar,
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
                   "price_yuan_per_kw_yr": np.array([120.0, 300.0, 0.0, 80.0])},
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
                   "stress_hours": int(stress.sum())},
        "capacity": {"clearing_price_yuan_per_kw_yr": 300.0, "cleared_mw": 800.0},
        "compensation": {"paid_yuan": 2.4e7, "deducted_yuan": 2.0e5},
        "green": {"certificates_issued": 19_800, "certificates_retired": 3_600,
                  "avg_premium_yuan_per_mwh": 20.0},
        "renewable_share": 0.3125,
        "consumer_cost_yuan": {"energy": 1.6e9, "capacity": 2.4e8, "compensation": 2.4e7,
                               "green": 3.0e6, "storage_compensation": 1.1e6,
                               "total": 1.8681e9},
        "ledger": {"imbalance_yuan": 0},
        "seed": 7, "rules_sha256": "ab" * 32, "rules_name": "mengxi-test", "scale": 0.01,
        "hours": n_hours,
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


def digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------- files and page


def test_write_report_writes_the_page_and_seven_fixed_size_pngs(tmp_path: Path):
    path = write_report(fake_year(), tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    plots = sorted(p.name for p in (tmp_path / "out" / "plots").iterdir())
    assert plots == sorted(PLOT_FILES.values())
    assert len(plots) == 7
    for name in plots:
        assert png_size(tmp_path / "out" / "plots" / name) == (1000, 500)


def test_page_holds_provenance_summary_market_power_and_every_plot(tmp_path: Path):
    year = fake_year()
    html = write_report(year, tmp_path).read_text(encoding="utf-8")
    assert "mengxi-test" in html
    assert "ab" * 32 in html  # the full SHA-256
    assert re.search(r"<td>seed</td><td class=\"num\">7</td>", html)
    assert "energy.avg_price_yuan_per_mwh" in html and "231.25" in html
    assert "1,600,000,000" in html  # consumer cost, energy
    assert "<h2>Market power</h2>" in html
    hhi = year.summary["market_power"]["hhi"]["energy"]
    assert format_value(hhi) in html
    for owner in ("genco-1", "genco-2", "genco-3"):
        assert f"<code>{owner}</code>" in html
    # self-contained: no scripts, nothing fetched; every image is one of our PNGs, present
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources == [f"plots/{f}" for f in PLOT_FILES.values()]
    for src in sources:
        assert (tmp_path / src).is_file()


def test_market_power_is_computed_when_the_summary_lacks_it():
    year = fake_year(with_market_power=False)
    assert "market_power" not in year.summary
    html = page(year)
    assert format_value(market_power(year)["hhi"]["energy"]) in html


def test_same_result_writes_the_same_bytes(tmp_path: Path):
    write_report(fake_year(), tmp_path / "a")
    write_report(fake_year(), tmp_path / "b")
    a, b = digest_tree(tmp_path / "a"), digest_tree(tmp_path / "b")
    assert len(a) == 8
    assert a == b


def test_without_capacity_market_the_report_still_has_every_plot(tmp_path: Path):
    year = fake_year()
    summary = dict(year.summary, capacity={"clearing_price_yuan_per_kw_yr": None,
                                           "cleared_mw": 0.0})
    year = replace(year, capacity=None, summary=summary)
    html = write_report(year, tmp_path).read_text(encoding="utf-8")
    assert png_size(tmp_path / "plots" / PLOT_FILES["capacity_auction"]) == (1000, 500)
    assert re.search(r"capacity\.clearing_price_yuan_per_kw_yr</code></td><td>\u2014</td>", html)
    fig = capacity_auction(None)
    assert "no capacity market" in fig.axes[0].texts[0].get_text()


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
    assert 'alt="Producers&#x27; profit by technology;' in html
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n")
    assert html.endswith("</figure>\n</body>\n</html>\n")


# --------------------------------------------------------------------- what the plots draw


def test_price_duration_curve_is_the_prices_sorted_high_to_low():
    year = fake_year()
    line = price_duration(year.hourly).axes[0].lines[0]
    y = line.get_ydata()
    assert np.array_equal(y, np.sort(year.hourly["price_yuan_per_mwh"])[::-1])
    assert np.array_equal(line.get_xdata(), np.arange(1, 361))


def test_typical_week_is_the_week_nearest_the_median_week():
    # weekly means 1, 5, 3 (+ a partial week ignored): median 3 -> the third week
    load = np.concatenate([np.full(168, 1.0), np.full(168, 5.0), np.full(168, 3.0),
                           np.full(10, 100.0)])
    assert typical_week(load) == slice(336, 504)
    # four weeks 1, 2, 4, 8: median 3, weeks 2 and 4 tie at distance 1 -> the earlier one
    load = np.repeat([1.0, 2.0, 4.0, 8.0], 168)
    assert typical_week(load) == slice(168, 336)
    assert typical_week(np.ones(50)) == slice(0, 50)


def test_capacity_plot_marks_the_clearing_point_on_the_supply_staircase():
    year = fake_year()
    ax = capacity_auction(year.capacity).axes[0]
    star = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(star) == 1
    assert (star[0].get_xdata()[0], star[0].get_ydata()[0]) == (800.0, 300.0)
    # the staircase: offers by price 0 (50 MW), 80 (60), 120 (528), 300 (297.5)
    stairs = ax.patches[0]
    values, edges, _ = stairs.get_data()
    assert values.tolist() == [0.0, 80.0, 120.0, 300.0]
    assert edges.tolist() == [0.0, 50.0, 110.0, 638.0, 935.5]


def test_consumer_cost_bars_are_the_components_in_billions():
    year = fake_year()
    ax = consumer_cost(year.summary).axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([1.6, 0.24, 0.024, 0.003, 0.0011])
    assert "total 1.87 billion yuan" in ax.get_title()


def test_profit_bars_sum_units_by_technology():
    year = fake_year()
    ax = profit_by_technology(year.units).axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    heights = dict(zip(labels, [p.get_height() for p in ax.patches], strict=True))
    # million yuan: coal_sc 25, coal_sub -4, wind 30, solar 8, storage 1
    assert heights == pytest.approx({"coal_subcritical": -4.0, "coal_supercritical": 25.0,
                                     "solar": 8.0, "storage": 1.0, "wind": 30.0})


def test_yuan_scale_and_value_format():
    assert yuan_scale([2.5e9, -1.0]) == (1e9, "billion yuan")
    assert yuan_scale([999.0]) == (1.0, "yuan")
    assert yuan_scale([-3e6]) == (1e6, "million yuan")
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
    assert len(a) == 8 and a == b
    html = path.read_text(encoding="utf-8")
    assert rules.sha256() in html and "<code>mengxi</code>" in html
    rsi = first.summary["market_power"]["rsi"]["mean"]
    assert format_value(rsi) in html
    for name in PLOT_FILES.values():
        assert png_size(tmp_path / "a" / "plots" / name) == (1000, 500)
