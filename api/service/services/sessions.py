"""Sessions: create a game (rules, fleet, plan), read it, list an instructor's games."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session as Db

from api.service import views
from api.service.classroom import briefing as classroom_briefing
from api.service.classroom import export as classroom_export
from api.service.classroom import profit as classroom_profit
from api.service.db import repositories as repo
from api.service.db.tables import InstructorRow, SessionRow, utcnow
from api.service.errors import NotFound, Refused
from api.service.live import LiveSession, LiveSessions
from api.service.schemas.classroom import (
    BriefingPublic,
    DemandPointPublic,
    SessionClone,
    StandingPublic,
    StandingsPublic,
)
from api.service.schemas.paging import next_offset
from api.service.schemas.sessions import (
    LobbyPublic,
    SessionCreate,
    SessionCreated,
    SessionPublic,
    SessionsPublic,
)
from api.service.security import INSTRUCTOR_PREFIX, new_session_id, new_token, token_sha256
from api.service.services import bots as seat_bots
from api.service.services.common import event_rows, reading, writing
from api.service.services.game_setup import GameSetup, build_session
from api.service.settings import Settings
from clearing.grid import MAX_EXACT_TICKS
from market.errors import MarketError
from market.rules import MarketRules, load_preset, load_rules

#: The largest magnitude of any number in a game's rules: far above every real parameter
#: (the largest is a load peak of tens of thousands of MW), far below what overflows.
MAX_RULE_NUMBER = 1e12


def _numbers(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path, value


def rules_problems(rules: MarketRules) -> list[tuple[str, str]]:
    """``(key, reason)`` for each value of ``rules`` the game cannot run with, beyond the
    rules' own validation: a number that is not finite or above :data:`MAX_RULE_NUMBER`
    (integers: outside 64 bits), and a bid limit (price cap, floor, value of lost load, offer
    cap, green premium bounds) that does not fit the int64 tick grid the auctions clear on."""
    out: list[tuple[str, str]] = []
    for key, v in _numbers(rules.model_dump(mode="python"), ""):
        if isinstance(v, int) and not -2**63 <= v < 2**63:
            out.append((key, f"{v.bit_length()}-bit whole number; allowed: 64 bits"))
        elif isinstance(v, float) and not (math.isfinite(v) and abs(v) <= MAX_RULE_NUMBER):
            out.append((key, f"{v!r} is not a finite number of at most "
                             f"{MAX_RULE_NUMBER:g} in size"))
    tick = rules.ticks.price_yuan
    limits = {"energy.price_cap_yuan_per_mwh": rules.energy.price_cap_yuan_per_mwh,
              "energy.price_floor_yuan_per_mwh": rules.energy.price_floor_yuan_per_mwh,
              "fleet.loads.value_of_lost_load_yuan_per_mwh":
                  rules.fleet.loads.value_of_lost_load_yuan_per_mwh,
              "capacity.offer_cap_yuan_per_kw_yr": rules.capacity.offer_cap_yuan_per_kw_yr,
              "green.premium_min_yuan_per_mwh": rules.green.premium_min_yuan_per_mwh,
              "green.premium_max_yuan_per_mwh": rules.green.premium_max_yuan_per_mwh}
    for key, v in limits.items():
        if math.isfinite(v) and abs(v) / tick >= MAX_EXACT_TICKS and \
                all(k != key for k, _ in out):
            out.append((key, f"{v:g} is {abs(v) / tick:.3g} ticks of {tick:g} yuan, beyond "
                             f"the {MAX_EXACT_TICKS:.3g} ticks prices are cleared on"))
    return out


def check_rules(rules: MarketRules, overrides: dict[str, Any]) -> None:
    """Refuse (422) rules that :func:`rules_problems` finds fault with, each problem named by
    its key (``overrides.<key>`` when an override set it, else ``rules.<key>``)."""
    found = rules_problems(rules)
    if not found:
        return
    problems = [{"loc": (f"overrides.{key}" if key in overrides else f"rules.{key}"),
                 "reason": why} for key, why in found]
    shown = "; ".join(f"{p['loc']}: {p['reason']}" for p in problems[:3])
    raise Refused(f"rules refused ({len(problems)} problem"
                  f"{'s' if len(problems) != 1 else ''}): {shown}", problems=problems)


def resolve_rules(body: SessionCreate) -> MarketRules:
    """The rules of a new session: a preset or a TOML body, then the overrides, checked by
    the rules' own validation and by :func:`check_rules`. Raises
    :class:`~market.errors.RulesError` or :class:`~api.service.errors.Refused` listing every
    problem."""
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
    rules = rules.with_overrides(body.overrides) if body.overrides else rules
    check_rules(rules, body.overrides)
    return rules


def create_session(db: Db, live: LiveSessions, settings: Settings, body: SessionCreate,
                   instructor: InstructorRow | None) -> SessionCreated:
    """Build and save a new game; a new instructor (and token) unless one is calling."""
    if body.scale > settings.max_scale:
        raise Refused(f"scale {body.scale:g} is above this server's limit "
                      f"{settings.max_scale:g}; allowed 0 < scale <= {settings.max_scale:g}")
    rules = resolve_rules(body)
    bots = seat_bots.resolve_policy(body.bots, settings)
    if bots is not None:
        seat_bots.check_policy(bots)
    setup = GameSetup(seed=rules.meta.seed if body.seed is None else body.seed,
                      scale=body.scale, energy_rounds=body.energy_rounds,
                      hours_per_round=body.hours_per_round, start_day=body.start_day,
                      gencos=body.gencos, retailers=body.retailers,
                      green_product=body.green_product, green_mode=body.green_mode,
                      obligation=body.obligation)
    session_id = new_session_id()
    try:
        session, traits = build_session(rules, setup, session_id)
    except (ArithmeticError, ValueError) as exc:  # a MarketError is the domain's own refusal
        if isinstance(exc, MarketError):
            raise
        raise Refused(f"these rules and this set-up do not make a game: {exc}; check the "
                      "overrides and the fleet size") from None
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
                             bots)),
                         snapshot_version=1, token_ttl_seconds=body.token_ttl_seconds)
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
                           status=views.status_of(session, row),  # type: ignore[arg-type]
                           seats=views.seat_list(session))


def list_sessions(db: Db, live: LiveSessions, instructor: InstructorRow, offset: int,
                  limit: int) -> SessionsPublic:
    with db.begin():
        rows, count = repo.sessions_of(db, instructor.id, offset, limit)
        ids = [r.id for r in rows]
    return SessionsPublic(data=[get_session(db, live, sid) for sid in ids], count=count,
                          total=count, next_cursor=next_offset(offset, limit, count))


def rules_of(db: Db, live: LiveSessions, session_id: str) -> dict[str, object]:
    with reading(db, live, session_id) as (_row, session):
        return session.rules.model_dump(mode="json")


def halt(db: Db, live: LiveSessions, session_id: str, reason: str | None) -> SessionPublic:
    """Halt the game (see :class:`api.service.schemas.sessions.SessionHalt`); halting a
    halted game changes nothing."""
    with writing(db, live, session_id, allow_halted=True) as w:
        if views.halted(w.row) is None:
            setup = json.loads(w.row.setup)
            setup[views.HALTED] = {"at": utcnow().isoformat(), "reason": reason}
            w.row.setup = json.dumps(setup)
            repo.add_events(db, session_id, [("session_halted", None, {"reason": reason})])
        return views.session_public(w.row, w.session)


def resume(db: Db, live: LiveSessions, session_id: str) -> SessionPublic:
    """Resume a halted game (a running one is answered as it is)."""
    with writing(db, live, session_id, allow_halted=True) as w:
        if views.halted(w.row) is not None:
            setup = json.loads(w.row.setup)
            setup.pop(views.HALTED, None)
            w.row.setup = json.dumps(setup)
            repo.add_events(db, session_id, [("session_resumed", None, {})])
        return views.session_public(w.row, w.session)


# ------------------------------------------------------------------ classroom


def _seats_taken(db: Db, row: SessionRow) -> tuple[dict[str, str | None], set[str]]:
    """Joined seats (seat -> display name) and the seats bots play."""
    taken = {r.participant: r.display_name for r in repo.participants_of(db, row.id)}
    bots = set(json.loads(row.setup).get(seat_bots.SEATS) or {})
    return taken, bots


def briefing(db: Db, live: LiveSessions, session_id: str, role: str | None,
             participant: str | None) -> BriefingPublic:
    """The briefing of ``role`` (default: the caller's seat's role); a participant's lists
    its own units, loads and costs when it asks for its own role."""
    with reading(db, live, session_id) as (_row, s):
        own = None if participant is None else classroom_briefing.role_of(s, participant)
        chosen = role or own
        if chosen is None:
            raise Refused("name the role to brief: ?role=genco, storage or retailer",
                          problems=[{"loc": "query.role", "reason": "required for the "
                                     "instructor; one of genco, storage, retailer"}])
        seat = participant if chosen == own else None
        text = classroom_briefing.briefing(s, chosen, seat)
        kinds = {s.round(rid).spec.kind for rid in s.round_ids()}
        demand = ([DemandPointPublic(mw=q, price_yuan_per_kw_yr=p)
                   for q, p in classroom_briefing.capacity_demand_points(s)]
                  if "capacity" in kinds else [])
        cap = s.rules.capacity.offer_cap_yuan_per_kw_yr
    return BriefingPublic(role=chosen, participant=seat, text=text,  # type: ignore[arg-type]
                          capacity_demand=demand, capacity_offer_cap_yuan_per_kw_yr=cap)


def standings(db: Db, live: LiveSessions, session_id: str) -> StandingsPublic:
    """Every seat ranked by profit (:mod:`api.service.classroom.profit`)."""
    with reading(db, live, session_id) as (row, s):
        taken, bots = _seats_taken(db, row)
        rows = classroom_profit.standings(s, taken, bots)
        tariff = classroom_profit.retail_tariff_yuan_per_mwh(s.rules)
    return StandingsPublic(data=[StandingPublic.model_validate(r) for r in rows],
                           count=len(rows), retail_tariff_yuan_per_mwh=tariff)


def export_csv(db: Db, live: LiveSessions, session_id: str, what: str) -> str:
    """``results``, ``bids`` or ``ledger`` as CSV text (:mod:`api.service.classroom.export`)."""
    with reading(db, live, session_id) as (row, s):
        if what == "results":
            taken, bots = _seats_taken(db, row)
            return classroom_export.results_csv(s, bots, set(taken))
        if what == "bids":
            return classroom_export.bids_csv(s)
        return classroom_export.ledger_csv(s)


def clone(db: Db, live: LiveSessions, settings: Settings, session_id: str,
          body: SessionClone | None = None) -> SessionCreated:
    """A new game with the same rules (overrides included) and set-up (seed, scale, rounds,
    seats, bots policy), no one seated, under a new instructor token (returned once);
    ``body`` changes what it names (rules overrides on top of the game's rules, scale,
    rounds, hours, seats, obligation, name), checked as at creation."""
    body = body or SessionClone()
    with reading(db, live, session_id) as (row, s):
        rules = s.rules
        setup = json.loads(row.setup)
        name = body.name or row.name
    if body.overrides:
        rules = rules.with_overrides(body.overrides)
        check_rules(rules, body.overrides)
    fields = {f: setup[f] for f in GameSetup.__dataclass_fields__ if f in setup}
    changes = {k: v for k, v in body.model_dump(exclude={"name", "overrides"}).items()
               if v is not None}
    fields.update(changes)
    if fields["scale"] > settings.max_scale:
        raise Refused(f"scale {fields['scale']:g} is above this server's limit "
                      f"{settings.max_scale:g}; allowed 0 < scale <= {settings.max_scale:g}",
                      problems=[{"loc": "body.scale", "reason": "above the server's limit"}])
    game = GameSetup(**fields)
    new_id = new_session_id()
    try:
        session, traits = build_session(rules, game, new_id)
    except (ArithmeticError, ValueError) as exc:  # a MarketError is the domain's own refusal
        if isinstance(exc, MarketError):
            raise
        raise Refused(f"these rules and this set-up do not make a game: {exc}; check the "
                      "changes") from None
    state = repo.dumps(session.to_dict())
    token = new_token(INSTRUCTOR_PREFIX)
    kept = {"preset": setup.get("preset"), **asdict(game), "unit_traits": traits}
    if setup.get(seat_bots.POLICY) is not None:
        kept[seat_bots.POLICY] = setup[seat_bots.POLICY]
    kept["cloned_from"] = session_id
    with live.writing(None), db.begin():
        repo.start_write(db)
        instructor = repo.add_instructor(db, token_sha256(token))
        new_row = SessionRow(id=new_id, instructor_id=instructor.id, name=name,
                             rules_name=rules.meta.name, rules_sha256=rules.sha256(),
                             setup=json.dumps(kept), snapshot_version=1)
        repo.add_session(db, new_row, state)
        repo.add_events(db, new_id, [("session_created", None,
                                      {"name": name, "cloned_from": session_id})]
                        + event_rows(session, 0))
    live.put(new_id, LiveSession(session, 1))
    return SessionCreated(session=views.session_public(new_row, session),
                          instructor_token=token)


def release_bot(db: Db, live: LiveSessions, session_id: str, seat: str) -> SessionPublic:
    """Stop the bot of ``seat`` playing it, so a late student can take it over (with a token
    the instructor re-issues for the seat); its bids and money stay. 404 when no bot plays
    the seat."""
    with writing(db, live, session_id) as w:
        setup = json.loads(w.row.setup)
        bots = dict(setup.get(seat_bots.SEATS) or {})
        if seat not in bots:
            raise NotFound(f"no bot plays seat {seat!r}; bot seats: "
                           f"{', '.join(bots) or 'none'}")
        del bots[seat]
        setup[seat_bots.SEATS] = bots
        w.row.setup = json.dumps(setup)
        repo.add_events(db, session_id, [("bot_released", None, {"participant": seat})])
        return views.session_public(w.row, w.session)
