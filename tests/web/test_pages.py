"""The game's pages in a real browser against a real server.

One whole game across three browser contexts (the instructor and two students, each with its
own ``sessionStorage``): the instructor creates the game in the lobby and sees its token once;
the students join by the invitation link; the bid form refuses a bad price in the browser, and
shows the server's per-bid refusal next to the row when the browser's own check lets it pass
(limits made stale on purpose); bids stay sealed; the instructor closes the gate and clears
from the console; the students' pages update by themselves (server-sent events) with the
clearing price, their quantities, a chart, their settlement and the leaderboard; bots fill the
empty seats of the energy round; the console's ledger totals balance.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

expect.set_options(timeout=15_000)
VIEW = {"width": 1280, "height": 900}
#: A participant's view, not its settlement or ledger (``/me`` alone).
ME = re.compile(r"/api/v1/sessions/[^/]+/me(\?.*)?$")


def watch(page: Page, problems: list[str]) -> Page:
    """Record the page's uncaught errors and console errors (a refused request's
    'Failed to load resource' line is expected: the tests make the server refuse)."""
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    return page


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def join(page: Page, invite: str, seat: str, name: str, shots: Path | None = None) -> None:
    page.goto(invite)
    expect(page.locator("#seats tbody tr")).to_have_count(7)
    page.get_by_label("Seat", exact=True).select_option(seat)
    page.get_by_label("Your name").fill(name)
    if shots is not None:
        shot(page, shots, "1b-lobby-invitation")
    page.get_by_role("button", name="Join the game").click()
    expect(page).to_have_url(re.compile(r"/play/[A-Za-z0-9_-]+$"))
    expect(page.locator("#title")).to_contain_text(f"{seat} ({name})")


def stale_offer_cap(route: Any) -> None:
    """Answer ``/me`` with an offer cap far above the real one, as a page with outdated
    limits would have: the browser's own check then lets a bad price through."""
    response = route.fetch()
    body = response.json()
    body["limits"]["capacity_offer_cap_yuan_per_kw_yr"] = 10_000.0
    route.fulfill(response=response, json=body)


def fetch_json(page: Page, path: str) -> Any:
    """GET an API path from inside the page with the tab's own participant token."""
    return page.evaluate("""async (path) => {
        const key = Object.keys(sessionStorage).find((k) => k.startsWith('mengxi.participant.'));
        const token = JSON.parse(sessionStorage.getItem(key)).token;
        const r = await fetch(path, {headers: {Authorization: `Bearer ${token}`}});
        return {status: r.status, body: await r.json()};
    }""", path)


