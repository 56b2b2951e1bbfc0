"""The classroom in a real browser against a real server (issue 11): each defect found by
playing a game, and the teaching tools, with a test that would have caught it.

* a whole class: the instructor creates a game in the lobby (its games table fits at 1280 px),
  three students join by the invitation link and read the briefing (the capacity demand
  curve and offer cap before bidding), the leaderboard lists every seat from the start, bid
  counts move without a reload on the desk and the console (who has bid, live), a reloaded
  desk shows the bids it sent and Send never overwrites a batch changed elsewhere (412), a
  student who lost the tab rejoins by a link the instructor re-issues (the old token is
  refused), rounds close and clear themselves at their deadline with a countdown, bots fill
  the empty seats (marked), quick entry fills every hour, and the instructor downloads the
  results CSV and clones the game;
* a blocked event stream: the desk polls and still follows the game;
* a phone-sized screen: no horizontal overflow on the desk, the bid form's quantity on
  screen, chart text readable;
* labels: one "Round" in Results, pay-as-bid says so, certificates in MWh, a finished game
  says it is over, an extra step row can be removed, withdrawing asks first.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.web.test_pages import join, shot, watch  # noqa: E402

expect.set_options(timeout=20_000)
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
API = "/api/v1"
SEATS = 7


def create(server: str, **body: Any) -> tuple[str, str]:
    """A game made through the API: (session id, instructor token)."""
    r = httpx.post(f"{server}{API}/sessions", json={"name": "Class", "seed": 7,
                                                     "energy_rounds": 1, "hours_per_round": 4,
                                                     **body})
    assert r.status_code == 201, r.text
    return r.json()["session"]["id"], r.json()["instructor_token"]


def seat(server: str, sid: str, who: str) -> str:
    r = httpx.post(f"{server}{API}/sessions/{sid}/participants",
                   json={"participant": who, "display_name": who.title()})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def call(server: str, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{server}{API}{path}",
                         headers={"Authorization": f"Bearer {token}"}, timeout=60, **kw)


def desk(browser: Any, server: str, sid: str, token: str, viewport: dict[str, int] = WIDE,
         problems: list[str] | None = None) -> Page:
    """A student's desk opened by its rejoin link (the token in the fragment)."""
    page = browser.new_context(viewport=viewport).new_page()
    if problems is not None:
        watch(page, problems)
    page.goto(f"{server}/play/{sid}#token={token}")
    expect(page.locator("#desk")).to_be_visible()
    return page


def token_of(page: Page) -> str:
    return str(page.evaluate("""() => JSON.parse(sessionStorage.getItem(
        Object.keys(sessionStorage).find((k) => k.startsWith('mengxi.participant.')))).token"""))


def page_fetch(page: Page, method: str, path: str, body: Any = None,
               headers: dict[str, str] | None = None) -> Any:
    """A request from inside the page with the tab's own participant token."""
    return page.evaluate("""async ([method, path, body, headers]) => {
        const key = Object.keys(sessionStorage).find((k) => k.startsWith('mengxi.participant.'));
        const token = JSON.parse(sessionStorage.getItem(key)).token;
        const h = {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json',
                   ...headers};
        const r = await fetch(path, {method, headers: h,
                                     body: body === null ? undefined : JSON.stringify(body)});
        return {status: r.status, body: await r.json()};
    }""", [method, path, body, headers or {}])


