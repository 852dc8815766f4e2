"""Both sides of the stage: minutes, volumes, practical capacity and cost (time-driven
activity-based costing). Every expected number is counted by hand beside the tiny set."""
from __future__ import annotations

import dataclasses
import io
import json

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import friction
from friction import report
from friction.capacity import YearlyLoad, burden_shift
from friction.cli import main
from friction.diff import diff
from friction.errors import InputError
from friction.load import policy_set_from_data
from friction.report import result_to_dict
from friction.testing import scenarios
from tests.builders import BASE_MANIFEST, rule, step, write_set

# A: capacity 100 h at 60/h (1 a minute); B: 0.5 FTE × 1000 practical h = 500 h at 30/h;
# a phone contact costs 2. Backstage steps take 30 staff minutes unless they say; a
# customer-lane step takes the customer 10 minutes unless it says.
CAPACITY = {
    "minutes": {"backstage": 30},
    "customer_minutes": {"customer": 10},
    "practical_hours_per_fte": 1000,
    "departments": {"A": {"capacity_hours": 100, "cost_per_hour": 60}, "B": {"fte": 0.5, "cost_per_hour": 30}},
    "channels": {"phone": {"cost_per_contact": 2}},
    "burden_shift_hours": 5,
}
MANIFEST = {**BASE_MANIFEST, "capacity": CAPACITY}

FORM = step("Fill in the form", "customer", "A", "web")                       # staff 0, customer 10
CALL = step("Call to confirm", "frontstage", "A", "phone", minutes=12, customer_minutes=15)  # cost 12 + 2
CHECK = step("Check documents", "backstage", "B")                             # staff 30, cost 15
VERIFY = step("Verify in the back office", "backstage", "B", minutes=40)      # staff 40, cost 20

AS_IS = {"r.yaml": [rule("r1", [FORM, CALL], event="move"),
                    rule("r2", [CHECK], event="move", all=[{"attr": "digital", "eq": False}])]}
# The draft drops the call and has the back office verify every case instead.
DRAFT = {"r.yaml": [rule("r1", [FORM], event="move"),
                    rule("r2", [CHECK], event="move", all=[{"attr": "digital", "eq": False}]),
                    rule("r3", [VERIFY], event="move")]}

# 600 moves a year: 75% online (450), 25% offline (150).
CATALOG = {"per_year": {"move": 600}, "events": ["move"], "expand": True,
           "personas": {"online": {"digital": True, "share": 0.75}, "offline": {"digital": False, "share": 0.25}}}


def run(tmp_path, files=AS_IS, manifest=MANIFEST, catalog=CATALOG, name="set") -> friction.Evaluation:
    folder = write_set(tmp_path / name, files, manifest)
    cat = tmp_path / f"{name}-cases.yaml"
    cat.write_text(yaml.safe_dump(catalog))
    return friction.evaluate_paths(str(folder), str(cat))


def by_id(ev):
    return {r.case.id: r for r in ev.results}


def test_per_case_minutes_and_cost(tmp_path):
    r = by_id(run(tmp_path))
    online, offline = r["move/online"], r["move/offline"]
    assert (online.metrics.staff_minutes, online.metrics.customer_minutes, online.metrics.cost) == (12, 25, 14)
    # + Check documents: 30 backstage minutes of B at 0.5 a minute
    assert (offline.metrics.staff_minutes, offline.metrics.customer_minutes, offline.metrics.cost) == (42, 25, 29)
    assert (online.case.volume, offline.case.volume) == (450, 150)
    # the effort score's default weights leave the new metrics out: effort is as before
    assert not {"staff_minutes", "customer_minutes", "cost"} & set(friction.metrics.DEFAULT_WEIGHTS)


