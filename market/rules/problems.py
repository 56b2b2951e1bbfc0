"""Turn pydantic's validation errors into :class:`RulesProblem` lists with key paths, and
suggest the known key when an unknown one is close to it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from market.rules.base import CROSS_FIELD_ERROR, RulesModel, RulesProblem, key_path

#: Unit words that end key names; a key whose stem matches a known key's stem is a key given
#: in the wrong unit.
_UNIT_TAIL = re.compile(
    r"(_(yuan|fen|usd|gbp|mw|mwh|gw|gwh|kw|kwh|per|yr|year|years|month|months|day|days|h|"
    r"hour|hours|pct|percent))+$"
)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _sub_model(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class found at ``loc`` inside ``model`` (list indices skipped), if any."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        found = _model_in(field.annotation) if field is not None else None
        if found is None:
            return None
        current = found
    return current


def _leaves(model: type[BaseModel], prefix: tuple[str | int, ...] = ()) -> Iterator[tuple]:
    """Every leaf key location of ``model``; lists of tables get index 0."""
    for name, field in model.model_fields.items():
        sub = _model_in(field.annotation)
        if sub is None:
            yield (*prefix, name)
        else:
            is_list = getattr(field.annotation, "__origin__", None) in (tuple, list)
            yield from _leaves(sub, (*prefix, name, 0) if is_list else (*prefix, name))


def _stem(name: str) -> str:
    return _UNIT_TAIL.sub("", name)


def suggestion(model: type[BaseModel], loc: tuple[str | int, ...]) -> str | None:
    """The known key path closest to the unknown key at ``loc``.

    A known key with the same name but another unit wins (first in the same table); otherwise
    the most similar name, preferring the same table on near ties.
    """
    parent, name = loc[:-1], loc[-1]
    if not isinstance(name, str):
        return None
    sub = _sub_model(model, parent)
    local = [(*parent, key) for key in sub.model_fields] if sub is not None else []
    everywhere = [leaf for leaf in _leaves(model) if leaf not in local]
    for candidates in (local, everywhere):
        for cand in candidates:
            if _stem(str(cand[-1])) == _stem(name) and _stem(name):
                return key_path(cand)
    best, best_score = None, 0.6
    for bonus, candidates in ((0.03, local), (0.0, everywhere)):
        for cand in candidates:
            score = difflib.SequenceMatcher(None, name, str(cand[-1])).ratio() + bonus
            if score > best_score:
                best, best_score = cand, score
    return key_path(best) if best is not None else None


def unknown_key_message(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    hint = suggestion(model, loc)
    return "unknown key" + (f"; did you mean '{hint}'?" if hint else "")


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "finite_number":
        return "must be a finite number (NaN and infinity are refused)"
    if kind == "missing":
        return "is required"
    return str(error["msg"]).replace("Input should be", "must be")


def raw_cross_problems(
    model: type[BaseModel], data: Any, loc: tuple[str | int, ...] = ()
) -> list[tuple[str, str]]:
    """Cross-field problems of unvalidated ``data`` (merged over the model's defaults), found
    by each model's ``cross_problems`` at every level; values that are not valid are skipped."""
    if not isinstance(data, Mapping) or not issubclass(model, RulesModel):
        return []
    values: dict[str, Any] = {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if not field.is_required()
    }
    values.update(data)
    base = key_path(loc)
    out = [(f"{base}.{sub}" if base else sub, msg) for sub, msg in model.cross_problems(values)]
    for name, field in model.model_fields.items():
        sub_model = _model_in(field.annotation)
        raw = data.get(name)
        if sub_model is None or raw is None:
            continue
        if isinstance(raw, Mapping):
            out.extend(raw_cross_problems(sub_model, raw, (*loc, name)))
        elif isinstance(raw, list | tuple):
            for i, item in enumerate(raw):
                out.extend(raw_cross_problems(sub_model, item, (*loc, name, i)))
    return out


def problems_from(
    err: ValidationError, model: type[BaseModel], data: Any, file: str | None = None
) -> list[RulesProblem]:
    """Every problem of ``data``: those pydantic found field by field (with key paths) and the
    cross-field ones, which are recomputed on the raw data so that a bad value in one table does
    not hide an inconsistency elsewhere in it."""
    out: list[RulesProblem] = []
    validated_cross: list[tuple[str, str]] = []
    for error in err.errors():
        loc = tuple(error["loc"])
        if error["type"] == CROSS_FIELD_ERROR:
            base = key_path(loc)
            for sub, message in error["ctx"]["problems"]:
                validated_cross.append((f"{base}.{sub}" if base else sub, message))
            continue
        if error["type"] == "extra_forbidden":
            out.append(RulesProblem(key_path(loc), unknown_key_message(model, loc), file))
        else:
            value = error.get("input")
            shown = "" if isinstance(value, dict | list | tuple) else f" (got {value!r})"
            out.append(RulesProblem(key_path(loc), _message(error) + shown, file))
    seen = {(p.path, p.message) for p in out}
    # The raw pass sees tables whose other fields failed; the validated pass is kept too, so a
    # problem is never lost where the two read a value differently.
    for path, message in [*raw_cross_problems(model, data), *validated_cross]:
        if (path, message) not in seen:
            seen.add((path, message))
            out.append(RulesProblem(path, message, file))
    order = {name: i for i, name in enumerate(model.model_fields)}
    return sorted(
        out, key=lambda p: order.get(re.split(r"[.\[]", p.path, maxsplit=1)[0], len(order))
    )
