"""Observed journeys from event logs: the reader, the map, the log-only measures and the
`observe` command. Expected values are counted by hand from tests/fixtures/logs/tiny.xes
(the same two cases are in tiny.csv, rows interleaved)."""
from __future__ import annotations

import gzip
import inspect
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, write_yaml
from friction import cli
from friction.errors import InputError, Problem
from friction.logmap import load_log_map, log_map_from_data
from friction.observe import Distributions, ObservedJourney, observe_log, percentile, ping_pong, rework

LOGS = FIXTURES / "logs"
TINY, TINY_MAP, REFERENCE_MAP = LOGS / "tiny.xes", LOGS / "tiny-map.yaml", LOGS / "reference-map.yaml"


def journeys(path, logmap) -> tuple[dict[str, ObservedJourney], list[Problem]]:
    good, bad = {}, []
    for j in observe_log(path, logmap):
        if isinstance(j, ObservedJourney):
            good[j.id] = j
        else:
            bad.append(j)
    return good, bad


def run_cli(*args):
    kwargs = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters else {}
    return CliRunner(**kwargs).invoke(cli.main, [str(a) for a in args])


# --------------------------------------------------------------------------- measures by hand


@pytest.mark.parametrize("departments,expected", [
    ([], 0), (["A"], 0), (["A", "B"], 0), (["A", "B", "A"], 1), (["A", "A", "B", "B", "A"], 1),
    (["A", "B", "C", "A"], 0), (["A", "B", "A", "B"], 2), (["A", "B", "A", "C", "A"], 2),
])
def test_ping_pong_counts_work_sent_back_where_it_came_from(departments, expected):
    assert ping_pong(departments) == expected


@pytest.mark.parametrize("activities,expected", [
    ([], 0), (["a", "b"], 0), (["a", "b", "a"], 1), (["a", "a", "a", "b", "b"], 3),
])
def test_rework_counts_repeats_of_an_activity(activities, expected):
    assert rework(activities) == expected


def test_distributions_median_p90_max_mean_by_hand():
    d = Distributions(["steps"])
    for v in [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]:
        d.add("apply", {"steps": v})
    d.add("renew", {"steps": 4})
    s = d.summary()
    assert s["apply"] == {"cases": 10, "steps": {"median": 5.5, "p90": 9, "max": 10, "mean": 5.5}}
    assert s["renew"]["steps"] == {"median": 4, "p90": 4, "max": 4, "mean": 4}
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10   # rank ceil(9.9) = 10


# --------------------------------------------------------------------------- the tiny log


def test_each_case_becomes_a_journey_mapped_and_measured():
    got, problems = journeys(TINY, load_log_map(TINY_MAP))
    assert problems == [] and list(got) == ["A", "B"]
    a = got["A"]
    assert a.life_event == "apply" and a.start_channel == "web"
    assert [(s.action, s.lane.value, s.department, s.channel, s.informs) for s in a.steps] == [
        ("submit the application", "customer", "Intake", "web", False),
        ("Register", "backstage", "Back", "internal", False),
        ("Check", "backstage", "Experts", "internal", False),
        ("Register", "backstage", "Back", "internal", False),
        ("Send letter", "frontstage", "Intake", "post", True),
    ]
    assert [s.days for s in a.steps] == [0, 0.5, 0.5, 1, 1]
    m = a.metrics
    assert (m["steps"], m["customer_steps"], m["backstage_steps"], m["departments"], m["channels"]) == (5, 1, 3, 3, 2)
    assert (m["elapsed_days"], m["rework"], m["ping_pong"], m["repeated_asks"]) == (3, 1, 1, 0)
    b = got["B"].metrics
    # 10:00+01:00 is 09:00Z: one day to 09:00Z the next day; Register and Check twice;
    # Intake Back Back Intake Back: runs I B I B, two returns.
    assert (b["elapsed_days"], b["rework"], b["ping_pong"], b["departments"]) == (1, 2, 2, 2)
    assert got["B"].start_channel == "desk"


