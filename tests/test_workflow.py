"""The policy owner's workflow on the command line: diff a draft against the baseline, rank
rules by the friction they make, check expectations (`test`, JUnit XML, snapshots), find
what a catalog leaves untested (`coverage`) and explain one journey.

Every expected number is computed independently of the command under test: from two
separate `evaluate --format json` runs (diff), from real replays of a copy of the policy
set with one rule deleted from its YAML file (rank), from the selections of an
expectation file counted over the evaluation (test), or by hand on tests/fixtures/tiny
(coverage, explain; see tests/test_metrics.py for the hand-counted journeys).

Tests run with the working directory at the repository root and name files relative to it.
"""
from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from builders import rule, step, write_set
from friction import cli
import friction

ROOT = Path(__file__).resolve().parent.parent
BANK, DRAFT, CATALOG = "policies/bank", "policies/bank-draft", "cases/life-events.yaml"
TINY, TINY_CASES = "tests/fixtures/tiny", "tests/fixtures/tiny-cases.yaml"
PROMISES = "policies/bank/expectations/promises.yaml"
KEYS = (*friction.METRICS, "effort")   # what diff, rank and snapshots report per case



@pytest.fixture(scope="module", autouse=True)
def _at_root():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        yield


def run(*args: str):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


def evaluate_json(policies: str | Path, catalog: str | Path = CATALOG) -> dict:
    r = run("evaluate", policies, catalog, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def value(case: dict, key: str) -> float:
    return case["effort"] if key == "effort" else case["metrics"][key]


@pytest.fixture(scope="module")
def bank() -> dict:
    return evaluate_json(BANK)


@pytest.fixture(scope="module")
def draft() -> dict:
    return evaluate_json(DRAFT)


def by_id(ev: dict) -> dict[str, dict]:
    return {c["id"]: c for c in ev["cases"]}


# =========================================================================== diff


@pytest.fixture(scope="module")
def diff_json() -> dict:
    r = run("diff", BANK, DRAFT, CATALOG, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_diff_totals_are_draft_totals_minus_baseline_totals(bank, draft, diff_json):
    assert bank["totals"]["cases"] == draft["totals"]["cases"] == 67
    for k in KEYS:
        expected = draft["totals"][k] - bank["totals"][k]
        assert diff_json["totals"]["before"][k] == pytest.approx(bank["totals"][k]), k
        assert diff_json["totals"]["after"][k] == pytest.approx(draft["totals"][k]), k
        assert diff_json["totals"]["delta"][k] == pytest.approx(expected), k
    # the draft is meant to remove friction: the totals must actually move
    assert diff_json["totals"]["delta"]["customer_steps"] < 0


def test_diff_per_case_metrics_and_steps_are_the_two_journeys_compared(bank, draft, diff_json):
    before, after = by_id(bank), by_id(draft)
    assert [c["id"] for c in diff_json["cases"]] == [c["id"] for c in bank["cases"]]
    changed_steps = 0
    for c in diff_json["cases"]:
        a, b = before[c["id"]], after[c["id"]]
        for k in KEYS:
            assert c["before"][k] == pytest.approx(value(a, k)), (c["id"], k)
            assert c["after"][k] == pytest.approx(value(b, k)), (c["id"], k)
            assert c["delta"][k] == pytest.approx(value(b, k) - value(a, k)), (c["id"], k)
        ja = [s["action"] for s in a["journey"]]
        jb = [s["action"] for s in b["journey"]]
        assert set(c["removed_steps"]) == set(ja) - set(jb), c["id"]
        assert set(c["added_steps"]) == set(jb) - set(ja), c["id"]
        # no step listed twice, and listed in journey order
        assert c["removed_steps"] == [s for s in ja if s in c["removed_steps"]], c["id"]
        assert c["added_steps"] == [s for s in jb if s in c["added_steps"]], c["id"]
        changed_steps += bool(c["removed_steps"] or c["added_steps"])
    assert changed_steps > 0


def rises(bank: dict, draft: dict, metrics: list[str]) -> set[tuple[str, str]]:
    after = by_id(draft)
    return {(c["id"], m) for c in bank["cases"] for m in metrics if value(after[c["id"]], m) > value(c, m)}


@pytest.mark.parametrize("watch", ["customer_steps", "channel_switches", "channels", "effort",
                                   "customer_steps,repeated_asks", "handoffs,elapsed_days", "any"])
def test_diff_fail_on_increase_exit_code_follows_the_evaluations(bank, draft, watch):
    metrics = list(KEYS) if watch == "any" else watch.split(",")
    expected = rises(bank, draft, metrics)
    r = run("diff", BANK, DRAFT, CATALOG, "--format", "json", "--fail-on-increase", watch)
    assert r.exit_code == (1 if expected else 0), (expected, r.stderr)
    reported = set(re.findall(r"^increase: (\S+): (\w+) ", r.stderr, re.M))
    assert reported == expected


def test_diff_fail_on_increase_covers_both_outcomes(bank, draft):
    """The parametrised test above is only worth something if it sees both exit codes."""
    assert not rises(bank, draft, ["customer_steps"])      # the draft never adds customer steps
    assert rises(bank, draft, ["staff_handoffs"])           # ... but moves work between teams behind the line


def test_diff_markdown_is_a_github_table(bank, draft):
    r = run("diff", BANK, DRAFT, CATALOG, "--format", "markdown")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("### bank 2024.3 → bank-draft")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    table = []   # the first table: the yearly table of both sides follows it, further down
    for ln in lines[start:]:
        if not ln.startswith("|"):
            break
        table.append(ln)
    header, rule, *rows = table
    cells = [h.strip() for h in header.strip("|").split("|")]
    assert cells[0] == "case" and len(cells) == 1 + len(KEYS)
    assert re.fullmatch(r"\|(-+\|)+", rule.replace(":", "-")), rule
    assert all(row.count("|") == header.count("|") for row in rows)
    # only changed cases by default, then the totals row
    before, after = by_id(bank), by_id(draft)
    changed = [cid for cid in before if before[cid]["metrics"] != after[cid]["metrics"]
               or [s["action"] for s in before[cid]["journey"]] != [s["action"] for s in after[cid]["journey"]]]
    names = [row.strip("|").split("|")[0].strip() for row in rows]
    assert names[:-1] == changed
    assert names[-1] == "TOTAL (67 cases)"
    total_cells = [x.strip() for x in rows[-1].strip("|").split("|")][1:]
    steps_cell = total_cells[0]
    d = draft["totals"]["steps"] - bank["totals"]["steps"]
    assert steps_cell == f"{bank['totals']['steps']:g} → {draft['totals']['steps']:g} ({d:+g})"


def test_diff_unknown_metric_in_fail_on_increase_exits_2():
    r = run("diff", BANK, DRAFT, CATALOG, "--fail-on-increase", "customer_stepz")
    assert r.exit_code == 2
    assert "unknown metric 'customer_stepz'" in r.stderr
    assert "customer_steps" in r.stderr            # did you mean
    assert r.stdout == ""


# =========================================================================== rank

# Rules deleted one at a time from a copy of the bank. Each is chosen so that the copy
# still loads: the steps it defines are named by no other rule (in `then`, `after` or
# `when.step`), or it only names steps other rules define.
RANKED = {
    "address.confirm-to-old-address": "policy",     # 4th link of a chain (proof case -> upload -> check -> letter)
    "switching.non-resident-branch": "policy",      # names a step another rule defines
    "support.vulnerable-callback": "practice",      # fires across every life event
    "questions.written-reply": "practice",          # `any` of `all` conditions
    "questions.chatbot-to-phone": "system",         # in a chain; its step makes further rules fire
    "bereavement.closing-letter": "system",         # end of the payout chain
    "products.cards-line": "system",                # a step address.cards-platform also requires
    "address.cdd-high-risk": "regulation",
    "support.financial-difficulty": "regulation",
}


@pytest.fixture(scope="module")
def rank_json() -> dict:
    r = run("rank", BANK, CATALOG, "--format", "json", "--top", "0")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def without_rule(tmp: Path, rule_id: str) -> Path:
    """A copy of the bank with `rule_id` deleted from its YAML file."""
    dest = tmp / f"bank-without-{rule_id}"
    shutil.copytree(ROOT / BANK, dest, ignore=shutil.ignore_patterns("expectations"))
    hits = 0
    for f in sorted(dest.glob("*.yaml")):
        if f.name == "policy-set.yaml":
            continue
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        kept = [r for r in data["rules"] if r["id"] != rule_id]
        if len(kept) != len(data["rules"]):
            hits += 1
            f.write_text(yaml.safe_dump({"rules": kept}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert hits == 1, f"{rule_id} not found exactly once"
    return dest


@pytest.mark.parametrize("rule_id", sorted(RANKED))
def test_rank_attribution_equals_a_real_replay_without_the_rule(rule_id, bank, rank_json, tmp_path):
    entry = next(a for a in rank_json["rules"] if a["name"] == rule_id)
    assert entry["cause"] == RANKED[rule_id]
    without = evaluate_json(without_rule(tmp_path, rule_id))
    assert without["totals"]["cases"] == bank["totals"]["cases"]
    for k in KEYS:
        assert entry["removed"][k] == pytest.approx(bank["totals"][k] - without["totals"][k]), k
    # cases in which the rule fired: those whose journey names it among a step's rules
    fired_in = sum(any(rule_id in s["rules"] for s in c["journey"]) for c in bank["cases"])
    assert entry["cases"] == fired_in > 0
    # the rule really made friction somewhere (else the comparison above proves little)
    assert entry["removed"]["steps"] > 0


def test_rank_covers_every_cause_and_a_chain():
    assert set(RANKED.values()) == {"policy", "practice", "system", "regulation"}
    cps = friction.compile_policy_set(friction.load_policy_set(BANK))
    chained = [r.id for r in cps.rules if r.id in RANKED and r.rule.when.step]
    assert len(chained) >= 2


def test_rank_lists_every_rule_once(rank_json):
    cps = friction.compile_policy_set(friction.load_policy_set(BANK))
    assert sorted(a["name"] for a in rank_json["rules"]) == sorted(r.id for r in cps.rules)
    assert rank_json["cases"] == 67


@pytest.mark.parametrize("group,key", [("owners", "owner"), ("causes", "cause")])
def test_rank_rollups_equal_a_real_replay_without_all_the_groups_rules(group, key, rank_json):
    """An owner's (a cause's) figures are what leaves when all its rules are removed at once
    (not the sum of its rules' own figures), checked by replaying every case with the
    group's rules excluded; `cases` counts cases where any of them fired."""
    cps = friction.compile_policy_set(friction.load_policy_set(BANK))
    ev = friction.Evaluator(cps)
    cases, _ = friction.resolve_cases(friction.load_catalog(CATALOG), cps.manifest)
    sizes = {g["name"]: g["rules"] for g in rank_json[group]}
    name = max(sorted(sizes), key=lambda n: sizes[n])           # the group with the most rules
    members = frozenset(r.index for r in cps.rules if (r.rule.owner if key == "owner" else r.cause.value) == name)
    assert len(members) == sizes[name] >= 2
    entry = next(g for g in rank_json[group] if g["name"] == name)
    removed = dict.fromkeys(KEYS, 0.0)
    fired_in = 0
    for case in cases:
        full, cut = ev.evaluate(case), ev.result(ev.replay(case, members))
        fired_in += bool(full.trace.fired & members)
        for k in KEYS:
            removed[k] += (full.effort - cut.effort) if k == "effort" else full.metrics[k] - cut.metrics[k]
    for k in KEYS:
        assert entry["removed"][k] == pytest.approx(removed[k]), k
    assert entry["cases"] == fired_in <= len(cases)


def test_rank_is_sorted_by_the_chosen_metric(rank_json):
    r = run("rank", BANK, CATALOG, "--format", "json", "--by", "customer_steps")
    ranked = json.loads(r.stdout)
    values = [a["removed"]["customer_steps"] for a in ranked["rules"]]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]
    efforts = [a["removed"]["effort"] for a in rank_json["rules"]]
    assert efforts == sorted(efforts, reverse=True)


# =========================================================================== test


def selected_cases(ev: dict, select: dict) -> list[str]:
    def listify(v):
        return [v] if isinstance(v, str) else list(v or [])
    want = {k: listify(select.get(k)) for k in ("case", "event", "persona")}
    return [c["id"] for c in ev["cases"]
            if (not want["case"] or c["id"] in want["case"])
            and (not want["event"] or c["event"] in want["event"])
            and (not want["persona"] or c["persona"] in want["persona"])]


def test_bundled_promises_are_realistic_and_hold_on_the_evaluation(bank):
    """Independent of `friction test`: every promise selects cases, and holds on each."""
    doc = yaml.safe_load((ROOT / PROMISES).read_text(encoding="utf-8"))
    assert 4 <= len(doc["expectations"]) <= 6
    cases = by_id(bank)
    for e in doc["expectations"]:
        ids = selected_cases(bank, e["select"])
        assert ids, e["name"]
        for cid in ids:
            c = cases[cid]
            actions = [s["action"] for s in c["journey"]]
            kinds = {f["kind"] for f in c["flags"]}
            for k, bound in e["expect"].items():
                if k == "steps_include":
                    assert set(bound) <= set(actions), (e["name"], cid)
                elif k == "steps_exclude":
                    assert not set(bound) & set(actions), (e["name"], cid)
                elif k == "no_flags":
                    assert not set(bound) & kinds, (e["name"], cid)
                else:
                    v = value(c, k)
                    assert v <= bound.get("max", v) and v >= bound.get("min", v) and v == bound.get("eq", v), \
                        (e["name"], cid, k)


@pytest.mark.parametrize("args", [("test", BANK), ("test",)])
def test_bundled_expectations_pass(bank, args):
    doc = yaml.safe_load((ROOT / PROMISES).read_text(encoding="utf-8"))
    outcomes = sum(len(selected_cases(bank, e["select"])) for e in doc["expectations"])
    r = run(*args)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == f"{outcomes} passed, 0 failed"


def failing_file(tmp_path: Path) -> Path:
    """One impossible bound on every question, one promise that holds on one case."""
    f = tmp_path / "impossible.yaml"
    f.write_text(yaml.safe_dump({
        "policy_set": str(ROOT / BANK),
        "catalog": str(ROOT / CATALOG),
        "expectations": [
            {"name": "a question costs nothing", "select": {"event": "question"},
             "expect": {"customer_steps": {"max": 0}}},
            {"name": "a young customer's question is quick", "select": {"case": "question/young-digital"},
             "expect": {"steps": {"max": 3}, "steps_include": ["ask the chatbot in the app"]}},
        ]}, sort_keys=False), encoding="utf-8")
    return f


def test_failing_expectation_exits_1_and_shows_expected_and_actual(bank, tmp_path):
    questions = selected_cases(bank, {"event": "question"})
    assert len(questions) == 10
    r = run("test", failing_file(tmp_path), "--allow-outside-paths")   # a file outside the repository
    assert r.exit_code == 1, r.stdout + r.stderr
    out = r.stdout
    assert out.strip().splitlines()[-1] == f"1 passed, {len(questions)} failed"
    cases = by_id(bank)
    for cid in questions:
        assert f"a question costs nothing [{cid}]" in out
    # expected and actual, with the actual value from the evaluation
    yd = cases["question/young-digital"]["metrics"]["customer_steps"]
    block = out.split("a question costs nothing [question/young-digital]")[1].splitlines()[1]
    assert block.strip() == f"customer_steps: expected at most 0, actual {yd:g}"
    assert "a young customer's question is quick" not in out     # the passing one is not listed


def test_junit_xml_counts_and_failures(bank, tmp_path):
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    r = run("test", failing_file(tmp_path), "--junit", junit, "--allow-outside-paths")
    assert r.exit_code == 1
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    testcases = suite.findall("testcase")
    questions = selected_cases(bank, {"event": "question"})
    assert len(testcases) == len(questions) + 1 == int(suite.get("tests"))
    failed = [tc for tc in testcases if tc.find("failure") is not None]
    assert len(failed) == len(questions) == int(suite.get("failures"))
    assert {tc.get("name") for tc in failed} == {f"a question costs nothing [{c}]" for c in questions}
    msg = next(tc for tc in failed if "question/young-digital" in tc.get("name")).find("failure")
    assert "expected at most 0" in msg.get("message") and "actual 2" in msg.get("message")
    if root.tag == "testsuites":
        assert root.get("tests") == str(len(testcases)) and root.get("failures") == str(len(failed))


def test_unknown_metric_in_an_expectation_exits_2(tmp_path):
    f = tmp_path / "typo.yaml"
    f.write_text(yaml.safe_dump({"policy_set": str(ROOT / BANK), "catalog": str(ROOT / CATALOG),
                                 "expectations": [{"name": "typo", "select": {"event": "question"},
                                                   "expect": {"chanels": {"max": 2}}}]}), encoding="utf-8")
    r = run("test", f)
    assert r.exit_code == 2
    assert "unknown key 'chanels'" in r.stderr and "channels" in r.stderr
    assert "typo.yaml" in r.stderr
    assert "passed" not in r.stdout


def test_bad_yaml_in_an_expectation_file_exits_2(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("expectations:\n  - name: x\n    select: {event: [question\n", encoding="utf-8")
    r = run("test", f)
    assert r.exit_code == 2
    assert "broken.yaml" in r.stderr and "bad YAML" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_no_expectation_files_exits_2(tmp_path):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    r = run("test", empty)
    assert r.exit_code == 2
    assert "no expectation files found" in r.stderr


def test_policy_set_without_expectations_says_none_found():
    r = run("test", DRAFT)
    assert r.exit_code == 2
    assert "no expectation files found" in r.stderr


def test_expectation_selecting_no_case_exits_2(tmp_path):
    f = tmp_path / "empty-selection.yaml"
    f.write_text(yaml.safe_dump({"policy_set": str(ROOT / BANK), "catalog": str(ROOT / CATALOG),
                                 "expectations": [{"name": "nobody", "select": {"persona": "astronaut"},
                                                   "expect": {"steps": {"max": 1}}}]}), encoding="utf-8")
    r = run("test", f, "--allow-outside-paths")
    assert r.exit_code == 2
    assert "select.persona: 'astronaut' matches no case of the catalog" in r.stderr and "nobody" in r.stderr


# =========================================================================== snapshot


@pytest.fixture
def lock(tmp_path) -> Path:
    path = tmp_path / "tmp" / "lock.json"
    path.parent.mkdir()
    r = run("snapshot", "-o", path)
    assert r.exit_code == 0, r.stderr
    assert "67 cases" in r.stdout
    return path


def edit_lock(path: Path, case_id: str, metric: str, new: float) -> None:
    data = json.loads(path.read_text())
    data["cases"][case_id][metric] = new
    path.write_text(json.dumps(data))


def test_snapshot_holds_the_evaluated_metrics_and_passes_unchanged(lock, bank):
    data = json.loads(lock.read_text())
    assert set(data["cases"]) == set(by_id(bank))
    for c in bank["cases"]:
        assert data["cases"][c["id"]] == pytest.approx({k: value(c, k) for k in KEYS})
    r = run("test", "--snapshot", lock)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "0 regressions, 0 improvements, 0 missing, 0 new" in r.stdout


def test_snapshot_value_edited_down_is_a_regression(lock, bank):
    now = by_id(bank)["question/young-digital"]["metrics"]["customer_steps"]
    edit_lock(lock, "question/young-digital", "customer_steps", now - 1)
    r = run("test", "--snapshot", lock)
    assert r.exit_code == 1
    assert f"FAIL snapshot: question/young-digital: customer_steps rose {now - 1:g} → {now:g}" in r.stdout
    assert "1 regressions, 0 improvements" in r.stdout


def test_snapshot_value_edited_up_is_an_improvement(lock, bank):
    now = by_id(bank)["relocate/offline-elder"]["metrics"]["elapsed_days"]
    edit_lock(lock, "relocate/offline-elder", "elapsed_days", now + 2.5)
    r = run("test", "--snapshot", lock)
    assert r.exit_code == 0, r.stdout
    assert f"better: relocate/offline-elder: elapsed_days fell {now + 2.5:g} → {now:g}" in r.stdout
    assert "0 regressions, 1 improvements" in r.stdout
    assert "FAIL" not in r.stdout


def test_snapshot_case_gone_from_the_catalog_fails(tmp_path):
    lock = tmp_path / "tiny.lock.json"
    assert run("snapshot", TINY, TINY_CASES, "-o", lock).exit_code == 0
    reduced = tmp_path / "fewer-cases.yaml"
    cat = yaml.safe_load((ROOT / TINY_CASES).read_text())
    cat["cases"] = [c for c in cat["cases"] if c["id"] != "move/abroad"]
    reduced.write_text(yaml.safe_dump(cat, sort_keys=False))
    r = run("test", TINY, reduced, "--snapshot", lock)
    assert r.exit_code == 1, r.stdout + r.stderr
    assert "FAIL snapshot: move/abroad: in the snapshot but no longer in the catalog" in r.stdout
    assert "1 missing" in r.stdout
    # and the full catalog still passes against the same lock
    assert run("test", "--snapshot", lock).exit_code == 0


# =========================================================================== coverage

# tests/fixtures/tiny has 6 rules; tiny-cases.yaml fires them all: move/offline fires a.form,
# b.proof, c.branch, d.check, e.confirm and move/abroad fires f.abroad. Pairs: events
# {ask, move} x personas {no-products, offline} = 4; the cases exercise (move, offline),
# (move, no-products) twice and (ask, offline): (ask, no-products) is missing.


def coverage_json(*args: str):
    r = run("coverage", *args, "--format", "json")
    return r, json.loads(r.stdout)


def test_coverage_of_the_tiny_catalog():
    r, cov = coverage_json(TINY, TINY_CASES)
    assert r.exit_code == 0
    assert cov["rules"] == {"total": 6, "fired": 6, "percent": 100.0, "unfired": []}
    assert cov["pairs"] == {"total": 4, "covered": 3, "percent": 75.0,
                            "missing": [{"event": "ask", "persona": "no-products"}]}
    assert run("coverage", TINY, TINY_CASES, "--min", "100").exit_code == 0


def test_coverage_names_unfired_rules_and_missing_pairs(tmp_path):
    # keep only move/offline and move/no-products: f.abroad never fires; no `ask` pair is left
    cat = yaml.safe_load((ROOT / TINY_CASES).read_text())
    cat["cases"] = [c for c in cat["cases"] if c["id"] in ("move/offline", "move/no-products")]
    reduced = tmp_path / "two-cases.yaml"
    reduced.write_text(yaml.safe_dump(cat, sort_keys=False))
    r, cov = coverage_json(TINY, str(reduced))
    assert r.exit_code == 0
    assert cov["rules"]["total"] == 6 and cov["rules"]["fired"] == 5
    assert cov["rules"]["percent"] == pytest.approx(83.3, abs=0.05)
    assert cov["rules"]["unfired"] == [{"rule": "f.abroad", "where": "tests/fixtures/tiny/checks.yaml:17"}]
    assert cov["pairs"]["covered"] == 2 and cov["pairs"]["percent"] == 50.0
    assert cov["pairs"]["missing"] == [{"event": "ask", "persona": "no-products"},
                                       {"event": "ask", "persona": "offline"}]
    below = run("coverage", TINY, str(reduced), "--min", "100")
    assert below.exit_code == 1
    assert "below --min 100%" in below.stderr
    assert run("coverage", TINY, str(reduced), "--min", "80").exit_code == 0


def test_coverage_names_life_events_no_rule_handles(tmp_path):
    # tiny: every rule starts on `move` or waits for a step; ask/offline is the one `ask` case.
    r, cov = coverage_json(TINY, TINY_CASES)
    assert cov["events"] == {"unhandled": [{"event": "ask", "cases": 1}]}
    assert "Life events of the catalog no rule handles" in run("coverage", TINY, TINY_CASES).stdout
    # a rule on `ask` that waits for a step does not start anything; one that does not, does
    waits = write_set(tmp_path / "waits", {"r.yaml": [
        rule("m", [step("s")], event="move"), rule("w", [step("t")], event="ask", step="s")]})
    cases = tmp_path / "c.yaml"
    cases.write_text("cases:\n  - {id: a, event: ask}\n  - {id: b, event: ask}\n  - {id: c, event: move}\n")
    assert coverage_json(str(waits), str(cases))[1]["events"]["unhandled"] == [{"event": "ask", "cases": 2}]
    starts = write_set(tmp_path / "starts", {"r.yaml": [
        rule("m", [step("s")], event="move"), rule("k", [step("t")], event="ask")]})
    assert coverage_json(str(starts), str(cases))[1]["events"]["unhandled"] == []
    catch_all = write_set(tmp_path / "all", {"r.yaml": [rule("any", [step("s")])]})
    assert coverage_json(str(catch_all), str(cases))[1]["events"]["unhandled"] == []


# =========================================================================== explain


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_explain_names_rules_checks_and_chains(engine_name):
    r = run("explain", TINY, TINY_CASES, "move/offline", "--format", "json",
            "--engine", engine_name)
    assert r.exit_code == 0, r.stderr
    ex = json.loads(r.stdout)
    assert (ex["case_id"], ex["event"], ex["persona"], ex["channel"]) == ("move/offline", "move", "offline", "web")
    assert ex["attributes"] == {"digital": False, "products": 2}
    steps = {s["action"]: s for s in ex["steps"]}
    # journey order counted by hand in test_metrics.py
    assert [s["action"] for s in ex["steps"]] == ["fill form", "upload proof", "check proof", "confirm by phone",
                                                  "visit branch"]
    assert [s["position"] for s in ex["steps"]] == [1, 2, 3, 4, 5]

    def only_reason(action):
        (reason,) = steps[action]["reasons"]
        return reason

    expected = {  # action: (rule, cause, owner, where, on_steps)
        "fill form": ("a.form", "system", "IT", "tests/fixtures/tiny/move.yaml:2", []),
        "upload proof": ("b.proof", "policy", "Risk", "tests/fixtures/tiny/move.yaml:9", []),
        "visit branch": ("c.branch", "practice", "Branches", "tests/fixtures/tiny/move.yaml:19", ["upload proof"]),
        "check proof": ("d.check", "regulation", "Compliance", "tests/fixtures/tiny/checks.yaml:2", ["upload proof"]),
        "confirm by phone": ("e.confirm", "system", "IT", "tests/fixtures/tiny/checks.yaml:9", ["check proof"]),
    }
    for action, (rule_id, cause, owner, where, on) in expected.items():
        reason = only_reason(action)
        assert (reason["rule"], reason["cause"], reason["owner"], reason["where"], reason["on_steps"]) == \
            (rule_id, cause, owner, where, on), action
    # checks with the case's actual values
    # checks with the case's actual values, typed, and each condition structured (issue #8.7)
    assert only_reason("upload proof")["checks"] == [
        {"condition": "products ≥ 1", "holds": True, "when": {"attribute": "products", "operator": "ge", "value": 1},
         "actual": {"products": 2}}]
    assert only_reason("visit branch")["checks"] == [
        {"condition": "digital = false", "holds": True,
         "when": {"attribute": "digital", "operator": "eq", "value": False}, "actual": {"digital": False}}]
    assert only_reason("fill form")["checks"] == [] and only_reason("fill form")["event"] == "move"
    assert only_reason("check proof")["event"] is None          # d.check tests no life event
    # chains: how each step came to be, from the case down
    assert steps["confirm by phone"]["chain"] == [["upload proof", "b.proof"], ["check proof", "d.check"],
                                                  ["confirm by phone", "e.confirm"]]
    assert steps["visit branch"]["chain"] == [["upload proof", "b.proof"], ["visit branch", "c.branch"]]
    assert steps["fill form"]["chain"] == [["fill form", "a.form"]]
    # policy-made: all but the form (policy_steps = 4 in the hand count)
    assert [s["policy_made"] for s in ex["steps"]] == [False, True, True, True, True]
    assert [(s["lane"], s["department"], s["channel"], s["days"]) for s in ex["steps"]] == [
        ("customer", "Front", "web", 0), ("customer", "Back", "web", 0), ("backstage", "Risk", "internal", 3),
        ("frontstage", "Front", "phone", 0), ("customer", "Front", "branch", 1)]


def test_explain_text_shows_the_chain_and_the_checks():
    r = run("explain", TINY, TINY_CASES, "move/offline")
    assert r.exit_code == 0
    assert "chain: upload proof [b.proof] → check proof [d.check] → confirm by phone [e.confirm]" in r.stdout
    assert "✓ products ≥ 1   (actual: products = 2)" in r.stdout
    assert "✓ step 'check proof' is already in the journey" in r.stdout


def test_explain_check_shows_an_attribute_set_on_the_case_itself():
    # move/abroad: f.abroad tests region ≠ uk; region is set (to abroad) only by this case's attrs
    r = run("explain", TINY, TINY_CASES, "move/abroad", "--format", "json")
    ex = json.loads(r.stdout)
    (reason,) = next(s for s in ex["steps"] if s["action"] == "phone from abroad")["reasons"]
    assert reason["checks"] == [{"condition": "region ≠ uk", "holds": True, "actual": {"region": "abroad"},
                                 "when": {"attribute": "region", "operator": "ne", "value": "uk"}}]
    assert [s["action"] for s in ex["steps"]] == ["fill form", "phone from abroad"]


def test_explain_unknown_case_exits_2_with_did_you_mean():
    r = run("explain", TINY, TINY_CASES, "move/ofline")
    assert r.exit_code == 2
    assert "no case 'move/ofline'" in r.stderr and "did you mean 'move/offline'" in r.stderr
    assert r.stdout == ""
