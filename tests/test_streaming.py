"""Streaming evaluation: JSON Lines catalogs in, jsonl/csv rows out, bad lines reported in
place while every good case is still evaluated, worker processes that do not change a byte
of the output, the summary and full row forms, and no progress bar off a terminal.

Expected numbers come from the hand count of tests/test_metrics.py (the same attributes on
tests/fixtures/tiny) and from evaluating the same cases from a YAML catalog.
"""
from __future__ import annotations

import io
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from friction import cli
from friction.commands import shared
import friction
from test_metrics import EXPECTED as HAND_COUNTED

ROOT = Path(__file__).resolve().parent.parent
TINY = "tests/fixtures/tiny"
BANK, CATALOG = "policies/bank", "cases/life-events.yaml"

sys.path.insert(0, str(ROOT / "bench"))
from workload import case_dicts, write_policy_set  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _at_root():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        yield


def run(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# =========================================================================== bad lines

# One line each; the good ones carry the attributes of hand-counted tiny cases.
GOOD = {
    # = move/offline of tests/test_metrics.py (persona offline: digital false, products 2; starts on web)
    "s1": {"id": "s1", "event": "move", "attrs": {"digital": False, "products": 2}},
    # = ask/offline: no rule fires for `ask`
    "s5": {"id": "s5", "event": "ask", "channel": "phone", "attrs": {"digital": False, "products": 2}},
    # = move/abroad (persona no-products: products 0, starts on the phone; region abroad)
    "s7": {"id": "s7", "event": "move", "channel": "phone", "attrs": {"digital": True, "products": 0,
                                                                     "region": "abroad"}},
}
HAND = {"s1": "move/offline", "s5": "ask/offline", "s7": "move/abroad"}
LINES = [
    json.dumps(GOOD["s1"]),
    '{"id": "s2", "event": "move", "attrs": {"digital": ',          # 2: bad JSON
    json.dumps({"id": "s3", "event": "move", "attrs": {"colour": "red"}}),     # 3: unknown attribute
    json.dumps({"id": "s4", "event": "move", "attrs": {"products": 99}}),      # 4: above max 10
    json.dumps(GOOD["s5"]),
    '["not", "a", "case"]',                                          # 6: JSON, but not an object
    json.dumps(GOOD["s7"]),
]
ERRORS = {2: (None, "bad JSON"), 3: ("s3", "colour"), 4: ("s4", "products"), 6: (None, "JSON object")}


@pytest.fixture
def mixed(tmp_path) -> Path:
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_jsonl_rows_follow_the_input_lines_with_errors_in_place(mixed):
    r = run("evaluate", TINY, mixed, "--format", "jsonl")
    assert r.exit_code == 2
    rows = jsonl(r.stdout)
    assert len(rows) == len(LINES)
    assert [row["id"] for row in rows] == ["s1", None, "s3", "s4", "s5", None, "s7"]
    for n, row in enumerate(rows, 1):
        if n in ERRORS:
            cid, phrase = ERRORS[n]
            assert set(row) == {"id", "error", "file", "line"}, n
            assert row["line"] == n and row["file"].endswith("mixed.jsonl") and phrase in row["error"], row
        else:
            assert "error" not in row and row["metrics"] == HAND_COUNTED[HAND[row["id"]]], row["id"]
    # stderr: one line per bad line, then the count; stdout carries no error text
    assert r.stderr.count("error: ") == len(ERRORS)
    assert "mixed.jsonl:3: case s3: attribute 'colour'" in r.stderr
    assert f"{len(ERRORS)} case(s) could not be evaluated; {len(GOOD)} were." in r.stderr


def test_csv_rows_follow_the_input_lines_too(mixed):
    r = run("evaluate", TINY, mixed, "--format", "csv")
    assert r.exit_code == 2
    header, *rows = r.stdout.splitlines()
    assert header.split(",")[:5] == ["case", "event", "persona", "channel", "steps"]
    assert [row.split(",")[0] for row in rows] == ["s1", "", "s3", "s4", "s5", "", "s7"]
    assert rows[0].split(",")[4] == str(HAND_COUNTED["move/offline"]["steps"])
    assert "mixed.jsonl:4:" in rows[3] and "99" in rows[3]


def test_jsonl_metrics_equal_the_same_cases_from_a_yaml_catalog(mixed, tmp_path):
    catalog = tmp_path / "same.yaml"
    catalog.write_text(yaml.safe_dump({"cases": list(GOOD.values())}, sort_keys=False), encoding="utf-8")
    r = run("evaluate", TINY, catalog, "--format", "json")
    assert r.exit_code == 0, r.stderr
    from_yaml = {c["id"]: c for c in json.loads(r.stdout)["cases"]}
    rows = {row["id"]: row for row in jsonl(run("evaluate", TINY, mixed, "--format", "jsonl").stdout)
            if "error" not in row}
    assert set(rows) == set(from_yaml) == set(GOOD)
    for cid, row in rows.items():
        y = from_yaml[cid]
        assert row["metrics"] == y["metrics"] and row["effort"] == y["effort"], cid
        assert row["journey"] == [s["action"] for s in y["journey"]], cid
        assert (row["channel"], row["attributes"]) == (y["channel"], y["attributes"]), cid


# =========================================================================== workers


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A generated 60-rule policy set, a 400-case JSON Lines catalog with a bad line every
    97 lines, and its first 60 lines as a smaller catalog for the rete engine."""
    d = tmp_path_factory.mktemp("generated")
    policy = write_policy_set(d / "policy", 60)
    lines = []
    for i, case in enumerate(case_dicts(400, seed=3)):
        if i % 97 == 50:
            lines.append('{"id": "broken-%d", ' % i)
        if i % 131 == 7:
            case["attrs"]["products"] = 42           # above the manifest's max 8
        lines.append(json.dumps(case))
    big, small = d / "big.jsonl", d / "small.jsonl"
    big.write_text("\n".join(lines) + "\n")
    small.write_text("\n".join(lines[:60]) + "\n")
    return policy, big, small


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_two_workers_write_the_same_bytes_as_one(generated, fmt):
    policy, big, _ = generated
    one = run("evaluate", policy, big, "--format", fmt, "--workers", "1")
    two = run("evaluate", policy, big, "--format", fmt, "--workers", "2")
    assert one.exit_code == two.exit_code == 2          # the planted bad lines
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr
    if fmt == "jsonl":
        rows = jsonl(one.stdout)
        assert len(rows) == len(big.read_text().splitlines())
        planted = sum(i % 97 == 50 for i in range(400)) + sum(i % 131 == 7 for i in range(400))
        assert planted == 4 + 3                            # broken lines, out-of-range values
        assert sum("error" in r for r in rows) == planted
        # input order: the ids of the lines as written (None for the broken ones)
        written = []
        for line in big.read_text().splitlines():
            try:
                written.append(json.loads(line)["id"])
            except json.JSONDecodeError:
                written.append(None)
        assert [r["id"] for r in rows] == written
        # a real mix of journeys, not one cached outcome repeated
        assert len({tuple(r["journey"]) for r in rows if "error" not in r}) > 20


@pytest.mark.parametrize("engine_name", friction.ENGINES)
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_two_workers_match_one_on_both_engines(generated, engine_name, fmt):
    policy, _, small = generated
    args = ("evaluate", policy, small, "--format", fmt, "--engine", engine_name)
    one, two = run(*args, "--workers", "1"), run(*args, "--workers", "2")
    assert one.stdout == two.stdout and one.exit_code == two.exit_code
    assert one.stdout.strip()


def test_both_engines_give_the_same_rows(generated):
    policy, _, small = generated
    a = run("evaluate", policy, small, "--format", "jsonl", "--engine", "compiled").stdout
    b = run("evaluate", policy, small, "--format", "jsonl", "--engine", "rete").stdout
    assert a == b


# =========================================================================== row forms


@pytest.fixture(scope="module")
def bank_json() -> dict:
    r = run("evaluate", BANK, CATALOG, "--format", "json")
    assert r.exit_code == 0
    return json.loads(r.stdout)


def test_full_jsonl_rows_equal_the_json_cases(bank_json):
    r = run("evaluate", BANK, CATALOG, "--format", "jsonl", "--detail", "full")
    assert r.exit_code == 0
    rows = jsonl(r.stdout)
    assert len(rows) == bank_json["totals"]["cases"] == 67
    assert rows == bank_json["cases"]


def test_default_jsonl_rows_are_the_summary_form(bank_json):
    r = run("evaluate", BANK, CATALOG, "--format", "jsonl")
    assert r.exit_code == 0
    rows = jsonl(r.stdout)
    assert len(rows) == len(bank_json["cases"])
    for row, full in zip(rows, bank_json["cases"]):
        assert set(row) == {"id", "event", "persona", "channel", "attributes", "metrics", "effort", "journey",
                            "flags"}
        for k in ("id", "event", "persona", "channel", "attributes", "metrics", "effort"):
            assert row[k] == full[k], (full["id"], k)
        assert row["journey"] == [s["action"] for s in full["journey"]]
        assert row["flags"] == dict(Counter(f["kind"] for f in full["flags"]))
    # the summary is explicit too, and json can be asked for the summary form
    assert run("evaluate", BANK, CATALOG, "--format", "jsonl", "--detail", "summary").stdout == r.stdout


def test_json_totals_equal_the_sum_of_the_rows(bank_json):
    for m in friction.REGISTRY:   # float metrics (days, money) are rounded to 6 places in totals
        total = sum(c["metrics"][m.name] for c in bank_json["cases"])
        assert bank_json["totals"][m.name] == (total if m.kind is int else pytest.approx(total, abs=1e-6))
    assert bank_json["totals"]["effort"] == pytest.approx(sum(c["effort"] for c in bank_json["cases"]))


# =========================================================================== progress


def test_no_progress_bar_when_stderr_is_not_a_terminal(generated):
    policy, big, _ = generated
    for fmt in ("jsonl", "table"):
        r = run("evaluate", policy, big, "--format", fmt)
        assert "evaluating" not in r.stderr and "cases/s" not in r.stderr
        assert "evaluating" not in r.stdout and "cases/s" not in r.stdout
        assert "\r" not in r.stderr


def test_progress_bar_on_a_terminal(monkeypatch):
    """The control for the test above: on a terminal the same helper does draw the bar."""
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert list(shared.progress(iter(range(300)), "evaluating")) == list(range(300))
    assert "evaluating" in term.getvalue() and "cases/s" in term.getvalue()
