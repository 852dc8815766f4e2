"""rank's memo (rank.Attributor): cases with the same outcome key share their attribution
before the volume weighting, and a removal is known by the rules of it that fired when no
rule has `unless`. Checked against brute force: a replay of the case with the rules left
out and a full evaluation of it (neither Trace.without nor Evaluator.values), on generated
sets (`unless`, alternatives, cycles), on the shipped bank and its draft, and on small sets
where each part of the key changes the answer."""
from __future__ import annotations

import dataclasses
import pickle

from hypothesis import given
from hypothesis import strategies as st

import friction
from builders import BASE_MANIFEST, case, rule, step, write_set
from friction.bundled import bundled_path
from friction.catalog import open_catalog
from friction.errors import Problem
from friction.load import policy_set_from_data
from friction.metrics import SCORES, YEARLY
from friction.rank import Attributor, Tally, rank, rank_groups, ranking_from
from friction.testing import scenarios


def brute_force(cps: friction.CompiledPolicySet, c: friction.Case, groups):
    """What rank.attribution_of promises, from replays and full evaluations alone."""
    ev = friction.Evaluator(cps, cache_size=1)

    def scores(trace):
        r = ev.result(trace)
        return (*(r.metrics[m] for m in friction.METRICS), r.effort)

    trace = ev.replay(c)
    base = scores(trace)

    def delta(rules):
        d = tuple(b - a for b, a in zip(base, scores(ev.replay(c, rules))))
        return (*d, *(c.volume * d[SCORES.index(y.metric)] / y.per for y in YEARLY))

    fired = sorted(trace.fired)
    return ([(i, delta(frozenset({i}))) for i in fired],
            [(g, delta(rules)) for g, rules in enumerate(groups) if rules & trace.fired])


@given(scenarios(), st.data())
def test_memoised_attribution_equals_replays(scenario, data):
    manifest, files, case_list = scenario
    cps = friction.compile_policy_set(policy_set_from_data(manifest, files, lines=False))
    _, groups = rank_groups(cps)
    attribute = Attributor(friction.Evaluator(cps), groups)
    tiny = Attributor(friction.Evaluator(cps), groups, memo_size=1)   # evicts all the time
    # each case again under another id and volume: its attribution comes from the memo
    again = [dataclasses.replace(c, id=c.id + "'", volume=data.draw(st.sampled_from([0.5, 3, 250]), label="volume"))
             for c in case_list]
    for c in case_list + again:
        expected = brute_force(cps, c, groups)
        assert attribute(c) == expected, f"memoised attribution of {c.id!r} != replays"
        assert tiny(c) == expected


def _cases(path: str, manifest) -> list[friction.Case]:
    return [c for c in open_catalog(path, manifest) if isinstance(c, friction.Case)]


def test_shipped_sets_rank_as_replays_say():
    for folder in ("policies/bank", "policies/bank-draft"):
        cps = friction.compile_policy_set(friction.load_policy_set(bundled_path(folder)))
        cases = _cases(bundled_path("cases/life-events.yaml"), cps.manifest)
        keys, groups = rank_groups(cps)
        t = Tally()
        for c in cases:
            t.add(brute_force(cps, c, groups))
        ranked, problems = rank(friction.Evaluator(cps), cases, by="staff_hours")
        assert problems == [] and ranked.cases == len(cases) > 50
        assert ranked == ranking_from(cps, keys, groups, t, "staff_hours"), folder


def _attributions(folder, cases, **memo):
    """{case id: {rule id: steps lost, owner: steps lost}} with one Attributor over all cases."""
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    keys, groups = rank_groups(cps)
    attribute = Attributor(friction.Evaluator(cps), groups, **memo)
    steps, switches = SCORES.index("steps"), SCORES.index("channel_switches")
    out = {}
    for c in cases:
        per_rule, per_group = attribute(c)
        out[c.id] = {**{cps.rules[i].id: (d[steps], d[switches]) for i, d in per_rule},
                     **{keys[g][1]: (d[steps], d[switches]) for g, d in per_group if keys[g][0] == "owner"}}
    return out


def test_the_start_channel_is_part_of_the_key(tmp_path):
    # r requires one customer step on the phone: a case that started on the web switches
    # channel for it, one that started on the phone does not
    folder = write_set(tmp_path / "s", {"r.yaml": [rule("r", [step("call us", channel="phone")], event="move")]})
    got = _attributions(folder, [case(cid="web", channel="web"), case(cid="phone", channel="phone")])
    assert got["web"]["r"] == (1, 1) and got["phone"]["r"] == (1, 0)


def test_the_alternatives_taken_are_part_of_the_key(tmp_path):
    # the same step on the web for digital customers, in a branch for the others
    folder = write_set(tmp_path / "s", {"r.yaml": [
        rule("r", [step("prove who you are", channel={"by": "digital", True: "web", False: "branch"})],
             event="move")]}, {**BASE_MANIFEST, "channels": ["web", "phone", "branch"]})
    got = _attributions(folder, [case(cid="online", digital=True), case(cid="offline", digital=False)])
    assert got["online"]["r"] == (1, 0) and got["offline"]["r"] == (1, 1)


def test_which_alternative_a_rule_fired_on_is_part_of_the_key(tmp_path):
    # c fires after "fill" (digital customers) or after "sign" (more than one product); a
    # and b fire for everyone. Both cases fire a, b and c: without a, c still fires for the
    # customer it fired for on "sign", not for the one it fired for on "fill".
    folder = write_set(tmp_path / "s", {"r.yaml": [
        rule("a", [step("fill")], event="move"),
        rule("b", [step("sign")], event="move"),
        {**rule("c", [step("check", lane="backstage")], event="move"),
         "when": {"event": "move", "any": [{"all": [{"step": "fill"}, {"attr": "digital", "eq": True}]},
                                           {"all": [{"step": "sign"}, {"attr": "products", "gt": 1}]}]}},
    ]})
    got = _attributions(folder, [case(cid="on fill", digital=True, products=0),
                                 case(cid="on sign", digital=False, products=2)])
    assert got["on fill"]["a"] == (2, 0) and got["on sign"]["a"] == (1, 0)


