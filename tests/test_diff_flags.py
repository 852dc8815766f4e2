"""`diff` keys flags by everything that identifies them: two flags of one kind on the same
steps (repeated asks differing only by the information item) are told apart."""
from __future__ import annotations

import friction
from builders import rule, step, write_set
from friction.diff import diff


def evaluation(folder, asks_second: list[str]) -> friction.Evaluation:
    write_set(folder, {"r.yaml": [
        rule("a", [step("fill form", asks=["address", "email"])], event="move"),
        rule("b", [step("sign form", asks=asks_second, after=["fill form"])], event="move"),
    ]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    case = friction.Case("c", "move", "web", {"digital": True, "products": 1})
    return friction.evaluate.evaluate_items(cps, "cat", [case])


def test_a_vanished_repeated_ask_is_reported_when_another_on_the_same_steps_stays(tmp_path):
    before = evaluation(tmp_path / "a", ["address", "email"])
    after = evaluation(tmp_path / "b", ["address"])
    asks = lambda ev: sorted(f.message for f in ev.results[0].flags if f.kind == "repeated-ask")
    assert len(asks(before)) == 2 and len(asks(after)) == 1   # counted by hand: email no longer asked twice
    (cd,) = diff(before, after).cases
    assert cd.flags_new == []
    assert len(cd.flags_gone) == 1 and "email" in cd.flags_gone[0] and "address" not in cd.flags_gone[0]
    assert cd.flag_change == {"repeated-ask": -1}


def test_the_same_flags_are_no_change(tmp_path):
    before = evaluation(tmp_path / "a", ["address", "email"])
    again = evaluation(tmp_path / "b", ["address", "email"])
    (cd,) = diff(before, again).cases
    assert (cd.flags_gone, cd.flags_new) == ([], [])


def test_cases_sharing_an_id_are_each_compared(tmp_path):
    """JSON Lines catalogs may repeat an id: diff compares every case with its twin."""
    def ev(folder, asks):
        e = evaluation(folder, asks)
        c = e.results[0].case
        other = friction.Case(c.id, "ask", "web", dict(c.attrs))   # same id, another life event
        e.results.append(friction.Evaluator(e.cps).evaluate(other))
        return e
    d = diff(ev(tmp_path / "a", ["address", "email"]), ev(tmp_path / "b", ["address"]))
    assert [c.case for c in d.cases] == ["c", "c"]
    assert [c.before["steps"] for c in d.cases] == [2, 0] and [len(c.flags_gone) for c in d.cases] == [1, 0]
