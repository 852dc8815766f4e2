"""One grammar for every command (issue #8 item 3) and what explain and CSV carry (item 7):
POLICY_SET and CATALOG positional everywhere (old options still work, with a note), -o on
every command that prints a report, metric names or table columns wherever a metric is
named, the output format from -o's extension."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest

import friction
from builders import run_cli as run

pytestmark = pytest.mark.usefixtures("at_root")

TINY, TINY_CASES = "tests/fixtures/tiny", "tests/fixtures/tiny-cases.yaml"
BANK, DRAFT, CATALOG = "policies/bank", "policies/bank-draft", "cases/life-events.yaml"


@pytest.mark.parametrize("args", [
    ["evaluate", TINY, TINY_CASES], ["explain", TINY, TINY_CASES, "move/offline"], ["diff", TINY, TINY, TINY_CASES],
    ["test", BANK], ["lint", TINY, TINY_CASES], ["coverage", TINY, TINY_CASES], ["rank", TINY, TINY_CASES],
    ["compile", TINY], ["fuzz", TINY, "--limit", "steps<=100", "--examples", "5", "--no-db", "--seed", "1"],
])
def test_every_report_command_takes_positional_inputs_and_writes_o_atomically(tmp_path, args):
    to_stdout = run(*args)
    assert to_stdout.exit_code in (0, 1), to_stdout.stderr
    out = tmp_path / "report.txt"
    to_file = run(*args, "-o", out)
    assert to_file.exit_code == to_stdout.exit_code, to_file.stderr
    assert to_file.stdout == ""
    assert out.read_text(encoding="utf-8") == to_stdout.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_explain_old_options_still_work_with_a_deprecation_note():
    new = run("explain", TINY, TINY_CASES, "move/offline", "--format", "json")
    old = run("explain", "move/offline", "--policies", TINY, "--catalog", TINY_CASES, "--format", "json")
    assert old.exit_code == new.exit_code == 0
    assert old.stdout == new.stdout
    assert "--policies is deprecated" in old.stderr and "--catalog is deprecated" in old.stderr
    assert "deprecated" not in new.stderr


def test_lint_old_catalog_option_still_works():
    r = run("lint", TINY, "--catalog", TINY_CASES)
    assert r.exit_code == run("lint", TINY, TINY_CASES).exit_code and "--catalog is deprecated" in r.stderr


@pytest.mark.parametrize("by, column", [("cust", "cust"), ("customer_steps", "cust"), ("back", "back"),
                                        ("backstage_steps", "back"), ("re-asks", "re-asks"), ("effort", "effort")])
def test_rank_by_a_metric_or_its_column_shows_that_column(by, column):
    r = run("rank", BANK, CATALOG, "--by", by, "--top", "3")
    assert r.exit_code == 0, r.stderr
    header = next(line for line in r.stdout.splitlines() if line.lstrip().startswith("#"))
    assert column in header.split()
    full = friction.metric_named(by)
    assert f"ranked by {full}" in r.stdout


def test_a_misspelt_metric_gets_did_you_mean_everywhere():
    r = run("rank", TINY, TINY_CASES, "--by", "chanels")
    assert r.exit_code == 2 and "did you mean 'channels'" in r.stderr
    r = run("diff", TINY, TINY, TINY_CASES, "--fail-on-increase", "custs")
    assert r.exit_code == 2 and "did you mean 'cust'" in r.stderr


def test_fail_on_increase_takes_table_columns(tmp_path):
    short = run("diff", BANK, DRAFT, CATALOG, "--fail-on-increase", "back,chans", "--format", "json")
    long = run("diff", BANK, DRAFT, CATALOG, "--fail-on-increase", "backstage_steps,channels", "--format", "json")
    assert short.exit_code == long.exit_code == 1   # the draft moves work backstage
    assert short.stderr == long.stderr and "backstage_steps" in short.stderr


@pytest.mark.parametrize("suffix, check", [
    (".csv", lambda t: t.startswith("case,event,persona,channel,")),
    (".json", lambda t: json.loads(t)["totals"]["cases"] == 4),
    (".jsonl", lambda t: len([json.loads(x) for x in t.splitlines()]) == 4),
    (".md", lambda t: t.startswith("### ")),
])
def test_evaluate_output_format_follows_the_extension(tmp_path, suffix, check):
    out = tmp_path / f"out{suffix}"
    assert run("evaluate", TINY, TINY_CASES, "-o", out).exit_code == 0
    assert check(out.read_text(encoding="utf-8"))
    forced = tmp_path / f"forced{suffix}"
    assert run("evaluate", TINY, TINY_CASES, "-o", forced, "--format", "table").exit_code == 0
    assert "TOTAL (4 cases)" in forced.read_text(encoding="utf-8")   # --format wins


def test_csv_carries_a_column_per_flag_kind():
    cases = json.loads(run("evaluate", BANK, CATALOG, "--format", "json").stdout)["cases"]
    rows = list(csv.DictReader(io.StringIO(run("evaluate", BANK, CATALOG, "--format", "csv").stdout)))
    assert len(rows) == len(cases)
    seen = Counter()
    for row, case in zip(rows, cases):
        kinds = Counter(f["kind"] for f in case["flags"])
        for kind in friction.FLAG_KINDS:
            assert int(row[f"flags:{kind}"]) == kinds[kind], (case["id"], kind)
        assert int(row["flags"]) == sum(kinds.values())
        seen.update(kinds)
    assert len(seen) >= 4   # the bank raises most kinds, so the columns are exercised


def test_explain_json_has_typed_values_and_structured_conditions(tmp_path):
    ex = json.loads(run("explain", BANK, CATALOG, "relocate/offline-elder", "--format", "json").stdout)
    checks = [c for s in ex["steps"] for r in s["reasons"] for c in r["checks"]]
    assert checks
    kinds = set()
    for c in checks:
        when = c["when"]
        kinds |= set(when)
        for attr, value in c["actual"].items():
            assert value is None or value == ex["attributes"][attr]   # the case's value, typed
            assert not isinstance(value, str) or isinstance(ex["attributes"][attr], str)
    leaves = []

    def walk(w):
        for key in ("all", "any"):
            for x in w.get(key, []):
                walk(x)
        if "attribute" in w:
            leaves.append(w)
    for c in checks:
        walk(c["when"])
    assert leaves and all(set(x) == {"attribute", "operator", "value"} for x in leaves)
    assert any(isinstance(x["value"], bool) for x in leaves) and any(isinstance(x["value"], (int, float))
                                                                   and not isinstance(x["value"], bool)
                                                                   for x in leaves)


def test_fuzz_help_says_what_the_budget_is():
    r = run("fuzz", "--help")
    assert "max_examples" in r.stdout and "shrinking" in r.stdout


def test_table_columns_name_metrics_in_fuzz_limits_and_expectations(tmp_path):
    short = run("fuzz", TINY, "--limit", "chans<=1", "--examples", "20", "--no-db", "--seed", "1")
    long = run("fuzz", TINY, "--limit", "channels<=1", "--examples", "20", "--no-db", "--seed", "1")
    assert short.exit_code == long.exit_code == 1 and short.stdout == long.stdout
    assert run("fuzz", TINY, "--limit", "re-asks<=0", "--examples", "5", "--no-db", "--seed", "1").exit_code in (0, 1)
    outputs = []
    for key in ("chans", "channels"):
        f = tmp_path / f"{key}.yaml"
        f.write_text(json.dumps({"expectations": [{"name": "one channel", "select": {"event": "move"},
                                                   "expect": {key: {"max": 1}}}]}), encoding="utf-8")
        r = run("test", TINY, TINY_CASES, "--expectations", f)
        assert r.exit_code == 1, r.stderr
        outputs.append(r.stdout.replace(f"{key}.yaml", "F"))
    assert outputs[0] == outputs[1] and "channels: expected at most 1" in outputs[0]
