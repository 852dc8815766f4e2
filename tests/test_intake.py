"""The fast case reader (friction.intake) against the careful path of JsonLineResolver:
on any line, the fast reader gives no case (then the careful path runs) or exactly the
careful path's case (same id, event, channel, persona, volume, attributes with the same
types and in the same order). On well-formed lines it must give the case itself, or the
fast path would silently never run."""
from __future__ import annotations

import dataclasses
import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import friction
from friction.intake import CASE_FIELDS, line_reader
from friction.case import CaseSpec
from friction.load import policy_set_from_data
from friction.catalog import JsonLine, JsonLineResolver
from friction.testing import attribute_values, policy_sets

# JSON values of every kind, valid for no attribute or for some by chance
_JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-2 ** 70, 2 ** 70),
                  st.floats(), st.text(max_size=5), st.just([1]), st.just({"a": 1}),
                  st.sampled_from([0, 1, 0.0, 1.0, -0.0, 2 ** 53, 2 ** 53 + 1, 2 ** 63, -2 ** 63 - 1, True, False]))


def _exact(case: friction.Case) -> tuple:
    """A case with every value's type and the attributes' order: 1, 1.0 and True differ."""
    return (case.id, case.event, case.channel, case.persona, type(case.volume), case.volume,
            [(k, type(v), repr(v)) for k, v in case.attrs.items()])


def _careful(resolver: JsonLineResolver, text: str):
    return resolver.careful(JsonLine(1, text))


def _fast(read, text: str):
    return read(JsonLine(1, text))


@st.composite
def manifests_and_lines(draw, well_formed: bool):
    manifest_data, files = draw(policy_sets(max_rules=1))
    manifest = policy_set_from_data(manifest_data, files).manifest
    attrs = {}
    for name, spec in sorted(manifest.attributes.items()):
        if draw(st.integers(0, 3)) == 0:
            continue   # left to its default, or absent
        attrs[name] = draw(attribute_values(spec) if well_formed or draw(st.booleans()) else _JUNK)
    line = {"event": draw(st.sampled_from(manifest.events))}
    if draw(st.booleans()):
        line["id"] = draw(st.text(max_size=8))
    if draw(st.booleans()):
        line["persona"] = draw(st.text(max_size=8))
    if draw(st.booleans()) or manifest.default_channel is None:
        line["channel"] = draw(st.sampled_from(manifest.channels))
    if draw(st.booleans()):
        line["volume"] = draw(st.one_of(st.integers(0, 10 ** 6), st.floats(0, 1e12)))
    line["attrs"] = attrs
    if not well_formed:
        k = draw(st.sampled_from(["event", "id", "persona", "channel", "volume", "attrs", "other", None]))
        if k is not None:
            line[k] = draw(st.one_of(_JUNK, st.text(max_size=8)))
        if draw(st.booleans()):
            line.pop(draw(st.sampled_from(sorted(line))), None)
        if draw(st.booleans()):
            line["attrs"] = {**attrs, draw(st.text(max_size=6)): 1}
    text = json.dumps(line, ensure_ascii=draw(st.booleans()))
    if not well_formed:
        text = draw(st.sampled_from(["", " ", "\t", "\n"])) + text + draw(
            st.sampled_from(["", "\n", " \r\n", "\x0b", "\u2028", "x", " {}"]))
    return manifest, text


@settings(max_examples=200, deadline=None)
@given(manifests_and_lines(well_formed=True))
def test_well_formed_lines_take_the_fast_path_and_give_the_careful_case(drawn):
    manifest, text = drawn
    careful = _careful(JsonLineResolver(manifest, "c.jsonl"), text)
    assert isinstance(careful, friction.Case), careful
    fast = _fast(line_reader(manifest), text)
    assert fast is not None, text
    assert _exact(fast) == _exact(careful)
    assert fast == careful   # every field, should Case gain one the reader does not set


@settings(max_examples=300, deadline=None)
@given(manifests_and_lines(well_formed=False))
def test_the_fast_reader_never_accepts_more_or_other_than_the_careful_path(drawn):
    manifest, text = drawn
    resolver = JsonLineResolver(manifest, "c.jsonl")
    fast = _fast(line_reader(manifest), text)
    careful = _careful(resolver, text)
    if fast is not None:
        assert isinstance(careful, friction.Case), (text, careful)
        assert _exact(fast) == _exact(careful)
    whole = resolver(JsonLine(1, text))   # what a run gets, either way
    assert type(whole) is type(careful)
    if isinstance(careful, friction.Case):
        assert _exact(whole) == _exact(careful)
    else:
        assert whole == careful


