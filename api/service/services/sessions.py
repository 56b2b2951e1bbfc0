"""Sessions: create a game (rules, fleet, plan), read it, list an instructor's games."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.orm import Session as Db

from api.service import views
from api.service.db import repositories as repo
from api.service.db.tables import InstructorRow, SessionRow
from api.service.errors import Refused
from api.service.live import LiveSession, LiveSessions
from api.service.schemas.sessions import (
    LobbyPublic,
    SessionCreate,
    SessionCreated,
    SessionPublic,
    SessionsPublic,
)
from api.service.security import INSTRUCTOR_PREFIX, new_session_id, new_token, token_sha256
from api.service.services import bots as seat_bots
from api.service.services.common import event_rows, reading
from api.service.services.game_setup import GameSetup, build_session
from api.service.settings import Settings
from market.rules import MarketRules, load_preset, load_rules


def resolve_rules(body: SessionCreate) -> MarketRules:
    """The rules of a new session: a preset or a TOML body, then the overrides. Raises
    :class:`~market.errors.RulesError` listing every problem."""
    if body.preset is not None and body.rules_toml is not None:
        raise Refused("give the rules as a preset name or as a TOML body (rules_toml), "
                      "not both")
    if body.rules_toml is not None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "rules.toml"
            path.write_text(body.rules_toml, encoding="utf-8")
            rules = load_rules(path)
    else:
        rules = load_preset(body.preset or "mengxi")
    return rules.with_overrides(body.overrides) if body.overrides else rules


def create_session(db: Db, live: LiveSessions, settings: Settings, body: SessionCreate,
                   instructor: InstructorRow | None) -> SessionCreated:
    """Build and save a new game; a new instructor (and token) unless one is calling."""
    if body.scale > settings.max_scale:
        raise Refused(f"scale {body.scale:g} is above this server's limit "
                      f"{settings.max_scale:g}; allowed 0 < scale <= {settings.max_scale:g}")
    rules = resolve_rules(body)
    if body.bots is not None:
        seat_bots.check_policy(body.bots)
    setup = GameSetup(seed=rules.meta.seed if body.seed is None else body.seed,
                      scale=body.scale, energy_rounds=body.energy_rounds,
                      hours_per_round=body.hours_per_round, start_day=body.start_day,
                      gencos=body.gencos, retailers=body.retailers,
                      green_product=body.green_product, green_mode=body.green_mode,
                      obligation=body.obligation)
    session_id = new_session_id()
    session, traits = build_session(rules, setup, session_id)
    state = repo.dumps(session.to_dict())
    token = None
    with live.writing(None), db.begin():
        repo.start_write(db)
        if instructor is None:
            token = new_token(INSTRUCTOR_PREFIX)
            instructor = repo.add_instructor(db, token_sha256(token))
        row = SessionRow(id=session_id, instructor_id=instructor.id, name=body.name,
                         rules_name=rules.meta.name, rules_sha256=rules.sha256(),
                         setup=json.dumps(seat_bots.setup_with_policy(
                             {"preset": body.preset, **asdict(setup), "unit_traits": traits},
                             body.bots)),
                         snapshot_version=1)
        repo.add_session(db, row, state)
        repo.add_events(db, session_id, [("session_created", None, {"name": body.name})]
                        + event_rows(session, 0))
    live.put(session_id, LiveSession(session, 1))
    return SessionCreated(session=views.session_public(row, session), instructor_token=token)


def get_session(db: Db, live: LiveSessions, session_id: str) -> SessionPublic:
    with reading(db, live, session_id) as (row, session):
        return views.session_public(row, session)


def lobby(db: Db, live: LiveSessions, session_id: str) -> LobbyPublic:
    with reading(db, live, session_id) as (row, session):
        return LobbyPublic(id=row.id, name=row.name, rules_name=row.rules_name,
                           status=views.status_of(session),  # type: ignore[arg-type]
                           seats=views.seat_list(session))


def list_sessions(db: Db, live: LiveSessions, instructor: InstructorRow, offset: int,
                  limit: int) -> SessionsPublic:
    with db.begin():
        rows, count = repo.sessions_of(db, instructor.id, offset, limit)
        ids = [r.id for r in rows]
    return SessionsPublic(data=[get_session(db, live, sid) for sid in ids], count=count)


def rules_of(db: Db, live: LiveSessions, session_id: str) -> dict[str, object]:
    with reading(db, live, session_id) as (_row, session):
        return session.rules.model_dump(mode="json")