@pytest.mark.slow
def test_a_whole_game_in_the_browser(server: str, browser: Any, shots: Path) -> None:
    problems: list[str] = []
    boss_ctx = browser.new_context(viewport=VIEW)
    a_ctx = browser.new_context(viewport=VIEW)
    b_ctx = browser.new_context(viewport=VIEW)
    b_ctx.route(ME, stale_offer_cap)
    try:
        # -- the instructor creates a game in the lobby and sees the token once
        boss = watch(boss_ctx.new_page(), problems)
        boss.goto(f"{server}/")
        boss.get_by_label("Name", exact=True).fill("Class 7")
        boss.get_by_label("Energy rounds").fill("1")
        boss.get_by_label("Hours per energy round").fill("4")
        boss.get_by_label("Seed (blank: the preset's)").fill("7")
        boss.get_by_role("button", name="Create the game").click()
        token_box = boss.get_by_label("Instructor token", exact=True)
        expect(token_box).to_have_value(re.compile(r"^mxi_"))
        expect(boss.get_by_role("alert").filter(has_text="shown only once")).to_be_visible()
        expect(boss.locator("#games tbody tr")).to_have_count(1)
        instructor_token = token_box.input_value()
        invite = boss.locator("#invite-link").inner_text()
        session_id = invite.rsplit("=", 1)[1]
        shot(boss, shots, "1-lobby-created")
        boss.get_by_role("link", name="Open the instructor console").click()
        expect(boss.locator("#rounds tbody tr")).to_have_count(6)
        expect(boss.locator("#live")).to_have_text("live updates on")

        # -- two students join in their own contexts; the console sees them arrive (events)
        a = watch(a_ctx.new_page(), problems)
        b = watch(b_ctx.new_page(), problems)
        a.goto(f"{server}/")
        a.get_by_label("Game id").fill("no-such-game")
        a.get_by_role("button", name="Show seats").click()
        expect(a.locator("#lobby-error")).to_have_text(
            "No game has the id “no-such-game”: check it with your instructor.")
        join(a, invite, "genco-1", "Ann")
        join(b, invite, "genco-2", "Bob", shots)
        people = boss.locator("#participants tbody")
        expect(people).to_contain_text("Ann")
        expect(people).to_contain_text("Bob")
        expect(a.locator("#units tbody")).to_contain_text("coal_usc-001")
        expect(a.locator("#units tbody")).to_contain_text("231.91")  # marginal cost

        # -- the instructor opens the capacity auction; the students' gates open live
        boss.get_by_role("button", name="Open capacity").click()
        for page in (a, b):
            expect(page.locator("#round")).to_contain_text("open: taking bids")
            expect(page.get_by_role("button", name="Send my bids")).to_be_enabled()

        # -- A's bad price is refused in the browser, next to its row; nothing is sent
        a.get_by_label("Price of coal_usc-001").fill("600")
        a.get_by_role("button", name="Send my bids").click()
        row_a = a.locator("#bid-rows tbody tr").first
        expect(row_a.get_by_role("alert")).to_have_text(
            "offer price 600 yuan/kW·yr is above the offer cap 495 yuan/kW·yr")
        expect(a.locator("#bid-error")).to_contain_text("nothing was sent")
        expect(a.locator("#my-bids-note")).to_contain_text("You have sent no bids")
        shot(a, shots, "2-play-browser-refusal")

        # -- B's page has stale limits: the server refuses the bid and the page shows its
        #    per-bid reason next to the row (the server's wording names the unit)
        b.get_by_label("Price of coal_usc-002").fill("600")
        b.get_by_role("button", name="Send my bids").click()
        row_b = b.locator("#bid-rows tbody tr").first
        expect(row_b.get_by_role("alert")).to_have_text(
            "unit 'coal_usc-002': offer price 600 yuan/kW·yr is above the offer cap "
            "495 yuan/kW·yr")
        expect(b.locator("#bid-error")).to_contain_text("refused (1 problem); nothing was stored")
        shot(b, shots, "3-play-server-refusal")

        # -- both send good offers
        a.get_by_label("Price of coal_usc-001").fill("100")
        a.get_by_role("button", name="Send my bids").click()
        expect(a.locator("#bid-ok")).to_contain_text("Revision 1 stored: 1 bid")
        expect(row_a.get_by_role("alert")).to_have_count(0)
        b.get_by_label("Price of coal_usc-002").fill("120")
        b.get_by_role("button", name="Send my bids").click()
        expect(b.locator("#bid-ok")).to_contain_text("Revision 1 stored: 1 bid")
        expect(a.locator("#my-bids tbody")).to_contain_text("coal_usc-001")
        expect(b.locator("#my-bids tbody")).to_contain_text("coal_usc-002")

        # -- sealed: neither page shows the other's offer, nor can its token read it
        expect(a.locator("#my-bids")).not_to_contain_text("coal_usc-002")
        expect(b.locator("#my-bids")).not_to_contain_text("coal_usc-001")
        seen = fetch_json(a, f"/api/v1/sessions/{session_id}/rounds/capacity/bids")
        assert seen["status"] == 200
        assert [d["participant"] for d in seen["body"]["data"]] == ["genco-1"]

        # -- the instructor closes the gate: the students' forms lock by themselves
        boss.get_by_role("button", name="Close the gate of capacity").click()
        for page in (a, b):
            expect(page.locator("#round")).to_contain_text("gate closed")
            expect(page.get_by_role("button", name="Send my bids")).to_be_disabled()
        expect(boss.locator("#rounds tbody tr").first.locator("td").nth(3)).to_have_text("2")

        # -- and clears: prices, quantities, chart, settlement and leaderboard arrive live
        boss.get_by_role("button", name="Clear capacity").click()
        # The scaled game system is short of accredited capacity (its classes keep their
        # shares, so it is as tight as the full system): every offer clears and the price is
        # the demand curve's top, 1.5 x Net CONE 330 = 495.
        for page in (a, b):
            expect(page.locator("#result-facts")).to_contain_text("495 yuan/kW·yr")
            expect(page.locator("#result-chart svg[role=img]")).to_have_count(1)
            # six gencos and the retailer, whose loads now pay the capacity cost in the game too
            expect(page.locator("#leaderboard tbody tr")).to_have_count(7)
        expect(a.locator("#my-results tbody")).to_contain_text("coal_usc-001")
        for page in (a, b):
            cell = page.locator("#my-results tbody td").nth(3)
            expect(cell).not_to_have_text("0")
            assert float(cell.inner_text().replace(",", "")) > 0  # offered, and all accepted
        expect(a.locator("#leaderboard tbody tr.me")).to_contain_text("genco-1 (you)")
        revenue = a.locator("#leaderboard tbody tr.me td").nth(2).inner_text()
        assert float(revenue.replace(",", "")) > 0  # paid for its accepted capacity (profit
        # also counts the game's month of fixed cost: tests/web/test_classroom_pages.py)
        expect(a.locator("#settlement tbody")).to_contain_text("capacity")
        expect(boss.locator("#ledger-note")).to_contain_text("(balanced)")
        # published now: everyone's offers are visible after the clear
        seen = fetch_json(a, f"/api/v1/sessions/{session_id}/rounds/capacity/bids")
        assert sorted(d["participant"] for d in seen["body"]["data"]) == ["genco-1", "genco-2"]
        shot(a, shots, "4-play-capacity-results")
        shot(boss, shots, "5-console-capacity-cleared")

        # -- the energy round: bots take the five empty seats and bid at once
        boss.get_by_label("When I open the next round, bots take the seats still empty "
                          "and bid at once").check()
        boss.get_by_role("button", name="Open energy-01-01").click()
        expect(boss.locator("#action-ok")).to_contain_text("5 bots bid at once")
        expect(people).not_to_contain_text("empty seat")
        expect(a.locator("#round")).to_contain_text("open: taking bids")
        # one row per unit and hour (genco-1 owns a unit of every class in the scaled fleet)
        expect(a.locator("#bid-rows tbody tr").filter(has_text="coal_usc-001")).to_have_count(4)
        expect(a.get_by_label("Price of coal_usc-001, hour 0")).to_have_value("231.91")
        a.get_by_role("button", name="Send my bids").click()
        expect(a.locator("#bid-ok")).to_contain_text(re.compile(r"Revision 1 stored: \d+ bids"))
        boss.get_by_role("button", name="Clear energy-01-01").click()
        expect(a.locator("#result-facts")).to_contain_text("yuan/MWh")
        expect(a.locator("#result-chart svg rect[data-hour]")).to_have_count(4)
        expect(boss.locator("#ledger-note")).to_contain_text("(balanced)")
        shot(a, shots, "6-play-energy-results")

        # -- a tab without the token signs in to the console by pasting it; a student's
        #    token is refused there
        other = watch(browser.new_context(viewport=VIEW).new_page(), problems)
        other.goto(f"{server}/console/{session_id}")
        expect(other.get_by_role("heading", name="Sign in as the instructor")).to_be_visible()
        student_token = a.evaluate("""() => JSON.parse(sessionStorage.getItem(
            Object.keys(sessionStorage).find((k) => k.startsWith('mengxi.participant.')))).token""")
        other.get_by_label("Instructor token").fill(student_token)
        other.get_by_role("button", name="Sign in").click()
        expect(other.locator("#page-error")).to_contain_text("not the instructor token")
        other.get_by_label("Instructor token").fill(instructor_token)
        other.get_by_role("button", name="Sign in").click()
        expect(other.locator("#rounds tbody tr")).to_have_count(6)
        other.context.close()
    finally:
        for ctx in (boss_ctx, a_ctx, b_ctx):
            ctx.close()
    assert problems == []


def test_pages_are_served_with_a_strict_policy(server: str) -> None:
    for path in ("/", "/play/abc123", "/console/abc123"):
        r = httpx.get(server + path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        policy = r.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy
        assert r.headers["cache-control"] == "no-store"
        assert 'content="/api/v1"' in r.text
        # every script and stylesheet comes from this server
        for ref in re.findall(r'(?:src|href)="([^"]+)"', r.text):
            assert not ref.startswith(("http:", "https:", "//")), ref
    for asset in ("common.js", "desk.js", "play.js", "console.js", "lobby.js", "chart.js",
                  "bidform.js", "results.js", "app.css"):
        assert httpx.get(f"{server}/static/{asset}").status_code == 200
    assert httpx.get(f"{server}/play/not%20an%20id").status_code == 404
    assert httpx.get(f"{server}/static/../router.py").status_code == 404
