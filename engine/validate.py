"""Validating YAML against the models, with problems in the policy owner's words: each
pydantic error becomes one Problem naming its file and line (read off the YAML with lines)
and saying what was expected ("expected a list, got a mapping"). Shared by policy sets,
catalogs, expectations and log maps."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem, did_you_mean
from .yamlio import LineDict, LineList

__all__ = ["validate_model", "validate_document", "plain_message", "line_at"]


def line_at(raw: Any, loc: Iterable[Any], default: int | None) -> int | None:
    """The line of the deepest node along a pydantic error location."""
    line = getattr(raw, "line", None) or default
    node = raw
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
        if isinstance(node, (LineDict, LineList)):
            line = node.line
    return line


def _problems_from(error: ValidationError, raw: Any, file: str, subject: str | None,
                   default_line: int | None) -> list[Problem]:
    problems = []
    for e in _drop_consequences(error.errors(include_url=False)):
        loc = [p for p in e["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p in _UNION_TAGS))]
        line = line_at(raw, loc, default_line)
        if e["type"] == "unknown_key":
            key = e["ctx"]["key"]
            node = raw
            for part in loc:
                try:
                    node = node[part]
                except (KeyError, IndexError, TypeError):
                    break
            if isinstance(node, LineDict):
                line = node.key_lines.get(key, line)
        path = ".".join(str(p) for p in loc)
        msg = plain_message(e)
        problems.append(Problem(file, line, subject, f"{path}: {msg}" if path else msg))
    return _dedupe(problems)


def _what(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return f"text '{value}'" if isinstance(value, str) else type(value).__name__


# pydantic's wording -> a policy owner's: "Input should be a valid tuple" is
# "expected a list, got a mapping".
_EXPECTED = {
    "tuple_type": "a list", "list_type": "a list", "set_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "string_type": "text",
    "bool_type": "true or false", "bool_parsing": "true or false", "int_type": "a whole number",
    "int_parsing": "a whole number", "int_from_float": "a whole number", "float_type": "a number",
    "float_parsing": "a number", "finite_number": "a finite number",
}


def plain_message(e: Mapping[str, Any]) -> str:
    """One pydantic error in the words of the README."""
    kind, ctx, value = e["type"], e.get("ctx") or {}, e.get("input")
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_what(value)}"
    if kind == "missing":
        return "missing (required)" if e["loc"] else "a required key is missing"
    if kind in ("enum", "literal_error"):
        choices = [c.strip().strip("'") for c in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        return f"{_what(value)} is not one of {', '.join(choices)}{did_you_mean(str(value), choices)}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty" if ctx.get("min_length", 1) <= 1 else f"needs at least {ctx['min_length']} items"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        word = {"greater_than_equal": "at least", "greater_than": "more than",
                "less_than_equal": "at most", "less_than": "less than"}[kind]
        bound = next(iter(ctx.values()), "?")
        if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e16:
            bound = int(bound)
        return f"must be {word} {bound}, got {_what(value)}"
    msg = e["msg"]
    return msg[len("Value error, "):] if msg.startswith("Value error, ") else msg


# Branch names pydantic puts into error locations (see language.StepOrName): not user keys.
_UNION_TAGS = frozenset({"Step", "str", "single", "alternatives"})   # and language._one_or_choices


def _drop_consequences(errors: list[dict]) -> list[dict]:
    """pydantic reports a list whose items failed as also too short: keep the real error."""
    locs = [tuple(e["loc"]) for e in errors]
    return [e for e in errors if not (e["type"] == "too_short" and any(
        len(other) > len(e["loc"]) and other[:len(e["loc"])] == tuple(e["loc"]) for other in locs))]


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def validate_model(model: type[BaseModel], raw: Any, file: str, subject: str | None,
              problems: list[Problem], default_line: int | None = None) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        problems.extend(_problems_from(e, raw, file, subject, default_line or getattr(raw, "line", None)))
        return None


def validate_document(model: type[BaseModel], raw: Any, file: str, shape: str) -> Any:
    """A whole file as `model` (its top level a mapping), or InputError with every problem;
    `shape` says what the file should be when its top level is not a mapping."""
    if not isinstance(raw, Mapping):
        raise InputError(Problem(file, 1, None, shape))
    problems: list[Problem] = []
    out = validate_model(model, raw, file, None, problems, 1)
    if out is None:
        raise InputError(problems)
    return out