MANIFEST = {"name": "m", "version": "1", "events": ["move"], "departments": ["D"], "channels": ["web", "phone"],
            "start_channel": "web",
            "attributes": {"n": {"type": "int", "min": 0, "max": 9, "default": 1},
                           "x": {"type": "number"},
                           "b": {"type": "bool", "default": False},
                           "s": {"type": "str", "values": ["a", "b"]},
                           "r": {"type": "number", "min": 0, "max": 1},     # both bounds: they rule out nan and inf
                           "m": {"type": "number", "min": 0}}}


@pytest.fixture(scope="module")
def tiny():
    manifest = policy_set_from_data(MANIFEST, {"r.yaml": {"rules": [
        {"id": "r", "cause": "policy", "owner": "D", "rationale": "-", "when": {"event": "move"},
         "then": [{"action": "a", "lane": "customer", "department": "D", "channel": "web"}]}]}}).manifest
    return manifest, line_reader(manifest)


@pytest.mark.parametrize("text", [
    '{"event": "move", "attrs": {"n": true}}',          # a bool is no int
    '{"event": "move", "attrs": {"n": 1.0}}',           # nor is a float
    '{"event": "move", "attrs": {"n": 10}}',            # past max
    '{"event": "move", "attrs": {"b": 1}}',             # 1 is no bool
    '{"event": "move", "attrs": {"x": NaN}}',
    '{"event": "move", "attrs": {"x": Infinity}}',
    '{"event": "move", "attrs": {"x": 9007199254740993}}',   # an int past 2**53 on a number
    '{"event": "move", "attrs": {"x": true}}',
    '{"event": "move", "attrs": {"s": "c"}}',
    '{"event": "move", "attrs": {"s": ["a"]}}',
    '{"event": "move", "attrs": {"q": 1}}',             # not declared
    '{"event": "move", "attrs": {"n": 2, "q": 1}}',
    '{"event": "move", "attrs": {"r": NaN}}',
    '{"event": "move", "attrs": {"r": Infinity}}',
    '{"event": "move", "attrs": {"r": -Infinity}}',
    '{"event": "move", "attrs": {"r": 1.5}}',
    '{"event": "move", "attrs": {"r": -0.5}}',
    '{"event": "move", "attrs": {"r": 2}}',
    '{"event": "move", "attrs": {"m": Infinity}}',      # one bound: inf is checked apart
    '{"event": "move", "attrs": {"m": NaN}}',
    '{"event": "move", "attrs": {"m": -1}}',
    '{"event": "move", "attrs": [["n", 1]]}',           # attrs that are not a mapping
    '{"event": "move", "attrs": null}',
    '{"event": "move", "attrs": "n"}',
    '{"event": "move", "attrs": 1}',
    '{"event": ["move"]}',                              # unhashable where a set is asked
    '{"event": "move", "channel": {"web": 1}}',
    '{"event": "move", "attrs": {"s": {"a": 1}}}',
    '{"event": "move", "id": 7}',
    '{"event": "move", "persona": false}',
    '{"event": "stay", "attrs": {}}',
    '{"event": "move", "channel": "post"}',
    '{"event": "move", "volume": true}',
    '{"event": "move", "volume": -1}',
    '{"event": "move", "other": 1}',
    '{"event": "move"}\x0b',                             # json.loads allows only space, tab, CR, LF after
    ' {"event": "move"}',
    '{"event": "move"} x',
    '["move"]',
    '{"event": "move", "attrs": {"n": 1}',
])
def test_lines_the_fast_reader_leaves_to_the_careful_path(tiny, text):
    manifest, read = tiny
    assert _fast(read, text) is None
    assert _exact(_fast(read, '{"event": "move", "attrs": {"x": 2.5, "s": "b"}}')) == (
        "move", "move", "web", None, int, 1, [("b", bool, "False"), ("n", int, "1"), ("s", str, "'b'"), ("x", float, "2.5")])


def test_the_resolver_still_reads_after_pickling(tiny):
    manifest, _ = tiny
    resolver = pickle.loads(pickle.dumps(JsonLineResolver(manifest, "c.jsonl")))
    case = resolver(JsonLine(3, '{"id": "k", "event": "move", "channel": "phone", "attrs": {"n": 2}}\n'))
    assert _exact(case) == ("k", "move", "phone", None, int, 1, [("b", bool, "False"), ("n", int, "2")])
    bad = resolver(JsonLine(4, '{"id": "k", "event": "move", "attrs": {"n": 20}}'))
    assert isinstance(bad, friction.Problem) and bad.line == 4 and "n" in bad.message


