"""Policy expectations ("friction test") and metric snapshots.

An expectation file says which cases it is about and what must hold for each of them:

    expectations:
      - name: moving house never needs more than two channels
        select: {event: relocate}                 # case, event, persona: a value or a list
        expect:
          channels: {max: 2}                      # any metric: max, min or eq
          customer_departments_max: 2             # the same in plain terms: METRIC_max/_min/_eq
          channels_exclude: [branch]              # no step of the customer path in a branch
          steps_include: [update address]
          steps_exclude: [visit a branch]
          no_flags: [silent-wait]

A selection that matches no case is an error, not a pass: a promise tested on nothing
would otherwise stay green forever.
"""
from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .errors import InputError, Problem, did_you_mean
from .capacity import yearly_load
from .evaluate import CaseResult, Evaluation
from .judge import FLAG_KINDS
from .layout import EXPECTATIONS_DIR
from .load import MANIFEST_FILE, load_policy_set, read_yaml, relative_path
from .validate import validate_model
from .measure import customer_visible, tidy_number
from .metrics import METRIC_ALIASES, SCORES, SNAPSHOT_YEAR
from .vocabulary import Strict
from .manifest import Capacity, FiniteFloat

__all__ = [
    "Bound", "Expectation", "ExpectationFile", "Outcome", "TestRun", "find_expectation_files",
    "load_expectations", "run_expectations", "junit_xml", "snapshot", "read_snapshot",
    "compare_snapshot", "snapshot_paths", "SnapshotReport", "SNAPSHOT_KEYS",
]

SNAPSHOT_KEYS = SCORES
# `departments_max: 3` is `departments: {max: 3}`: a bound in plain terms, for every score.
BOUND_KEYS = {f"{m}_{b}": (m, b) for m in SCORES for b in ("max", "min", "eq")}
YEARLY_KEYS = ("department_hours", "customer_hours", "yearly_cost")