def test_handoffs_are_department_changes_when_every_step_is_on_the_customer_path():
    got, _ = journeys(TINY, load_log_map(REFERENCE_MAP))
    # A: Intake Back Experts Back Intake -> 4 changes; B: Intake Back Back Intake Back -> 3
    assert {c: j.metrics["handoffs"] for c, j in got.items()} == {"A": 4, "B": 3}
    assert all(j.life_event == "reference" for j in got.values())


def test_a_journey_without_letters_switches_channel_only_when_it_leaves_the_start_channel(tmp_path):
    m = write_yaml(tmp_path / "m.yaml", f"""
        department: org:group
        channel: {{case: channel}}
        life_event: apply
        lanes: {{default: frontstage}}
        channels: {{Check: phone}}
    """)
    got, _ = journeys(TINY, load_log_map(m))
    # A: Internet Internet phone Internet Internet, started in Internet -> 2 switches, 2 channels
    assert (got["A"].metrics["channel_switches"], got["A"].metrics["channels"]) == (2, 2)


def test_csv_with_interleaved_rows_gives_the_same_journeys_as_xes(tmp_path):
    m = write_yaml(tmp_path / "csv-map.yaml", TINY_MAP.read_text().replace("case: concept:name", "case: case")
                   .replace("activity: concept:name", "activity: activity").replace("time:timestamp", "time")
                   .replace("org:group", "group").replace("case: kind", "case: kind"))
    xes, _ = journeys(TINY, load_log_map(TINY_MAP))
    csv_, problems = journeys(LOGS / "tiny.csv", load_log_map(m))
    assert problems == []
    assert {c: (j.actions, j.metrics) for c, j in csv_.items()} == {c: (j.actions, j.metrics) for c, j in xes.items()}


def test_gzip_is_read_whatever_the_name(tmp_path):
    for name in ("log.xes.gz", "log.xes"):
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(TINY.read_bytes())
        got, problems = journeys(tmp_path / name, load_log_map(TINY_MAP))
        assert list(got) == ["A", "B"] and problems == []


# --------------------------------------------------------------------------- bad logs


def _log(tmp_path: Path, edit) -> Path:
    p = tmp_path / "bad.xes"
    p.write_text(edit(TINY.read_text()), encoding="utf-8")
    return p


def _line_of(path: Path, text: str, nth: int = 1) -> int:
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return lines[nth - 1]


def test_not_xes_is_one_clear_error(tmp_path):
    p = tmp_path / "x.xes"
    p.write_text("case,activity\nA,Register\n")
    with pytest.raises(InputError, match=r"x.xes:1: not XES: not well-formed XML"):
        list(observe_log(p, load_log_map(TINY_MAP)))
    p.write_text("<html><body/></html>")
    with pytest.raises(InputError, match=r"not XES: the root element is <html>, expected <log>"):
        list(observe_log(p, load_log_map(TINY_MAP)))


def test_a_missing_timestamp_names_the_case_and_line_and_the_other_case_is_still_read(tmp_path):
    p = _log(tmp_path, lambda t: t.replace('<date key="time:timestamp" value="2024-01-02T08:00:00.000Z"/>', ""))
    got, problems = journeys(p, load_log_map(TINY_MAP))
    assert list(got) == ["B"]
    [bad] = problems
    event_line = _line_of(p, '<event>', 3)
    assert (bad.subject, bad.line) == ("case A", event_line)
    assert str(bad) == f"{bad.file}:{event_line}: case A: the event at line {event_line} has no attribute 'time:timestamp'"


def test_events_out_of_order_name_the_line_unless_the_map_sorts(tmp_path):
    p = _log(tmp_path, lambda t: t.replace("2024-01-02T08:00:00.000Z", "2023-12-31T08:00:00.000Z"))
    got, [bad] = journeys(p, load_log_map(TINY_MAP))
    assert list(got) == ["B"] and bad.subject == "case A" and bad.line == _line_of(p, "<event>", 3)
    assert "events out of order" in bad.message and "order: sort" in bad.message
    sorted_map = log_map_from_data({**_raw(TINY_MAP), "order": "sort"})
    got, problems = journeys(p, sorted_map)
    assert problems == [] and got["A"].actions[0] == "Check"


def _raw(path: Path) -> dict:
    import yaml
    return yaml.safe_load(path.read_text())


