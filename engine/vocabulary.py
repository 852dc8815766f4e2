"""What every file people write shares: the cause of a rule and the lane of a step (the
service-design words), a scalar value, names compared as a reader compares them, the bounds
that keep every sum finite, and `Strict`, the base model that rejects an unknown key with a
hint.

The models themselves: the policy language in `language`, the manifest in `manifest`,
catalogs and cases in `case` (`friction.model` gathers them all).
"""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, ClassVar, Mapping, Union

from pydantic import BaseModel, ConfigDict, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from .errors import did_you_mean

__all__ = ["CUSTOMER_VISIBLE", "Cause", "INTERNAL_CHANNEL", "Lane", "STAFF_ONLY", "Scalar", "Strict"]


def _scalar(v: Any) -> Any:
    if isinstance(v, (bool, int, float, str)):
        return v
    raise PydanticCustomError("scalar", "expected true/false, a number or text, got {got}",
                              {"got": "a list" if isinstance(v, (list, tuple)) else
                               "a mapping" if isinstance(v, Mapping) else type(v).__name__})


# One value of a case attribute: one validator, so a wrong value gets one clear error.
Scalar = Annotated[Union[bool, int, float, str], PlainValidator(_scalar)]


class Cause(str, Enum):
    policy = "policy"          # an internal rule the organisation chose
    practice = "practice"      # how staff and systems habitually act
    system = "system"          # a limit of IT or process
    regulation = "regulation"  # law or an external mandate


class Lane(str, Enum):
    customer = "customer"
    frontstage = "frontstage"
    backstage = "backstage"
    support = "support"


CUSTOMER_VISIBLE = frozenset({Lane.customer, Lane.frontstage})
STAFF_ONLY = frozenset({Lane.backstage, Lane.support})
INTERNAL_CHANNEL = "internal"

# Bounds that keep every sum finite: a journey's days along a path of up to a million
# steps, and effort (weights x metrics) over a catalog of a billion cases.
MAX_DAYS = 1e6
MAX_FEE = 1e12   # a fee, in the manifest's currency: no sum of them overflows
MAX_WEIGHT = 1e6
MAX_MINUTES = 1e6        # a step's handling time (about two years)
MAX_VOLUME = 1e12        # cases a year, and any capacity or money figure

INT_LIMIT = 2 ** 63 - 1      # int attributes: 64-bit integers
EXACT_LIMIT = 2 ** 53        # int values of number attributes: exact as doubles


class Strict(BaseModel):
    """Frozen, and rejects unknown keys with a 'did you mean' suggestion."""

    # The docstrings under fields become JSON Schema descriptions: friction.schemas reads
    # them when it makes a schema (pydantic's use_attribute_docstrings would parse every
    # model's source at each import: a tenth of a command's start).
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = cls._allowed_keys()
            for key in data:
                if key not in allowed:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'{hint}",
                        {"key": str(key), "hint": cls._misplaced.get(key) or _key_hint(key, allowed)},
                    )
        return data

    # key -> ": where it goes instead", for keys that belong elsewhere (see WHERE_KEYS_GO)
    _misplaced: ClassVar[dict[str, str]] = {}

    @classmethod
    def _allowed_keys(cls) -> set[str]:
        return {f.alias or name for name, f in cls.model_fields.items()}


def _name(text: str) -> str:
    """Step names compare with runs of white space folded, as a reader would."""
    return " ".join(text.split())


def _names(value: Any) -> Any:
    value = _as_tuple(value)
    return tuple(_name(v) if isinstance(v, str) else v for v in value) if isinstance(value, (list, tuple)) else value


def _as_tuple(value: Any) -> Any:
    """YAML lets a single item stand for a one-item list."""
    if value is None:
        return ()
    if isinstance(value, (str, bool, int, float)):
        return (value,)
    return value


# Keys people put in the wrong place, and where they go: the error says so.
WHERE_KEYS_GO = {
    "unless": "`unless` goes directly under `when` (a list of steps that must not be required)",
    "then": "`then` goes beside `when` in the rule, not inside it",
    "after": "`after` belongs to a step under `then`",
    "action": "a step (`action`, `lane`, ...) goes under `then`",
    "lane": "a step (`action`, `lane`, ...) goes under `then`",
    "when": "`when` goes directly under the rule",
    "id": "`id` belongs to the rule, not to its conditions",
    "not": "there is no `not`: use `ne`, `not_in` or `present: false` on an attribute, "
           "or `unless` under `when` for a step that must not be required",
    "none": "there is no `none`: use `unless` under `when` for steps that must not be required",
}


def _key_hint(key: Any, allowed: set[str], synonyms: Mapping[str, str] | None = None) -> str:
    if synonyms and key in synonyms:
        return f" (did you mean '{synonyms[key]}'?)"
    if key in WHERE_KEYS_GO:
        return f": {WHERE_KEYS_GO[key]}"
    return did_you_mean(key, allowed)
