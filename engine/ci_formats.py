"""Reporters for CI servers: the results of `lint`, `test` and `diff --fail-on-increase` as
GitHub workflow annotations, SARIF 2.1.0 (code scanning), JUnit XML and TAP.

Every command first turns its results into `Check`s, one per thing that can pass or fail
(an expectation on a case, a watched metric of a case, a lint finding), so that the four
formats say the same thing about the same items: a check that fails in the terminal fails
in every format, named the same way."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from .bundled import package_version
from .metrics import SNAPSHOT_YEAR

__all__ = ["CI_FORMATS", "Check", "render_checks", "from_findings", "from_test_run", "from_increases",
           "catalog_case_lines", "json_key_lines", "figure"]

CI_FORMATS = ("github", "sarif", "junit", "tap")


def figure(x: float) -> str:
    """A number as a message shows it: yearly figures run to millions, which `g` would
    print as 3.53321e+07; those are whole numbers with thousands separators."""
    return f"{x:,.0f}" if abs(x) >= 1e5 else f"{x:g}"

PASS, FAIL, WARNING, NOTE = "pass", "fail", "warning", "note"
_SARIF_LEVEL = {FAIL: "error", WARNING: "warning", NOTE: "note"}
_GITHUB_COMMAND = {FAIL: "error", WARNING: "warning", NOTE: "notice"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HELP_URI = "https://github.com/friction/friction#readme"


@dataclass(frozen=True)
class Check:
    """One thing that passed or failed, as every CI format names it."""

    suite: str               # the group: an expectation file, a policy set, a catalog
    name: str                # the test case: "expectation [case id]", "case id: metric"
    outcome: str             # pass | fail | warning | note (warnings and notes do not fail)
    code: str                # what kind of check (a lint code, "expectation", "snapshot") for SARIF rules
    message: str = ""        # one line, for a failure or a finding
    details: str = ""        # more lines (expected against actual, rules behind it)
    file: str | None = None
    line: int | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == FAIL


def render_checks(checks: Sequence[Check], fmt: str, title: str = "friction") -> str:
    """The checks in one of CI_FORMATS; `title` names the run (JUnit's suites, TAP's plan)."""
    if fmt == "github":
        return _github(checks)
    if fmt == "sarif":
        return _sarif(checks)
    if fmt == "junit":
        return _junit(checks, title)
    if fmt == "tap":
        return _tap(checks, title)
    raise ValueError(f"unknown CI format {fmt!r}")


# --------------------------------------------------------------------------- github

def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _github(checks: Sequence[Check]) -> str:
    """Workflow commands (`::error file=...,line=...,title=...::message`), one per check
    that did not pass; GitHub shows them on the file and line in the pull request."""
    out = []
    for c in checks:
        if c.outcome == PASS:
            continue
        props = []
        if c.file:
            props.append(f"file={_escape_property(c.file)}")
            if c.line:
                props.append(f"line={c.line}")
        props.append(f"title={_escape_property(c.name)}")
        body = c.message + (f"\n{c.details}" if c.details else "")
        out.append(f"::{_GITHUB_COMMAND[c.outcome]} {','.join(props)}::{_escape_data(body)}")
    failed = sum(c.failed for c in checks)
    out.append(f"{len(checks)} checks, {failed} failed")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- sarif

def _sarif(checks: Sequence[Check]) -> str:
    """SARIF 2.1.0: one run, a reporting descriptor per kind of check, a result per check
    that did not pass (code scanning lists problems, not passes)."""
    codes = sorted({c.code for c in checks if c.outcome != PASS})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for c in checks:
        if c.outcome == PASS:
            continue
        result: dict[str, Any] = {
            "ruleId": c.code, "ruleIndex": index[c.code], "level": _SARIF_LEVEL[c.outcome],
            "message": {"text": c.message + (f"\n{c.details}" if c.details else "")},
            "partialFingerprints": {"frictionCheck/v1": f"{c.suite}|{c.name}|{c.code}"},
        }
        if c.file:
            physical: dict[str, Any] = {"artifactLocation": {"uri": Path(c.file).as_posix()}}
            if c.line:
                physical["region"] = {"startLine": c.line}
            result["locations"] = [{"physicalLocation": physical}]
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "friction", "version": package_version(), "informationUri": HELP_URI,
                                "rules": [{"id": code, "name": code,
                                           "shortDescription": {"text": f"friction check {code}"}}
                                          for code in codes]}},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- junit

def _junit(checks: Sequence[Check], title: str) -> str:
    """A testsuite per group, a testcase per check; failures carry expected against actual.
    Warnings and notes pass, with the finding in system-out."""
    root = ET.Element("testsuites", name=title, tests=str(len(checks)),
                      failures=str(sum(c.failed for c in checks)), errors="0")
    suites: dict[str, list[Check]] = {}
    for c in checks:
        suites.setdefault(c.suite, []).append(c)
    for name, group in suites.items():
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(group)),
                              failures=str(sum(c.failed for c in group)), errors="0", skipped="0")
        for c in group:
            attrs = {"classname": name, "name": c.name}
            if c.file:
                attrs["file"] = c.file
            if c.line:
                attrs["line"] = str(c.line)
            tc = ET.SubElement(suite, "testcase", attrs)
            body = c.message + (f"\n{c.details}" if c.details else "")
            if c.failed:
                fail = ET.SubElement(tc, "failure", message=c.message, type=c.code)
                fail.text = body
            elif c.outcome != PASS:
                ET.SubElement(tc, "system-out").text = f"{c.outcome}: {body}"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------- tap

def _tap(checks: Sequence[Check], title: str) -> str:
    """TAP version 14: `ok`/`not ok` per check, details as a YAML block under a failure."""
    out = ["TAP version 14", f"1..{len(checks)}", f"# {title}"]
    for i, c in enumerate(checks, 1):
        name = c.name.replace("#", "\\#")
        if c.failed:
            out.append(f"not ok {i} - {name}")
            diag = {"message": c.message, "code": c.code}
            if c.details:
                diag["details"] = c.details
            if c.file:
                diag["at"] = f"{c.file}:{c.line}" if c.line else c.file
            out.append("  ---")
            out += ["  " + line for line in json_yaml(diag).splitlines()]
            out.append("  ...")
        else:
            note = f" # {c.outcome}: {c.message}".replace("\n", " ") if c.outcome != PASS else ""
            out.append(f"ok {i} - {name}{note}")
    return "\n".join(out) + "\n"


def json_yaml(data: dict[str, str]) -> str:
    """A flat mapping of strings as YAML (JSON strings are valid YAML scalars)."""
    return "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in data.items())


# --------------------------------------------------------------------------- adapters

def from_findings(findings: Iterable[Any], policy_set: str) -> list[Check]:
    """Lint findings (friction.lint.Finding: level, code, file, line, rule, message): errors
    fail, warnings warn, infos are notes. A clean policy set is one passing check, so that
    JUnit and TAP show the lint ran."""
    level = {"error": FAIL, "warning": WARNING}
    checks = [Check(suite=policy_set, name=f"{f.code}: {f.rule}" if f.rule else f"{f.code}: {f.file}",
                    outcome=level.get(f.level, NOTE), code=f.code,
                    message=(f"rule {f.rule}: " if f.rule else "") + f.message,
                    file=f.file, line=f.line)
              for f in findings]
    if not any(c.failed for c in checks):
        checks.insert(0, Check(suite=policy_set, name=f"lint {policy_set}", outcome=PASS, code="lint"))
    return checks


def from_test_run(run: Any, snap: Any = None, snapshot_file: str | None = None) -> list[Check]:
    """Expectation outcomes (one check per expectation and case) and, with a snapshot, one
    check per case and metric that rose or case that vanished, so a regression fails in
    JUnit as it does on the terminal. Each is on its line of the snapshot file: the case's,
    or, for a yearly figure (`a year: figure`), the figure's in the `yearly` section (what
    `friction snapshot` rewrites when the rise is accepted)."""
    checks = []
    for o in run.outcomes:
        details = "\n".join(f"{what}: expected {exp}, actual {act}" for what, exp, act in o.failures)
        checks.append(Check(suite=o.file, name=f"{o.expectation} [{o.case}]", outcome=PASS if o.passed else FAIL,
                            code="expectation",
                            message=details.splitlines()[0] if details else "",
                            details=details if len(o.failures) > 1 else "", file=o.file, line=o.line))
    if snap is not None:
        suite = snapshot_file or "snapshot"
        lines = json_key_lines(snapshot_file) if snapshot_file else {}
        year_lines = json_key_lines(snapshot_file, within="yearly") if snapshot_file else {}
        for cid, metric, was, now in snap.regressions:
            checks.append(Check(suite=suite, name=f"{cid}: {metric}", outcome=FAIL, code="snapshot-regression",
                                message=f"{cid}: {metric} rose {figure(was)} → {figure(now)} since the snapshot",
                                file=snapshot_file,
                                line=year_lines.get(metric) if cid == SNAPSHOT_YEAR else lines.get(cid)))
        for cid in snap.missing:
            checks.append(Check(suite=suite, name=f"{cid}: in the catalog", outcome=FAIL, code="snapshot-missing",
                                message=f"{cid}: in the snapshot but no longer in the catalog",
                                file=snapshot_file, line=lines.get(cid)))
        if not snap.regressions and not snap.missing:
            checks.append(Check(suite=suite, name="no metric rose since the snapshot", outcome=PASS,
                                code="snapshot-regression"))
    return checks


def from_increases(d: Any, watch: Sequence[str], rises: Iterable[tuple[str, str, float, float]],
                   case_lines: dict[str, int] | None = None) -> list[Check]:
    """diff --fail-on-increase: a check per case present on both sides and watched metric;
    one that rose fails, named 'case: metric'."""
    risen = {(cid, m): (a, b) for cid, m, a, b in rises}
    lines = case_lines or {}
    checks = []
    for c in d.cases:
        if c.before is None or c.after is None:
            continue
        for m in watch:
            hit = risen.get((c.case, m))
            checks.append(Check(
                suite=f"{d.baseline} → {d.draft}", name=f"{c.case}: {m}", outcome=FAIL if hit else PASS,
                code="metric-increase",
                message=f"{c.case}: {m} rises {hit[0]:g} → {hit[1]:g} in {d.draft}" if hit else "",
                file=d.catalog, line=lines.get(c.case)))
    return checks


def catalog_case_lines(loaded: Any) -> dict[str, int]:
    """Line of each case in a YAML catalog (friction.catalog.LoadedCatalog): an explicit case's
    own line, an expanded case's persona line; nothing for JSON Lines (None)."""
    if loaded is None:
        return {}
    lines: dict[str, int] = {}
    if loaded.catalog.expand:
        for event in loaded.catalog.events:
            for persona, line in loaded.persona_lines.items():
                lines[f"{event}/{persona}"] = line
    for raw, line in zip(loaded.raw_cases, loaded.case_lines):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            lines[raw["id"]] = line
    return lines


