"""YAML -> validated models. Every problem names its file, line and rule or case id.

Problems are collected rather than raised one at a time, so a policy owner fixing a file
sees everything wrong with it in one run.
"""
from __future__ import annotations

import codecs
import io
import itertools
import json
import math
import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, NamedTuple

from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem, did_you_mean
from .intake import line_reader
from .logic import MAX_ALTERNATIVES, TooManyAlternatives, alternatives, strata
from .yamlio import LineDict, LineList, dump_yaml, parse_yaml, read_yaml, relative_path, unreadable_file
from .model import (
    CUSTOMER_VISIBLE, EXACT_LIMIT, INT_LIMIT, INTERNAL_CHANNEL, LIST_OPERATORS, MAX_VOLUME, ORDERED_OPERATORS,
    PERSONA_KEYS,
    Attribute, Case, CaseSpec, Catalog, Condition, Manifest, PolicySet, Rule, RuleFile, Step,
)

__all__ = ["MANIFEST_FILE", "load_policy_set", "read_policy_set", "policy_set_from_data", "load_catalog",
           "resolve_cases", "iter_cases", "iter_jsonl_cases", "iter_jsonl_lines", "iter_jsonl_blob", "open_catalog",
           "open_catalog_stream", "catalog_from_yaml", "jsonl_lines", "rule_files_in", "unreadable_file", "CaseResolver",
           "CatalogStream", "JsonLine", "JsonLineResolver", "read_yaml",
           "parse_yaml"]

MANIFEST_FILE = "policy-set.yaml"


# --------------------------------------------------------------------------- YAML with lines
# (read by yamlio: YAML 1.2 core schema, merge keys, bounded aliases and nesting)


def _line_at(raw: Any, loc: Iterable[Any], default: int | None) -> int | None:
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
        line = _line_at(raw, loc, default_line)
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


# Branch names pydantic puts into error locations (see model.StepOrName): not user keys.
_UNION_TAGS = frozenset({"Step", "str", "single", "alternatives"})   # and model._one_or_choices


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


# --------------------------------------------------------------------------- policy sets


def load_policy_set(folder: str | os.PathLike) -> PolicySet:
    """Load and cross-check a policy set folder: a manifest plus rule files.
    Raises InputError with every problem found."""
    policy_set, problems = read_policy_set(folder)
    if problems or policy_set is None:
        raise InputError(problems)
    return policy_set


def read_policy_set(folder: str | os.PathLike) -> tuple[PolicySet | None, list[Problem]]:
    """Lenient load, for lint: every problem, plus the set built from what is usable
    (None only when the manifest itself is unusable)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, [Problem(relative_path(folder), None, None, "no such policy set folder")]
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        return None, [Problem(relative_path(folder), None, None, f"not a policy set: {MANIFEST_FILE} is missing")]
    rule_files = rule_files_in(folder)
    problems: list[Problem] = []
    if not rule_files:
        problems.append(Problem(relative_path(folder), None, None, "no rule files (*.yaml, *.yml) beside the manifest"))
    sources = []
    unreadable = False
    for path in [manifest_path, *rule_files]:
        try:
            sources.append((relative_path(path), read_yaml(path)))
        except InputError as e:
            problems.extend(e.problems)
            if path == manifest_path:
                return None, problems
            unreadable = True
    policy_set = _build(str(folder), sources[0], sources[1:], problems, unreadable)
    return policy_set, problems


def rule_files_in(folder: Path) -> list[Path]:
    """Every *.yaml or *.yml beside the manifest, in any letter case. Symlinks that dangle or
    loop and folders with such names are kept, so that reading them reports them: nothing
    named like a rule file is skipped in silence. Hidden files (an editor's `.#rules.yaml`
    lock) are not rule files."""
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in (".yaml", ".yml") and p.name != MANIFEST_FILE
                  and not p.name.startswith("."))


def policy_set_from_data(manifest: Mapping, files: Mapping[str, Any], path: str = "<memory>",
                         lines: bool = True) -> PolicySet:
    """Build a policy set from plain data ({file name: {"rules": [...]}}), e.g. generated by
    tests. It goes through YAML text so errors carry lines exactly as from files; with
    `lines=False` it does not (much faster; errors then carry no line)."""
    problems: list[Problem] = []

    def source(data: Any, name: str) -> Any:
        return parse_yaml(dump_yaml(data), name) if lines else _unlined(data)

    sources = [(f"{path}/{MANIFEST_FILE}", source(dict(manifest), f"{path}/{MANIFEST_FILE}"))]
    for name in sorted(files):
        sources.append((f"{path}/{name}", source(files[name], f"{path}/{name}")))
    policy_set = _build(path, sources[0], sources[1:], problems)
    if problems or policy_set is None:
        raise InputError(problems)
    return policy_set


def _unlined(data: Any) -> Any:
    """Plain data as the YAML loader's types, every line unknown."""
    if isinstance(data, Mapping):
        out = LineDict((k, _unlined(v)) for k, v in data.items())
        out.key_lines, out.texts = {}, {}
        return out
    if isinstance(data, (list, tuple)):
        seq = LineList(_unlined(v) for v in data)
        seq.item_lines = [0] * len(seq)
        return seq
    return data