@pytest.mark.slow
def test_a_whole_class(server: str, browser: Any, shots: Path, tmp_path: Path) -> None:
    problems: list[str] = []
    boss_ctx = browser.new_context(viewport=WIDE, accept_downloads=True)
    contexts = [boss_ctx] + [browser.new_context(viewport=WIDE) for _ in range(5)]
    a_ctx, b_ctx, c_ctx, c2_ctx = contexts[1:5]
    try:
        # -- the instructor creates a game; "Your games" fits the card at 1280 px
        boss = watch(boss_ctx.new_page(), problems)
        boss.goto(f"{server}/")
        boss.get_by_label("Name", exact=True).fill("Class 11")
        boss.get_by_label("Energy rounds").fill("1")
        boss.get_by_label("Hours per energy round").fill("4")
        boss.get_by_label("Seed (blank: the preset's)").fill("7")
        boss.get_by_role("button", name="Create the game").click()
        expect(boss.locator("#games tbody tr")).to_have_count(1)
        clipped = boss.evaluate("""() => { const t = document.querySelector('#games');
            return t.getBoundingClientRect().right
                - t.closest('.card').getBoundingClientRect().right; }""")
        assert clipped <= 0, f"the games table runs {clipped} px past its card"
        instructor = boss.get_by_label("Instructor token", exact=True).input_value()
        invite = boss.locator("#invite-link").inner_text()
        sid = invite.rsplit("=", 1)[1]
        boss.get_by_role("link", name="Open the instructor console").click()
        expect(boss.locator("#rounds tbody tr")).to_have_count(6)

        # -- three students join by the link; the briefing is open before the first round
        a, b, c = (watch(ctx.new_page(), problems) for ctx in (a_ctx, b_ctx, c_ctx))
        join(a, invite, "genco-1", "Ann")
        join(b, invite, "genco-2", "Bob")
        join(c, invite, "retailer-1", "Cat")
        brief = a.locator("#briefing")
        expect(a.locator("#briefing-box")).to_have_attribute("open", "")
        for needle in ("offer cap 495 yuan/kW·yr", "Net CONE", "performance penalty rate",
                       "compensation rate", "obligation weight", "shortfall penalty",
                       "How your profit is counted", "coal_usc-001"):
            expect(brief).to_contain_text(needle)
        expect(c.locator("#briefing")).to_contain_text("retail tariff 312.9 yuan/MWh")
        # the capacity round's demand curve and offer cap, before bidding
        expect(a.locator("#round")).to_contain_text("Demand curve")
        expect(a.locator("#round")).to_contain_text("495 yuan/kW·yr")
        # every seat on the leaderboard from the start: four empty seats, no bots yet
        board = a.locator("#leaderboard tbody tr")
        expect(board).to_have_count(SEATS)
        expect(a.locator("#leaderboard tbody tr[data-seat=empty]")).to_have_count(4)
        expect(a.locator("#leaderboard")).to_contain_text("Bob")
        shot(a, shots, "c1-desk-briefing")

        # -- capacity opens with a deadline: the countdown shows on desk and console
        boss.get_by_label("Seconds after opening (blank: I close the gate myself)").fill("600")
        boss.get_by_role("button", name="Open capacity").click()
        for page in (a, b, boss):
            expect(page.locator("#countdown")).to_contain_text(
                re.compile(r"Gate closes in \d+:\d\d"))
        expect(a.locator("#round")).to_contain_text(re.compile(r"Bidders so far\s*0"))

        # -- A bids: B's desk and the console count it without a reload (defect 1)
        a.get_by_label("Price of coal_usc-001").fill("100")
        a.get_by_role("button", name="Send my bids").click()
        expect(a.locator("#bid-ok")).to_contain_text("Revision 1 stored")
        expect(b.locator("#round")).to_contain_text(re.compile(r"Bidders so far\s*1"))
        expect(boss.locator("#rounds tbody tr").first.locator("td").nth(3)).to_have_text("1")
        who = boss.locator("#bidders tbody tr[data-seat='genco-1']")
        expect(who).to_contain_text("yes")
        expect(who).to_contain_text("coal_usc-001")
        expect(boss.locator("#bidders tbody tr[data-seat='genco-2']")).to_contain_text("not yet")

        # -- a reload shows the bids sent, not the defaults (defect 3)
        a.reload()
        expect(a.get_by_label("Price of coal_usc-001")).to_have_value("100")
        # ... and Send never overwrites a batch changed elsewhere: another tab sends 120
        a.get_by_label("Price of coal_usc-001").fill("110")  # this tab is being edited
        qty = a.get_by_label("Quantity of coal_usc-001").input_value()
        other = page_fetch(a, "POST", f"{API}/sessions/{sid}/rounds/capacity/bids",
                           {"bids": [{"unit": "coal_usc-001", "price": 120,
                                      "quantity": float(qty)}]})
        assert other["status"] == 201 and other["body"]["revision"] == 2
        a.get_by_role("button", name="Send my bids").click()
        expect(a.locator("#bid-error")).to_contain_text("Nothing was sent")
        expect(a.get_by_label("Price of coal_usc-001")).to_have_value("120")
        expect(a.locator("#my-bids-note")).to_contain_text("Revision 2")

        # -- C loses the tab; the instructor re-issues the seat's link; C rejoins by it
        old = token_of(c)
        c.close()
        boss.once("dialog", lambda d: d.accept())
        boss.get_by_role("button", name="New rejoin link for retailer-1").click()
        link = boss.get_by_label("Rejoin link", exact=True)
        expect(link).to_have_value(re.compile(r"/play/[^#?]+#token="))
        url = link.input_value()
        assert "?" not in url and "token=" not in url.split("#")[0]
        c = watch(c2_ctx.new_page(), problems)
        c.goto(url)
        expect(c.locator("#title")).to_contain_text("retailer-1")
        assert "#" not in c.url and "token" not in c.url  # dropped from the address bar
        assert call(server, old, "GET", f"/sessions/{sid}/me").status_code == 401
        c.get_by_role("button", name="Show my rejoin link").click()
        expect(c.get_by_label("My rejoin link")).to_have_value(re.compile(r"#token=mxp_"))

        # -- the capacity round clears: B offers, the instructor clears
        b.get_by_label("Price of coal_usc-002").fill("150")
        b.get_by_role("button", name="Send my bids").click()
        expect(b.locator("#bid-ok")).to_contain_text("Revision 1 stored")
        boss.get_by_role("button", name="Clear capacity").click()
        expect(a.locator("#result-facts")).to_contain_text("yuan/kW·yr")
        expect(a.locator("#briefing-box")).not_to_have_attribute("open", "")
        expect(a.locator("#my-profit tbody")).to_contain_text("capacity payment")
        expect(a.locator("#my-profit tbody")).to_contain_text("fixed cost")

        # -- energy: A prepares every hour with quick entry while the round is pending
        a.get_by_label("Unit or load").select_option("coal_usc-001")
        a.get_by_label("Price", exact=True).fill("300")
        a.get_by_role("button", name="Same for all hours").click()
        for hour in range(4):
            expect(a.get_by_label(f"Price of coal_usc-001, hour {hour}")).to_have_value("300")
        a.get_by_label("Price of coal_usc-001, hour 0").fill("310")
        a.get_by_role("button", name="Copy to later hours: coal_usc-001, hour 0").click()
        expect(a.get_by_label("Price of coal_usc-001, hour 3")).to_have_value("310")
        a.get_by_label("Price-quantity curve (steps as MW@price, e.g. 10@200, 5@350)") \
            .fill("10@250, 5@400")
        a.get_by_role("button", name="Apply the curve to every hour").click()
        rows = a.locator("#bid-rows tbody tr").filter(has_text="coal_usc-001")
        expect(rows).to_have_count(8)  # two steps in each of four hours
        expect(a.get_by_label("Price of coal_usc-001, hour 2").nth(1)).to_have_value("400")

        # -- bots take the empty seats; the round closes and clears itself at its deadline
        boss.get_by_label("When I open the next round, bots take the seats still empty "
                          "and bid at once").check()
        boss.get_by_label("Seconds after opening (blank: I close the gate myself)").fill("15")
        boss.get_by_label("Clear the round at the deadline too").check()
        boss.get_by_role("button", name="Open energy-01-01").click()
        expect(boss.locator("#action-ok")).to_contain_text("4 bots bid at once")
        expect(a.get_by_role("button", name="Send my bids")).to_be_enabled()
        a.get_by_role("button", name="Send my bids").click()
        expect(a.locator("#bid-ok")).to_contain_text(re.compile(r"Revision 1 stored: \d+ bids"))
        expect(a.locator("#countdown")).to_contain_text("clears by itself")
        expect(a.locator("#result-chart svg rect[data-hour]")).to_have_count(4, timeout=60_000)
        expect(boss.locator("#rounds tbody tr").nth(1)).to_contain_text("cleared")

        # -- the leaderboard makes sense: every seat, bots marked, ranked by profit
        expect(a.locator("#leaderboard tbody tr[data-seat=bot]")).to_have_count(4)
        expect(a.locator("#leaderboard tbody tr[data-seat=empty]")).to_have_count(0)
        ranks = [int(x) for x in
                 a.locator("#leaderboard tbody tr td:first-child").all_inner_texts()]
        assert ranks == list(range(1, SEATS + 1))
        profits = [float(x.replace(",", "")) for x in
                   a.locator("#leaderboard tbody tr td:last-child").all_inner_texts()]
        assert profits == sorted(profits, reverse=True)
        expect(c.locator("#my-profit tbody")).to_contain_text("retail revenue")
        # after clearing: everyone's bids of an hour as curves (A's marked), trends across
        # rounds (price, my profit, my rank); the console's debrief compares strategies
        expect(a.locator("#curve-chart svg[data-chart=hour-curves]")).to_have_count(1)
        assert a.locator("#curve-chart line[data-mine]").count() >= 1
        a.get_by_label("Supply and demand of hour").select_option("3")
        expect(a.locator("#curve-chart svg title")).to_contain_text("hour 3")
        for chart in ("trend-price", "trend-profit", "trend-rank"):
            expect(a.locator(f"#{chart} svg[data-chart={chart}]")).to_have_count(1)
        expect(a.locator("#trend-note")).to_contain_text("Capacity cleared at")
        expect(boss.locator("#trend-profit polyline")).to_have_count(SEATS)
        strategies = boss.locator("#strategies tbody")
        expect(strategies).to_contain_text("students")
        expect(strategies).to_contain_text("bots: default strategies")
        expect(boss.locator("#debrief-matrix tbody tr")).to_have_count(SEATS)
        shot(a, shots, "c2-desk-energy-cleared")
        shot(boss, shots, "c3-console")

        # -- a late student takes over a bot's seat: the bot stops, the student gets a link
        boss.once("dialog", lambda d: d.accept())
        boss.get_by_role("button", name="Hand the bot seat genco-3 to a student").click()
        expect(link).not_to_have_value(url)  # a new link, for genco-3
        expect(link).to_have_value(re.compile(r"/play/[^#?]+#token=mxp_"))
        late = watch(contexts[5].new_page(), problems)
        late.goto(link.input_value())
        expect(late.locator("#title")).to_contain_text("genco-3")
        expect(boss.get_by_role("button", name="New rejoin link for genco-3")).to_be_visible()
        expect(a.locator("#leaderboard tbody tr[data-seat=bot]")).to_have_count(3)

        # -- grading: results.csv, one row per seat per cleared round
        with boss.expect_download() as got:
            boss.get_by_role("button", name="Download results.csv").click()
        saved = tmp_path / "results.csv"
        got.value.save_as(saved)
        rows_csv = list(csv.DictReader(io.StringIO(saved.read_text())))
        cleared = call(server, instructor, "GET", f"/sessions/{sid}/rounds").json()["data"]
        n_cleared = sum(r["status"] == "cleared" for r in cleared)
        assert len(rows_csv) == SEATS * n_cleared
        assert {"participant", "round_id", "revenue_yuan", "cost_yuan", "profit_yuan"} \
            <= set(rows_csv[0])

        # -- and clones the game for the next class, changing its rules in the page: two
        #    energy rounds, no capacity auction
        boss.get_by_label("Energy rounds").fill("2")
        boss.get_by_text("Rules of the game (optional: blank keeps this game's)").click()
        expect(boss.get_by_label("Capacity auction", exact=True)).to_be_checked()
        boss.get_by_label("Capacity auction", exact=True).uncheck()
        boss.get_by_role("button", name="Clone this game").click()
        expect(boss.get_by_label("The clone's token (keep it)")).to_have_value(re.compile("^mxi_"))
        boss.get_by_role("link", name="open its console").click()
        expect(boss.locator("#rounds tbody tr")).to_have_count(6)
        kinds = boss.locator("#rounds tbody tr td:nth-child(2)").all_inner_texts()
        assert "capacity" not in kinds and kinds.count("energy") == 2
        expect(boss.locator("#game")).to_contain_text(re.compile(r"Seats taken\s*0 of 7"))
        expect(boss.get_by_label("Capacity auction", exact=True)).not_to_be_checked()
    finally:
        for ctx in contexts:
            ctx.close()
    assert problems == []


