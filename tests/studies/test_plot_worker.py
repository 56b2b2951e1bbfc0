"""``studies.output.plots.PlotWorker``: the plots drawn in a child process are the same bytes as
drawn in-process, a child that died is replaced by drawing here, and a child never sent a
year is stopped."""

from __future__ import annotations

from pathlib import Path

from studies.output.plots import PLOT_FILES, PlotWorker
from studies.output.report import write_report
from tests.studies.test_report import fake_year


def _pngs(folder: Path) -> dict[str, bytes]:
    return {f: (folder / "plots" / f).read_bytes() for f in PLOT_FILES.values()}


def _report_by(workers: list[PlotWorker], year, folder: Path) -> None:
    """The report written with ``workers`` drawing its plots; every child ended well."""
    try:
        write_report(year, folder, plot_worker=workers)
    finally:
        for w in workers:
            w.close()
    assert all(w.proc.returncode == 0 for w in workers)


def test_the_child_draws_the_same_bytes_as_this_process(tmp_path: Path):
    year = fake_year()
    here = write_report(year, tmp_path / "here")
    worker = PlotWorker.start()
    assert worker is not None
    with worker:
        there = write_report(year, tmp_path / "there", plot_worker=worker)
    assert worker.proc.returncode == 0  # the child drew them
    assert here.read_bytes() == there.read_bytes()
    assert _pngs(tmp_path / "here") == _pngs(tmp_path / "there")
    assert all(len(b) > 1000 for b in _pngs(tmp_path / "there").values())


def test_a_dead_child_is_replaced_by_drawing_here(tmp_path: Path):
    year = fake_year()
    write_report(year, tmp_path / "here")
    worker = PlotWorker.start()
    assert worker is not None
    worker.proc.kill()
    worker.proc.wait()
    write_report(year, tmp_path / "there", plot_worker=worker)
    assert worker.proc.returncode != 0
    assert _pngs(tmp_path / "here") == _pngs(tmp_path / "there")


def test_a_child_never_sent_a_year_is_stopped():
    worker = PlotWorker.start()
    assert worker is not None
    with worker:
        assert worker.proc.poll() is None  # waiting for a year
    assert worker.proc.returncode is not None


def test_two_children_share_the_plots_and_draw_the_same_bytes(tmp_path: Path):
    from studies.output.plots import PLOT_SPLIT, start_workers

    assert sorted(n for names in PLOT_SPLIT for n in names) == sorted(PLOT_FILES)
    year = fake_year()
    write_report(year, tmp_path / "here")
    workers = start_workers()
    assert [w.names for w in workers] == list(PLOT_SPLIT)
    _report_by(workers, year, tmp_path / "there")
    assert _pngs(tmp_path / "here") == _pngs(tmp_path / "there")


def test_plots_no_child_draws_are_drawn_here(tmp_path: Path):
    year = fake_year()
    write_report(year, tmp_path / "here")
    worker = PlotWorker.start(("consumer_cost",))
    assert worker is not None
    with worker:
        write_report(year, tmp_path / "there", plot_worker=[worker])
    assert _pngs(tmp_path / "here") == _pngs(tmp_path / "there")


def test_a_year_sent_before_its_metrics_draws_the_same_plots(tmp_path: Path):
    """``run_year(..., tables_ready=...)`` hands the tables over before the market-power
    metrics (as ``mengxi simulate`` does): the summary is the same as without the hook, its
    ``market_power`` is filled in afterwards, and the children's PNGs are the bytes drawn
    in-process from the finished year. A worker drawing into another folder is refused."""
    import json

    import pytest

    from market.rules import load_preset
    from studies.output.plots import send_year, start_workers
    from studies.year import run_year

    rules = load_preset("mengxi")
    plain = run_year(rules, 5, 0.02)
    write_report(plain, tmp_path / "here")
    workers = start_workers()
    seen: list[bool] = []

    def ready(result: object) -> None:
        seen.append("market_power" in result.summary)  # type: ignore[attr-defined]
        send_year(workers, result, tmp_path / "there" / "plots")
        with pytest.raises(ValueError, match="already drawing"):
            send_year(workers, result, tmp_path / "elsewhere" / "plots")

    try:
        early = run_year(rules, 5, 0.02, tables_ready=ready)
        write_report(early, tmp_path / "there", plot_worker=workers)
    finally:
        for w in workers:
            w.close()
    assert seen == [False]
    assert json.dumps(early.summary) == json.dumps(plain.summary)
    assert early.summary["market_power"]
    assert _pngs(tmp_path / "here") == _pngs(tmp_path / "there")


def test_early_plots_sent_with_the_hourly_table_are_the_same_bytes(tmp_path: Path):
    """``mengxi simulate`` hands the children the hourly table as soon as the energy year is
    cleared (``send_hourly``), then the rest of the year: every PNG is the bytes drawn here,
    and each child drew its early plots before it was sent the year."""
    from studies.output.plots import EARLY_PLOTS, PLOT_SPLIT, send_hourly, start_workers

    assert all(any(n in names for names in PLOT_SPLIT) for n in EARLY_PLOTS)
    year = fake_year()
    write_report(year, tmp_path / "here")
    workers = start_workers()
    try:
        send_hourly(workers, year.hourly, tmp_path / "there" / "plots")
        early = [tmp_path / "there" / "plots" / PLOT_FILES[n] for n in EARLY_PLOTS]
        import time

        deadline = time.monotonic() + 60
        while not all(p.is_file() for p in early) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(p.is_file() for p in early)  # drawn with no year sent yet
        assert all(w.sent is None for w in workers)
    except BaseException:
        for w in workers:
            w.close()
        raise
    _report_by(workers, year, tmp_path / "there")
    assert _pngs(tmp_path / "here") == _pngs(tmp_path / "there")