def _build(path: str, manifest_source: tuple[str, Any], rule_sources: list[tuple[str, Any]],
           problems: list[Problem], unreadable: bool = False) -> PolicySet | None:
    """`unreadable`: some rule file could not be parsed, so any step may be defined there:
    names that look unknown are not reported (the parse error is)."""
    mfile, raw_manifest = manifest_source
    if not isinstance(raw_manifest, Mapping):
        problems.append(Problem(mfile, 1, None, "the manifest must be a mapping (name, events, ...)"))
        return None
    version = raw_manifest.get("version")
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        # `version: 2024.10` is a version, not the number 2024.1: keep the text as written
        raw_manifest = _with(raw_manifest, "version", getattr(raw_manifest, "texts", {}).get("version", str(version)))
    manifest = validate_model(Manifest, raw_manifest, mfile, None, problems)

    rules: list[tuple[Rule, str, int, LineDict]] = []
    broken: set[str] = set()  # steps of rules that failed: already reported, not "unknown"
    for file, raw in rule_sources:
        if raw is None:
            continue  # an empty file holds no rules
        if validate_model(RuleFile, raw, file, None, problems, 1) is None:
            continue
        items = raw.get("rules") or LineList()
        if not isinstance(items, LineList):
            problems.append(Problem(file, _line_at(raw, ("rules",), 1), None, "rules: must be a plain list of rules"))
            continue
        for i, raw_rule in enumerate(items):
            line = items.item_lines[i]
            rid = raw_rule.get("id") if isinstance(raw_rule, Mapping) else None
            subject = f"rule {rid}" if isinstance(rid, str) else f"rule #{i + 1}"
            rule = validate_model(Rule, raw_rule, file, subject, problems, line)
            if rule is not None:
                rules.append((rule, file, line, raw_rule))
            else:
                broken |= _raw_actions(raw_rule)
    if manifest is None:
        return None
    steps = _cross_check(manifest, rules, problems, _Everything() if unreadable else broken)
    unusable = _check_logic(rules, problems)

    # Keep what is usable: the first rule of each id, and rules whose steps all exist.
    usable, ids = [], set()
    for r in sorted(rules, key=lambda r: (r[1], r[2])):
        rule = r[0]
        names = [*(name for _, name in _step_tests(rule)), *(t for t in rule.then if isinstance(t, str))]
        if rule.id not in ids and all(n in steps for n in names) and rule.id not in unusable:
            ids.add(rule.id)
            usable.append(r)
    steps = {a: s if all(n in steps for n in s.after)
             else s.model_copy(update={"after": tuple(n for n in s.after if n in steps)})
             for a, s in steps.items()}
    usable.sort(key=lambda r: r[0].id)
    return PolicySet(
        path=path, manifest=manifest, rules=tuple(r for r, *_ in usable), steps=steps,
        where={r.id: (file, line) for r, file, line, _ in usable},
    )


def _with(raw: Mapping, key: str, value: Any) -> Mapping:
    """A copy of a mapping with one value replaced, keeping its lines."""
    out = LineDict(raw)
    out.line, out.key_lines = getattr(raw, "line", 1), getattr(raw, "key_lines", {})
    out.texts = getattr(raw, "texts", {})
    out[key] = value
    return out


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


def _raw_actions(raw_rule: Any) -> set[str]:
    then = raw_rule.get("then") if isinstance(raw_rule, Mapping) else None
    if isinstance(then, (str, Mapping)):
        then = [then]
    out = set()
    for item in then if isinstance(then, list) else ():
        action = item.get("action") if isinstance(item, Mapping) else item
        if isinstance(action, str):
            out.add(" ".join(action.split()))
    return out