@pytest.mark.slow
def test_a_blocked_event_stream_falls_back_to_polling(server: str, browser: Any) -> None:
    sid, instructor = create(server)
    token = seat(server, sid, "genco-1")
    ctx = browser.new_context(viewport=WIDE)
    ctx.route(re.compile(r"/events(\?.*)?$"), lambda route: route.abort())
    try:
        page = ctx.new_page()
        page.goto(f"{server}/play/{sid}#token={token}")
        expect(page.locator("#round")).to_contain_text("pending")
        expect(page.locator("#live")).to_contain_text("reconnecting")
        assert call(server, instructor, "POST", f"/sessions/{sid}/rounds/open").status_code == 200
        expect(page.locator("#round")).to_contain_text("open: taking bids", timeout=15_000)
        assert call(server, instructor, "POST",
                    f"/sessions/{sid}/rounds/capacity/clear").status_code == 200
        expect(page.locator("#result-facts")).to_contain_text("yuan/kW·yr", timeout=15_000)
    finally:
        ctx.close()


@pytest.mark.slow
def test_the_desk_fits_a_phone(server: str, browser: Any, shots: Path) -> None:
    sid, instructor = create(server, bots={})
    token = seat(server, sid, "genco-1")
    for path in ("/rounds/open", "/rounds/capacity/clear", "/rounds/open"):
        assert call(server, instructor, "POST", f"/sessions/{sid}{path}").status_code == 200
    page = desk(browser, server, sid, token, PHONE)
    try:
        expect(page.locator("#result-chart svg")).to_have_count(1)
        expect(page.get_by_label("Quantity of coal_usc-001, hour 0")).to_be_visible()
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"the desk is {wide} px wide on a {PHONE['width']} px screen"
        box = page.get_by_label("Quantity of coal_usc-001, hour 0").bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]
        # chart text keeps a readable size (the chart scrolls inside its card instead)
        size = page.evaluate("""() => Math.min(...[
            ...document.querySelectorAll('#result-chart svg text')]
            .map((t) => t.getBoundingClientRect().height).filter((h) => h > 0))""")
        assert size >= 9, f"chart text is {size} px tall"
        # the facts of the result are not cut off
        cut = page.evaluate("""() => [...document.querySelectorAll('#result-facts dd, #round dd')]
            .filter((d) => d.scrollWidth > d.clientWidth + 1).length""")
        assert cut == 0
        shot(page, shots, "c4-phone-desk")
    finally:
        page.context.close()