def _listify(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


class Bound(Strict):
    max: FiniteFloat | None = None
    min: FiniteFloat | None = None
    eq: FiniteFloat | None = None

    @model_validator(mode="after")
    def _some(self) -> "Bound":
        if self.max is None and self.min is None and self.eq is None:
            raise PydanticCustomError("bound", "give max, min or eq", {})
        return self

    def failures(self, actual: float) -> list[str]:
        out = []
        if self.max is not None and actual > self.max:
            out.append(f"at most {self.max:g}")
        if self.min is not None and actual < self.min:
            out.append(f"at least {self.min:g}")
        if self.eq is not None and actual != self.eq:
            out.append(f"exactly {self.eq:g}")
        return out


class Select(Strict):
    case: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    persona: tuple[str, ...] = ()

    _lists = field_validator("case", "event", "persona", mode="before")(lambda v: _listify(v))

    @model_validator(mode="after")
    def _some(self) -> "Select":
        if not (self.case or self.event or self.persona):
            raise PydanticCustomError("select", "select needs case, event or persona", {})
        return self

    def matches(self, r: CaseResult) -> bool:
        c = r.case
        return ((not self.case or c.id in self.case) and (not self.event or c.event in self.event)
                and (not self.persona or c.persona in self.persona))


class Expect(Strict):
    metrics: dict[str, Bound] = {}
    steps_include: tuple[str, ...] = ()
    steps_exclude: tuple[str, ...] = ()
    channels_exclude: tuple[str, ...] = ()   # channels the customer path never uses
    no_flags: tuple[str, ...] = ()
    # Yearly, volume-weighted over the selected cases (time-driven activity-based costing).
    department_hours: dict[str, Bound] = {}
    customer_hours: Bound | None = None
    yearly_cost: Bound | None = None

    _lists = field_validator("steps_include", "steps_exclude", "channels_exclude", "no_flags",
                             mode="before")(lambda v: _listify(v))

    @classmethod
    def _allowed_keys(cls) -> set[str]:
        return {"metrics", "steps_include", "steps_exclude", "channels_exclude", "no_flags", *YEARLY_KEYS,
                *METRIC_ALIASES, *BOUND_KEYS}

    @model_validator(mode="before")
    @classmethod
    def _metrics_inline(cls, data: Any) -> Any:
        """Metric bounds sit beside the other keys: `channels: {max: 2}`."""
        if isinstance(data, dict):
            data = dict(data)
            # a metric's table column names it too: `chans: {max: 2}`
            inline = {METRIC_ALIASES[k]: data.pop(k) for k in list(data) if k in METRIC_ALIASES}
            for k in [k for k in data if k in BOUND_KEYS]:   # plain terms: `departments_max: 3`
                metric, bound = BOUND_KEYS[k]
                if not isinstance(inline.get(metric, {}), dict):
                    raise PydanticCustomError("expect", "give {m} as `{k}` or as `{m}: {{...}}`, not both",
                                              {"m": metric, "k": k})
                inline[metric] = {**inline.get(metric, {}), bound: data.pop(k)}
            given = data.get("metrics")   # the long form, `metrics: {channels: {max: 2}}`, also works
            if given is None:
                data["metrics"] = inline
            elif isinstance(given, dict):
                data["metrics"] = {**given, **inline}
            # anything else stays as given, for validation to say what is wrong with it
        return data

    @field_validator("no_flags")
    @classmethod
    def _kinds(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for k in v:
            if k not in FLAG_KINDS:
                raise ValueError(f"unknown flag kind '{k}'{did_you_mean(k, FLAG_KINDS)}")
        return v

    @model_validator(mode="after")
    def _something(self) -> "Expect":
        if not (self.metrics or self.steps_include or self.steps_exclude or self.channels_exclude or self.no_flags
                or self.department_hours or self.customer_hours or self.yearly_cost):
            raise PydanticCustomError("expect", "expect needs at least one metric bound, steps, flags or yearly figure", {})
        return self


class Expectation(Strict):
    name: str = Field(min_length=1)
    select: Select
    expect: Expect


class ExpectationFile(Strict):
    policy_set: str | None = None   # relative to this file; default: the set holding it
    catalog: str | None = None      # relative to this file
    # A policy set whose steps `steps_exclude` may also name (relative to this file): the
    # steps a redesign removed, which the redesigned set itself no longer defines.
    baseline: str | None = None
    expectations: tuple[Any, ...] = Field(min_length=1)


@dataclass
class LoadedExpectations:
    path: str
    policy_set: str | None
    catalog: str | None
    items: list[tuple[Expectation, int]]     # with line numbers
    raw: list[Any] = field(default_factory=list)   # each expectation as read (lines of its keys)
    baseline: str | None = None      # see ExpectationFile.baseline


def find_expectation_files(path: str | os.PathLike) -> list[Path]:
    """A file, or every *.yaml under a policy set's `expectations/` folder (or a folder of them)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if (p / EXPECTATIONS_DIR).is_dir():
        p = p / EXPECTATIONS_DIR
    elif (p / MANIFEST_FILE).is_file():
        return []  # a policy set with no expectations: its rule files are not expectations
    return sorted(x for x in p.glob("*.y*ml") if x.is_file())


def project_root(path: str | os.PathLike) -> Path:
    """Where an expectation file may reach: for a file in a policy set's `expectations/`
    folder, the folder that holds the folder of policy sets (the `policies/<set>/` and
    `cases/` layout); for any other file, its own folder."""
    here = Path(path).resolve().parent
    if here.name == EXPECTATIONS_DIR and (here.parent / MANIFEST_FILE).is_file():
        return here.parent.parent.parent
    return here


def load_expectations(path: str | os.PathLike, allow_outside: bool = False,
                      own_policy_set: bool = True) -> LoadedExpectations:
    """Read and validate an expectation file. Its `policy_set:` and `catalog:` are resolved
    relative to it and must stay inside its project (see `project_root`) unless
    `allow_outside`: an expectation file from elsewhere cannot make friction read, and
    echo in its errors, files anywhere on disk. `own_policy_set=False`: the caller runs it
    on another policy set, so the file's `policy_set:` is not used (nor checked)."""
    file = relative_path(Path(path))
    raw = read_yaml(path)
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        raise InputError(Problem(file, 1, None, "an expectation file is a mapping with `expectations:`"))
    ef = validate_model(ExpectationFile, raw, file, None, problems, 1)
    if ef is None:
        raise InputError(problems)
    items, raws = [], []
    for i, item in enumerate(raw["expectations"]):
        line = raw["expectations"].item_lines[i]
        name = item.get("name") if isinstance(item, dict) else None
        e = validate_model(Expectation, item, file, f"expectation {name or '#' + str(i + 1)}", problems, line)
        if e is not None:
            items.append((e, line))
            raws.append(item)
    here = Path(path).resolve().parent
    root = project_root(path)

    def resolve(key: str, value: str | None) -> str | None:
        if not value:
            return None
        target = (here / value).resolve()
        if not allow_outside and not target.is_relative_to(root):
            problems.append(Problem(file, raw.key_lines.get(key), None,
                                    f"{key}: '{value}' is outside the project ({relative_path(root)}); "
                                    "paths in an expectation file stay inside it (--allow-outside-paths "
                                    "lets them out)"))
            return None
        return str(target)

    policy_set = resolve("policy_set", ef.policy_set) if own_policy_set else None
    catalog, baseline = resolve("catalog", ef.catalog), resolve("baseline", ef.baseline)
    if problems:
        raise InputError(problems)
    default_set = here.parent if here.name == EXPECTATIONS_DIR else None
    return LoadedExpectations(
        path=file, policy_set=policy_set or (str(default_set) if default_set else None),
        catalog=catalog, items=items, raw=raws, baseline=baseline,
    )


@dataclass
class Outcome:
    file: str
    line: int
    expectation: str
    case: str
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (what, expected, actual)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestRun:
    outcomes: list[Outcome] = field(default_factory=list)
    suites: dict[str, str] = field(default_factory=dict)   # file -> policy set it ran on

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


def check_names(loaded: LoadedExpectations, evaluation: Evaluation) -> list[Problem]:
    """An expectation that names what does not exist checks nothing, and would pass for
    ever: every case, event and persona it selects must select some case of the catalog,
    each value of a list on its own, and every step `steps_exclude` names must be a step of
    the set (or of the file's `baseline`). A step `steps_include` names that no rule
    requires fails the expectation instead (see run_expectations)."""
    results = evaluation.results
    known = {
        "case": {r.case.id for r in results},
        "event": {r.case.event for r in results},
        "persona": {r.case.persona for r in results if r.case.persona is not None},
    }
    cps = evaluation.cps
    events = set(cps.manifest.events) if cps is not None else known["event"]
    steps = set(cps.actions) if cps is not None else None
    if steps is not None and loaded.baseline:
        steps |= set(load_policy_set(loaded.baseline).steps)
    problems = []
    for (e, line), raw in zip(loaded.items, loaded.raw or [None] * len(loaded.items)):
        subject = f"expectation {e.name}"

        def where(*loc: Any) -> int:
            node, at = raw, line
            for part in loc:
                lines = getattr(node, "key_lines", None) if isinstance(part, str) else getattr(node, "item_lines", None)
                try:
                    at = lines[part] if lines is not None else at
                    node = node[part]
                except (KeyError, IndexError, TypeError):
                    break
            return at

        for key in ("case", "event", "persona"):
            for k, value in enumerate(getattr(e.select, key)):
                if value in known[key]:
                    continue
                choices = events if key == "event" else known[key]
                why = ("is not a life event of the policy set" if key == "event" and value not in events
                       else "matches no case of the catalog")
                loc = ("select", key, k) if isinstance(raw and raw["select"][key], list) else ("select", key)
                problems.append(Problem(loaded.path, where(*loc), subject,
                                        f"select.{key}: '{value}' {why}{did_you_mean(value, choices)}"))
        if cps is not None:
            for dept in e.expect.department_hours:
                if dept not in cps.manifest.departments:
                    problems.append(Problem(loaded.path, where("expect", "department_hours", dept), subject,
                                            f"department_hours: unknown department '{dept}'"
                                            f"{did_you_mean(dept, cps.manifest.departments)}"))
        if steps is not None:
            for k, action in enumerate(e.expect.steps_exclude):
                if action not in steps:
                    value = raw and raw["expect"]["steps_exclude"]
                    loc = ("expect", "steps_exclude", k) if isinstance(value, list) else ("expect", "steps_exclude")
                    also = " or of its baseline" if loaded.baseline else ""
                    problems.append(Problem(loaded.path, where(*loc), subject,
                                            f"steps_exclude: '{action}' is not a step of the policy set{also}"
                                            f"{did_you_mean(action, steps)} (a step a redesign removed: name "
                                            "the set it came from as `baseline:`)"))
        channels = set(cps.manifest.channels) if cps is not None else None
        for k, channel in enumerate(e.expect.channels_exclude if channels is not None else ()):
            if channel not in channels:
                value = raw and raw["expect"]["channels_exclude"]
                loc = ("expect", "channels_exclude", k) if isinstance(value, list) else ("expect", "channels_exclude")
                problems.append(Problem(loaded.path, where(*loc), subject,
                                        f"channels_exclude: '{channel}' is not a channel of the policy set"
                                        f"{did_you_mean(channel, channels)}"))
    return problems


def run_expectations(loaded: LoadedExpectations, evaluation: Evaluation, run: TestRun) -> None:
    """Check every expectation on every case it selects. An expectation that names a case,
    event, persona or step that does not exist, or selects nothing, is an InputError."""
    problems = check_names(loaded, evaluation)
    if problems:
        raise InputError(problems)
    for e, line in loaded.items:
        selected = [r for r in evaluation.results if e.select.matches(r)]
        if not selected:
            problems.append(Problem(loaded.path, line, f"expectation {e.name}",
                                    "selects no case of the catalog (an empty selection is an error, not a pass)"))
            continue
        for r in selected:
            o = Outcome(loaded.path, line, e.name, r.case.id)
            values = r.metrics.as_dict() | {"effort": r.effort}
            for metric, bound in e.expect.metrics.items():
                for want in bound.failures(values[metric]):
                    o.failures.append((metric, want, f"{values[metric]:g}"))
            actions = r.journey.actions
            for s in e.expect.steps_include:
                if s not in actions:
                    unknown = evaluation.cps is not None and s not in evaluation.cps.step_ids
                    o.failures.append(("steps", f"includes '{s}'", "journey: " + " → ".join(actions)
                                       + (" (no rule of the policy set requires that step"
                                          f"{did_you_mean(s, evaluation.cps.actions)})" if unknown else "")))
            for s in e.expect.steps_exclude:
                if s in actions:
                    o.failures.append(("steps", f"no '{s}'", f"step {actions.index(s) + 1} of {len(actions)}"))
            path = customer_visible(r.journey)
            for channel in e.expect.channels_exclude:
                sent = [s.action for s in path if s.channel == channel]
                if sent:
                    o.failures.append(("channels", f"never {channel}", "; ".join(f"'{a}'" for a in sent)))
            for kind in e.expect.no_flags:
                hits = [f.message for f in r.flags if f.kind == kind]
                if hits:
                    o.failures.append(("flags", f"no {kind}", "; ".join(hits)))
            run.outcomes.append(o)
        x = e.expect
        if x.department_hours or x.customer_hours or x.yearly_cost:
            run.outcomes.append(_yearly_outcome(loaded.path, line, e, selected, evaluation))
    run.suites[loaded.path] = evaluation.policy_set
    if problems:
        raise InputError(problems)


def _yearly_outcome(path: str, line: int, e: Expectation, selected: list[CaseResult],
                    evaluation: Evaluation) -> Outcome:
    """One outcome for the yearly figures of the selected cases, weighted by their volumes."""
    cap = evaluation.cps.manifest.capacity if evaluation.cps is not None else None
    y = yearly_load((r.load, r.case.volume, r.effort) for r in selected).report(cap or Capacity())
    o = Outcome(path, line, e.name, f"{len(selected)} case(s), yearly")
    checks = [(f"department_hours.{d}", b, y["departments"].get(d, {}).get("hours", 0))
              for d, b in e.expect.department_hours.items()]
    checks += [(k, b, y[field]) for k, field, b in (("customer_hours", "customer_hours", e.expect.customer_hours),
                                                      ("yearly_cost", "cost", e.expect.yearly_cost)) if b is not None]
    for name, bound, actual in checks:
        for want in bound.failures(actual):
            o.failures.append((name, want, f"{actual:g}"))
    return o


def junit_xml(run: TestRun) -> str:
    """JUnit XML for CI servers: a testsuite per expectation file, a testcase per case."""
    root = ET.Element("testsuites", name="friction", tests=str(len(run.outcomes)),
                      failures=str(len(run.failed)))
    by_file: dict[str, list[Outcome]] = {}
    for o in run.outcomes:
        by_file.setdefault(o.file, []).append(o)
    for file, outcomes in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(len(outcomes)),
                              failures=str(sum(not o.passed for o in outcomes)), errors="0", skipped="0")
        for o in outcomes:
            tc = ET.SubElement(suite, "testcase", classname=f"{run.suites.get(file, '')}.{Path(file).stem}",
                               name=f"{o.expectation} [{o.case}]", file=file, line=str(o.line))
            if not o.passed:
                text = "\n".join(f"{what}: expected {exp}, actual {act}" for what, exp, act in o.failures)
                fail = ET.SubElement(tc, "failure", message=text.splitlines()[0], type="expectation")
                fail.text = text
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------- snapshots


def _by_id(evaluation: Evaluation) -> dict[str, dict[str, float]]:
    """Each case's scores by case id. A snapshot keys cases by id, so a catalog that repeats
    one (JSON Lines may) is refused rather than keeping only the last of them."""
    out: dict[str, dict[str, float]] = {}
    twice = []
    for r in evaluation.results:
        if r.case.id in out:
            twice.append(r.case.id)
        out[r.case.id] = r.metrics.as_dict() | {"effort": r.effort}
    if twice:
        shown = ", ".join(sorted(set(twice))[:5])
        raise InputError(Problem(evaluation.catalog, None, None, f"case ids repeat ({shown}): a snapshot "
                                 "keys cases by id, give each case its own"))
    return out


def snapshot(evaluation: Evaluation, policy_set_path: str, catalog_path: str) -> dict[str, Any]:
    """Every case's scores by id, and, when the set gives minutes or costs, the catalog's
    yearly figures (both sides of the stage, weighted by volume)."""
    yearly = _yearly_figures(evaluation)
    return {
        "friction_snapshot": 1,
        "policy_set": {"name": evaluation.policy_set, "version": evaluation.version, "path": policy_set_path},
        "catalog": catalog_path,
        "cases": dict(sorted(_by_id(evaluation).items())),
        **({"yearly": yearly} if yearly is not None else {}),
    }


def _yearly_figures(evaluation: Evaluation) -> dict[str, float] | None:
    """The yearly figures a snapshot locks, flat: effort, customer and staff hours, cost, and
    `department_hours.<name>` per department."""
    y = evaluation.yearly_report()
    if y is None:
        return None
    out = {"effort": y["effort"], "customer_hours": y["customer_hours"], "staff_hours": y["staff_hours"],
           "cost": y["cost"]}
    out.update((f"department_hours.{d}", v["hours"]) for d, v in y["departments"].items())
    return out


def read_snapshot(path: str | os.PathLike) -> dict[str, Any]:
    file = relative_path(Path(path))
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(Problem(file, None, None, "no such snapshot file (write one with `friction snapshot`)")) from None
    except json.JSONDecodeError as e:
        raise InputError(Problem(file, e.lineno, None, f"not a snapshot: bad JSON ({e.msg})")) from None
    if not isinstance(data, dict) or data.get("friction_snapshot") != 1 or not isinstance(data.get("cases"), dict):
        raise InputError(Problem(file, 1, None, "not a friction snapshot (no friction_snapshot: 1 / cases)"))
    ps = data.get("policy_set")
    if not isinstance(ps, dict) or not isinstance(ps.get("path", ""), str) or not isinstance(data.get("catalog", ""), str):
        raise InputError(Problem(file, None, None, "policy_set must be a mapping with a path, catalog a path"))
    for cid, values in data["cases"].items():
        if not isinstance(values, dict) or not all(
                k in SNAPSHOT_KEYS and _finite(v) for k, v in values.items()):
            raise InputError(Problem(file, None, f"case {cid}",
                                     f"a snapshot case maps metrics ({', '.join(SNAPSHOT_KEYS)}) to numbers"))
    yearly = data.get("yearly", {})
    if not isinstance(yearly, dict) or not all(_finite(v) for v in yearly.values()):
        raise InputError(Problem(file, None, None, "a snapshot's yearly section maps figures to numbers"))
    return data


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def snapshot_paths(snap: dict[str, Any], snapshot_file: str | os.PathLike, allow_outside: bool = False,
                   want: tuple[bool, bool] = (True, True)) -> tuple[str | None, str | None]:
    """The policy set and catalog a snapshot was taken of (None where it names none, or
    where `want` says the caller brings its own). They are read relative to the working
    directory, as written, and must stay inside it or beside the snapshot file (or be the
    bundled examples) unless `allow_outside`: a snapshot from elsewhere cannot make
    friction read, and echo, files anywhere."""
    from .bundled import bundled_path   # the bundled examples are always allowed
    roots = [Path.cwd().resolve(), Path(snapshot_file).resolve().parent,
             Path(bundled_path("policies")).resolve().parent]
    file = relative_path(Path(snapshot_file))
    out: list[str | None] = []
    for key, value, wanted in (("policy_set", snap["policy_set"].get("path"), want[0]),
                               ("catalog", snap.get("catalog"), want[1])):
        if not wanted:
            out.append(None)
            continue
        if value and not allow_outside and not any(Path(value).resolve().is_relative_to(r) for r in roots):
            raise InputError(Problem(file, None, None, f"{key}: '{value}' is outside the project; paths in a "
                                     "snapshot stay inside it (--allow-outside-paths lets them out)"))
        out.append(value or None)
    return out[0], out[1]


@dataclass
class SnapshotReport:
    regressions: list[tuple[str, str, float, float]] = field(default_factory=list)   # (case, metric, was, now)
    improvements: list[tuple[str, str, float, float]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)    # in the snapshot, gone from the catalog
    new: list[str] = field(default_factory=list)        # not in the snapshot

    @property
    def failed(self) -> bool:
        return bool(self.regressions or self.missing)


def compare_snapshot(snap: dict[str, Any], evaluation: Evaluation) -> SnapshotReport:
    rep = SnapshotReport()
    now = _by_id(evaluation)
    for cid, was in sorted(snap["cases"].items()):
        if cid not in now:
            rep.missing.append(cid)
            continue
        for k in SNAPSHOT_KEYS:
            if k not in was:
                continue
            a, b = tidy_number(was[k]), now[cid][k]
            if b > a:
                rep.regressions.append((cid, k, a, b))
            elif b < a:
                rep.improvements.append((cid, k, a, b))
    rep.new = sorted(c for c in now if c not in snap["cases"])
    # the yearly figures, when both the snapshot and this run have them: a rise on either
    # side of the stage (the customer's hours, a department's) is a regression
    was_year, now_year = snap.get("yearly"), _yearly_figures(evaluation)
    if was_year and now_year is not None:
        for k, was in sorted(was_year.items()):
            a, b = tidy_number(was), now_year.get(k, 0)
            if b > a:
                rep.regressions.append((SNAPSHOT_YEAR, k, a, b))
            elif b < a:
                rep.improvements.append((SNAPSHOT_YEAR, k, a, b))
    return rep