def test_yearly_hours_utilisation_and_cost(tmp_path):
    y = run(tmp_path).yearly_report()
    a, b = y["departments"]["A"], y["departments"]["B"]
    assert (a["hours"], a["capacity_hours"], a["utilisation"], a["cost"]) == (120, 100, 1.2, 7200)   # 600 × 12 min
    assert (b["hours"], b["capacity_hours"], b["utilisation"], b["cost"]) == (75, 500, 0.15, 2250)   # 150 × 30 min
    assert y["channels"] == {"phone": {"contacts": 600, "cost": 1200}, "web": {"contacts": 600, "cost": 0}}
    assert y["customer_hours"] == 250            # 600 × 25 min
    assert y["cost"] == 10650                    # 450 × 14 + 150 × 29
    assert y["cases_per_year"] == 600


def test_over_capacity_names_the_rules(tmp_path):
    findings = run(tmp_path).yearly_report()["findings"]
    assert [(f["kind"], f["department"], f["hours"]) for f in findings] == [("over-capacity", "A", 120)]
    assert findings[0]["rules"] == [{"rule": "r1", "hours": 120}]
    assert "r1" in findings[0]["message"] and "100" in findings[0]["message"]


def test_burden_shift_over_the_threshold(tmp_path):
    d = diff(run(tmp_path), run(tmp_path, DRAFT, name="draft"))
    # draft: customer 10 min each (600 × 10 = 100 h, was 250); B: (450 × 40 + 150 × 70) / 60 = 475 h (was 75)
    assert d.yearly_after["customer_hours"] == 100
    assert d.yearly_after["departments"]["B"]["hours"] == 475
    assert [(f["kind"], f["department"], f["hours_before"], f["hours_after"]) for f in d.findings] == [
        ("burden-shift", "B", 75, 475)]


def test_burden_shift_past_capacity_under_a_high_threshold(tmp_path):
    cap = {**CAPACITY, "burden_shift_hours": 1000, "departments": {**CAPACITY["departments"],
                                                                    "B": {"capacity_hours": 400}}}
    d = diff(run(tmp_path), run(tmp_path, DRAFT, {**MANIFEST, "capacity": cap}, name="draft"))
    assert [f["department"] for f in d.findings] == ["B"]
    assert "past its practical capacity of 400" in d.findings[0]["message"]


def test_no_burden_shift_when_the_customer_gains_nothing(tmp_path):
    # the draft keeps the call and adds the verification: more for everyone, not a shift
    worse = {"r.yaml": AS_IS["r.yaml"] + [rule("r3", [VERIFY], event="move")]}
    d = diff(run(tmp_path), run(tmp_path, worse, name="draft"))
    assert d.yearly_after["departments"]["B"]["hours"] == 475
    assert d.findings == []


def test_the_cli_shows_both_sides(tmp_path):
    run(tmp_path)
    run(tmp_path, DRAFT, name="draft")
    cat = str(tmp_path / "set-cases.yaml")
    out = CliRunner().invoke(main, ["evaluate", str(tmp_path / "set"), cat])
    assert out.exit_code == 0, out.output
    assert "over-capacity: A needs 120 staff hours a year" in out.output
    assert "120%" in out.output
    doc = json.loads(CliRunner().invoke(main, ["evaluate", str(tmp_path / "set"), cat, "--format", "json"]).output)
    assert doc["yearly"]["departments"]["B"]["hours"] == 75
    out = CliRunner().invoke(main, ["diff", str(tmp_path / "set"), str(tmp_path / "draft"), cat])
    assert "burden-shift: the draft lowers" in out.output and "raises B from 75 to 475" in out.output
    # both sides a year, as-is and draft: customer 250 → 100 h; staff A 120 + B 75 → B 475 h
    rows = {line.split("  ")[0]: line.split()[-3:] for line in out.output.splitlines()
            if line.startswith(("customer hours/yr", "staff hours/yr"))}
    assert rows == {"customer hours/yr": ["250", "100", "-150"], "staff hours/yr": ["195", "475", "+280"]}
    assert "customer effort" in CliRunner().invoke(main, ["evaluate", str(tmp_path / "set"), cat]).output


def test_volume_on_a_case_overrides_per_year_and_share(tmp_path):
    cat = {**CATALOG, "cases": [{"id": "rare", "event": "move", "persona": "offline", "volume": 3}]}
    r = by_id(run(tmp_path, catalog=cat))
    assert r["rare"].case.volume == 3 and r["move/offline"].case.volume == 150


