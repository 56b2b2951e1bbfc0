"""A session's whole state as JSON-compatible dicts, its exact restore, and its money views.

What the service needs to restore a session exactly, and what :func:`session_to_dict` holds:

* ``rules``: the resolved rules (``model_dump(mode="json")``) and their sha256; a restore
  refuses rules whose hash does not match;
* ``fleet``, ``loads``, ``profiles``, ``marginal_cost_yuan_per_mwh``, ``seed`` and the
  generator's state (``rng_state``), ``auto_settle``;
* ``participants`` in join order; ``sequence`` (the bid submission counter); ``events``;
* ``rounds`` in plan order: spec, status, every participant's current bids with revision and
  sequence, and the published result (with its settlement);
* ``ledger``: every payment (``Ledger.to_records``);
* ``registry``: the certificate registry's books (``state``,
  :meth:`~market.certificates.registry.CertificateRegistry.to_dict`), restored as they are; the log
  of
  registry operations (clock moves, issues, transfers, retirements), kept as the session's
  history; and the sha256 of both, which a restore checks (as it checks that the books balance
  and were set up by the saved rules and fleet); ``holdings`` per owner and ``totals`` are
  there to read, not needed to restore.

Floats are kept as Python floats (JSON writes them exactly); NaN never appears (``None``).
The dict holds every sealed bid of every open round: it is for persistence, never for players
(they read :meth:`~market.session.game.Session.bids_visible_to`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from clearing.jsonable import jsonable
from market.certificates.registry import CertificateRegistry
from market.errors import MarketError, SessionStateError
from market.ledger.book import SYSTEM_OPERATOR, Ledger
from market.rules import MarketRules
from market.session.books import SessionBooks
from market.session.results import GreenRoundResult, result_from_dict
from market.session.rounds.green import trade_from_dict
from market.session.setup import (
    Load,
    Profiles,
    RoundSpec,
    RoundStatus,
    fleet_from_records,
    fleet_records,
)

FORMAT = "mengxi-session/2"
S = TypeVar("S", bound=SessionBooks)


def registry_sha256(state: Mapping[str, Any], log: list[dict[str, Any]]) -> str:
    """Hex sha256 of a saved registry: its books (``state``) and its operation log, as JSON."""
    text = json.dumps({"log": log, "state": state}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def session_to_dict(s: SessionBooks) -> dict[str, Any]:
    report = s.registry.invariant_report()
    state = s.registry.to_dict()
    log = json.loads(json.dumps(s.registry_log))
    return {
        "format": FORMAT,
        "session_id": s.session_id,
        "seed": s.seed,
        "rng_state": jsonable(s.rng.bit_generator.state),
        "auto_settle": s.auto_settle,
        "storage_soc_start_fraction": s.storage_soc_start_fraction,
        "rules": {"resolved": s.rules.model_dump(mode="json"), "sha256": s.rules.sha256()},
        "fleet": fleet_records(s.fleet),
        "marginal_cost_yuan_per_mwh": dict(s.marginal_cost),
        "loads": [ld.to_dict() for ld in s.loads],
        "profiles": s.profiles.to_dict(),
        "participants": list(s.participants),
        "sequence": s.sequence,
        "rounds": [{**r.spec.to_dict(), "status": str(r.status),
                    "bids": [{"participant": p, **json.loads(json.dumps(e))}
                             for p, e in r.bids.items()],
                    "result": (None if r.result is None
                               else json.loads(json.dumps(r.result.to_dict())))}
                   for r in s.rounds.values()],
        "events": [dict(e) for e in s.events],
        "ledger": s.ledger.to_records(),
        "registry": {
            "start_month": s.period(s.profiles.months()[0]),
            "state": state,
            "log": log,
            "sha256": registry_sha256(state, log),
            "holdings": {o: s.registry.owner_summary(o) for o in s.registry.names()["owner"]},
            "totals": report.totals,
        },
    }


def session_from_dict(cls: Callable[..., S], d: Mapping[str, Any]) -> S:
    """Build a session with ``cls`` (the Session class) and restore ``d`` into it."""
    if d.get("format") != FORMAT:
        raise SessionStateError(f"not a saved session of format {FORMAT!r} (format "
                                f"{d.get('format')!r})")
    try:
        rules = MarketRules.model_validate(d["rules"]["resolved"])
        if rules.sha256() != d["rules"]["sha256"]:
            raise SessionStateError("the saved rules do not match their sha256; the session "
                                    "was saved under other rules or edited")
        s = cls(rules, fleet_from_records(d["fleet"]),
                [Load.from_dict(x) for x in d["loads"]], Profiles.from_dict(d["profiles"]),
                [RoundSpec.from_dict(x) for x in d["rounds"]], seed=d["seed"],
                marginal_cost_yuan_per_mwh=d["marginal_cost_yuan_per_mwh"],
                session_id=d["session_id"], auto_settle=d["auto_settle"],
                storage_soc_start_fraction=d["storage_soc_start_fraction"])
        s.rng.bit_generator.state = d["rng_state"]
        s.participants = list(d["participants"])
        s.sequence = int(d["sequence"])
        s.events = [dict(e) for e in d["events"]]
        for saved in d["rounds"]:
            r = s.rounds[saved["round_id"]]
            r.status = RoundStatus(saved["status"])
            r.bids = {e["participant"]: {k: v for k, v in e.items() if k != "participant"}
                      for e in json.loads(json.dumps(saved["bids"]))}
            r.result = (None if saved["result"] is None
                        else result_from_dict(json.loads(json.dumps(saved["result"]))))
        s.ledger = Ledger.from_records(d["ledger"])
        s.green_market.ledger = s.ledger
        _restore_registry(s, d["registry"])
        s.green_market.trades = [trade_from_dict(t) for res in s.results_of(GreenRoundResult)
                                 for t in res.trades]
    except (KeyError, TypeError) as exc:
        raise SessionStateError(f"saved session is incomplete or malformed: {exc!r}") from None
    except SessionStateError:
        raise
    except MarketError as exc:
        raise SessionStateError(f"saved session does not restore: {exc}") from None
    s.ledger.check_balanced()
    return s


def _restore_registry(s: SessionBooks, saved: Mapping[str, Any]) -> None:
    """Put the saved certificate registry in place of the session's new one, once its sha256,
    its books and its set-up (validity, certificate size, issuing technologies, the fleet's
    units and owners, a clock not before the session's first month) check out."""
    log = json.loads(json.dumps(saved["log"]))
    if registry_sha256(saved["state"], log) != saved["sha256"]:
        raise SessionStateError("the saved certificate registry (books or log) does not match "
                                "its sha256; it was edited")
    registry = CertificateRegistry.from_dict(saved["state"])
    if _set_up(registry) != _set_up(s.registry) or registry.month < s.registry.month:
        raise SessionStateError("the saved certificate registry was not set up by the saved "
                                "rules and fleet")
    s.registry = registry
    s.green_market.registry = registry
    s.registry_log = log


def _set_up(registry: CertificateRegistry) -> tuple[Any, ...]:
    """What the rules and the fleet fix in a registry: validity, certificate size, issuing
    technologies, and the units with their technologies and owners."""
    units = registry.to_dict()["units"]
    return (registry.validity_months, registry.ticks_per_certificate,
            registry.issuing_technologies, units["unit"], units["technology"],
            [registry.unit_owner(u) for u in units["unit"]])


# --------------------------------------------------------------------- money views

def round_settlement(ledger: Ledger, start: int) -> dict[str, dict[str, int]]:
    """Per participant (sorted), net fen by category (sorted) of the legs posted from leg
    ``start`` on, with ``"net"``; the system operator included."""
    cols = ledger.columns()
    out: dict[str, dict[str, int]] = {}
    for who, cat, fen in zip(cols["participant"][start:].tolist(),
                             cols["category"][start:].tolist(),
                             cols["amount_fen"][start:].tolist(), strict=True):
        row = out.setdefault(who, {})
        row[cat] = row.get(cat, 0) + int(fen)
    return {who: {**dict(sorted(row.items())), "net": sum(row.values())}
            for who, row in sorted(out.items())}


def variable_cost_fen(s: SessionBooks) -> dict[str, int]:
    """Per owner: fen of marginal cost of the energy its units sold in cleared hours (units
    with a known marginal cost only; MW x 1 h x yuan/MWh, rounded half-even once per owner)."""
    d = np.nan_to_num(s.dispatch_mw(), nan=0.0)
    out: dict[str, float] = {}
    for uid, cost in s.marginal_cost.items():
        i = s.fleet.index_of(uid)
        owner = str(s.fleet.owners[i])
        out[owner] = out.get(owner, 0.0) + float(np.maximum(d[i], 0.0).sum()) * cost
    return {o: int(np.rint(v * 100.0)) for o, v in out.items()}


def leaderboard(s: SessionBooks) -> list[dict[str, Any]]:
    """Profit per participant (every seat, joined or not: owners of units and loads, and
    anyone the ledger names, the system operator excepted): ledger revenues minus ledger costs
    minus the variable cost of dispatched units, in fen; ranked by profit, highest first, ties
    by participant id."""
    cols = s.ledger.columns()
    revenue: dict[str, int] = {}
    cost: dict[str, int] = {}
    for who, fen in zip(cols["participant"].tolist(), cols["amount_fen"].tolist(), strict=True):
        book = revenue if fen > 0 else cost
        book[who] = book.get(who, 0) + abs(int(fen))
    variable = variable_cost_fen(s)
    names = dict.fromkeys([*s.seats(), *s.participants, *revenue, *cost, *variable])
    names.pop(SYSTEM_OPERATOR, None)
    rows: list[dict[str, Any]] = []
    for p in names:
        r, c, v = revenue.get(p, 0), cost.get(p, 0), variable.get(p, 0)
        rows.append({"participant": p, "revenue_fen": r, "cost_fen": c,
                     "variable_cost_fen": v, "profit_fen": r - c - v,
                     "profit_yuan": (r - c - v) / 100.0})
    rows.sort(key=lambda x: (-int(x["profit_fen"]), str(x["participant"])))
    return [{"rank": k + 1, **row} for k, row in enumerate(rows)]
