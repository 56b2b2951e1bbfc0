"""Trained policies as the server's bots (issue 15, item 3): a game's ``bots.strategy``
``"policy:NAME"`` plays ``<MENGXI_POLICY_DIR>/NAME.json``; a client names a file in that
folder, never a path, and a missing folder, a path or an unknown name is a 422 naming
``body.bots.strategy`` with nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.learning.blocks import FEATURES, LinearPolicy
from tests.api.conftest import API, TestClient, create_app, db_state, settings_for

MARKUP = 40.0


def _policy(folder: Path, name: str, markup: float) -> None:
    """A policy whose every block marks up by ``markup`` yuan/MWh (the bias weight)."""
    weights = np.zeros((3, len(FEATURES)))
    weights[:, FEATURES.index("bias")] = markup
    (folder / f"{name}.json").write_text(json.dumps(LinearPolicy(weights).to_json()))


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    _policy(folder, "steady", MARKUP)
    return folder


def _offer_prices(client: TestClient, strategy: str | None) -> list[float]:
    """The gencos' energy offer prices in a small all-bot game played with ``strategy``."""
    made = client.post(f"{API}/sessions", json={
        "name": "learned opponents", "seed": 3, "energy_rounds": 1, "hours_per_round": 4,
        "bots": {"strategy": strategy}})
    assert made.status_code == 201, made.text
    sid, boss = made.json()["session"]["id"], made.json()["instructor_token"]
    auth = {"Authorization": f"Bearer {boss}"}
    for _ in range(2):
        r = client.post(f"{API}/sessions/{sid}/rounds/open", headers=auth)
        assert r.status_code == 200, r.text
        rid = r.json()["round_id"]
        assert client.post(f"{API}/sessions/{sid}/rounds/{rid}/clear",
                           headers=auth).status_code == 200
    bids = client.get(f"{API}/sessions/{sid}/rounds/{rid}/bids", headers=auth).json()
    return [b["price"] for p in bids["data"] if p["participant"].startswith("genco")
            for b in p["bids"] if b["side"] == "sell"]


def test_policy_bots_play_from_the_servers_folder(request: pytest.FixtureRequest,
                                                   tmp_path: Path, policy_dir: Path) -> None:
    settings = settings_for("sqlite", request, tmp_path, policy_dir=policy_dir)
    with TestClient(create_app(settings)) as client:
        default = _offer_prices(client, None)
        learned = _offer_prices(client, "policy:steady")
    assert default and learned
    # the policy marks every offer block up by MARKUP over the default bidder's cost basis
    assert np.mean(learned) >= np.mean(default) + MARKUP / 2


@pytest.mark.parametrize(("strategy", "folder", "needle"), [
    ("policy:steady", False, "MENGXI_POLICY_DIR"),
    ("policy:../steady", True, "file in the server's policy folder"),
    ("policy:/etc/passwd", True, "file in the server's policy folder"),
    ("policy:nosuch", True, "no trained policy 'nosuch'"),
])
def test_policy_names_are_refused_clearly(request: pytest.FixtureRequest, tmp_path: Path,
                                          policy_dir: Path, strategy: str, folder: bool,
                                          needle: str) -> None:
    more = {"policy_dir": policy_dir} if folder else {}
    settings = settings_for("sqlite", request, tmp_path, **more)
    with TestClient(create_app(settings)) as client:
        before = db_state(settings)
        r = client.post(f"{API}/sessions", json={"name": "x", "bots": {"strategy": strategy}})
        assert r.status_code == 422, r.text
        assert needle in r.json()["detail"]
        assert any(p.get("loc") == "body.bots.strategy" for p in r.json()["problems"])
        assert db_state(settings) == before  # nothing stored: no session, no instructor


def test_a_round_opened_with_policy_bots_resolves_the_name_too(
        request: pytest.FixtureRequest, tmp_path: Path, policy_dir: Path) -> None:
    settings = settings_for("sqlite", request, tmp_path, policy_dir=policy_dir)
    with TestClient(create_app(settings)) as client:
        made = client.post(f"{API}/sessions", json={"name": "later bots", "seed": 3,
                                                    "energy_rounds": 1, "hours_per_round": 4})
        sid, boss = made.json()["session"]["id"], made.json()["instructor_token"]
        auth = {"Authorization": f"Bearer {boss}"}
        bad = client.post(f"{API}/sessions/{sid}/rounds/open", headers=auth,
                          json={"bots": {"strategy": "policy:nosuch"}})
        assert bad.status_code == 422 and "no trained policy 'nosuch'" in bad.json()["detail"]
        good = client.post(f"{API}/sessions/{sid}/rounds/open", headers=auth,
                           json={"bots": {"strategy": "policy:steady"}})
        assert good.status_code == 200, good.text
        assert good.json()["bidders"] == 7  # every seat taken by a policy bot, and bid
