"""`compare`: a policy set's modelled journeys beside a log's observed ones. Expected values
are counted by hand from tests/fixtures/logs (the intake set, its catalog, the tiny log),
and on the real receipt log from an independent count with the standard library's XML parser."""
from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import FIXTURES, write_yaml
from friction.compare import compare, fits
from friction.evaluate import evaluate_items
from friction.catalog import open_catalog
from friction.logmap import load_log_map
from friction.observe import observe_log
from friction import compile_policy_set, load_policy_set
from test_observe import run_cli

LOGS = FIXTURES / "logs"
ROOT = Path(__file__).resolve().parents[1]
ARGS = [LOGS / "intake", LOGS / "intake-cases.yaml", LOGS / "tiny.xes", "--map", LOGS / "tiny-map.yaml"]


def _compare(log=LOGS / "tiny.xes", map_file=LOGS / "tiny-map.yaml", ps=LOGS / "intake",
             catalog=LOGS / "intake-cases.yaml"):
    cps = compile_policy_set(load_policy_set(ps))
    stream = open_catalog(catalog, cps.manifest)
    ev = evaluate_items(cps, stream.name, stream, "compiled")
    return compare(cps, ev, observe_log(log, load_log_map(map_file)), str(log), str(map_file))


def test_medians_gaps_and_the_steps_only_one_side_has_by_hand():
    c = _compare()
    [e] = c.events
    assert (e.event, e.model_cases, e.observed_cases) == ("apply", 2, 2)
    # model: 4 steps with the expert check, 3 without; 3 and 2 days along `after`.
    # observed: 5 and 5 steps; 3 and 1 days; rework 1 and 2.
    assert e.medians["steps"] == {"model": 3.5, "observed": 5, "gap": 1.5}
    assert e.medians["elapsed_days"] == {"model": 2.5, "observed": 2, "gap": -0.5}
    assert e.medians["rework"] == {"model": 0, "observed": 1.5, "gap": 1.5}
    assert e.unmodelled == [{"action": "Send letter", "cases": 1, "share": 0.5, "events": 1, "in_policy_set": False}]
    assert e.unobserved == [{"action": "Approve", "model_cases": 2, "rules": ["register"]}]
    assert [v["cases"] for v in e.variants] == [1, 1] and e.fitting_cases == 0   # both repeat a step
    assert c.only_modelled == ["renew"] and c.only_observed == []


def test_fits_when_the_order_is_one_the_after_relation_allows():
    orders = {frozenset("abc"): {frozenset({("a", "b"), ("a", "c")})}}
    assert fits(("a", "c", "b"), orders) and fits(("a", "b", "c"), orders)
    assert not fits(("b", "a", "c"), orders)          # b before a, which `after` forbids
    assert not fits(("a", "b"), orders)               # not a modelled journey's steps
    assert not fits(("a", "b", "c", "b"), orders)     # a step twice


def test_an_observed_case_in_another_order_than_the_models_tie_break_still_fits(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("case,activity,time,group,channel,kind\n"
                   "C,Submit application,2024-01-01T08:00:00Z,Intake,Internet,apply\n"
                   "C,Register,2024-01-01T09:00:00Z,Back,Internet,apply\n"
                   "C,Check,2024-01-01T10:00:00Z,Experts,Internet,apply\n"
                   "C,Approve,2024-01-01T11:00:00Z,Back,Internet,apply\n"
                   "D,Register,2024-01-01T08:00:00Z,Back,Internet,apply\n"
                   "D,Submit application,2024-01-01T09:00:00Z,Intake,Internet,apply\n"
                   "D,Approve,2024-01-01T10:00:00Z,Back,Internet,apply\n")
    m = write_yaml(tmp_path / "m.yaml", (LOGS / "tiny-map.yaml").read_text()
                   .replace("case: concept:name", "case: case").replace("activity: concept:name", "activity: activity")
                   .replace("time:timestamp", "time").replace("org:group", "group"))
    [e] = _compare(log, m).events
    assert {tuple(v["steps"]): v["fits"] for v in e.variants} == {
        ("submit the application", "Register", "Check", "Approve"): True,    # the model orders Approve first
        ("Register", "submit the application", "Approve"): False,            # Register comes after submitting
    }
    assert e.fitting_cases == 1 and e.unobserved == [] and e.unmodelled == []


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_compare_command_every_format(fmt):
    r = run_cli("compare", *ARGS, "--format", fmt)
    assert r.exit_code == 0, r.stderr
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert doc["events"][0]["unobserved"][0]["action"] == "Approve"
    else:
        assert "Send letter" in r.stdout and "Approve" in r.stdout and "+1.5" in r.stdout
        assert ("#### apply" in r.stdout) == (fmt == "markdown")


def test_compare_with_a_bad_log_case_exits_2_and_compares_the_rest(tmp_path):
    bad = tmp_path / "bad.xes"
    bad.write_text((LOGS / "tiny.xes").read_text().replace('value="Desk"', 'value="Fax"'))
    r = run_cli("compare", *ARGS[:2], bad, *ARGS[3:], "--format", "json")
    assert r.exit_code == 2 and "case B: channel 'Fax'" in r.stderr and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["events"][0]["observed_cases"] == 1


def test_the_receipt_example_shows_practice_nobody_wrote_down_and_a_rule_never_seen():
    """The worked example of the README, on the committed copy of the receipt log."""
    log = ROOT / "cases" / "receipt.xes.gz"
    c = _compare(log, ROOT / "cases" / "receipt-map.yaml", ROOT / "policies" / "receipt-intake",
                 ROOT / "cases" / "receipt-intake.yaml")
    [e] = c.events
    unmodelled = {s["action"]: s for s in e.unmodelled}
    # Independently: traces with a T03 event and T03 events, counted with the stdlib parser.
    ns = "{http://www.xes-standard.org/}"
    traces = events = 0
    for tr in ET.parse(gzip.open(log)).getroot().iter(ns + "trace"):
        names = [a.get("value") for ev in tr.iter(ns + "event") for a in ev if a.get("key") == "concept:name"]
        n = names.count("T03 Adjust confirmation of receipt")
        traces, events = traces + (n > 0), events + n
    adjust = unmodelled["adjust the confirmation of receipt"]
    assert (adjust["cases"], adjust["events"]) == (traces, events) and traces > 0
    assert "send the missing document" in {s["action"] for s in e.unobserved}
    assert e.observed_cases == 1434 and c.problems == []


def test_departments_and_channels_the_manifest_does_not_list_are_counted(tmp_path):
    log = tmp_path / "log.xes"
    log.write_text((LOGS / "tiny.xes").read_text().replace('value="Experts"', 'value="Lab"'))
    assert _compare().unlisted == {}
    c = _compare(log)
    assert c.unlisted == {"departments": {"Lab": 1}}
    r = run_cli("compare", *ARGS[:2], log, *ARGS[3:])
    assert "Departments in the log that the manifest does not list (events): Lab (1)" in r.stdout