def test_volume_on_a_json_line(tmp_path):
    folder = write_set(tmp_path / "set", AS_IS, MANIFEST)
    lines = tmp_path / "c.jsonl"
    lines.write_text('{"id": "a", "event": "move", "volume": 7}\n{"id": "b", "event": "move"}\n')
    ev = friction.evaluate_paths(str(folder), str(lines))
    assert [r.case.volume for r in ev.results] == [7, 1]
    assert ev.yearly_report()["departments"]["A"]["hours"] == 1.6   # (7 + 1) × 12 min


@pytest.mark.parametrize("bad, words", [
    ({"capacity": {"departments": {"Z": {"capacity_hours": 1}}}}, "unknown department 'Z'"),
    ({"capacity": {"departments": {"A": {"fte": 2}}}}, "practical_hours_per_fte is needed"),
    ({"capacity": {"departments": {"A": {"fte": 2, "capacity_hours": 3}}, "practical_hours_per_fte": 9}},
     "capacity_hours or fte, not both"),
    ({"capacity": {"channels": {"fax": {"cost_per_contact": 1}}}}, "unknown channel 'fax'"),
    ({"capacity": {"minutes": {"backstage": -1}}}, "must be at least 0, got the number -1"),
])
def test_bad_capacity_is_a_clear_error(tmp_path, bad, words):
    folder = write_set(tmp_path / "set", AS_IS, {**BASE_MANIFEST, **bad})
    with pytest.raises(InputError) as e:
        friction.load_policy_set(folder)
    assert words in str(e.value) and "policy-set.yaml" in str(e.value)


def test_a_bad_share_is_reported_with_its_persona(tmp_path):
    cat = {**CATALOG, "personas": {**CATALOG["personas"], "offline": {"digital": False, "share": 2}}}
    ev = run(tmp_path, catalog=cat)
    assert [r.case.id for r in ev.results] == ["move/online"]
    assert any("share must be a number from 0 to 1" in p.message and p.subject == "persona offline"
               for p in ev.problems)


def test_without_capacity_figures_output_is_unchanged(tmp_path):
    """A set that says nothing of time or cost: no yearly section, the same text as before."""
    ev = run(tmp_path, manifest=BASE_MANIFEST, catalog={k: v for k, v in CATALOG.items() if k != "per_year"})
    assert ev.yearly_report() is None
    text = report.render(ev, "table")
    assert "per year" not in text
    assert "yearly" not in json.loads(report.render(ev, "json"))


def test_the_cached_path_and_the_direct_path_agree(tmp_path):
    """Rows come from the outcome cache (keyed by rules fired and start channel); the direct
    path computes every case's load afresh. A stale cache entry would make them differ."""
    ev = run(tmp_path)
    cps = ev.cps
    evaluator = friction.Evaluator(cps)
    writer = report.RowWriter("json", io.StringIO(), "t", "1", "compiled", "c", capacity=cps.manifest.capacity)
    encoder = report.RowEncoder("json")
    for r in ev.results * 3:     # repeats hit the cache
        writer.add(encoder.encode(evaluator.row(r.case)))
    direct = YearlyLoad()
    for r in ev.results * 3:
        direct.add(r.load, r.case.volume, r.effort)
    assert writer.yearly.report(cps.manifest.capacity) == direct.report(cps.manifest.capacity)


# --------------------------------------------------------------------------- properties


@st.composite
def weighted(draw):
    manifest, files, case_list = draw(scenarios())
    lanes = ["customer", "frontstage", "backstage", "support"]
    minutes = draw(st.dictionaries(st.sampled_from(lanes), st.integers(0, 90)))
    manifest = {**manifest, "capacity": {"minutes": minutes, "customer_minutes": minutes}}
    volumes = draw(st.lists(st.integers(1, 10_000), min_size=len(case_list), max_size=len(case_list)))
    return manifest, files, case_list, volumes


