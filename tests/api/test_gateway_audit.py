"""Issue 12 item 6: the audit trail. Every write and every refusal is recorded (who, when,
from which address, method and path, session, status, a short what), and so is the
instructor's read of the bids; reads are not; a refused batch still stores nothing of its own;
the instructor pages through it at GET /sessions/{id}/audit. On SQLite, and on PostgreSQL
when MENGXI_TEST_DATABASE_URL is set."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from api.service.gateway.audit import AUDIT_WAIT_SECONDS
from api.service.settings import Settings
from tests.api.conftest import (
    API,
    Game,
    TestClient,
    bearer,
    capacity_offers,
    create_app,
    db_state,
    new_game,
)
from tests.api.test_hardening import _fast_settings, _held_database_lock


def _trail(game: Game, **params: Any) -> Any:
    r = game.client.get(game.url("/audit"), params=params, headers=game.as_("instructor"))
    assert r.status_code == 200, r.text
    return r.json()


def _all(game: Game) -> list[dict[str, Any]]:
    return list(_trail(game, limit=1000)["data"])


def test_writes_refusals_and_sealed_reads_are_recorded(client: TestClient,
                                                       settings: Settings) -> None:
    game = new_game(client, join=("genco-1",))
    created = _all(game)
    assert [(r["method"], r["route"], r["status"]) for r in created] == [
        ("POST", f"{API}/sessions", 201),
        ("POST", f"{API}/sessions/{game.id}/participants", 201)]
    instructor = created[0]["actor"]
    assert instructor.startswith("instructor:") and created[0]["what"] == "create_session"
    assert created[1]["actor"] == "anonymous" and "participant=genco-1" in created[1]["what"]
    assert all(r["client"] == "testclient" and r["at"] for r in created)

    round_id = game.open()
    view = game.view("genco-1")  # a read: not recorded
    assert game.bid("genco-1", round_id, capacity_offers(view)).status_code == 201
    before = db_state(settings, game.id)
    bad = game.bid("genco-1", round_id, [{"unit": "nope", "price": 1, "quantity": 1}])
    assert bad.status_code == 422
    assert db_state(settings, game.id) == before  # the refused batch stored nothing
    assert client.get(game.url("/me"), headers=bearer("mxp_wrongwrongwrong")).status_code == 401
    assert client.get(game.url(f"/rounds/{round_id}/bids"),
                      headers=game.as_("instructor")).status_code == 200
    assert client.get(game.url(f"/rounds/{round_id}/bids"),
                      headers=game.as_("genco-1")).status_code == 200  # own bids: not recorded

    rows = _all(game)[2:]
    got = [(r["actor"], r["method"], r["status"], r["what"].split(" ")[0]) for r in rows]
    assert got == [
        (instructor, "POST", 200, "open_next_round"),
        ("participant:genco-1", "POST", 201, "submit_bids"),
        ("participant:genco-1", "POST", 422, "submit_bids"),
        ("anonymous", "GET", 401, "get_my_view"),
        (instructor, "GET", 200, "list_bids"),
    ]
    assert "revision=1" in rows[1]["what"]
    assert "bids_refused" in rows[2]["what"]
    assert rows[3]["what"].startswith("get_my_view unauthorized:")
    ids = [r["id"] for r in _all(game)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_the_trail_is_the_instructors_and_pages(client: TestClient) -> None:
    game = new_game(client, join=("genco-1", "genco-2", "genco-3"))
    other = new_game(client, join=("genco-1",))
    assert client.get(game.url("/audit"), headers=game.as_("genco-1")).status_code == 403
    assert client.get(game.url("/audit")).status_code == 401
    assert client.get(game.url("/audit"), headers=other.as_("instructor")).status_code == 404
    assert client.get(game.url("/me"), headers=other.as_("genco-1")).status_code == 404
    everything = _all(game)
    # the four refusals above are on this session's path, so they are in its trail
    assert [r["status"] for r in everything[-4:]] == [403, 401, 404, 404]
    assert everything[-2]["actor"].startswith("instructor:")
    assert everything[-2]["actor"] != everything[0]["actor"]  # the other game's instructor
    # the other game's seat is named by its row id, never by its session's id
    assert everything[-1]["actor"].endswith(" of another session")
    assert everything[-1]["actor"].startswith("participant#")
    assert other.id not in str(everything)
    pages, after = [], 0
    while True:
        page = _trail(game, after=after, limit=2)
        assert page["count"] == len(everything) and len(page["data"]) <= 2
        pages.extend(page["data"])
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert [r["id"] for r in pages] == [r["id"] for r in everything]
    # other sessions' rows are not in this trail (the first row is the creation)
    assert everything[0]["route"] == f"{API}/sessions"
    assert {r["route"].split("/")[4] for r in everything[1:]} == {game.id}


def test_bad_cursor_is_422_and_tickets_never_reach_the_trail(client: TestClient) -> None:
    game = new_game(client, join=("genco-1",))
    r = client.get(game.url("/audit"), params={"after": 2**63},
                   headers=game.as_("instructor"))
    assert r.status_code == 422 and r.json()["problems"][0]["loc"] == "query.after"
    ticket = "mxt_" + "a" * 32
    r = client.get(game.url("/events"), params={"ticket": ticket, "follow": "false"})
    assert r.status_code == 401
    rows = _all(game)
    assert rows[-1]["route"] == f"{API}/sessions/{game.id}/events"
    assert all(ticket not in str(row) for row in rows)


def test_token_changes_are_recorded(client: TestClient) -> None:
    game = new_game(client, join=("genco-1",))
    client.delete(game.url("/participants/genco-1/token"), headers=game.as_("instructor"))
    client.post(game.url("/participants/genco-1/token"), headers=game.as_("instructor"))
    client.put(game.url("/token-policy"), json={"token_ttl_seconds": 600},
               headers=game.as_("instructor"))
    rows = _all(game)[-3:]
    assert [(r["method"], r["status"], r["what"].split(" ")[0]) for r in rows] == [
        ("DELETE", 204, "revoke_participant_token"),
        ("POST", 200, "reissue_participant_token"),
        ("PUT", 200, "set_token_policy")]
    assert "participant=genco-1" in rows[1]["what"]
    assert "mxp_" not in rows[1]["what"]  # the new token itself is never recorded


def test_a_locked_database_delays_no_answer_and_loses_no_row(
        db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """While another process holds the lock (SQLite: the file's write lock; PostgreSQL: the
    session's row), a refused write is answered 503 within the lock timeout plus the audit
    wait, and its audit row is committed once the lock is let go."""
    settings = _fast_settings(db_kind, request, tmp_path)
    app = create_app(settings)
    with TestClient(app) as c:
        game = new_game(c, join=("genco-1",))
        game.open()
        offers = capacity_offers(game.view("genco-1"))
        with _held_database_lock(settings, game.id):
            t0 = time.monotonic()
            r = game.bid("genco-1", "capacity", offers)
            waited = time.monotonic() - t0
            assert r.status_code == 503, r.text
            assert waited < settings.lock_timeout_seconds + AUDIT_WAIT_SECONDS + 1.0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
                row["status"] == 503 for row in _all(game)):
            time.sleep(0.1)
        busy = [row for row in _all(game) if row["status"] == 503]
        assert len(busy) == 1 and busy[0]["what"].startswith("submit_bids busy:")
        assert app.state.audit.dropped == 0


def test_every_row_of_concurrent_requests_is_written_once(client: TestClient) -> None:
    """Rows of concurrent requests go through the one writer (committed in groups); each is
    written exactly once."""
    game = new_game(client, join=("genco-1",))
    writer = client.app.state.audit  # type: ignore[attr-defined]
    before = writer.written
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: client.get(game.url("/me"),
                                                   headers=bearer("mxp_nobodyxxxxxxx")).status_code,
                              range(40)))
    assert codes == [401] * 40
    rows = [r for r in _all(game) if r["status"] == 401]
    assert len(rows) == 40 and len({r["id"] for r in rows}) == 40
    assert writer.written - before == 40


def test_a_row_that_fails_inline_is_written_by_the_writer(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's path: the request's thread commits the row; when that fails, the row goes
    to the writer thread, which commits it (here the first attempt fails on purpose)."""
    import api.service.gateway.audit as audit

    game = new_game(client)
    writer = client.app.state.audit  # type: ignore[attr-defined]
    real = audit.repo.add_audit
    failures = iter([RuntimeError("the database went away")])

    def flaky(db: Any, row: Any) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real(db, row)

    monkeypatch.setattr(audit.repo, "add_audit", flaky)
    row = audit.AuditRow(at=audit.utcnow(), session_id=game.id, actor="anonymous",
                         client="test", method="POST", route="/x", status=400, what="probe")
    writer.write_now(row)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(r["what"] == "probe" for r in _all(game)):
        time.sleep(0.05)
    assert [r["what"] for r in _all(game)].count("probe") == 1
    assert writer.dropped == 0