def test_with_unless_a_group_is_removed_whole(tmp_path):
    # owner O: r1 requires "fill"; r2 requires "post" unless "fill" is required. Without r1,
    # r2 fires (nothing lost); without O (r1 and r2 together) "fill" goes and nothing comes.
    folder = write_set(tmp_path / "s", {"r.yaml": [
        {**rule("r1", [step("fill")], event="move"), "owner": "O"},
        {**rule("r2", [step("post")], event="move", unless=["fill"]), "owner": "O"},
    ]})
    for memo in ({}, {"memo_size": 1}):
        got = _attributions(folder, [case(cid="x"), case(cid="y")], **memo)
        assert got["x"] == got["y"] == {"r1": (0, 0), "O": (1, 0)}


def test_the_memo_keeps_to_its_budget(tmp_path):
    folder = write_set(tmp_path / "s", {"r.yaml": [rule("r", [step("call us", channel="phone")], event="move")]})
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    _, groups = rank_groups(cps)
    cases = [case(cid=ch, channel=ch) for ch in ("web", "phone", "branch")]
    by_count = Attributor(friction.Evaluator(cps), groups, memo_size=2)
    by_bytes = Attributor(friction.Evaluator(cps), groups, memo_bytes=1)
    for c in cases:
        assert by_count(c) == by_bytes(c) == brute_force(cps, c, groups)
    assert len(by_count._memo) == 2 and len(by_bytes._memo) == 1   # the newest entry always stays


def test_two_workers_rank_as_one_with_problems_in_place():
    # 670 cases: two chunks of 500 summed in the workers, with bad cases among them
    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path("policies/bank")))
    cases = _cases(bundled_path("cases/life-events.yaml"), cps.manifest)
    items = []
    for k in range(10):
        items += [dataclasses.replace(c, id=f"{c.id}/{k}", volume=k + 1) for c in cases]
        items.append(Problem("cases.jsonl", k, f"case bad-{k}", "not a case"))
    one, two = (rank(friction.Evaluator(cps), items, by="staff_hours", workers=w) for w in (1, 2))
    assert one[0].cases == len(items) - 10 and [p.subject for p in one[1]] == [f"case bad-{k}" for k in range(10)]
    assert two == one


def test_the_memo_is_made_again_where_it_is_unpickled():
    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path("policies/bank")))
    c = _cases(bundled_path("cases/life-events.yaml"), cps.manifest)[0]
    _, groups = rank_groups(cps)
    attribute = Attributor(friction.Evaluator(cps), groups, memo_size=7)
    first = attribute(c)
    again = pickle.loads(pickle.dumps(attribute))
    assert (len(again._memo), again.memo_size) == (0, 7) and again(c) == first


def test_cases_sharing_an_outcome_are_summed_once_times_their_count(monkeypatch):
    # Tally.add counts the cases of one memo entry and adds its losses once, times the count
    # (yearly figures times the volumes' sum): the same ranking as adding each case's
    # replayed attribution, however often it settles and when it crosses a process boundary.
    # Equal to the last printed digit: sums of floats grouped otherwise differ in rounding.
    import friction.rank as rank_mod

    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path("policies/bank")))
    cases = _cases(bundled_path("cases/life-events.yaml"), cps.manifest)
    cases = [dataclasses.replace(c, id=f"{c.id}/{k}", volume=k * 7 + 0.5) for k in range(3) for c in cases]
    keys, groups = rank_groups(cps)
    expected = Tally()
    for c in cases:
        expected.add(brute_force(cps, c, groups))

    def figures(t: Tally) -> dict:
        r = ranking_from(cps, keys, groups, t, "staff_hours")
        return {(kind, a.name): (a.cases, a.removed) for kind, items in
                (("rule", r.rules), ("owner", r.owners), ("cause", r.causes)) for a in items}

    want = figures(expected)
    assert sum(n for n, _ in want.values()) > 100
    for pending in (1, 30, 65536):
        monkeypatch.setattr(rank_mod, "_PENDING", pending)
        attribute = Attributor(friction.Evaluator(cps), groups)
        t = Tally()
        for c in cases[:40]:
            t.add(attribute.of_case(c))
        t = pickle.loads(pickle.dumps(t))   # a worker's tally, handed to the parent
        rest = Tally()
        for c in cases[40:]:
            rest.add(attribute.of_case(c))
        t.merge(rest)
        assert t._pending == {} and t.cases == len(cases)
        got = figures(t)
        assert got.keys() == want.keys()
        for k, (n, removed) in got.items():
            assert n == want[k][0] and removed.keys() == want[k][1].keys(), (pending, k)
            for m, v in removed.items():
                assert abs(v - want[k][1][m]) <= 2e-6 * max(1, abs(v)), (pending, k, m, v, want[k][1][m])


def test_cases_where_no_rule_fired_keep_nothing_pending():
    # regression (review): an outcome with no losses held nothing, so it never settled the
    # tally, and each one met after a memo miss stayed pending: memory grew with the catalog
    from friction.rank import CaseLosses

    t = Tally()
    for _ in range(1000):
        t.add(CaseLosses(([], []), 1.0))
    assert t.cases == 1000 and t._pending == {} and t.rules == t.groups == {}