@settings(max_examples=25, deadline=None)
@given(weighted())
def test_volumes_change_no_case_and_weight_every_total(generated):
    manifest, files, case_list, volumes = generated
    cps = friction.compile_policy_set(policy_set_from_data(manifest, files))
    heavy = [dataclasses.replace(c, volume=v) for c, v in zip(case_list, volumes)]
    ev = friction.Evaluator(cps)
    plain = [ev.evaluate(c) for c in case_list]
    weighed = [ev.evaluate(c) for c in heavy]
    # volume is per case: no metric, flag or journey of a case depends on it
    assert [result_to_dict(r) for r in weighed] == [result_to_dict(r) for r in plain]
    # unweighted, the yearly totals are the plain sums of the per-case metrics
    y1 = YearlyLoad()
    for r in plain:
        y1.add(r.load, r.case.volume, r.effort)
    assert y1.volume == len(case_list)
    assert sum(y1.department_minutes.values()) == pytest.approx(sum(r.metrics.staff_minutes for r in plain))
    assert y1.customer_minutes == pytest.approx(sum(r.metrics.customer_minutes for r in plain))
    yv = YearlyLoad()
    for r in weighed:
        yv.add(r.load, r.case.volume, r.effort)
    assert sum(yv.department_minutes.values()) == pytest.approx(
        sum(v * r.metrics.staff_minutes for v, r in zip(volumes, plain)))
    assert yv.effort == pytest.approx(sum(v * r.effort for v, r in zip(volumes, plain)))


def test_burden_shift_needs_a_lower_customer_side():
    before, after = YearlyLoad(), YearlyLoad()
    before.department_minutes["B"] = 60.0
    after.department_minutes["B"] = 6000.0
    cap = friction.Manifest.model_validate(BASE_MANIFEST).capacity   # threshold 0, no capacities
    assert burden_shift(before, after, cap) == []          # the customer gains nothing
    after.effort = -1.0
    assert [f["department"] for f in burden_shift(before, after, cap)] == ["B"]


def test_make_case_takes_the_catalogs_volume_or_its_own(tmp_path):
    run(tmp_path)
    cps = friction.compile_policy_set(friction.load_policy_set(tmp_path / "set"))
    loaded = friction.load_catalog(tmp_path / "set-cases.yaml")
    assert friction.make_case(cps, "move", persona="offline", personas=loaded).volume == 150   # 600 × 0.25
    assert friction.make_case(cps, "move", persona="offline", personas=loaded, volume=9).volume == 9
    with pytest.raises(InputError, match="volume must be a number"):
        friction.make_case(cps, "move", volume=-1)


# --------------------------------------------------------------------------- expectations and the bank


def test_yearly_expectations(tmp_path):
    from friction.expect import TestRun, load_expectations, run_expectations
    ev = run(tmp_path)
    exp = tmp_path / "set" / "expectations"
    exp.mkdir()
    (exp / "load.yaml").write_text(yaml.safe_dump({"expectations": [
        {"name": "A holds", "select": {"event": "move"}, "expect": {"department_hours": {"A": {"max": 100}}}},
        {"name": "B holds", "select": {"persona": "offline"},
         "expect": {"department_hours": {"B": {"eq": 75}}, "customer_hours": {"eq": 62.5}, "yearly_cost": {"eq": 4350}}},
    ]}))
    loaded = load_expectations(exp / "load.yaml", allow_outside=True)
    result = TestRun()
    run_expectations(loaded, ev, result)
    failed = {o.expectation: o.failures for o in result.failed}
    # A: 120 hours over both personas; offline: 150 × 30 min = 75 h of B, 150 × 25 min = 62.5 h, 150 × 29 = 4350
    assert failed == {"A holds": [("department_hours.A", "at most 100", "120")]}


def test_a_yearly_expectation_naming_an_unknown_department_is_an_error(tmp_path):
    from friction.expect import TestRun, load_expectations, run_expectations
    ev = run(tmp_path)
    f = tmp_path / "e.yaml"
    f.write_text(yaml.safe_dump({"expectations": [
        {"name": "x", "select": {"event": "move"}, "expect": {"department_hours": {"Back ofice": {"max": 1}}}}]}))
    with pytest.raises(InputError, match="unknown department 'Back ofice'"):
        run_expectations(load_expectations(f, allow_outside=True), ev, TestRun())