def test_an_unknown_mapped_attribute_says_did_you_mean():
    m = log_map_from_data({**_raw(TINY_MAP), "department": "org:grup"})
    got, problems = journeys(TINY, m)
    assert got == {} and [p.subject for p in problems] == ["case A", "case B"]
    assert "has no attribute 'org:grup' (the map's department) (did you mean 'org:group'?)" in problems[0].message


def test_a_value_the_map_does_not_rename_is_an_error_for_that_case(tmp_path):
    p = _log(tmp_path, lambda t: t.replace('value="Desk"', 'value="Dsk"'))
    got, [bad] = journeys(p, load_log_map(TINY_MAP))
    assert list(got) == ["A"]
    assert bad.subject == "case B" and "channel 'Dsk' is not among the map's values for it (did you mean 'Desk'?)" in bad.message


def test_a_log_cut_short_keeps_the_cases_before_the_cut(tmp_path):
    text = TINY.read_text()
    p = tmp_path / "cut.xes"
    p.write_text(text[:text.index("<trace>", text.index("</trace>")) + 40])
    got, [bad] = journeys(p, load_log_map(TINY_MAP))
    assert list(got) == ["A"] and "breaks off" in bad.message and bad.line is not None


def test_a_trace_without_events_or_id_is_reported(tmp_path):
    p = _log(tmp_path, lambda t: t.replace("</log>", "<trace><string key=\"concept:name\" value=\"C\"/></trace>"
                                                       "<trace><event/></trace></log>"))
    got, problems = journeys(p, load_log_map(TINY_MAP))
    assert list(got) == ["A", "B"]
    assert [(x.subject, x.message.split(":")[0]) for x in problems] == [
        ("case C", "the case has no events"), (None, "a trace without its case id 'concept")]


def test_an_activity_under_two_lanes_is_an_error_naming_it():
    m = log_map_from_data({**_raw(TINY_MAP), "lanes": {"frontstage": [{"pattern": "^Reg"}], "support": [{"pattern": "ister$"}]}})
    got, problems = journeys(TINY, m)
    assert got == {} and "activity 'Register' is listed under lanes frontstage and support" in problems[0].message


def test_an_exact_name_wins_over_a_pattern_of_another_lane():
    m = log_map_from_data({**_raw(TINY_MAP), "lanes": {"support": [{"pattern": "."}], "customer": ["Register"]}})
    got, _ = journeys(TINY, m)
    assert {s.activity: s.lane.value for s in got["A"].steps}["Register"] == "customer"


# --------------------------------------------------------------------------- the map


@pytest.mark.parametrize("text,message", [
    ("departmnet: org:group\nchannel: {value: web}\nlife_event: x\n", r"m.yaml:1: unknown key 'departmnet' \(did you mean 'department'\?\)"),
    ("department: org:group\nchannel: {case: a, event: b}\nlife_event: x\n", r"m.yaml:2: channel: .*exactly one of"),
    ("department: org:group\nchannel: {value: web}\nlife_event: x\nlanes:\n  support: [{pattern: '(('}]\n",
     r"m.yaml:5: lanes.support: bad pattern '\(\(': missing \)"),
    ("department: org:group\nlife_event: x\n", r"m.yaml:1: channel: missing \(required\)"),
    ("- a list\n", r"m.yaml:1: a log map is a mapping"),
])
def test_map_errors_name_file_and_line(tmp_path, text, message):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        load_log_map(p)


# --------------------------------------------------------------------------- the command


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "markdown"])
def test_observe_writes_every_format(fmt):
    r = run_cli("observe", TINY, "--map", TINY_MAP, "--format", fmt)
    assert r.exit_code == 0, r.stderr
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert [c["id"] for c in doc["cases"]] == ["A", "B"]
        assert doc["distributions"]["apply"]["rework"] == {"median": 1.5, "p90": 2, "max": 2, "mean": 1.5}
        assert doc["totals"]["steps"] == 10
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        assert [(x["id"], x["metrics"]["ping_pong"]) for x in rows] == [("A", 1), ("B", 2)]
    elif fmt == "csv":
        assert r.stdout.splitlines()[0].startswith("case,event,persona,channel,steps,")
        assert len(r.stdout.splitlines()) == 3
    else:
        assert "TOTAL (2 cases)" in r.stdout and "ping_pong" in r.stdout and "median" in r.stdout


