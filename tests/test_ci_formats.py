"""CI output formats of `lint`, `test` and `diff --fail-on-increase`: GitHub annotations,
SARIF 2.1.0 (validated against the OASIS schema vendored in tests/schemas), JUnit XML and
TAP. What must fail is computed independently: regressions and increases from two
`evaluate --format json` runs compared here, lint failures from `lint --format json`."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from builders import run_cli as run

ROOT = Path(__file__).resolve().parent.parent
BANK, DRAFT, CATALOG = "policies/bank", "policies/bank-draft", "cases/life-events.yaml"
DEFECTS = "tests/fixtures/defects"
SARIF_SCHEMA = json.loads((ROOT / "tests/schemas/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
# GitHub's workflow command syntax: ::error|warning|notice [key=value,...]::message, with
# %, CR, LF escaped in the message and also ':' and ',' in values.
GITHUB_LINE = re.compile(r"^::(error|warning|notice)( (file=[^,:\n]+,)?(line=\d+,)?title=[^,:\n]*)?::[^\n\r]*$")


pytestmark = pytest.mark.usefixtures("at_root")


def evaluate_json(policies: str) -> dict[str, dict]:
    r = run("evaluate", policies, CATALOG, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return {c["id"]: c for c in json.loads(r.stdout)["cases"]}


def value(case: dict, key: str) -> float:
    return case["effort"] if key == "effort" else case["metrics"][key]


def yearly_figures(policies: str) -> dict[str, float]:
    """The yearly figures a snapshot locks, read from `evaluate --format json`."""
    y = json.loads(run("evaluate", policies, CATALOG, "--format", "json").stdout)["yearly"]
    return {**{k: y[k] for k in ("effort", "customer_hours", "staff_hours", "cost")},
            **{f"department_hours.{d}": v["hours"] for d, v in y["departments"].items()}}


@pytest.fixture(scope="module")
def rises() -> dict[str, set[tuple[str, str]]]:
    """(case, metric) pairs that rise from the bank to the draft, per watched metric list."""
    before, after = evaluate_json(BANK), evaluate_json(DRAFT)
    keys = list(next(iter(before.values()))["metrics"]) + ["effort"]
    return {m: {(cid, m) for cid in before if value(after[cid], m) > value(before[cid], m)} for m in keys}


@pytest.fixture(scope="module")
def snapshot_rises(rises) -> set[tuple[str, str]]:
    """What a snapshot of the bank finds risen in the draft: every (case, metric) that rises,
    and ("a year", figure) for each yearly figure that rises (the draft's burden-shift)."""
    yb, ya = yearly_figures(BANK), yearly_figures(DRAFT)
    year = {("a year", k) for k in yb if ya.get(k, 0) > yb[k]}
    assert ("a year", "department_hours.Mortgages") in year
    return set().union(*rises.values()) | year


@pytest.fixture(scope="module")
def snapshot_of_bank(tmp_path_factory) -> Path:
    lock = tmp_path_factory.mktemp("snap") / "friction.lock.json"
    assert run("snapshot", BANK, CATALOG, "-o", lock).exit_code == 0
    return lock


def junit_cases(text: str) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(text)
    return root, root.findall("./testsuite/testcase")


def failed_names(cases: list[ET.Element]) -> set[str]:
    return {tc.get("name") for tc in cases if tc.find("failure") is not None}


# --------------------------------------------------------------------------- test --snapshot

def test_every_snapshot_regression_is_a_failing_junit_test_case(snapshot_of_bank, snapshot_rises, tmp_path):
    """The bug of issue #8: `test --snapshot` exited 1 but its JUnit said tests=0 failures=0."""
    expected = snapshot_rises
    assert expected, "the draft must raise some metric for this test to mean anything"
    junit = tmp_path / "j.xml"
    r = run("test", DRAFT, "--snapshot", snapshot_of_bank, "--junit", junit)
    assert r.exit_code == 1
    root, cases = junit_cases(junit.read_text(encoding="utf-8"))
    assert failed_names(cases) == {f"{cid}: {m}" for cid, m in expected}
    assert int(root.get("failures")) == len(expected) and int(root.get("tests")) == len(cases)
    one = next(tc for tc in cases if tc.find("failure") is not None)
    assert " rose " in one.find("failure").get("message") and one.get("line")


def test_old_option_spelling_still_works_and_says_it_is_deprecated(snapshot_of_bank, snapshot_rises, tmp_path):
    junit = tmp_path / "j.xml"
    r = run("test", "--snapshot", snapshot_of_bank, "--policies", DRAFT, "--junit", junit)
    assert r.exit_code == 1 and "--policies is deprecated" in r.stderr
    _, cases = junit_cases(junit.read_text(encoding="utf-8"))
    assert len(failed_names(cases)) == len(snapshot_rises)


@pytest.mark.parametrize("fmt", ["tap", "github", "sarif", "junit"])
def test_snapshot_regressions_fail_in_every_format(snapshot_of_bank, snapshot_rises, fmt):
    expected = {f"{cid}: {m}" for cid, m in snapshot_rises}
    r = run("test", DRAFT, "--snapshot", snapshot_of_bank, "--format", fmt)
    assert r.exit_code == 1
    out = r.stdout
    if fmt == "tap":
        lines = out.splitlines()
        assert lines[0] == "TAP version 14"
        plan = int(re.match(r"1\.\.(\d+)$", lines[1]).group(1))
        results = [x for x in lines if re.match(r"(not )?ok \d+ - ", x)]
        assert len(results) == plan
        assert {re.sub(r"^not ok \d+ - ", "", x) for x in results if x.startswith("not ok")} == expected
    elif fmt == "github":
        annotations = [x for x in out.splitlines() if x.startswith("::")]
        assert all(GITHUB_LINE.match(x) for x in annotations), annotations[:3]
        titles = {re.search(r"title=([^:]*)::", x).group(1).replace("%3A", ":").replace("%2C", ",")
                  for x in annotations}
        assert titles == expected
    elif fmt == "sarif":
        doc = json.loads(out)
        jsonschema.validate(doc, SARIF_SCHEMA)
        assert len(doc["runs"][0]["results"]) == len(expected)
        assert all(x["level"] == "error" for x in doc["runs"][0]["results"])
    else:
        assert failed_names(junit_cases(out)[1]) == expected


def snapshot_line(lock: Path, cid: str, m: str) -> int:
    """Counted here from the file's text: the line of the case's `"id": {`, or, for a yearly
    figure, of `"figure":` after the `"yearly": {` line."""
    text = lock.read_text(encoding="utf-8").splitlines()
    if cid != "a year":
        return next(i for i, x in enumerate(text, 1) if x.strip() == json.dumps(cid) + ": {")
    start = text.index('  "yearly": {')
    return next(i for i, x in enumerate(text[start:], start + 1) if x.strip().startswith(json.dumps(m) + ":"))


def test_every_snapshot_regression_is_on_its_line_of_the_snapshot(snapshot_of_bank, snapshot_rises, tmp_path):
    """A yearly figure's regression (`a year: department_hours.Mortgages`) is on the figure's
    line of the snapshot's yearly section, as a case's is on the case's line: the line
    `friction snapshot` rewrites when the rise is accepted. Was: no line at all."""
    want = {f"{cid}: {m}": snapshot_line(snapshot_of_bank, cid, m) for cid, m in snapshot_rises}
    assert any(name.startswith("a year: ") for name in want)
    junit = tmp_path / "j.xml"
    run("test", DRAFT, "--snapshot", snapshot_of_bank, "--junit", junit)
    _, cases = junit_cases(junit.read_text(encoding="utf-8"))
    failed = {tc.get("name"): (tc.get("file"), tc.get("line")) for tc in cases if tc.find("failure") is not None}
    assert failed == {name: (str(snapshot_of_bank), str(line)) for name, line in want.items()}
    github = run("test", DRAFT, "--snapshot", snapshot_of_bank, "--format", "github").stdout
    lines = {re.search(r"title=([^:]*)::", x).group(1).replace("%3A", ":").replace("%2C", ","):
             int(re.search(r"line=(\d+),", x).group(1)) for x in github.splitlines() if x.startswith("::")}
    assert lines == want


def test_expectation_failures_and_passes_in_junit_and_tap(tmp_path):
    exp = tmp_path / "expectations.yaml"
    exp.write_text(json.dumps({"policy_set": str(ROOT / BANK), "catalog": str(ROOT / CATALOG), "expectations": [
        {"name": "a question costs nothing", "select": {"event": "question"}, "expect": {"customer_steps": {"max": 0}}},
        {"name": "a question is at most ten steps", "select": {"event": "question"}, "expect": {"steps": {"max": 10}}},
    ]}), encoding="utf-8")
    questions = [cid for cid, c in evaluate_json(BANK).items() if c["event"] == "question"]
    r = run("test", "--expectations", exp, "--format", "junit", "--allow-outside-paths")
    assert r.exit_code == 1, r.stderr
    _, cases = junit_cases(r.stdout)
    assert len(cases) == 2 * len(questions)
    assert failed_names(cases) == {f"a question costs nothing [{c}]" for c in questions}
    r = run("test", exp, "--format", "tap", "--allow-outside-paths")   # the old spelling: a file first
    assert r.stdout.count("\nnot ok ") == len(questions) and r.stdout.count("\nok ") == len(questions)


# --------------------------------------------------------------------------- lint

@pytest.fixture(scope="module")
def defect_findings() -> list[dict]:
    r = run("lint", DEFECTS, "--format", "json")
    assert r.exit_code == 1
    return json.loads(r.stdout)


def test_lint_sarif_validates_against_the_sarif_2_1_0_schema(defect_findings):
    r = run("lint", DEFECTS, "--format", "sarif")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SARIF_SCHEMA)
    results = doc["runs"][0]["results"]
    assert len(results) == len(defect_findings)
    level = {"error": "error", "warning": "warning", "info": "note"}
    assert sorted((x["ruleId"], x["level"], x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   x["locations"][0]["physicalLocation"]["region"]["startLine"]) for x in results) == \
        sorted((f["code"], level[f["level"]], f["file"], f["line"]) for f in defect_findings)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[x["ruleIndex"]]["id"] == x["ruleId"] for x in results)


