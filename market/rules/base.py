"""Shared building blocks of the rule models: the frozen base class, constrained number types
and the way a model reports problems that involve several of its fields.

Every rule model is frozen, forbids unknown keys and refuses NaN and infinity, so a rules object
is a value: it can be hashed, compared and shared between threads without copying.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

#: Error type raised by model validators; its ``ctx["problems"]`` holds (sub-path, message)
#: pairs that the loader expands into one problem each, with the full key path.
CROSS_FIELD_ERROR = "rules_problems"


class RulesModel(BaseModel):
    """Base of every rules model: frozen, unknown keys refused, NaN and infinity refused."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        validate_default=False,
        use_attribute_docstrings=True,
    )

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Problems that involve several fields, as (sub-path, message) pairs.

        ``values`` maps field names to values that may be unvalidated (raw TOML data merged over
        the defaults) or validated; read them with :func:`pick` and :func:`num`, which give None
        for anything missing or not a finite number, and skip comparisons with None. The
        loader calls this on raw data when other fields failed, so every problem is reported
        at once, not only those of the tables that happened to be valid.
        """
        return []

    @model_validator(mode="after")
    def _check_across_fields(self) -> RulesModel:
        values = {name: getattr(self, name) for name in type(self).model_fields}
        raise_problems(type(self).cross_problems(values))
        return self


# Numbers and switches are strict: TOML already types them, so a quoted "300" or a `true`
# where a number belongs is a mistake to report, not to coerce. Ints are accepted as floats.

#: A finite float (NaN and infinity refused).
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: A share or ratio in [0, 1].
Fraction = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]
#: A finite float >= 0 (costs, prices that cannot be negative, Net CONE).
NonNegative = Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]
#: A finite float > 0 (sizes, caps, ticks).
Positive = Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)]
#: A count >= 0.
Count = Annotated[int, Field(strict=True, ge=0)]
#: A count >= 1.
PositiveCount = Annotated[int, Field(strict=True, ge=1)]
#: A true/false switch (TOML booleans only; 1, "yes" and the like are refused).
Flag = Annotated[bool, Field(strict=True)]


@dataclass(frozen=True)
class RulesProblem:
    """One thing wrong with a rules file.

    ``path`` is the key path in the resolved rules
    (``capacity.demand_points[1].price_yuan_per_kw_yr``; empty for the file as a whole),
    ``file`` the file that was being loaded, ``message`` what is wrong and what is allowed.
    """

    path: str
    message: str
    file: str | None = None

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.path) if part)
        return f"{where}: {self.message}" if where else self.message


def key_path(loc: Iterable[str | int]) -> str:
    """Format a location tuple as a dotted key path with list indices in brackets."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def raise_problems(problems: list[tuple[str, str]]) -> None:
    """Raise the cross-field error for ``problems`` (sub-path, message) if there are any.

    Used inside ``model_validator(mode="after")`` so that every problem of a model is reported
    together, each at its own key path, instead of only the first.
    """
    if problems:
        summary = "; ".join(f"{path}: {message}" for path, message in problems)
        raise PydanticCustomError(
            CROSS_FIELD_ERROR, "{summary}", {"summary": summary, "problems": problems}
        )


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update``: tables merge key by key, anything else (lists too)
    replaces whole. Neither input is changed."""
    out = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def pick(obj: Any, *path: str | int) -> Any:
    """The value at ``path`` inside nested mappings, models and lists, or None if absent."""
    for key in path:
        if isinstance(key, int):
            ok = isinstance(obj, list | tuple) and -len(obj) <= key < len(obj)
            obj = obj[key] if ok else None
        elif isinstance(obj, Mapping):
            obj = obj.get(key)
        elif isinstance(obj, BaseModel):
            obj = getattr(obj, key, None)
        else:
            return None
    return obj


def num(value: Any) -> float | None:
    """``value`` as a float if it is a finite real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None