def _cross_check(manifest: Manifest, rules: list[tuple[Rule, str, int, LineDict]],
                 problems: list[Problem], broken: Any = frozenset()) -> dict[str, Step]:
    """Checks that need the whole set: ids, names, step definitions, `after` cycles.
    Each problem points at the line of the key that is wrong, not just the rule."""
    first_seen: dict[str, tuple[str, int]] = {}
    # action -> (step, rule id, file, raw rule, position in then)
    steps: dict[str, tuple[Step, str, str, LineDict, int]] = {}
    departments, channels = set(manifest.departments), set(manifest.channels)

    for rule, file, line, raw in sorted(rules, key=lambda r: (r[1], r[2])):
        subject = f"rule {rule.id}"

        def at(*loc: Any) -> int | None:
            return _line_at(raw, loc, line)

        def report(where: int | None, message: str) -> None:
            problems.append(Problem(file, where, subject, message))

        if rule.id in first_seen:
            f0, l0 = first_seen[rule.id]
            report(at("id"), f"duplicate rule id (first defined at {f0}:{l0})")
        else:
            first_seen[rule.id] = (file, line)
        for ev in rule.when.event:
            if ev not in manifest.events:
                report(at("when", "event"), f"unknown life event '{ev}'{did_you_mean(ev, manifest.events)}")
        for group in ("all", "any"):
            for k, cond in enumerate(getattr(rule.when, group)):
                _check_condition(cond, manifest, ("when", group, k), at, report)
        for j, item in enumerate(rule.then):
            if not isinstance(item, Step):
                continue
            if item.department not in departments:
                report(at("then", j, "department"), f"step '{item.action}': unknown department "
                       f"'{item.department}'{did_you_mean(item.department, departments)}")
            for channel in item.channels:
                if channel != INTERNAL_CHANNEL and channel not in channels:
                    report(at("then", j, "channel"), f"step '{item.action}': unknown channel "
                           f"'{channel}'{did_you_mean(channel, channels)}")
            for key, choices in item.choices.items():   # conditions of channel/days alternatives
                for k, c in enumerate(choices):
                    if c.when is not None:
                        _check_condition(c.when, manifest, ("then", j, key, k, "when"), at, report)
            if item.lane in CUSTOMER_VISIBLE and INTERNAL_CHANNEL in item.channels:
                report(at("then", j, "lane"), f"step '{item.action}': a {item.lane.value} "
                       "step is seen by the customer and needs a channel")
            if item.action in steps:
                other, rid0, f0, raw0, j0 = steps[item.action]
                diff = [k for k in Step.model_fields if getattr(other, k) != getattr(item, k)]
                if diff:
                    report(at("then", j), f"step '{item.action}' is defined differently by rule {rid0} "
                           f"({f0}:{_line_at(raw0, ('then', j0), 0)}) in {', '.join(diff)}; "
                           "define a step once and name it by its action elsewhere")
            else:
                steps[item.action] = (item, rule.id, file, raw, j)

    known = sorted(steps)
    for rule, file, line, raw in rules:
        subject = f"rule {rule.id}"
        for j, item in enumerate(rule.then):
            if isinstance(item, str) and item not in steps and item not in broken:
                problems.append(Problem(file, _line_at(raw, ("then", j), line), subject,
                                        f"then names step '{item}', which no rule defines{did_you_mean(item, known)}"))
        for loc, name in _step_tests(rule):
            if name not in steps and name not in broken:
                what = "unless" if loc[1] == "unless" else "step"
                problems.append(Problem(file, _line_at(raw, loc, line), subject,
                                        f"{what} '{name}' is a step no rule requires{did_you_mean(name, known)}"))
    for action, (step, rid, file, raw, j) in sorted(steps.items()):
        for k, name in enumerate(step.after):
            if name not in steps and name not in broken:
                problems.append(Problem(file, _line_at(raw, ("then", j, "after", k), None), f"rule {rid}",
                                        f"step '{action}' comes after '{name}', which no rule requires"
                                        f"{did_you_mean(name, known)}"))
    cycle = _after_cycle({a: [n for n in s.after if n in steps] for a, (s, *_) in steps.items()})
    if cycle:
        step, rid, file, raw, j = steps[cycle[0]]
        problems.append(Problem(file, _line_at(raw, ("then", j, "after"), None), f"rule {rid}",
                                "steps come after each other in a cycle: " + " -> ".join(cycle + [cycle[0]])))
    return {a: s for a, (s, *_) in sorted(steps.items())}