def test_the_bundled_draft_shifts_burden_onto_mortgages():
    """The bundled figures are assumptions; under them the draft's customer gains come with
    a back-office consultation per question that lands on Mortgages."""
    d = diff(friction.evaluate_paths("policies/bank", "cases/life-events.yaml"),
             friction.evaluate_paths("policies/bank-draft", "cases/life-events.yaml"))
    assert d.yearly_after["customer_hours"] < d.yearly_before["customer_hours"]
    shifted = {f["department"] for f in d.findings}
    assert "Mortgages" in shifted
    for f in d.findings:
        assert f["hours_after"] > f["hours_before"]


@pytest.mark.parametrize("volume", ["-1", "true", '"many"', "1e400"])
def test_a_bad_volume_on_a_json_line_is_reported_and_the_rest_evaluated(tmp_path, volume):
    folder = write_set(tmp_path / "set", AS_IS, MANIFEST)
    lines = tmp_path / "c.jsonl"
    lines.write_text(f'{{"id": "a", "event": "move", "volume": {volume}}}\n{{"id": "b", "event": "move", "volume": 2}}\n')
    ev = friction.evaluate_paths(str(folder), str(lines))
    assert [r.case.id for r in ev.results] == ["b"] and ev.results[0].case.volume == 2
    assert len(ev.problems) == 1 and ev.problems[0].line == 1 and "volume" in ev.problems[0].message


# --------------------------------------------------------------------------- channel alternatives

# A step whose channel depends on the customer is costed, and counted as a contact, in the
# channel the case takes. Customer steps take 6 staff minutes of A (1 a minute); a phone
# contact costs 2, a branch visit 5, the web nothing.
CHOICE_CAPACITY = {"minutes": {"customer": 6}, "departments": {"A": {"cost_per_hour": 60}},
                   "channels": {"phone": {"cost_per_contact": 2}, "branch": {"cost_per_contact": 5}}}
CHOICE_RULES = {"r.yaml": [rule("r1", [
    step("prove who you are", channel={"by": "digital", True: "web", False: "branch"}),
    step("talk it through", "frontstage", minutes=10,
         channel=[{"when": {"attr": "products", "gt": 3}, "channel": "branch"}, {"channel": "phone"}]),
], event="move")]}
CHOICE_LINES = [  # id, digital, products, volume
    ("a", True, 1, 10),    # web (6 + 0) + phone (10 + 2) = 18
    ("b", False, 5, 3),    # branch (6 + 5) + branch (10 + 5) = 26
    ("c", False, 1, 2),    # branch (6 + 5) + phone (10 + 2) = 23
]


def _choice_run(tmp_path):
    folder = write_set(tmp_path / "choice", CHOICE_RULES, {**BASE_MANIFEST, "capacity": CHOICE_CAPACITY})
    lines = tmp_path / "choice.jsonl"
    lines.write_text("".join(json.dumps({"id": i, "event": "move", "attrs": {"digital": d, "products": p},
                                         "volume": v}) + "\n" for i, d, p, v in CHOICE_LINES))
    return folder, lines


def test_a_contact_is_costed_in_the_channel_the_case_takes(tmp_path):
    folder, lines = _choice_run(tmp_path)
    ev = friction.evaluate_paths(str(folder), str(lines))
    assert {r.case.id: r.metrics.cost for r in ev.results} == {"a": 18, "b": 26, "c": 23}
    assert {r.case.id: dict(r.load.channel_contacts) for r in ev.results} == {
        "a": {"web": 1, "phone": 1}, "b": {"branch": 2}, "c": {"branch": 1, "phone": 1}}
    y = ev.yearly_report()
    # web 10; phone 10 + 2 = 12; branch 3 × 2 + 2 × 1 = 8
    assert y["channels"] == {"branch": {"contacts": 8, "cost": 40}, "phone": {"contacts": 12, "cost": 24},
                             "web": {"contacts": 10, "cost": 0}}
    assert y["departments"]["A"]["hours"] == 4          # 16 minutes × 15 cases
    assert y["cost"] == 304                              # 10 × 18 + 3 × 26 + 2 × 23 = 240 staff + 64 contacts