def test_lint_github_annotations_carry_file_and_line(defect_findings):
    r = run("lint", DEFECTS, "--format", "github")
    assert r.exit_code == 1
    annotations = [x for x in r.stdout.splitlines() if x.startswith("::")]
    assert len(annotations) == len(defect_findings)
    assert all(GITHUB_LINE.match(x) for x in annotations), annotations
    command = {"error": "error", "warning": "warning", "info": "notice"}
    assert sorted(re.match(r"::(\w+) file=([^,]+),line=(\d+),", x).groups() for x in annotations) == \
        sorted((command[f["level"]], f["file"], str(f["line"])) for f in defect_findings)


def test_lint_junit_and_tap_fail_exactly_the_errors(defect_findings):
    errors = sum(f["level"] == "error" for f in defect_findings)
    r = run("lint", DEFECTS, "--format", "junit")
    root, cases = junit_cases(r.stdout)
    assert len(cases) == len(defect_findings) and int(root.get("failures")) == errors
    r = run("lint", DEFECTS, "--format", "tap")
    assert r.stdout.count("\nnot ok ") == errors


def test_a_clean_lint_is_one_passing_check():
    r = run("lint", BANK, CATALOG, "--format", "junit")
    assert r.exit_code == 0, r.stdout
    root, cases = junit_cases(r.stdout)
    assert len(cases) >= 1 and root.get("failures") == "0"


