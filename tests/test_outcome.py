"""The fast paths that build a new outcome agree with the reference path that builds the
whole CaseResult (journey objects, every flag), on generated policy sets and the bank.

- A summary outcome (Evaluator's batch row) is built from step ids alone: its JSON, metric
  values, flag kinds and load must equal those read off CaseResult.summary(), judge's flags
  and CaseResult.load.
- Trace reads depth, the steps each rule fired on and the trace without some rules off the
  compiled rules when no rule can fire more than one way (no `unless`); the general path
  (live units, which calls the matcher again) must give the same answers."""
from __future__ import annotations

import copy
import json

from hypothesis import given, note
from hypothesis import strategies as st

import friction
from friction.bundled import DEFAULT_CATALOG, DEFAULT_POLICY_SET, bundled_path
from friction.load import policy_set_from_data
from friction.metrics import METRICS
from friction.testing import scenarios
from friction.trace import build_trace


def _reference(evaluator: friction.Evaluator, case: friction.Case) -> tuple:
    r = evaluator.evaluate(case)
    return (json.dumps(r.summary(), ensure_ascii=False)[1:-1], (*(r.metrics[m] for m in METRICS), r.effort),
            tuple(f.kind for f in r.flags), r.load)


def _fast(evaluator: friction.Evaluator, case: friction.Case) -> tuple:
    out = evaluator.new_outcome(evaluator.replay(case))
    return out.fragment, out.values, out.flag_kinds, out.load


def _general(cps: friction.CompiledPolicySet) -> friction.CompiledPolicySet:
    """The same set, read as if some rule could fire more than one way: Trace takes its
    general path (live units)."""
    other = copy.copy(cps)
    other.ambiguous = True
    return other


@given(scenarios())
def test_a_summary_outcome_equals_the_one_read_off_the_whole_result(scenario):
    manifest, files, case_list = scenario
    cps = friction.compile_policy_set(policy_set_from_data(manifest, files))
    note(cps.source)
    evaluator = friction.Evaluator(cps, detail="summary")
    for case in case_list:
        fragment, values, kinds, load = _fast(evaluator, case)
        want_fragment, want_values, want_kinds, want_load = _reference(evaluator, case)
        assert fragment == want_fragment
        assert values == want_values
        assert kinds == want_kinds
        assert load is None or load == want_load


def test_bank_summary_outcomes_equal_the_whole_results_with_loads():
    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path(DEFAULT_POLICY_SET)))
    assert friction.capacity.capacity_configured(cps.manifest.capacity)   # so loads are compared too
    evaluator = friction.Evaluator(cps, detail="summary")
    stream = friction.open_catalog(bundled_path(DEFAULT_CATALOG), cps.manifest)
    n = 0
    for case in stream:
        fast, reference = _fast(evaluator, case), _reference(evaluator, case)
        assert fast[3] is not None
        assert fast == reference, case.id
        n += 1
    assert n > 10


@given(scenarios(), st.data())
def test_trace_reads_depth_matches_and_removals_as_the_general_path_does(scenario, data):
    manifest, files, case_list = scenario
    cps = friction.compile_policy_set(policy_set_from_data(manifest, files))
    if cps.ambiguous:
        return   # the general path is the only one
    note(cps.source)
    general = _general(cps)
    removed = frozenset(data.draw(st.sets(st.sampled_from(range(len(cps.rules)))), label="removed"))
    for case in case_list:
        fired = friction.Evaluator(cps).replay(case).fired
        fast, slow = build_trace(cps, case, fired), build_trace(general, case, fired)
        assert {i: fast.matched(i) for i in fired} == {i: slow.matched(i) for i in fired}
        assert fast.depth == slow.depth
        assert fast.without(removed).fired == slow.without(removed).fired


