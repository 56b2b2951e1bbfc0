"""Turn pydantic's validation errors into :class:`RulesProblem` lists with key paths, and
suggest the known key when an unknown one is close to it."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from market.rules.base import CROSS_FIELD_ERROR, RulesProblem, key_path


def _sub_model(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class found at ``loc`` inside ``model`` (list indices skipped), if any."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        found = _model_in(field.annotation)
        if found is None:
            return None
        current = found
    return current


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def all_key_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every leaf key path of ``model`` (lists of tables shown with ``[i]``)."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        sub = _model_in(field.annotation)
        if sub is None:
            yield path
        else:
            is_list = "tuple" in str(field.annotation) or "list" in str(field.annotation)
            yield from all_key_paths(sub, f"{path}[i]" if is_list else path)


def suggestion(model: type[BaseModel], loc: tuple[str | int, ...]) -> str | None:
    """The known key closest to the unknown key at ``loc``: first within its own table, then
    anywhere in the rules (a key put in the wrong table)."""
    parent, name = loc[:-1], loc[-1]
    if not isinstance(name, str):
        return None
    sub = _sub_model(model, parent)
    if sub is not None:
        close = difflib.get_close_matches(name, list(sub.model_fields), n=1, cutoff=0.6)
        if close:
            return key_path((*parent, close[0]))
    leaves = {path.rsplit(".", 1)[-1]: path for path in all_key_paths(model)}
    close = difflib.get_close_matches(name, list(leaves), n=1, cutoff=0.6)
    return leaves[close[0]] if close else None


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "finite_number":
        return "must be a finite number (NaN and infinity are refused)"
    if kind == "missing":
        return "is required"
    message = str(error["msg"])
    if kind == "literal_error":
        return message.replace("Input should be", "must be")
    return message.replace("Input should be", "must be")


def problems_from(
    err: ValidationError, model: type[BaseModel], file: str | None = None
) -> list[RulesProblem]:
    """One :class:`RulesProblem` per problem in ``err``, in a stable order."""
    out: list[RulesProblem] = []
    for error in err.errors():
        loc = tuple(error["loc"])
        if error["type"] == CROSS_FIELD_ERROR:
            for sub_path, message in error["ctx"]["problems"]:
                base = key_path(loc)
                path = f"{base}.{sub_path}" if base else sub_path
                out.append(RulesProblem(path, message, file))
        elif error["type"] == "extra_forbidden":
            hint = suggestion(model, loc)
            message = "unknown key" + (f"; did you mean '{hint}'?" if hint else "")
            out.append(RulesProblem(key_path(loc), message, file))
        else:
            value = error.get("input")
            shown = f" (got {value!r})" if not isinstance(value, dict | list | tuple) else ""
            out.append(RulesProblem(key_path(loc), _message(error) + shown, file))
    return out