def test_github_escapes_commas_colons_and_newlines_in_user_text():
    from friction.ci_formats import Check, render_checks
    text = render_checks([Check("s", "rule a,b: c", "fail", "x", "line one\nline two 100%", file="f,1:2.yaml", line=3)],
                         "github")
    first = text.splitlines()[0]
    assert first == "::error file=f%2C1%3A2.yaml,line=3,title=rule a%2Cb%3A c::line one%0Aline two 100%25"
    assert GITHUB_LINE.match(first)


# --------------------------------------------------------------------------- diff --fail-on-increase

@pytest.mark.parametrize("watch", ["cust,chans", "backstage_steps", "any"])
def test_diff_increases_are_failing_checks_in_every_format(rises, watch, tmp_path):
    names = {"cust": "customer_steps", "chans": "channels"}
    metrics = list(rises) if watch == "any" else [names.get(m, m) for m in watch.split(",")]
    expected = {f"{cid}: {m}" for m in metrics for cid, _ in rises[m]}
    out = tmp_path / "diff.xml"
    r = run("diff", BANK, DRAFT, CATALOG, "--fail-on-increase", watch, "--format", "junit", "-o", out)
    assert r.exit_code == (1 if expected else 0), r.stderr
    _, cases = junit_cases(out.read_text(encoding="utf-8"))
    assert failed_names(cases) == expected
    assert len(cases) == 67 * len(metrics)
    r = run("diff", BANK, DRAFT, CATALOG, "--fail-on-increase", watch, "--format", "sarif")
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SARIF_SCHEMA)
    assert len(doc["runs"][0]["results"]) == len(expected)
    r = run("diff", BANK, DRAFT, CATALOG, "--fail-on-increase", watch, "--format", "github")
    annotations = [x for x in r.stdout.splitlines() if x.startswith("::")]
    assert len(annotations) == len(expected) and all(GITHUB_LINE.match(x) for x in annotations)
    assert all(f"file={CATALOG}," in x for x in annotations)


def test_diff_ci_format_without_metrics_to_watch_is_an_input_error():
    r = run("diff", BANK, DRAFT, CATALOG, "--format", "tap")
    assert r.exit_code == 2 and "--fail-on-increase" in r.stderr