@pytest.mark.slow
def test_labels_say_what_they_mean(server: str, browser: Any) -> None:
    sid, instructor = create(server, overrides={"capacity.format": "pay_as_bid"}, bots={})
    token = seat(server, sid, "genco-1")
    assert call(server, instructor, "POST", f"/sessions/{sid}/rounds/open").status_code == 200
    page = desk(browser, server, sid, token)
    try:
        # an extra step row can be removed again
        rows = page.locator("#bid-rows tbody tr").filter(has_text="coal_usc-001")
        expect(rows).to_have_count(1)
        page.get_by_role("button", name="Add another price step for coal_usc-001").click()
        expect(rows).to_have_count(2)
        page.get_by_role("button", name="Remove this price step of coal_usc-001").click()
        expect(rows).to_have_count(1)
        # withdrawing asks first: dismissed, the bids stay; accepted, they go
        page.get_by_label("Price of coal_usc-001").fill("50")
        page.get_by_role("button", name="Send my bids").click()
        expect(page.locator("#bid-ok")).to_contain_text("Revision 1 stored")
        page.once("dialog", lambda d: d.dismiss())
        page.get_by_role("button", name="Withdraw my bids").click()
        expect(page.locator("#my-bids-note")).to_contain_text("Revision 1")
        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Withdraw my bids").click()
        expect(page.locator("#my-bids-note")).to_contain_text("Revision 2 of your bids in round "
                                                              "capacity: 0 bids")
        # pay-as-bid: no "clearing price"; "Round" once in Results
        assert call(server, instructor, "POST",
                    f"/sessions/{sid}/rounds/capacity/clear").status_code == 200
        facts = page.locator("#result-facts")
        expect(facts).to_contain_text("pay-as-bid")
        expect(facts).not_to_contain_text("Clearing price")
        expect(facts.locator("dt").filter(has_text=re.compile("^Round$"))).to_have_count(0)
        # play to the end: the green round speaks of MWh, a finished game says so
        for _ in range(10):
            cur = call(server, instructor, "GET", f"/sessions/{sid}/rounds/current").json()
            if cur["finished"]:
                break
            r = cur["round"]
            if r["status"] == "pending":
                call(server, instructor, "POST", f"/sessions/{sid}/rounds/open")
                if r["kind"] == "green":
                    page.reload()
                    expect(page.locator("#round")).to_contain_text("MWh")
                    expect(page.locator("#round")).not_to_contain_text(" MW,")
            call(server, instructor, "POST", f"/sessions/{sid}/rounds/{r['round_id']}/clear")
        expect(page.locator("#bid-hint")).to_contain_text("the game is over")
        expect(page.locator("#curve-chart svg[data-chart=green-curves]")).to_have_count(1)
        expect(page.locator("#my-bids-note")).to_contain_text("The game is over")
        expect(page.locator("#my-bids-note")).not_to_contain_text("No bids sent")
    finally:
        page.context.close()


