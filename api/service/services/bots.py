"""Bots the server plays itself: the instructor fills empty seats when creating a session or
opening a round.

A **bots policy** (``{"count", "strategy", "seed"}``,
:class:`api.service.schemas.sessions.BotsCreate`) is kept
in the session's set-up. Whenever the instructor opens a round, the seats still empty are
taken by bots in lobby order (until the session has ``count`` bot seats; all when ``None``),
and then every bot seat sends its batch for the round inside the same transaction as the
opening: the batch of the seat's :class:`agents.http.bidder.Bidder` (the same strategy code
as ``mengxi agents run`` and the in-process runner), read from the live session through
:class:`LocalGameData` instead of HTTP. A bot's seat has a token nobody knows; its batches
are in the snapshot that the opening saves. A bot whose batch cannot be made or is refused
sits the round out (logged); it never stops the round from opening.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from agents.http.bidder import Bidder
from agents.strategies.base import POLICY_PREFIX
from api.service import views
from api.service.db import repositories as repo
from api.service.db.tables import SessionRow
from api.service.errors import Refused
from api.service.schemas.sessions import BotsCreate
from api.service.security import PARTICIPANT_PREFIX, new_token, token_sha256
from api.service.services.common import Writing
from api.service.settings import Settings
from market.errors import MarketError
from market.rules import MarketRules
from market.session import Session

log = logging.getLogger(__name__)

POLICY, SEATS = "bots", "bot_seats"


class LocalGameData:
    """:class:`agents.http.bidder.GameData` of a seat, read from the live session (the same
    documents the API would send, without HTTP)."""

    def __init__(self, s: Session, row: SessionRow, participant: str) -> None:
        self.s = s
        self.row = row
        self.participant = participant
        self._views: dict[str, dict[str, Any]] = {}

    def rules(self) -> MarketRules:
        return self.s.rules

    def rounds(self) -> list[dict[str, Any]]:
        return [views.round_public(self.s, rid).model_dump(mode="json")
                for rid in self.s.round_ids()]

    def view(self, round_id: str, *, fresh: bool = False) -> dict[str, Any]:
        if fresh or round_id not in self._views:
            self._views[round_id] = views.participant_view(
                self.s, self.row, self.participant, round_id).model_dump(mode="json")
        return self._views[round_id]

    def result(self, round_id: str) -> dict[str, Any]:
        # the published result is read in place (bidders only read it)
        return dict(views.result_public(self.s, round_id, self.participant))

    def certificates(self) -> dict[str, Any]:
        return views.certificate_holdings(self.s, self.participant).model_dump(mode="json")

    def seats(self) -> list[dict[str, Any]]:
        return [seat.model_dump(mode="json") for seat in views.seat_list(self.s)]


POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
"""A trained policy's name in ``policy:NAME``: a file name in the server's policy folder."""


def resolve_policy(policy: BotsCreate | None, settings: Settings) -> BotsCreate | None:
    """``policy`` with a ``"policy:NAME"`` strategy turned into the server's file
    ``policy:<policy_dir>/NAME[.json]``; refused (422, naming ``body.bots.strategy``) when the
    server has no policy folder, the name is not a plain file name or the file is missing."""
    if policy is None or policy.strategy is None or \
            not policy.strategy.startswith(POLICY_PREFIX):
        return policy
    name = policy.strategy[len(POLICY_PREFIX):]
    where = [{"loc": "body.bots.strategy", "reason": "unknown policy"}]
    if settings.policy_dir is None:
        raise Refused("this server plays no trained policies: start it with MENGXI_POLICY_DIR "
                      "set to a folder of policy files", problems=where)
    if not POLICY_NAME.fullmatch(name) or ".." in name:
        raise Refused(f"policy:NAME names a file in the server's policy folder (letters, "
                      f"digits, _ . -), got {name!r}", problems=where)
    path = Path(settings.policy_dir) / (name if name.endswith(".json") else f"{name}.json")
    if not path.is_file():
        raise Refused(f"no trained policy {name!r} on this server", problems=where)
    return policy.model_copy(update={"strategy": f"{POLICY_PREFIX}{path}"})


def check_policy(policy: BotsCreate) -> None:
    """Refuse an unknown strategy name (:class:`~market.errors.StrategyError`, a 422); a
    trained policy (``policy:PATH``, already resolved) is loaded by ``strategy_named``."""
    if policy.strategy is not None:
        from agents.strategies.assign import strategy_named

        strategy_named(policy.strategy)


def setup_with_policy(setup: dict[str, Any], policy: BotsCreate | None) -> dict[str, Any]:
    """The set-up with ``policy`` as its bots policy (unchanged for ``None``)."""
    if policy is None:
        return setup
    check_policy(policy)
    return {**setup, POLICY: policy.model_dump(mode="json")}


def fill_and_bid(db: Any, w: Writing, round_id: str, policy: BotsCreate | None) -> list[str]:
    """Seat bots in empty seats by the session's policy (``policy`` replaces it when given),
    then let every bot seat bid in the open round ``round_id``; returns the bot seats."""
    s, row = w.session, w.row
    setup = setup_with_policy(json.loads(row.setup), policy)
    rule = setup.get(POLICY)
    seats: dict[str, dict[str, Any]] = dict(setup.get(SEATS) or {})
    if rule is not None:
        free = [p for p in s.seats() if p not in s.participants]
        count = len(free) if rule.get("count") is None else int(rule["count"]) - len(seats)
        seed = s.seed if rule.get("seed") is None else int(rule["seed"])
        for seat in free[:count]:
            s.join(seat)
            name = f"bot ({rule.get('strategy') or 'default strategies'})"
            repo.add_participant(db, row.id, seat, name,
                                 token_sha256(new_token(PARTICIPANT_PREFIX)))
            seats[seat] = {"strategy": rule.get("strategy"), "seed": seed}
    setup[SEATS] = seats
    text = json.dumps(setup)
    if text != row.setup:
        row.setup = text
    for seat, cfg in seats.items():
        try:  # the bidder only reads the session
            bids = Bidder(LocalGameData(s, row, seat), cfg.get("strategy"),
                          int(cfg.get("seed") or 0)).batch(round_id)
        except Exception:
            log.exception("bot %s of session %s sits out round %s: no batch", seat, row.id,
                          round_id)
            continue
        try:  # refused whole or stored whole: the session is never left half-changed
            s.submit_bids(seat, round_id, bids)
        except MarketError as exc:
            log.warning("bot %s of session %s sits out round %s: %s", seat, row.id, round_id,
                        exc)
    return list(seats)
