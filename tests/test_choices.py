"""A step whose channel or days depend on the customer, declared once (one act, one name)."""
import pickle

import pytest

import friction
from friction.errors import InputError
from builders import BASE_MANIFEST, case, evaluate_one, rule, step, write_set

BY_DIGITAL = {"by": "digital", True: "web", False: "branch"}


def _set(tmp_path, channel=BY_DIGITAL, days=0, name="p"):
    # prove who you are (customer, A): on the web when digital, in a branch otherwise;
    # then the bank posts a letter (frontstage, B, post, informs)
    return write_set(tmp_path / name, {"r.yaml": [
        rule("r1", [step("prove who you are", channel=channel, days=days, asks=["id"]),
                    step("post a letter", lane="frontstage", department="B", channel="post", informs=True,
                         after=["prove who you are"])], event="move"),
    ]}, {**BASE_MANIFEST, "channels": ["web", "phone", "branch", "post"]})


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_channel_by_attribute_one_step_two_channels(tmp_path, engine_name):
    folder = _set(tmp_path)
    online = evaluate_one(folder, case(channel="web", digital=True), engine_name)
    offline = evaluate_one(folder, case(channel="web", digital=False), engine_name)
    assert online.journey.actions == offline.journey.actions == ("prove who you are", "post a letter")
    assert [s.channel for s in online.journey.steps] == ["web", "post"]
    assert [s.channel for s in offline.journey.steps] == ["branch", "post"]
    # started on the web: the digital customer stays there; the other is sent to a branch
    assert (online.metrics.channel_switches, offline.metrics.channel_switches) == (0, 1)
    assert online.metrics.channels == offline.metrics.channels == 2
    assert [f.kind for f in offline.flags if f.kind == "channel-switch"] == ["channel-switch"]


@pytest.mark.parametrize("engine_name", friction.ENGINES)
def test_days_by_a_list_of_alternatives_first_that_holds(tmp_path, engine_name):
    days = [{"when": {"attr": "products", "gt": 3}, "days": 5}, {"when": {"attr": "products", "gt": 1}, "days": 2},
            {"days": 1}]
    folder = _set(tmp_path, channel="web", days=days)
    got = [evaluate_one(folder, case(products=n), engine_name).metrics.elapsed_days for n in (5, 2, 0)]
    assert got == [5, 2, 1]


def test_the_outcome_cache_keys_on_the_alternatives_taken(tmp_path):
    # Two cases fire the same rules and start in the same channel but take different
    # alternatives: a cache keyed on (rules fired, start channel) alone would hand the second
    # the first one's journey.
    cps = friction.compile_policy_set(friction.load_policy_set(_set(tmp_path)))
    ev = friction.Evaluator(cps)
    a, b = case(cid="a", digital=True), case(cid="b", digital=False)
    rows = [ev.row(a).as_dict(), ev.row(b).as_dict()]
    assert [r["journey"][0]["channel"] for r in rows] == ["web", "branch"]
    assert [r["metrics"]["channel_switches"] for r in rows] == [0, 1]
    values = [ev.values(ev.replay(c)) for c in (a, b)]
    switches = friction.METRICS.index("channel_switches")
    assert [v[switches] for v in values] == [0, 1]


def test_compiled_sets_with_alternatives_pickle(tmp_path):
    cps = friction.compile_policy_set(friction.load_policy_set(_set(tmp_path)))
    again = pickle.loads(pickle.dumps(cps))
    assert again.choices(case(digital=False)) == cps.choices(case(digital=False)) == (1,)
    assert again.case_facts(case(digital=False))[cps.step_ids["prove who you are"]].channel == "branch"


def test_an_unknown_channel_in_an_alternative_is_a_load_error(tmp_path):
    folder = _set(tmp_path, channel={"by": "digital", True: "web", False: "brnach"})
    with pytest.raises(InputError, match=r"r\.yaml:\d+: rule r1: step 'prove who you are': unknown channel "
                                         r"'brnach' \(did you mean 'branch'\?\)"):
        friction.load_policy_set(folder)
    folder = _set(tmp_path, channel=[{"when": {"attr": "digitl", "eq": True}, "channel": "web"}, {"channel": "phone"}],
                  name="q")
    with pytest.raises(InputError, match=r"attribute 'digitl' is not declared in the manifest \(did you mean 'digital'\?\)"):
        friction.load_policy_set(folder)
    folder = _set(tmp_path, channel=[{"channel": "web"}, {"when": {"attr": "digital", "eq": True}, "channel": "phone"}],
                  name="r")
    with pytest.raises(InputError, match="only the last channel alternative may leave out `when`"):
        friction.load_policy_set(folder)


def test_lint_says_when_alternatives_leave_customers_out(tmp_path):
    def codes(channel, name):
        report = friction.lint_policy_set(_set(tmp_path, channel=channel, name=name))
        return [f.message for f in report if f.code == "uncovered-alternatives"]
    assert codes(BY_DIGITAL, "all") == []                      # true and false: every case
    assert codes({"by": "digital", True: "web"}, "half") == [
        "step 'prove who you are': its channel alternatives by 'digital' leave out false: "
        "such cases get the first (web)"]
    assert codes({"by": "segment", "retail": "web", "else": "phone"}, "else") == []
    assert codes({"by": "segment", "retail": "web"}, "seg") == [
        "step 'prove who you are': its channel alternatives by 'segment' leave out premier, "
        "(absent: no default): such cases get the first (web)"]


# --------------------------------------------------------------------------- expectations in plain terms


def test_expectations_in_plain_terms(tmp_path):
    from friction.expect import TestRun, load_expectations, run_expectations
    folder = _set(tmp_path)
    cat = tmp_path / "cases.yaml"
    cat.write_text("cases:\n  - {id: online, event: move, channel: web, attrs: {digital: true}}\n"
                   "  - {id: offline, event: move, channel: web, attrs: {digital: false}}\n")
    exp = folder / "expectations"
    exp.mkdir()
    (exp / "e.yaml").write_text(
        "catalog: ../../cases.yaml\n"
        "expectations:\n"
        "  - name: nobody is sent to a branch\n"
        "    select: {case: [online, offline]}\n"
        "    expect: {channels_exclude: [branch], customer_departments_max: 1, departments_max: 2}\n")
    ev = friction.evaluate_paths(str(folder), str(cat))
    run = TestRun()
    run_expectations(load_expectations(exp / "e.yaml"), ev, run)
    # prove who you are (A) + the letter (B): 2 departments on the customer path, 2 in all;
    # offline customers are sent to a branch
    failures = {o.case: o.failures for o in run.outcomes}
    assert failures["online"] == [("customer_departments", "at most 1", "2")]
    assert failures["offline"] == [("customer_departments", "at most 1", "2"),
                                   ("channels", "never branch", "'prove who you are'")]
    (exp / "e.yaml").write_text(
        "catalog: ../../cases.yaml\nexpectations:\n  - name: typo\n    select: {case: online}\n"
        "    expect: {channels_exclude: [brnach]}\n")
    with pytest.raises(InputError, match=r"e\.yaml:5: expectation typo: channels_exclude: 'brnach' is not a "
                                         r"channel of the policy set \(did you mean 'branch'\?\)"):
        run_expectations(load_expectations(exp / "e.yaml"), ev, TestRun())