def _step_tests(rule: Rule) -> Iterator[tuple[tuple, str]]:
    """Every step a rule's `when` names, with its location: `step` (at the top or inside
    `all`/`any`) and `unless`."""
    def walk(c: Condition, loc: tuple) -> Iterator[tuple[tuple, str]]:
        if c.step is not None:
            for j, name in enumerate(c.step):
                yield (*loc, "step", j), name
        group = "all" if c.all is not None else "any"
        for k, x in enumerate(c.children):
            yield from walk(x, (*loc, group, k))

    for k, name in enumerate(rule.when.step):
        yield ("when", "step", k), name
    for group in ("all", "any"):
        for k, c in enumerate(getattr(rule.when, group)):
            yield from walk(c, ("when", group, k))
    for k, name in enumerate(rule.when.unless):
        yield ("when", "unless", k), name


def _check_logic(rules: list[tuple[Rule, str, int, LineDict]], problems: list[Problem]) -> set[str]:
    """`unless` must be stratified, and a condition must not expand to too many
    alternatives (logic). Returns the ids of the rules that cannot be used."""
    bad: set[str] = set()
    where = {}
    for rule, file, line, raw in rules:
        where.setdefault(rule.id, (rule, file, line, raw))
        try:
            alternatives(rule.when.condition(with_event=False))
        except TooManyAlternatives as e:
            bad.add(rule.id)
            problems.append(Problem(file, _line_at(raw, ("when",), line), f"rule {rule.id}",
                                    f"its step tests combine into {e.args[0]}+ alternatives (at most "
                                    f"{MAX_ALTERNATIVES}): split the rule into several rules"))
    _, cycles = strata([r for r, *_ in where.values()])
    for cycle in cycles:
        rule, file, line, raw = where[cycle.rule]
        bad.add(rule.id)
        k = rule.when.unless.index(cycle.step)
        problems.append(Problem(file, _line_at(raw, ("when", "unless", k), line), f"rule {rule.id}", cycle.describe()))
    return bad


def _check_condition(cond: Condition, manifest: Manifest, loc: tuple, at: Any, report: Any) -> None:
    if cond.event is not None:
        for j, ev in enumerate(cond.event):
            if ev not in manifest.events:
                report(at(*loc, "event", j), f"unknown life event '{ev}'{did_you_mean(ev, manifest.events)}")
        return
    if cond.step is not None:
        return  # checked with the whole set's steps (_step_tests)
    if cond.attr is None:
        group = "all" if cond.all is not None else "any"
        for k, c in enumerate(cond.children):
            _check_condition(c, manifest, (*loc, group, k), at, report)
        return
    spec = manifest.attributes.get(cond.attr)
    if spec is None:
        report(at(*loc, "attr"), f"attribute '{cond.attr}' is not declared in the manifest"
               f"{did_you_mean(cond.attr, manifest.attributes)}")
        return
    if cond.op == "present":
        return
    if cond.op in ORDERED_OPERATORS and spec.type not in ("int", "number"):
        report(at(*loc, cond.op), f"'{cond.op}' on {spec.type} attribute '{cond.attr}': only numbers are ordered")
        return
    values = cond.value if cond.op in LIST_OPERATORS else (cond.value,)
    for v in values:
        # Range and allowed values are not checked here: `lt: 0` on a min-0 attribute is
        # legal (if pointless, and lint says so); only the type must match, since the
        # engine compares values as typed.
        why = Attribute(type=spec.type).check(v)
        if why:
            report(at(*loc, cond.op), f"condition on '{cond.attr}': {why}")


def _after_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle in the `after` graph, or None. Iterative (chains may be thousands long);
    deterministic: nodes visited in sorted order."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        path: list[str] = [root]
        todo: list[Iterator[str]] = [iter(sorted(graph.get(root, ())))]
        state[root] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                todo.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                todo.append(iter(sorted(graph.get(nxt, ()))))
    return None


# --------------------------------------------------------------------------- catalogs


class LoadedCatalog(BaseModel):
    path: str
    catalog: Catalog
    case_lines: list[int]           # line of each explicit case
    persona_lines: dict[str, int]
    raw_cases: list[Any]


def load_catalog(path: str | os.PathLike) -> LoadedCatalog:
    """Parse and validate a catalog's shape. Cases are checked against a manifest later."""
    return catalog_from_yaml(read_yaml(path), relative_path(Path(path)))