@pytest.mark.parametrize("text, attrs", [
    ('{"event": "move", "attrs": {"r": 0.5, "m": 1e300}}', [("b", bool, "False"), ("m", float, "1e+300"),
                                                           ("n", int, "1"), ("r", float, "0.5")]),
    ('{"attrs": {"r": 1, "m": 0}, "event": "move"}', [("b", bool, "False"), ("m", int, "0"), ("n", int, "1"),
                                                     ("r", int, "1")]),
])
def test_numbers_within_bounds_take_the_fast_path(tiny, text, attrs):
    manifest, read = tiny
    assert _exact(_fast(read, text)) == ("move", "move", "web", None, int, 1, attrs)


def test_the_fast_case_is_a_case_like_any_other(tiny):
    """The reader fills a twin of Case's slots and gives it Case's class: what comes out is
    a Case in every way (frozen, equal, pickled, hashed as one)."""
    manifest, read = tiny
    text = '{"id": "k", "event": "move", "persona": "p", "volume": 2.5, "attrs": {"s": "a"}}'
    fast = _fast(read, text)
    careful = _careful(JsonLineResolver(manifest, "c.jsonl"), text)
    assert type(fast) is friction.Case and fast == careful and _exact(fast) == _exact(careful)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.event = "stay"
    assert pickle.loads(pickle.dumps(fast)) == fast
    assert repr(fast) == repr(careful)
    with pytest.raises(TypeError):   # attrs is a dict: a case is no more hashable than the careful one
        hash(fast)
    assert dataclasses.replace(fast, id="k2") == dataclasses.replace(careful, id="k2")


def test_other_lines_go_to_other_once_and_its_errors_are_its_own(tiny):
    manifest, _ = tiny
    calls = []

    def other(item):
        calls.append(item)
        raise ValueError("from the other path")
    read = line_reader(manifest, other)
    for text in ['{"event": "stay"}', '{"event": "move", "attrs": {"x": NaN}}', "not json", ""]:
        calls.clear()
        with pytest.raises(ValueError, match="from the other path"):
            read(JsonLine(1, text))
        assert len(calls) == 1


def test_a_line_without_a_start_channel_takes_the_careful_path():
    data = {**MANIFEST, "start_channel": None}
    manifest = policy_set_from_data(data, {"r.yaml": {"rules": [
        {"id": "r", "cause": "policy", "owner": "D", "rationale": "-", "when": {"event": "move"},
         "then": [{"action": "a", "lane": "customer", "department": "D", "channel": "web"}]}]}}).manifest
    assert manifest.default_channel is None
    read = line_reader(manifest)
    assert _fast(read, '{"event": "move"}') is None
    assert _fast(read, '{"event": "move", "channel": "phone"}').channel == "phone"
    problem = JsonLineResolver(manifest, "c.jsonl")(JsonLine(4, '{"id": "k", "event": "move"}'))
    assert isinstance(problem, friction.Problem) and problem.line == 4 and "no start channel" in problem.message


def test_the_reader_knows_every_key_a_case_line_may_have():
    # a key CaseSpec gains that the reader does not know sends every line with it to the careful path
    assert set(CASE_FIELDS) == set(CaseSpec.model_fields)


@pytest.mark.parametrize("attributes", [{}, {"n": {"type": "int", "default": 1}}, {"n": {"type": "int"}}])
def test_manifests_of_no_attribute_or_one(attributes):
    manifest = policy_set_from_data({**MANIFEST, "attributes": attributes}, {"r.yaml": {"rules": [
        {"id": "r", "cause": "policy", "owner": "D", "rationale": "-", "when": {"event": "move"},
         "then": [{"action": "a", "lane": "customer", "department": "D", "channel": "web"}]}]}}).manifest
    read = line_reader(manifest)
    resolver = JsonLineResolver(manifest, "c.jsonl")
    for text in ['{"event": "move"}', '{"event": "move", "attrs": {}}', '{"event": "move", "attrs": {"n": 3}}',
                 '{"event": "move", "attrs": {"q": 3}}', '{"event": "move", "attrs": {"n": 3, "q": 3}}']:
        careful = _careful(resolver, text)
        fast = _fast(read, text)
        if isinstance(careful, friction.Case):
            assert fast is not None and _exact(fast) == _exact(careful), text
        else:
            assert fast is None, text