def test_observe_bad_case_exit_2_one_line_and_the_other_case_written(tmp_path):
    p = _log(tmp_path, lambda t: t.replace("2024-01-02T08:00:00.000Z", "yesterday"))
    r = run_cli("observe", p, "--map", TINY_MAP, "--format", "jsonl")
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows[0]["id"] == "A" and "error" in rows[0] and rows[1]["id"] == "B"
    assert r.stderr.splitlines()[0] == (f"error: {rows[0]['file']}:{rows[0]['line']}: case A: timestamp "
                                        "'yesterday' is not a date and time (ISO 8601 expected)")


def test_observe_no_cases_gives_only_the_distributions():
    r = run_cli("observe", TINY, "--map", TINY_MAP, "--no-cases", "--format", "jsonl")
    assert r.exit_code == 0
    [row] = [json.loads(line) for line in r.stdout.splitlines()]
    assert row["event"] == "apply" and row["cases"] == 2 and row["elapsed_days"]["max"] == 3


def test_observe_bad_map_or_missing_log_exit_2(tmp_path):
    r = run_cli("observe", tmp_path / "none.xes", "--map", TINY_MAP)
    assert r.exit_code == 2 and "cannot read" in r.stderr and "Traceback" not in r.stderr
    bad = write_yaml(tmp_path / "m.yaml", "department: 3\n")
    r = run_cli("observe", TINY, "--map", bad)
    assert r.exit_code == 2 and "m.yaml:" in r.stderr


def test_jsonl_rows_are_summaries_unless_full_detail_is_asked_for():
    summary = json.loads(run_cli("observe", TINY, "--map", TINY_MAP, "--format", "jsonl").stdout.splitlines()[0])
    assert summary["journey"] == ["submit the application", "Register", "Check", "Register", "Send letter"]
    full = json.loads(run_cli("observe", TINY, "--map", TINY_MAP, "--format", "jsonl", "--detail", "full")
                      .stdout.splitlines()[0])
    assert full["journey"][4] == {"action": "Send letter", "activity": "Send letter", "lane": "frontstage",
                                  "department": "Intake", "channel": "post", "days": 1, "informs": True,
                                  "at": "2024-01-04T08:00:00.000Z", "line": full["journey"][4]["line"]}
    assert TINY.read_text().splitlines()[full["journey"][4]["line"] - 1].strip() == "<event>"


def _csv_map(tmp_path: Path) -> Path:
    return write_yaml(tmp_path / "csv-map.yaml", TINY_MAP.read_text().replace("case: concept:name", "case: case")
                      .replace("activity: concept:name", "activity: activity").replace("time:timestamp", "time")
                      .replace("org:group", "group"))


def test_a_csv_without_a_mapped_column_is_one_error_naming_it(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text((LOGS / "tiny.csv").read_text().replace("group", "grp", 1))
    with pytest.raises(InputError, match=r"log.csv:1: no column 'group' in the header \(did you mean 'grp'\?\)"):
        list(observe_log(log, load_log_map(_csv_map(tmp_path))))


def test_csv_rows_of_a_case_out_of_order_name_the_row(tmp_path):
    lines = (LOGS / "tiny.csv").read_text().splitlines()
    lines[3], lines[8] = lines[8], lines[3]    # A's two Registers swap: line 4 now holds 01-03, line 5's Check is 01-02
    log = tmp_path / "log.csv"
    log.write_text("\n".join(lines) + "\n")
    got, [bad] = journeys(log, load_log_map(_csv_map(tmp_path)))
    assert list(got) == ["B"] and (bad.subject, bad.line) == ("case A", 5) and "events out of order" in bad.message
    assert "than the one before it at line 4" in bad.message


def test_an_activity_from_two_attributes_joins_their_values():
    m = log_map_from_data({**_raw(TINY_MAP), "activity": ["concept:name", "org:group"], "actions": {}})
    got, _ = journeys(TINY, m)
    assert got["B"].actions == ("Submit application Intake", "Register Back", "Register Back", "Check Intake",
                                "Check Back")
    assert got["B"].metrics["rework"] == 1   # Check in two groups is two activities now
