"""Issue 12 item 3: rate limits with 429, Retry-After and the error model: sessions created
per client address, unknown tokens per client address, bid batches per token, event streams
opened per token. Each limit is a setting (MENGXI_LIMIT_...)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.service.settings import Settings
from tests.api.conftest import (
    API,
    TestClient,
    bearer,
    capacity_offers,
    create_app,
    db_state,
    new_game,
    settings_for,
)


def _app(request: pytest.FixtureRequest, tmp_path: Path, **limits: Any) -> Any:
    return create_app(settings_for("sqlite", request, tmp_path, **limits))


def _is_429(r: Any, code: str, most: int = 3600) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["code"] == code and body["detail"]
    assert set(body) <= {"detail", "code", "problems"}
    assert 1 <= int(r.headers["Retry-After"]) <= most


def test_sessions_per_address(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app = _app(request, tmp_path, limit_session_creation="3/minute")
    with TestClient(app) as c, TestClient(app, client=("10.0.0.2", 5000)) as other:
        for _ in range(3):
            assert c.post(f"{API}/sessions", json={"seed": 1}).status_code == 201
        before = db_state(app.state.settings)
        r = c.post(f"{API}/sessions", json={"seed": 1})
        _is_429(r, "too_many_sessions", 60)
        assert "3 per 1 minute" in r.json()["detail"]
        assert db_state(app.state.settings) == before  # nothing was created
        # another address has its own count
        assert other.post(f"{API}/sessions", json={"seed": 1}).status_code == 201


def test_wrong_tokens_per_address(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app = _app(request, tmp_path, limit_wrong_tokens="5/minute")
    with TestClient(app) as c, TestClient(app, client=("10.0.0.3", 5000)) as other:
        game = new_game(c, join=("genco-1",))
        for _ in range(3):  # no token at all is not a guess
            assert c.get(game.url("/me")).status_code == 401
        for i in range(5):
            r = c.get(game.url("/me"), headers=bearer(f"mxp_guess{i:04d}xxxxxxxx"))
            assert r.status_code == 401 and r.json()["code"] == "unauthorized"
        r = c.get(game.url("/me"), headers=bearer("mxp_guess9999xxxxxxxx"))
        _is_429(r, "too_many_wrong_tokens", 60)
        # while the address is over its limit no token is checked from it, a good one neither
        _is_429(c.get(game.url("/me"), headers=game.as_("genco-1")), "too_many_wrong_tokens")
        # another address is not held back
        assert other.get(game.url("/me"), headers=game.as_("genco-1")).status_code == 200


def test_bid_batches_per_token(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app = _app(request, tmp_path, limit_bid_batches="3/minute")
    with TestClient(app) as c:
        game = new_game(c, join=("genco-1", "genco-2"))
        game.open()
        offers = capacity_offers(game.view("genco-1"))
        for _ in range(3):
            assert game.bid("genco-1", "capacity", offers).status_code == 201
        before = db_state(app.state.settings, game.id)
        r = game.bid("genco-1", "capacity", offers)
        _is_429(r, "too_many_bids", 60)
        assert db_state(app.state.settings, game.id) == before
        # another token has its own count
        other = capacity_offers(game.view("genco-2"))
        assert game.bid("genco-2", "capacity", other).status_code == 201


def test_stream_opens_per_token(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app = _app(request, tmp_path, limit_stream_opens="2/minute")
    with TestClient(app) as c:
        game = new_game(c, join=("genco-1",))
        url = game.url("/events")
        for _ in range(2):
            r = c.get(url, params={"follow": "false"}, headers=game.as_("genco-1"))
            assert r.status_code == 200
        _is_429(c.get(url, params={"follow": "false"}, headers=game.as_("genco-1")),
                "too_many_stream_opens", 60)
        # a ticket stands for its token: it is counted as that token
        t = c.post(game.url("/events/ticket"), headers=game.as_("genco-1")).json()["ticket"]
        _is_429(c.get(url, params={"follow": "false", "ticket": t}), "too_many_stream_opens")
        r = c.get(url, params={"follow": "false"}, headers=game.as_("instructor"))
        assert r.status_code == 200


def test_an_empty_limit_is_no_limit(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app = _app(request, tmp_path, limit_session_creation="")
    with TestClient(app) as c:
        assert all(c.post(f"{API}/sessions", json={"seed": 1}).status_code == 201
                   for _ in range(35))  # above the default of 30 a minute


def test_defaults_and_bad_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SESSION_CREATION", "WRONG_TOKENS", "BID_BATCHES", "STREAM_OPENS"):
        monkeypatch.delenv(f"MENGXI_LIMIT_{name}", raising=False)
    s = Settings()
    assert s.limit_session_creation == "30/minute;300/hour"
    assert s.limit_wrong_tokens == "60/minute;600/hour"
    assert s.limit_bid_batches == "600/minute" and s.limit_stream_opens == "60/minute"
    monkeypatch.setenv("MENGXI_LIMIT_BID_BATCHES", "5 a minute")
    with pytest.raises(ValidationError, match="MENGXI_LIMIT_BID_BATCHES"):
        Settings()
    monkeypatch.setenv("MENGXI_LIMIT_BID_BATCHES", "1000/second")
    assert Settings().limit_bid_batches == "1000/second"


@pytest.fixture
def gate_doc(client: TestClient) -> Iterator[dict[str, Any]]:
    yield client.get(f"{API}/openapi.json").json()


def test_every_operation_that_reads_a_token_declares_429(gate_doc: dict[str, Any]) -> None:
    for path, item in gate_doc["paths"].items():
        for method, op in item.items():
            if op.get("security") or op["operationId"] in ("create_session", "submit_bids"):
                declared = op["responses"].get("429")
                assert declared, (method, path)
                assert declared["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorBody")
                assert "Retry-After" in declared["headers"]


def test_routes_without_a_token_declare_no_token_refusals(gate_doc: dict[str, Any]) -> None:
    """The limits' dependency, on every route, adds no security requirement to those that
    take no token (health, the lobby, joining)."""
    ops = {op["operationId"]: op for item in gate_doc["paths"].values()
           for op in item.values()}
    for name in ("health", "get_lobby", "join_session"):
        assert "security" not in ops[name], name
        assert not {"401", "403", "429"} & set(ops[name]["responses"]), name