@pytest.mark.slow
def test_the_instructor_configures_the_rules_in_the_page(server: str, browser: Any) -> None:
    ctx = browser.new_context(viewport=WIDE)
    try:
        page = ctx.new_page()
        page.goto(f"{server}/")
        page.get_by_label("Energy rounds").fill("1")
        page.get_by_label("Hours per energy round").fill("4")
        page.get_by_text("Rules of the game (optional").click()
        # a cap below the stress threshold is refused, naming what to change
        page.get_by_label("Energy price cap (yuan/MWh)").fill("1000")
        page.get_by_role("button", name="Create the game").click()
        expect(page.locator("#lobby-error")).to_contain_text(
            "energy.stress_price_threshold_yuan_per_mwh")
        page.get_by_label("Energy price cap (yuan/MWh)").fill("2000")
        page.get_by_label("Capacity auction", exact=True).uncheck()
        page.get_by_label("Capacity offer cap (yuan/kW·yr)").fill("400")
        page.get_by_label("Compensation rate: share of the coal fixed-cost standard recovered "
                          "(0 to 1)").fill("0.5")
        page.get_by_label("Generator seats (gencos)").fill("3")
        page.get_by_label("Retailer seats").fill("2")
        page.get_by_role("button", name="Create the game").click()
        token = page.get_by_label("Instructor token", exact=True)
        expect(token).to_have_value(re.compile("^mxi_"))
        sid = page.locator("#invite-link").inner_text().rsplit("=", 1)[1]
        rules = call(server, token.input_value(), "GET", f"/sessions/{sid}/rules").json()
        assert rules["energy"]["price_cap_yuan_per_mwh"] == 2000
        assert rules["capacity"]["enabled"] is False
        assert rules["capacity"]["offer_cap_yuan_per_kw_yr"] == 400
        assert rules["compensation"]["recovery_ratio"] == 0.5
        lobby = httpx.get(f"{server}{API}/sessions/{sid}/lobby").json()
        seats = [s["participant"] for s in lobby["seats"]]
        # three gencos; retailers: as many as own a load (a 0.01 fleet has one load)
        assert [s for s in seats if s.startswith("genco")] == ["genco-1", "genco-2", "genco-3"]
        setup = call(server, token.input_value(), "GET", f"/sessions/{sid}").json()["setup"]
        assert setup["gencos"] == 3 and setup["retailers"] == 2
        page.get_by_role("link", name="Open the instructor console").click()
        expect(page.locator("#rounds tbody tr")).not_to_have_count(0)
        kinds = page.locator("#rounds tbody tr td:nth-child(2)").all_inner_texts()
        assert "capacity" not in kinds and "energy" in kinds
    finally:
        ctx.close()