def catalog_from_yaml(raw: Any, file: str) -> LoadedCatalog:
    if not isinstance(raw, Mapping):
        raise InputError(Problem(file, 1, None, "a catalog is a mapping with personas, events and cases"))
    problems: list[Problem] = []
    catalog = validate_model(Catalog, raw, file, None, problems, 1)
    if catalog is None:
        raise InputError(problems)
    raw_cases = raw.get("cases") or LineList()
    personas = raw.get("personas") or LineDict()
    return LoadedCatalog(
        path=file, catalog=catalog,
        case_lines=list(getattr(raw_cases, "item_lines", [1] * len(raw_cases))),
        persona_lines={k: getattr(personas, "key_lines", {}).get(k, 1) for k in personas},
        raw_cases=list(raw_cases),
    )


class CaseResolver:
    """Resolves case specs against a manifest: attributes from manifest defaults <- persona
    <- case, every value checked, the start channel chosen. One spec at a time, so a
    catalog of millions of lines streams through it."""

    def __init__(self, manifest: Manifest, file: str, personas: Mapping[str, Mapping[str, Any]] = {},
                 persona_lines: Mapping[str, int] = {}, channel: str | None = None, track_ids: bool = True,
                 personas_are_labels: bool = False, per_year: Mapping[str, float] = {}):
        self.manifest, self.file, self.channel = manifest, file, channel
        self.per_year = dict(per_year)
        self.shares: dict[str, float] = {}
        self.personas_are_labels = personas_are_labels
        # A YAML catalog is checked for duplicate ids; a stream is not (that would keep every id).
        self.track_ids = track_ids
        self.defaults = {k: a.default for k, a in manifest.attributes.items() if a.default is not None}
        self.declared = set(personas)
        self.personas: dict[str, dict[str, Any]] = {}
        self.persona_channels: dict[str, str | None] = {}
        self.problems: list[Problem] = []   # about personas: reported once, before any case
        self.seen: dict[str, int] = {}
        self._checks = {name: _fast_check(a) for name, a in manifest.attributes.items()}
        for name, attrs in sorted(personas.items()):
            own = {k: v for k, v in attrs.items() if k not in PERSONA_KEYS}
            persona_channel = attrs.get("channel")
            bad = _attribute_problems(own, manifest)
            share = attrs.get("share")
            if share is not None:
                if type(share) not in (int, float) or not 0 <= share <= 1:
                    bad.append(f"share must be a number from 0 to 1 (its part of each life event's per_year), "
                               f"got {share!r}")
                else:
                    self.shares[name] = share
            if persona_channel is not None and persona_channel not in manifest.channels:
                bad.append(f"unknown channel '{persona_channel}'{did_you_mean(persona_channel, manifest.channels)}")
            self.problems += [Problem(file, persona_lines.get(name), f"persona {name}", why) for why in bad]
            if not bad:
                self.personas[name] = own
                self.persona_channels[name] = persona_channel

    def __getstate__(self) -> dict[str, Any]:   # to worker processes: the checks are closures
        return {k: v for k, v in self.__dict__.items() if k != "_checks"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._checks = {name: _fast_check(a) for name, a in self.manifest.attributes.items()}

    def resolve(self, spec: CaseSpec, line: int | None, expanded: bool = False) -> Case | list[Problem] | None:
        """The case, its problems, or None for an expanded case an explicit one replaced."""
        manifest = self.manifest
        cid = spec.id or (f"{spec.event}/{spec.persona}" if spec.persona else spec.event)
        subject = f"case {cid}"
        if self.track_ids:
            if cid in self.seen:
                if expanded:  # an explicit case may stand in for an expanded one of the same id
                    return None
                return [Problem(self.file, line, subject, f"duplicate case id (first at line {self.seen[cid]})")]
            self.seen[cid] = line or 0
        why: list[str] = []
        if spec.event not in manifest.events:
            why.append(f"unknown life event '{spec.event}'{did_you_mean(spec.event, manifest.events)}")
        attrs = dict(self.defaults)
        if spec.persona is not None and not self.personas_are_labels:
            if spec.persona in self.personas:
                attrs.update(self.personas[spec.persona])
            elif spec.persona in self.declared:
                why.append(f"persona '{spec.persona}' is invalid (see its own error)")
            else:
                why.append(f"unknown persona '{spec.persona}'{did_you_mean(spec.persona, self.declared)}")
        checks = self._checks
        if not all(k in checks and checks[k](v) for k, v in spec.attrs.items()):
            why += _attribute_problems(spec.attrs, manifest)   # the slow path says what is wrong
        attrs.update(spec.attrs)
        channel = (spec.channel or self.persona_channels.get(spec.persona or "") or self.channel
                   or manifest.default_channel)
        if channel is None:
            why.append("no start channel: give the case, its persona or the catalog a `channel`, "
                       "or the manifest a `start_channel`")
        elif channel not in manifest.channels:
            why.append(f"unknown start channel '{channel}'{did_you_mean(channel, manifest.channels)}")
        if why:
            return [Problem(self.file, line, subject, w) for w in why]
        volume = getattr(spec, "volume", None)
        if volume is None:   # TDABC volume: events a year × this persona's share of them
            volume = self.per_year.get(spec.event, 1) * self.shares.get(spec.persona or "", 1)
        return Case(id=cid, event=spec.event, persona=spec.persona, channel=channel,
                    attrs=dict(sorted(attrs.items())), volume=volume)


def iter_cases(loaded: LoadedCatalog, manifest: Manifest) -> Iterator[Case | Problem]:
    """Every case of a YAML catalog, in catalog order (explicit cases, then expanded ones),
    interleaved with the problems of the cases that are bad. A bad case stops nothing."""
    cat, file = loaded.catalog, loaded.path
    resolver = CaseResolver(manifest, file, cat.personas, loaded.persona_lines, cat.channel,
                            per_year=cat.per_year)
    for event in sorted(set(cat.per_year) - set(manifest.events)):
        yield Problem(file, 1, None, f"per_year: unknown life event '{event}'{did_you_mean(event, manifest.events)}")
    yield from resolver.problems
    produced = False
    for i, raw in enumerate(loaded.raw_cases):
        line = loaded.case_lines[i]
        cid = raw.get("id") if isinstance(raw, Mapping) else None
        problems: list[Problem] = []
        spec = validate_model(CaseSpec, raw, file, f"case {cid}" if cid else f"case #{i + 1}", problems, line)
        if spec is None and isinstance(cid, str):
            resolver.seen.setdefault(cid, line)   # an expanded case of the same id must not stand in
        out = resolver.resolve(spec, line) if spec is not None else problems
        produced = True
        yield from (out if isinstance(out, list) else [out])
    if cat.expand:
        if not cat.personas or not cat.events:
            yield Problem(file, 1, None, "expand: true needs both personas and events")
        for event in cat.events:
            for name in sorted(cat.personas):
                out = resolver.resolve(CaseSpec(id=f"{event}/{name}", event=event, persona=name), 1, True)
                if out is not None:
                    produced = True
                    yield from (out if isinstance(out, list) else [out])
    if not produced and not resolver.problems:
        yield Problem(file, 1, None, "the catalog holds no cases")


def resolve_cases(loaded: LoadedCatalog, manifest: Manifest) -> tuple[list[Case], list[Problem]]:
    """All cases of a catalog and, apart, the problems of the bad ones."""
    cases, problems = [], []
    for item in iter_cases(loaded, manifest):
        (problems if isinstance(item, Problem) else cases).append(item)
    return cases, problems


class JsonLine(NamedTuple):
    """One line of a JSON Lines catalog, not yet parsed: cheap to hand to a worker."""

    line: int
    text: str
    error: str | None = None   # the line could not even be read


def iter_jsonl_lines(path: str | os.PathLike) -> Iterator[JsonLine]:
    file = relative_path(Path(path))
    try:
        f = open(path, "rb")   # decoded line by line: one bad line does not hide the rest
    except OSError as e:
        raise InputError(Problem(file, None, None, unreadable_file(path, e))) from None
    with f:
        yield from jsonl_lines(f)


def iter_jsonl_blob(blob: bytes, first_line: int = 1) -> Iterator[JsonLine]:
    """The lines of a block of a JSON Lines catalog that starts at line `first_line` (a
    byte range cut at line ends, as a cluster worker reads it)."""
    return jsonl_lines(io.BytesIO(blob), first_line, whole=False)   # lines end at \n only, as in a file


def jsonl_lines(f: Iterable[bytes], first_line: int = 1, whole: bool = True) -> Iterator[JsonLine]:
    """The non-blank lines of a binary stream of JSON Lines. A line that cannot be decoded
    is kept with its error, so it becomes an error row and the stream goes on. A byte-order
    mark on the first line is dropped (some editors write one); a `whole` catalog with no
    line at all is one error, as an empty YAML catalog is."""
    empty = True
    for n, raw in enumerate(f, first_line):
        if n == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield JsonLine(n, "", f"not UTF-8 text (byte {e.start + 1}: {e.reason})")
            empty = False
            continue
        if text.strip():
            empty = False
            yield JsonLine(n, text)
    if empty and whole:
        yield JsonLine(1, "", "the catalog holds no cases")


class JsonLineResolver:
    """Parses and resolves JSON lines ({id, event, persona?, channel?, attrs}) one at a time.
    Each line becomes a case or a single problem (its messages joined)."""

    def __init__(self, manifest: Manifest, file: str):
        self.file = file
        # No persona table in JSON Lines: a persona there is a label (for coverage and
        # diff), its attributes are the line's own.
        self.resolver = CaseResolver(manifest, file, track_ids=False, personas_are_labels=True)
        self._read = line_reader(manifest)

    def __getstate__(self) -> dict[str, Any]:   # to worker processes: the reader is generated
        return {k: v for k, v in self.__dict__.items() if k != "_read"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._read = line_reader(self.resolver.manifest)

    def __call__(self, item: JsonLine) -> Case | Problem:
        if item.error is None:
            try:   # the common line, straight into a case; anything else takes the careful path
                case = self._read(item.text)
            except (ValueError, TypeError, StopIteration, RecursionError, OverflowError):
                case = None
            if case is not None:
                return case
        try:
            return self._resolve(item)
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            # untrusted text: whatever a line holds, it is one error row, never the end of the run
            return Problem(self.file, item.line, None, f"cannot read this line: {e}")

    def _resolve(self, item: JsonLine) -> Case | Problem:
        n, file = item.line, self.file
        if item.error:
            return Problem(file, n, None, item.error)
        if "\x00" in item.text:
            return Problem(file, n, None, f"a NUL byte at column {item.text.index(chr(0)) + 1}: not JSON text")
        try:
            raw = json.loads(item.text)
        except json.JSONDecodeError as e:
            return Problem(file, n, None, f"bad JSON: {e.msg} (column {e.colno})")
        except RecursionError:
            return Problem(file, n, None, "bad JSON: nested too deeply")
        except ValueError as e:   # an integer of thousands of digits, past Python's limit
            return Problem(file, n, None, f"bad JSON: {str(e).split(':')[0]}")
        cid = raw.get("id") if isinstance(raw, dict) else None
        subject = f"case {cid}" if isinstance(cid, str) else f"line {n}"
        if not isinstance(raw, dict):
            return Problem(file, n, subject, "each line must be a JSON object (a case)")
        problems: list[Problem] = []
        if _plain_case(raw):  # the common, well-formed line: no validator needed
            spec = _Line(raw.get("id"), raw["event"], raw.get("persona"), raw.get("channel"), raw.get("attrs", {}),
                         raw.get("volume"))
        else:
            spec = validate_model(CaseSpec, raw, file, subject, problems, n)
        out = self.resolver.resolve(spec, n) if spec is not None else problems
        if isinstance(out, list):
            return Problem(file, n, out[0].subject, "; ".join(p.message for p in out))
        return out


def iter_jsonl_cases(path: str | os.PathLike, manifest: Manifest) -> Iterator[Case | Problem]:
    """Cases from JSON Lines, read lazily: a catalog of millions of cases is never held in
    memory. Case ids are not checked for duplicates (rows carry them; both are written)."""
    resolve = JsonLineResolver(manifest, relative_path(Path(path)))
    for item in iter_jsonl_lines(path):
        yield resolve(item)


@dataclass
class CatalogStream:
    """A catalog to run: iterate it for cases (with problems in place), or hand `raw` and
    `prepare` to workers so that parsing happens there too."""

    name: str
    loaded: LoadedCatalog | None          # the YAML catalog; None for JSON Lines
    raw: Iterable[Any]
    prepare: Callable[[Any], Case | Problem] | None = None
    note: str | None = None               # something the user should know about how it was read

    def __iter__(self) -> Iterator[Case | Problem]:
        if self.prepare is None:
            return iter(self.raw)
        return map(self.prepare, self.raw)


_CASE_KEYS = frozenset(CaseSpec.model_fields)


class _Line(NamedTuple):
    """A JSON line already known to be a valid CaseSpec (see _plain_case)."""

    id: str | None
    event: str
    persona: str | None
    channel: str | None
    attrs: dict
    volume: float | None = None


def _plain_case(raw: dict) -> bool:
    """True when `raw` is exactly what CaseSpec would accept unchanged (attribute values are
    checked against the manifest by the resolver either way)."""
    volume = raw.get("volume")
    return (raw.keys() <= _CASE_KEYS and type(raw.get("event")) is str
            and (volume is None or (type(volume) in (int, float) and 0 <= volume <= MAX_VOLUME))
            and all(raw.get(k) is None or type(raw[k]) is str for k in ("id", "persona", "channel"))
            and type(raw.get("attrs", {})) is dict and all(type(k) is str for k in raw.get("attrs", {})))


def open_catalog(path: str | os.PathLike, manifest: Manifest) -> CatalogStream:
    """A YAML catalog, or JSON Lines (streamed): a name ending in `.jsonl`, or a `.json` file
    whose first line is a whole JSON object with more lines after it (then `note` says so)."""
    lower = str(path).lower()
    note = None
    if lower.endswith(".json") and _holds_json_lines(path):
        note = f"{relative_path(Path(path))} holds JSON Lines (one case per line), read as such; name it .jsonl"
    if lower.endswith(".jsonl") or note:
        file = relative_path(Path(path))
        try:
            f = open(path, "rb")
        except OSError as e:
            raise InputError(Problem(file, None, None, unreadable_file(path, e))) from None
        return CatalogStream(file, None, _closing(f), JsonLineResolver(manifest, file), note)
    loaded = load_catalog(path)
    return CatalogStream(loaded.path, loaded, iter_cases(loaded, manifest))


def open_catalog_stream(f: BinaryIO, name: str, manifest: Manifest) -> CatalogStream:
    """A catalog from an open binary stream (standard input): JSON Lines, streamed, when
    its first non-blank line is a whole JSON object; otherwise YAML, read whole."""
    head = []
    for raw in f:
        head.append(raw)
        if raw.strip():
            break
    if head and _json_object(head[-1]):
        return CatalogStream(name, None, jsonl_lines(itertools.chain(head, f)), JsonLineResolver(manifest, name))
    data = b"".join(head) + f.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(Problem(name, data.count(b"\n", 0, e.start) + 1, None, f"not UTF-8 text ({e.reason})")) from None
    loaded = catalog_from_yaml(parse_yaml(text, name), name)
    return CatalogStream(name, loaded, iter_cases(loaded, manifest))


def _closing(f: BinaryIO) -> Iterator[JsonLine]:
    with f:
        yield from jsonl_lines(f)


def _json_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw.decode("utf-8-sig")), dict)
    except (ValueError, RecursionError):
        return False