def test_the_outcome_cache_keeps_to_its_byte_budget_and_rows_stay_the_same():
    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path(DEFAULT_POLICY_SET)))
    cases = [c for c in friction.open_catalog(bundled_path(DEFAULT_CATALOG), cps.manifest)
             if isinstance(c, friction.Case)]
    roomy = friction.Evaluator(cps)
    budget = 40_000   # a few of the bank's outcomes: the rest are evicted, oldest first
    tight = friction.Evaluator(cps, cache_bytes=budget)
    for c in cases * 2:
        assert tight.row(c).as_dict() == roomy.row(c).as_dict()
        assert len(tight._cache) == 1 or tight._cache.bytes <= budget
        assert tight._cache.bytes == sum(tight._cache.sizes().values()) and len(tight._cache.sizes()) == len(tight._cache)
    assert 1 < len(tight._cache) < len(roomy._cache)
    one = friction.Evaluator(cps, cache_bytes=0)   # keeps only the newest outcome
    for c in cases:
        assert one.row(c).as_dict() == roomy.row(c).as_dict() and len(one._cache) == 1


def _general_summary(evaluator: friction.Evaluator, trace) -> tuple:
    """journey.order_steps, Trace.without, measure_ids and judge.flag_counts: the general path."""
    from friction.journey import order_steps
    from friction.judge import flag_counts
    from friction.measure import measure_ids
    cps = evaluator.cps
    facts = cps.case_facts(trace.case)
    o = order_steps(cps, trace, facts)
    made = trace.step_ids - trace.without(evaluator._policy_rules).step_ids
    values = measure_ids(cps, o, trace.case.channel, made, facts).values()
    return (o.ordered, values, *flag_counts(cps.manifest, [facts[s] for s in o.ordered]))


@given(scenarios(), st.data())
def test_the_one_pass_kernel_equals_the_general_path(scenario, data):
    manifest, files, case_list = scenario
    cps = friction.compile_policy_set(policy_set_from_data(manifest, files))
    note(cps.source)
    evaluator = friction.Evaluator(cps, detail="summary")
    removed = frozenset(data.draw(st.sets(st.sampled_from(range(len(cps.rules)))), label="removed"))
    for case in case_list:
        trace = evaluator.replay(case)
        for t in (trace, trace.without(removed)):
            fast = evaluator._kernel.summarize(t.fired, case.channel, cps.case_facts(case))
            if fast is not None:
                assert tuple(fast) == _general_summary(evaluator, t)


def test_the_one_pass_kernel_takes_every_journey_of_the_bank_and_its_draft():
    for name in (DEFAULT_POLICY_SET, "policies/bank-draft"):
        cps = friction.compile_policy_set(friction.load_policy_set(bundled_path(name)))
        evaluator = friction.Evaluator(cps, detail="summary")
        n = 0
        for case in friction.open_catalog(bundled_path(DEFAULT_CATALOG), cps.manifest):
            trace = evaluator.replay(case)
            fast = evaluator._kernel.summarize(trace.fired, case.channel, cps.case_facts(case))
            assert fast is not None, case.id
            assert tuple(fast) == _general_summary(evaluator, trace), case.id
            n += 1
        assert n > 10


def test_the_values_cache_keeps_to_half_the_byte_budget_and_values_stay_the_same():
    """Evaluator.values (what attribution asks once per rule removed) had a count limit only:
    at 2,000 rules its keys (the rules fired) took ~500 MB in `rank`."""
    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path(DEFAULT_POLICY_SET)))
    cases = [c for c in friction.open_catalog(bundled_path(DEFAULT_CATALOG), cps.manifest)
             if isinstance(c, friction.Case)]
    roomy, tight = friction.Evaluator(cps), friction.Evaluator(cps, cache_bytes=8_000)
    seen = 0
    for c in cases:
        trace = roomy.replay(c)
        for i in sorted(trace.fired):
            less = trace.without(frozenset({i}))
            assert tight.values(less) == roomy.values(less)
            assert tight._values_bytes <= 4_000
            seen = max(seen, len(tight._values))
    assert 1 < seen < len(roomy._values)