def json_key_lines(path: str, within: str | None = None) -> dict[str, int]:
    """Line of each `"key": {` in a JSON file written with one key per line (a snapshot);
    with `within`, line of each key of the top-level object of that name, whatever its
    value (the figures of a snapshot's `yearly` section)."""
    lines: dict[str, int] = {}
    top = inner = None   # indentation of the top-level keys, and of the keys of `within`
    entered = False
    try:
        with open(path, encoding="utf-8") as f:
            for n, text in enumerate(f, 1):
                s = text.strip()
                key = _key(s) if s.startswith('"') else None
                if key is None:
                    continue
                indent = text[:len(text) - len(text.lstrip())]
                top = indent if top is None else top
                if within is None:
                    if s.endswith("{"):
                        lines.setdefault(key, n)
                elif not entered:
                    entered = indent == top and key == within and s.endswith("{")
                elif len(indent) <= len(top):
                    break   # the next top-level key: `within` is over
                else:
                    inner = indent if inner is None else inner
                    if indent == inner:
                        lines.setdefault(key, n)
    except OSError:
        pass
    return lines


def _key(s: str) -> str | None:
    """The key a `"key": value` line starts with (a JSON string: colons and quotes escaped)."""
    try:
        key, _ = json.JSONDecoder().raw_decode(s)
    except ValueError:
        return None
    return key if isinstance(key, str) else None