def _holds_json_lines(path: str | os.PathLike) -> bool:
    """A first line that is a whole JSON object and a second non-blank line: JSON Lines.
    (A JSON catalog spans lines or holds a single one; YAML reads it as it is.)"""
    try:
        with open(path, "rb") as f:
            lines = (raw for raw in f if raw.strip())
            first = next(lines, None)
            return first is not None and _json_object(first) and next(lines, None) is not None
    except OSError:
        return False   # the YAML reader reports why


def _fast_check(spec: Attribute):
    """A predicate equal to `spec.check(v) is None`, for the millions of good values."""
    types = {"bool": (bool,), "int": (int,), "number": (int, float), "str": (str,)}[spec.type]
    lo = -math.inf if spec.min is None else spec.min
    hi = math.inf if spec.max is None else spec.max
    int_limit = INT_LIMIT if spec.type == "int" else EXACT_LIMIT
    int_lo = -int_limit - (spec.type == "int")
    allowed = None if spec.values is None else frozenset((type(v), v) for v in spec.values)

    def ok(v: Any) -> bool:
        t = type(v)
        if t not in types or (t is float and not math.isfinite(v)):
            return False
        if allowed is not None and (t, v) not in allowed and not (t is int and (float, v) in allowed) \
                and not (t is float and (int, v) in allowed):
            return False
        if t is int and not int_lo <= v <= int_limit:
            return False
        return t in (bool, str) or lo <= v <= hi
    return ok


def _attribute_problems(attrs: Mapping[str, Any], manifest: Manifest) -> list[str]:
    out = []
    for key, value in sorted(attrs.items()):
        spec = manifest.attributes.get(key)
        if spec is None:
            out.append(f"attribute '{key}' is not declared in the manifest{did_you_mean(key, manifest.attributes)}")
            continue
        why = spec.check(value)
        if why:
            out.append(f"attribute '{key}': {why}")
    return out
