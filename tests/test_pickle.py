"""Compiled policy sets and evaluators pickle (the generated matchers are compiled again
on the receiving side), so spawned worker processes and distributed workers can run them;
batch runs do not depend on fork sharing globals."""
from __future__ import annotations

import pickle

import friction
from friction.batch import run_cases
from friction.bundled import DEFAULT_CATALOG, DEFAULT_POLICY_SET, bundled_path
from friction.catalog import open_catalog

BANK, CATALOG = bundled_path(DEFAULT_POLICY_SET), bundled_path(DEFAULT_CATALOG)


def bank():
    cps = friction.compile_policy_set(friction.load_policy_set(BANK))
    cases, problems = friction.resolve_cases(friction.load_catalog(CATALOG), cps.manifest)
    assert problems == [] and len(cases) > 50
    return cps, cases


def test_a_compiled_set_pickles_and_evaluates_the_same():
    cps, cases = bank()
    again = pickle.loads(pickle.dumps(cps))
    assert again.source == cps.source and again.matchers.keys() == cps.matchers.keys()
    a, b = friction.Evaluator(cps), friction.Evaluator(again)
    for c in cases:
        assert a.evaluate(c).as_dict() == b.evaluate(c).as_dict()


def test_an_evaluator_pickles_with_its_engine_made_again():
    cps, cases = bank()
    for engine in friction.ENGINES:
        ev = pickle.loads(pickle.dumps(friction.Evaluator(cps, engine)))
        assert ev.engine.name == engine
        assert ev.evaluate(cases[0]).metrics == friction.Evaluator(cps).evaluate(cases[0]).metrics


def test_a_spawn_pool_gives_the_rows_of_one_process(tmp_path):
    cps, cases = bank()
    ev = friction.Evaluator(cps)
    serial = [r.as_dict() for r in run_cases(ev.row, cases[:40], workers=1)]
    spawned = [r.as_dict() for r in run_cases(ev.row, cases[:40], workers=2, chunksize=5, start_method="spawn")]
    assert spawned == serial


def test_a_json_lines_stream_is_parsed_in_spawned_workers(tmp_path):
    cps, cases = bank()
    lines = [f'{{"id": "c{i}", "event": "{c.event}", "channel": "{c.channel}", "attrs": {{}}}}' for i, c in
             enumerate(cases[:10])]
    lines.insert(3, '{"id": "bad", "event": "no-such-event"}')
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n")
    ev = friction.Evaluator(cps)
    out = list(run_cases(ev.row, open_catalog(path, cps.manifest), workers=2, chunksize=2, start_method="spawn"))
    assert len(out) == 11 and isinstance(out[3], friction.Problem) and "no-such-event" in out[3].message
    serial = list(run_cases(ev.row, open_catalog(path, cps.manifest), workers=1))
    assert [getattr(r, "as_dict", lambda: r)() for r in out] == [getattr(r, "as_dict", lambda: r)() for r in serial]
