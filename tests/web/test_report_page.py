"""The year report in a real browser (issue 14, item 3): Debian's Chromium opens the written
``report.html`` from disk (``file://``, as a designer would) and finds the headline table with
its units, every figure by its id with a caption, every image loaded, and the appendix with
the full summary. One small real year (scale 0.03) is simulated and written once per module;
screenshots go where ``tests/web/conftest.py`` says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from studies.output.plots import PLOT_FILES  # noqa: E402
from studies.output.report import CAPTIONS, flatten, write_report  # noqa: E402

VIEW = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small real year's report: (path of report.html, the year's summary)."""
    from market.rules import load_preset
    from studies.year.run import run_year

    year = run_year(load_preset("mengxi"), 11, 0.03)
    path = write_report(year, tmp_path_factory.mktemp("report"))
    return path, year.summary


@pytest.fixture(scope="module")
def page(browser: Any, report: tuple[Path, dict[str, Any]]) -> Any:
    """The report opened once in a fresh context, every image settled."""
    context = browser.new_context(viewport=VIEW)
    p = context.new_page()
    problems: list[str] = []
    p.on("pageerror", lambda exc: problems.append(str(exc)))
    p.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
    p.goto(report[0].as_uri(), wait_until="load")
    yield p, problems
    context.close()


@pytest.mark.parametrize("key", list(PLOT_FILES))
def test_every_figure_is_found_by_id_with_its_caption_and_a_loaded_image(
        page: tuple[Page, list[str]], key: str):
    p, _ = page
    figure = p.locator(f"figure#{key}")
    expect(figure).to_have_count(1)
    title, caption = CAPTIONS[key]
    expect(figure.locator("figcaption")).to_have_text(f"{title}. {caption}")
    img = figure.locator("img")
    expect(img).to_have_attribute("src", f"plots/{PLOT_FILES[key]}")
    size = img.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]")
    assert size == [True, 1000, 500], f"{key}: image not loaded ({size})"


def test_every_image_on_the_page_loaded_and_nothing_failed(page: tuple[Page, list[str]],
                                                           shots: Path):
    p, problems = page
    widths = p.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == len(PLOT_FILES)
    assert all(w > 0 for w in widths)
    assert problems == []
    p.screenshot(path=str(shots / "report-top.png"))
    p.locator("figure#merit_order").screenshot(path=str(shots / "report-merit-order.png"))


def test_the_headline_table_comes_first_with_a_unit_on_every_row(
        page: tuple[Page, list[str]]):
    p, _ = page
    rows = p.locator("#headline-table tr:has(td)")
    assert rows.count() >= 12
    units = rows.locator("td:nth-child(3)").all_inner_texts()
    assert all(u.strip() for u in units)
    assert {"yuan/MWh", "yuan/kW·yr", "million yuan", "MWh", "Mt", "t/MWh", "%"} <= set(units)
    # headline above the figures, figures above the appendix
    top = p.evaluate("""() => ['#headline-table', 'figure#price_duration', '#appendix']
        .map(s => document.querySelector(s).getBoundingClientRect().top)""")
    assert top == sorted(top)
    # the figure list links to every figure
    links = p.locator("nav a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert links == [f"#{k}" for k in PLOT_FILES]


def test_the_appendix_holds_the_full_summary(page: tuple[Page, list[str]],
                                             report: tuple[Path, dict[str, Any]]):
    p, _ = page
    keys = p.locator("#appendix + p + table td:first-child code").all_inner_texts()
    assert keys == [k for k, _ in flatten(report[1])]
    seed = p.locator("#appendix + p + table tr", has=p.locator("code", has_text="seed"))
    expect(seed.first.locator("td").nth(1)).to_have_text("11")