def test_the_cached_rows_cost_each_alternative_apart(tmp_path):
    """Rows come from the outcome cache: cases firing the same rules but taking other
    channels must not share a cost or a channel's contacts."""
    folder, lines = _choice_run(tmp_path)
    out = CliRunner().invoke(main, ["evaluate", str(folder), str(lines), "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert [c["metrics"]["cost"] for c in doc["cases"]] == [18, 26, 23]
    assert doc["yearly"]["channels"]["branch"] == {"contacts": 8, "cost": 40}
    assert doc["yearly"]["cost"] == 304


# --------------------------------------------------------------------------- rank: hours a year per rule


def _rank(ev):
    from friction.rank import rank
    ranking, problems = rank(friction.Evaluator(ev.cps), ev.results, by="staff_hours")
    assert problems == []
    return ({a.name: a.removed for a in ranking.rules}, {a.name: a.removed for a in ranking.causes}, ranking)


def _yearly(removed):
    return removed["staff_hours"], removed["customer_hours"], removed["yearly_cost"]


def test_rank_attributes_hours_and_cost_a_year(tmp_path):
    ev = run(tmp_path)
    rules, causes, ranking = _rank(ev)
    # r1 (form + call) in all 600 cases a year: 12 staff minutes, 25 customer minutes, cost 14 each
    assert _yearly(rules["r1"]) == (120, 250, 8400)
    # r2 (check, 30 minutes of B at 0.5 a minute) in the 150 offline cases
    assert _yearly(rules["r2"]) == (75, 0, 2250)
    # per case, as before: each case once
    assert (rules["r1"]["staff_minutes"], rules["r2"]["staff_minutes"]) == (24, 30)
    # both rules are `system`: removing the cause takes away the whole year
    y = ev.yearly_report()
    assert _yearly(causes["system"]) == (195, 250, 10650) == (y["staff_hours"], y["customer_hours"], y["cost"])
    assert [a.name for a in ranking.rules] == ["r1", "r2"] and ranking.yearly


def test_rank_hours_follow_the_rules_of_attribution(tmp_path):
    """A chain and a shared step, weighted: a rule takes away the hours of the steps that
    go with it, times the volumes of the cases where they go; a step another rule still
    requires stays."""
    check = step("Check documents", "backstage", "B")                      # 30 min of B, cost 15
    verify = step("Verify in the back office", "backstage", "B", minutes=40)  # 40 min, cost 20
    files = {"r.yaml": [rule("r1", [check], cause="policy", event="move"),
                        rule("r2", [verify], cause="policy", event="move", step="Check documents"),
                        rule("r3", [check], event="move", all=[{"attr": "digital", "eq": False}])]}
    ev = run(tmp_path, files)
    rules, causes, _ = _rank(ev)
    # r1: online (450) loses check and the verify it leads to (70 min); offline keeps both (r3)
    assert _yearly(rules["r1"]) == (525, 0, 15750)          # 450 × 70 / 60; 450 × 35
    assert _yearly(rules["r2"]) == (400, 0, 12000)          # 600 × 40 / 60; 600 × 20
    assert _yearly(rules["r3"]) == (0, 0, 0)                # r1 still requires the check
    # policy (r1 and r2 together): online loses 70 minutes, offline the verify's 40
    assert _yearly(causes["policy"]) == (625, 0, 18750)     # (450 × 70 + 150 × 40) / 60; 450 × 35 + 150 × 20
    assert _yearly(causes["system"]) == (0, 0, 0)
    assert ev.yearly_report()["staff_hours"] == 700         # 600 × 70 / 60


def test_rank_by_staff_hours_on_the_command_line(tmp_path):
    run(tmp_path)
    cat = str(tmp_path / "set-cases.yaml")
    out = CliRunner().invoke(main, ["rank", str(tmp_path / "set"), cat, "--by", "staff-h/yr", "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["by"] == "staff_hours"
    assert [(r["name"], r["removed"]["staff_hours"], r["removed"]["yearly_cost"]) for r in doc["rules"]] == [
        ("r1", 120, 8400), ("r2", 75, 2250)]
    table = CliRunner().invoke(main, ["rank", str(tmp_path / "set"), cat, "--by", "yearly_cost"]).stdout
    assert "staff-h/yr" in table and "cost/yr" in table and "ranked by yearly_cost" in table
    bad = CliRunner().invoke(main, ["rank", str(tmp_path / "set"), cat, "--by", "staff_hour"])
    assert bad.exit_code == 2 and "did you mean" in bad.stderr and "staff_hours" in bad.stderr


def test_rank_without_capacity_figures_shows_no_yearly_columns(tmp_path):
    run(tmp_path, manifest=BASE_MANIFEST, catalog={k: v for k, v in CATALOG.items() if k != "per_year"})
    out = CliRunner().invoke(main, ["rank", str(tmp_path / "set"), str(tmp_path / "set-cases.yaml")])
    assert out.exit_code == 0, out.output
    assert "staff-h/yr" not in out.stdout and "cost/yr" not in out.stdout


def test_rank_costs_a_rule_in_the_channels_its_cases_take(tmp_path):
    """Removing r1 takes both steps away: each case's cost in the channels it takes, times
    its volume (10 × 18 + 3 × 26 + 2 × 23), and 16 staff minutes × 15 cases = 4 hours."""
    folder, lines = _choice_run(tmp_path)
    ev = friction.evaluate_paths(str(folder), str(lines))
    rules, _, _ = _rank(ev)
    assert _yearly(rules["r1"]) == (4, 0, 304)


# --------------------------------------------------------------------------- snapshot: a year locked too


def test_a_snapshot_locks_the_yearly_figures_and_a_rise_is_a_regression(tmp_path):
    from friction.expect import SNAPSHOT_YEAR, compare_snapshot, snapshot
    snap = snapshot(run(tmp_path), "set", "set-cases.yaml")
    # effort 9 a case × 600: 1 customer step, 2 channels × 2, and 2 switches × 2 (journey order
    # puts "Call to confirm" (phone) first: web start → phone → web)
    assert snap["yearly"] == {"effort": 5400, "customer_hours": 250, "staff_hours": 195, "cost": 10650,
                              "department_hours.A": 120, "department_hours.B": 75}
    rep = compare_snapshot(snap, run(tmp_path, DRAFT, name="draft"))
    year = [(k, a, b) for cid, k, a, b in rep.regressions if cid == SNAPSHOT_YEAR]
    # draft: B (450 × 40 + 150 × 70) / 60 = 475 h; cost 450 × 20 + 150 × 35 = 14250
    assert year == [("cost", 10650, 14250), ("department_hours.B", 75, 475), ("staff_hours", 195, 475)]
    better = [(k, a, b) for cid, k, a, b in rep.improvements if cid == SNAPSHOT_YEAR]
    # the customer: 600 × 10 min = 100 h; effort 3 a case (1 step, 1 channel × 2)
    assert better == [("customer_hours", 250, 100), ("department_hours.A", 120, 0), ("effort", 5400, 1800)]
    assert compare_snapshot(snap, run(tmp_path, name="again")).regressions == []


def test_a_snapshot_without_capacity_figures_has_no_yearly_section(tmp_path):
    from friction.expect import snapshot
    ev = run(tmp_path, manifest=BASE_MANIFEST, catalog={k: v for k, v in CATALOG.items() if k != "per_year"})
    assert "yearly" not in snapshot(ev, "set", "c.yaml")


def test_a_hand_edited_yearly_section_is_bad_input(tmp_path):
    from friction.expect import read_snapshot, snapshot
    snap = snapshot(run(tmp_path), "set", "set-cases.yaml")
    snap["yearly"]["staff_hours"] = "lots"
    f = tmp_path / "lock.json"
    f.write_text(json.dumps(snap))
    with pytest.raises(InputError, match="yearly section maps figures to numbers"):
        read_snapshot(f)
